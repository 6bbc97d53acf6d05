#include "tsdb/compact/planner.h"

#include <algorithm>
#include <utility>

namespace cairn::compact {
namespace {

// Ids of the first run of overlapping blocks. REQUIRES: sorted by min time.
std::vector<std::string> SelectOverlapping(const std::vector<PlannerBlock>& blocks) {
  std::vector<std::string> out;
  if (blocks.size() < 2) return out;
  int64_t global_maxt = blocks[0].max_time_ms;
  for (size_t i = 1; i < blocks.size(); ++i) {
    const PlannerBlock& b = blocks[i];
    if (b.min_time_ms < global_maxt) {
      if (out.empty()) out.push_back(blocks[i - 1].id);
      out.push_back(b.id);
    } else if (!out.empty()) {
      break;
    }
    global_maxt = std::max(global_maxt, b.max_time_ms);
  }
  return out;
}

// Prometheus' selectDirs. REQUIRES: sorted by min time, newest block removed.
std::vector<PlannerBlock> SelectRange(const std::vector<PlannerBlock>& blocks,
                                      const std::vector<int64_t>& ranges) {
  if (ranges.size() < 2 || blocks.empty()) return {};
  const int64_t high_time = blocks.back().min_time_ms;
  for (size_t r = 1; r < ranges.size(); ++r) {
    const int64_t range = ranges[r];
    for (auto& part : SplitByRange(blocks, range)) {
      bool failed = false;
      for (const PlannerBlock& b : part) failed |= b.compaction_failed;
      if (failed || part.size() < 2) continue;
      const int64_t mint = part.front().min_time_ms;
      const int64_t maxt = part.back().max_time_ms;
      if (maxt - mint == range || maxt <= high_time) return std::move(part);
    }
  }
  return {};
}

}  // namespace

std::vector<int64_t> LeveledRanges(const PlannerOptions& options) {
  std::vector<int64_t> ranges = {options.block_range_ms};
  while (ranges.back() <= options.max_block_range_ms / 3 &&
         ranges.back() * 3 <= options.max_block_range_ms) {
    ranges.push_back(ranges.back() * 3);
  }
  return ranges;
}

std::vector<std::vector<PlannerBlock>> SplitByRange(const std::vector<PlannerBlock>& blocks,
                                                    int64_t range_ms) {
  std::vector<std::vector<PlannerBlock>> groups;
  for (size_t i = 0; i < blocks.size();) {
    const PlannerBlock& m = blocks[i];
    // Start of the aligned slot holding the block's start (floor division, also for
    // negative times).
    int64_t t0 = m.min_time_ms >= 0 ? range_ms * (m.min_time_ms / range_ms)
                                    : range_ms * ((m.min_time_ms - range_ms + 1) / range_ms);
    // A block sticking out of its slot (misaligned, or already a multiple of the
    // range) belongs to no group.
    if (m.max_time_ms > t0 + range_ms) {
      ++i;
      continue;
    }
    std::vector<PlannerBlock> group;
    for (; i < blocks.size(); ++i) {
      if (blocks[i].max_time_ms > t0 + range_ms) break;
      group.push_back(blocks[i]);
    }
    if (!group.empty()) groups.push_back(std::move(group));
  }
  return groups;
}

std::vector<std::string> Plan(std::vector<PlannerBlock> blocks, const PlannerOptions& options) {
  std::stable_sort(blocks.begin(), blocks.end(), [](const PlannerBlock& a, const PlannerBlock& b) {
    return a.min_time_ms < b.min_time_ms;
  });
  std::vector<std::string> res = SelectOverlapping(blocks);
  if (!res.empty()) return res;
  if (blocks.empty()) return res;

  // Leave out the newest block, as Prometheus does.
  blocks.pop_back();
  const std::vector<int64_t> ranges = LeveledRanges(options);
  for (const PlannerBlock& b : SelectRange(blocks, ranges)) res.push_back(b.id);
  if (!res.empty()) return res;

  // Rewrite a large enough block with many tombstones alone, newest first.
  const int64_t half_max_range = ranges[ranges.size() / 2];
  for (size_t i = blocks.size(); i-- > 0;) {
    const PlannerBlock& b = blocks[i];
    if (b.max_time_ms - b.min_time_ms < half_max_range) {
      // A short block is rewritten only when everything in it is deleted.
      if (b.num_tombstones > 0 && b.num_tombstones >= b.num_series) return {b.id};
      break;
    }
    if (static_cast<double>(b.num_tombstones) / static_cast<double>(b.num_series + 1) > 0.05) {
      return {b.id};
    }
  }
  return {};
}

}  // namespace cairn::compact
