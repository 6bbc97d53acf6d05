#include "tsdb/compact/retention.h"

#include <algorithm>

namespace cairn::compact {

std::vector<std::string> BlocksBeyondRetention(std::vector<RetentionBlock> blocks,
                                               const RetentionOptions& options,
                                               uint64_t head_bytes) {
  // Newest first, as Prometheus' deletableBlocks sorts them.
  std::stable_sort(blocks.begin(), blocks.end(),
                   [](const RetentionBlock& a, const RetentionBlock& b) {
                     return a.max_time_ms > b.max_time_ms;
                   });
  // Index of the first (newest) block to delete; every later one goes too.
  size_t first_deleted = blocks.size();
  if (options.retention_ms > 0) {
    for (size_t i = 1; i < blocks.size(); ++i) {
      // Compared as a difference, as Prometheus does; an overflowing difference
      // (only possible with absurd metas) is beyond any retention.
      int64_t age_ms;
      const bool beyond =
          __builtin_sub_overflow(blocks[0].max_time_ms, blocks[i].max_time_ms, &age_ms) ||
          age_ms > options.retention_ms;
      if (beyond) {
        first_deleted = std::min(first_deleted, i);
        break;
      }
    }
  }
  if (options.retention_bytes > 0) {
    uint64_t total = head_bytes;
    for (size_t i = 0; i < blocks.size(); ++i) {
      total += blocks[i].size_bytes;
      if (total > static_cast<uint64_t>(options.retention_bytes)) {
        first_deleted = std::min(first_deleted, i);
        break;
      }
    }
  }
  std::vector<std::string> out;
  for (size_t i = blocks.size(); i-- > first_deleted;) out.push_back(blocks[i].id);
  return out;
}

}  // namespace cairn::compact
