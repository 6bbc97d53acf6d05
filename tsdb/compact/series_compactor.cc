#include "tsdb/compact/series_compactor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "tsdb/storage/merge.h"
#include "tsdb/util/status_macros.h"

namespace cairn::compact {

absl::StatusOr<CompactionStats> CompactSeries(std::vector<std::unique_ptr<storage::SeriesSet>> sets,
                                              CompactionSink* sink) {
  std::unique_ptr<storage::SeriesSet> merged = storage::MergeSeriesSets(std::move(sets));
  CompactionStats stats;
  // Reused across series so the loop allocates only when a series is longer than
  // any before it.
  std::vector<std::vector<Sample>> chunks;
  std::unique_ptr<SampleIterator> it;
  while (merged->Next()) {
    const storage::Series& series = merged->At();
    it = series.Iterator(std::move(it));
    size_t used = 0;
    int64_t last_t = kMinTimeMs;
    bool any = false;
    while (it->Next()) {
      const int64_t t = it->t();
      // The merge yields increasing timestamps; a decreasing one means a corrupt
      // input that would make an unreadable block.
      if (any && t <= last_t) {
        return absl::DataLossError(absl::StrFormat("compacting series %s: timestamp %d after %d",
                                                   series.labels().ToString(), t, last_t));
      }
      if (used == 0 || chunks[used - 1].size() == kMaxSamplesPerChunk) {
        if (used == chunks.size()) chunks.emplace_back();
        chunks[used].clear();
        chunks[used].reserve(kMaxSamplesPerChunk);
        ++used;
      }
      chunks[used - 1].push_back({t, it->v()});
      last_t = t;
      any = true;
    }
    if (absl::Status s = it->status(); !s.ok()) {
      return Annotate(s, absl::StrFormat("compacting series %s", series.labels().ToString()));
    }
    if (used == 0) continue;  // every sample deleted
    CAIRN_RETURN_IF_ERROR(
        sink->AddSeries(series.labels(), absl::MakeConstSpan(chunks.data(), used)));
    ++stats.num_series;
    stats.num_chunks += used;
    for (size_t i = 0; i < used; ++i) stats.num_samples += chunks[i].size();
    stats.min_time_ms = std::min(stats.min_time_ms, chunks[0].front().t);
    stats.max_time_ms = std::max(stats.max_time_ms, chunks[used - 1].back().t);
  }
  CAIRN_RETURN_IF_ERROR(merged->status());
  return stats;
}

}  // namespace cairn::compact
