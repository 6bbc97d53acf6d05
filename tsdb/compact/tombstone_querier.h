// TombstoneQuerier: reads a block with its tombstones applied. A block never changes
// after it is written (DESIGN.md), so deleted samples stay in its chunks until
// compaction; until then every read of the block goes through this wrapper, which
// hides them: iterators skip deleted intervals (DeletedSamplesIterator), and a series
// left with no sample in the queried range is not yielded at all, as Prometheus'
// block querier drops series whose chunks are all deleted.
//
// Tombstones are keyed by series ref; they are resolved to labels once, when the
// querier is made (one index lookup per tombstoned series overlapping the range).
// Label names and values come from the block's index unfiltered, as in Prometheus
// (deleted series keep their labels in the index until compaction).
//
// Thread-safety: like every Querier, concurrent Select() calls are safe.
#ifndef CAIRN_TSDB_COMPACT_TOMBSTONE_QUERIER_H_
#define CAIRN_TSDB_COMPACT_TOMBSTONE_QUERIER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "tsdb/block/block.h"
#include "tsdb/compact/deleted_series_set.h"
#include "tsdb/compact/tombstones.h"
#include "tsdb/storage/querier.h"

namespace cairn::compact {

// The labels of every series in `tombstones` with an interval overlapping
// [mint_ms, maxt_ms], with their intervals. Errors name the block.
absl::StatusOr<DeletedByLabels> ResolveTombstones(const block::Block& block,
                                                  const TombstoneSet& tombstones, int64_t mint_ms,
                                                  int64_t maxt_ms);

// A querier over [mint_ms, maxt_ms] of `block` that hides what `tombstones` deletes.
// Without tombstones in range it is the block's own querier.
absl::StatusOr<std::unique_ptr<storage::Querier>> NewTombstoneQuerier(
    std::shared_ptr<const block::Block> block, const TombstoneSet& tombstones, int64_t mint_ms,
    int64_t maxt_ms);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_TOMBSTONE_QUERIER_H_
