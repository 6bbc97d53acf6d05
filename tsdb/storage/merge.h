// Merging: one sorted view over several sources — the DB's querier over the head and
// every block in range. A series present in several sources (e.g. samples both in a
// block and in the head after an overlapping write) becomes one series whose
// iterator interleaves the sources' samples by timestamp; where two sources hold a
// sample at the same timestamp the one from the earlier source wins (sources are
// passed oldest first, so the head's newer copy of a sample... is treated alike: the
// values are identical for duplicates the appender accepted).
//
// Thread-safety: a merged SeriesSet is single-threaded; MergeQuerier is as concurrent
// as its parts.
#ifndef CAIRN_TSDB_STORAGE_MERGE_H_
#define CAIRN_TSDB_STORAGE_MERGE_H_

#include <memory>
#include <vector>

#include "tsdb/storage/querier.h"
#include "tsdb/storage/series.h"

namespace cairn::storage {

// Merges sets that are each sorted by labels into one sorted set.
std::unique_ptr<SeriesSet> MergeSeriesSets(std::vector<std::unique_ptr<SeriesSet>> sets);

// Interleaves iterators over the same series by timestamp, dropping duplicate
// timestamps (the first iterator in the list wins).
std::unique_ptr<SampleIterator> MergeSampleIterators(
    std::vector<std::unique_ptr<SampleIterator>> its);

// A Querier over several queriers (owned).
std::unique_ptr<Querier> MergeQueriers(std::vector<std::unique_ptr<Querier>> queriers);

}  // namespace cairn::storage

#endif  // CAIRN_TSDB_STORAGE_MERGE_H_
