// Planner: decides which blocks to compact next, with the semantics of Prometheus'
// LeveledCompactor.Plan so that a data directory ages the same way under both.
//
// Block ranges are leveled: ranges = block_range_ms * 3^k for k = 0, 1, ... while
// the range does not exceed max_block_range_ms (2h, 6h, 18h, 54h, ...). Plan() picks,
// in order of preference:
//   1. overlapping blocks (vertical compaction): the first run of blocks, by min
//      time, whose time ranges overlap — all of them merged into one;
//   2. otherwise, leaving out the newest block (it was just cut from the head; the
//      window lets users back it up without overlap), the oldest group of two or more
//      adjacent blocks that lies inside one aligned slot of the next level up and
//      either fills the slot or ends before the newest block starts;
//   3. otherwise, one block at least as long as the middle leveled range whose
//      tombstones cover more than 5% of its series (or all of them, for a short
//      block), to be rewritten alone so the deleted data leaves the disk.
// An empty plan means there is nothing to do.
//
// Thread-safety: pure functions.
#ifndef CAIRN_TSDB_COMPACT_PLANNER_H_
#define CAIRN_TSDB_COMPACT_PLANNER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::compact {

// What the planner needs to know about one block (copied from its meta).
struct PlannerBlock {
  std::string id;       // the block's ULID, returned in plans
  int64_t min_time_ms;  // inclusive
  int64_t max_time_ms;  // exclusive
  int level = 1;        // compaction level
  uint64_t size_bytes = 0;
  uint64_t num_series = 0;
  uint64_t num_tombstones = 0;     // deleted intervals recorded for the block
  bool compaction_failed = false;  // a block whose compaction failed is not regrouped
};

struct PlannerOptions {
  int64_t block_range_ms = 2 * 3600 * 1000;
  // Largest block to produce; Prometheus' default is 31 days (or 10% of the
  // retention time, whichever is smaller; the DB works that out).
  int64_t max_block_range_ms = 31LL * 24 * 3600 * 1000;
};

// block_range_ms * 3^k for every k with a range <= max_block_range_ms (at least the
// first one). REQUIRES: block_range_ms > 0.
std::vector<int64_t> LeveledRanges(const PlannerOptions& options);

// The ids of the blocks to compact together next, in min-time order; empty when
// there is nothing to do. `blocks` may be in any order.
std::vector<std::string> Plan(std::vector<PlannerBlock> blocks, const PlannerOptions& options);

// The groups of blocks (sorted by min time) that fall into aligned slots of
// `range_ms`, as Prometheus' splitByRange: blocks sticking out of their slot are
// skipped. Exposed for tests.
std::vector<std::vector<PlannerBlock>> SplitByRange(const std::vector<PlannerBlock>& blocks,
                                                    int64_t range_ms);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_PLANNER_H_
