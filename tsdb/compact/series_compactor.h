// CompactSeries: the block-independent heart of compaction. It merges label-sorted
// series sets (one per input block, oldest first, tombstones already applied via
// WithoutDeletedSeries) with storage::MergeSeriesSets — which joins a series found in
// several inputs and drops duplicate timestamps, the first input winning — and
// hands each non-empty series to a sink with its samples cut into runs of at most
// kMaxSamplesPerChunk, the chunk size Prometheus' compactor produces.
//
// The block writer is behind CompactionSink so this loop can be tested without a
// block, and so the same loop serves head-to-block persistence.
//
// Thread-safety: a call runs on the caller's thread; the sink is called from it.
#ifndef CAIRN_TSDB_COMPACT_SERIES_COMPACTOR_H_
#define CAIRN_TSDB_COMPACT_SERIES_COMPACTOR_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tsdb/model/labels.h"
#include "tsdb/model/sample.h"
#include "tsdb/storage/series.h"

namespace cairn::compact {

inline constexpr size_t kMaxSamplesPerChunk = 120;

class CompactionSink {
 public:
  virtual ~CompactionSink() = default;
  // One call per series, in label order. Each element of `chunks` holds 1 to
  // kMaxSamplesPerChunk samples in increasing time order; chunks follow each other
  // in time. The spans are valid only during the call.
  virtual absl::Status AddSeries(const Labels& labels,
                                 absl::Span<const std::vector<Sample>> chunks) = 0;
};

struct CompactionStats {
  uint64_t num_series = 0;
  uint64_t num_chunks = 0;
  uint64_t num_samples = 0;
  int64_t min_time_ms = kMaxTimeMs;  // of the samples written; kMaxTimeMs when none
  int64_t max_time_ms = kMinTimeMs;  // inclusive; kMinTimeMs when none
};

// Merges `sets` (each sorted by labels) and writes every series with at least one
// sample to `sink`. Fails with the first error of a set, an iterator (annotated with
// the series) or the sink.
absl::StatusOr<CompactionStats> CompactSeries(std::vector<std::unique_ptr<storage::SeriesSet>> sets,
                                              CompactionSink* sink);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_SERIES_COMPACTOR_H_
