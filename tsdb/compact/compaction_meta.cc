#include "tsdb/compact/compaction_meta.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace cairn::compact {

absl::StatusOr<CompactionMeta> CombineMetas(const std::vector<InputMeta>& inputs) {
  if (inputs.empty()) return absl::InvalidArgumentError("compaction: no input blocks");
  CompactionMeta out;
  out.min_time_ms = inputs[0].min_time_ms;
  out.max_time_ms = inputs[0].max_time_ms;
  out.level = 0;
  for (const InputMeta& in : inputs) {
    if (in.min_time_ms > in.max_time_ms) {
      return absl::InvalidArgumentError(
          absl::StrFormat("compaction: block %s has min time %d after max time %d", in.ulid,
                          in.min_time_ms, in.max_time_ms));
    }
    out.min_time_ms = std::min(out.min_time_ms, in.min_time_ms);
    out.max_time_ms = std::max(out.max_time_ms, in.max_time_ms);
    out.level = std::max(out.level, in.level);
    if (in.sources.empty()) {
      out.sources.push_back(in.ulid);
    } else {
      out.sources.insert(out.sources.end(), in.sources.begin(), in.sources.end());
    }
    out.parents.push_back(in.ulid);
  }
  out.level += 1;
  std::sort(out.sources.begin(), out.sources.end());
  out.sources.erase(std::unique(out.sources.begin(), out.sources.end()), out.sources.end());
  return out;
}

}  // namespace cairn::compact
