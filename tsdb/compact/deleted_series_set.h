// DeletedSeriesSet: a SeriesSet that hides tombstoned samples. Tombstones are keyed by
// series ref inside a block; the block adapter resolves those refs to labels once
// (one index lookup per tombstoned series) and hands the map here, so the merge
// above works on labels only. A series whose every sample is deleted is still
// yielded (with an empty iterator); the compactor drops empty series itself.
//
// Thread-safety: none; single-threaded like every SeriesSet.
#ifndef CAIRN_TSDB_COMPACT_DELETED_SERIES_SET_H_
#define CAIRN_TSDB_COMPACT_DELETED_SERIES_SET_H_

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "tsdb/compact/tombstones.h"
#include "tsdb/model/labels.h"
#include "tsdb/storage/series.h"

namespace cairn::compact {

using DeletedByLabels = absl::flat_hash_map<Labels, Intervals>;

// A series seen through its deletions: Iterator() hides the samples inside `deleted`
// (nullptr: nothing deleted, the base's iterator is returned as is). Reset() re-points
// it, so one object serves a whole SeriesSet. Borrows both pointers.
class DeletedSeries final : public storage::Series {
 public:
  void Reset(const storage::Series* base, const Intervals* deleted) {
    base_ = base;
    deleted_ = deleted;
  }
  const Labels& labels() const override { return base_->labels(); }
  std::unique_ptr<SampleIterator> Iterator(std::unique_ptr<SampleIterator> reuse) const override;

 private:
  const storage::Series* base_ = nullptr;
  const Intervals* deleted_ = nullptr;
};

// Wraps `base`, applying `deleted` to the series whose labels it lists. With an
// empty map, returns `base` unchanged.
std::unique_ptr<storage::SeriesSet> WithoutDeletedSeries(std::unique_ptr<storage::SeriesSet> base,
                                                         DeletedByLabels deleted);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_DELETED_SERIES_SET_H_
