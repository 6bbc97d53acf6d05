#include "tsdb/compact/planner.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cairn::compact {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

PlannerBlock B(std::string id, int64_t mint, int64_t maxt, uint64_t series = 0,
               uint64_t tombstones = 0) {
  PlannerBlock b;
  b.id = std::move(id);
  b.min_time_ms = mint;
  b.max_time_ms = maxt;
  b.num_series = series;
  b.num_tombstones = tombstones;
  return b;
}

// The ranges Prometheus' own planner tests use: 20, 60, 180, 540, 1620.
PlannerOptions SmallRanges() {
  PlannerOptions o;
  o.block_range_ms = 20;
  o.max_block_range_ms = 1620;
  return o;
}

TEST(LeveledRangesTest, PowersOfThreeUpToMax) {
  EXPECT_THAT(LeveledRanges(SmallRanges()), ElementsAre(20, 60, 180, 540, 1620));
  PlannerOptions o;
  o.block_range_ms = 20;
  o.max_block_range_ms = 1619;
  EXPECT_THAT(LeveledRanges(o), ElementsAre(20, 60, 180, 540));
  o.max_block_range_ms = 10;  // smaller than the base range: the base range alone
  EXPECT_THAT(LeveledRanges(o), ElementsAre(20));
  const int64_t h = 3600 * 1000;
  EXPECT_THAT(LeveledRanges(PlannerOptions{}),
              ElementsAre(2 * h, 6 * h, 18 * h, 54 * h, 162 * h, 486 * h));
}

TEST(SplitByRangeTest, GroupsAlignedSlotsAndSkipsStragglers) {
  const std::vector<PlannerBlock> blocks = {B("a", 0, 20), B("b", 20, 40), B("c", 50, 70),
                                            B("d", 70, 80), B("e", 120, 180)};
  auto groups = SplitByRange(blocks, 60);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].size(), 2u);  // a, b in [0, 60]
  EXPECT_EQ(groups[1].size(), 1u);  // d in [60, 120]; c sticks out of [0, 60]
  EXPECT_EQ(groups[1][0].id, "d");
  EXPECT_EQ(groups[2][0].id, "e");
}

TEST(SplitByRangeTest, NegativeTimesUseFloorAlignment) {
  auto groups = SplitByRange({B("a", -60, -40), B("b", -40, -20), B("c", -20, 0)}, 60);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].size(), 3u);
  groups = SplitByRange({B("a", -30, -10), B("b", -10, 10)}, 60);
  // a is in [-60, 0]; b straddles 0 and belongs to no slot.
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0][0].id, "a");
}

struct PlanCase {
  std::string name;
  std::vector<PlannerBlock> blocks;
  std::vector<std::string> want;
};

// Cases ported from Prometheus' TestLeveledCompactor_plan.
TEST(PlanTest, PrometheusCases) {
  const std::vector<PlanCase> cases = {
      {"nothing", {}, {}},
      {"one block: it is the fresh one", {B("1", 0, 20)}, {}},
      {"wait for four blocks of size 20", {B("1", 0, 20), B("2", 20, 40)}, {}},
      {"three, but the fresh one is ignored", {B("1", 0, 20), B("2", 20, 40), B("3", 40, 60)}, {}},
      {"block filling the parent range appeared",
       {B("1", 0, 20), B("2", 20, 40), B("3", 40, 60), B("4", 60, 80)},
       {"1", "2", "3"}},
      {"gap: nothing more lands in the first slot, but the fresh one is ignored",
       {B("1", 0, 20), B("2", 20, 40), B("4", 60, 80)},
       {}},
      {"gap: compact just the two before it",
       {B("1", 0, 20), B("2", 20, 40), B("4", 60, 80), B("5", 80, 100)},
       {"1", "2"}},
      {"20, 20, 20, 60, 60: 5 is fresh",
       {B("1", 0, 20), B("2", 20, 40), B("3", 40, 60), B("4", 60, 120), B("5", 120, 180)},
       {"1", "2", "3"}},
      {"20, 60, 20, 60, 240: compact 20 + 60 + 60",
       {B("2", 20, 40), B("4", 60, 120), B("5", 960, 980), B("6", 120, 180), B("7", 720, 960)},
       {"2", "4", "6"}},
      {"large block with many tombstones, no fresh block", {B("1", 0, 540, 10, 3)}, {}},
      {"large block with many tombstones once a fresh one appears",
       {B("1", 0, 540, 10, 3), B("2", 540, 560)},
       {"1"}},
      {"large block with few tombstones stays", {B("1", 0, 540, 100, 5), B("2", 540, 560)}, {}},
      {"small block with tombstones stays", {B("1", 0, 20, 10, 3), B("2", 20, 40)}, {}},
      {"small block entirely deleted is rewritten", {B("1", 0, 20, 10, 10), B("2", 20, 40)}, {"1"}},
      {"regression: zero series and zero tombstones do not loop",
       {B("1", 0, 540, 0, 0), B("2", 540, 560)},
       {}},
      {"regression: the fresh block is the newest by time, not by id",
       {B("5", 0, 360), B("6", 540, 560), B("7", 360, 420), B("8", 420, 540)},
       {"7", "8"}},
      {"overlapping 1", {B("1", 0, 20), B("2", 19, 40), B("3", 40, 60)}, {"1", "2"}},
      {"overlapping 2", {B("1", 0, 20), B("2", 20, 40), B("3", 30, 50)}, {"2", "3"}},
      {"overlapping 3", {B("1", 0, 20), B("2", 10, 40), B("3", 30, 50)}, {"1", "2", "3"}},
      {"overlapping 4",
       {B("5", 0, 360), B("6", 340, 560), B("7", 360, 420), B("8", 420, 540)},
       {"5", "6", "7", "8"}},
      {"overlapping 5: only the first run",
       {B("1", 0, 10), B("2", 9, 20), B("3", 30, 40), B("4", 39, 50)},
       {"1", "2"}},
      {"overlap wins over leveling even with the newest block",
       {B("1", 0, 20), B("2", 20, 40), B("3", 40, 60), B("4", 60, 80), B("5", 70, 90)},
       {"4", "5"}},
      {"identical ranges overlap", {B("1", 0, 20), B("2", 0, 20)}, {"1", "2"}},
  };
  for (const PlanCase& c : cases) {
    EXPECT_EQ(Plan(c.blocks, SmallRanges()), c.want) << c.name;
  }
}

TEST(PlanTest, FailedCompactionGroupIsSkipped) {
  std::vector<PlannerBlock> blocks = {B("1", 0, 20),   B("2", 20, 40),  B("3", 40, 60),
                                      B("4", 60, 80),  B("5", 80, 100), B("6", 100, 120),
                                      B("7", 120, 140)};
  blocks[1].compaction_failed = true;
  EXPECT_THAT(Plan(blocks, SmallRanges()), ElementsAre("4", "5", "6"));
}

TEST(PlanTest, LevelsClimbWithTwoHourBlocks) {
  // Simulate a DB cutting 2h blocks and always applying the plan: blocks must grow
  // through 6h and 18h without ever overlapping.
  const int64_t h = 3600 * 1000;
  PlannerOptions o;
  o.max_block_range_ms = 54 * h;
  std::vector<PlannerBlock> blocks;
  int next_id = 0;
  for (int cut = 0; cut < 60; ++cut) {
    blocks.push_back(B("b" + std::to_string(next_id++), cut * 2 * h, (cut + 1) * 2 * h));
    while (true) {
      std::vector<std::string> plan = Plan(blocks, o);
      if (plan.empty()) break;
      ASSERT_GE(plan.size(), 2u);
      int64_t mint = INT64_MAX, maxt = INT64_MIN;
      std::vector<PlannerBlock> kept;
      for (const PlannerBlock& b : blocks) {
        if (std::find(plan.begin(), plan.end(), b.id) != plan.end()) {
          mint = std::min(mint, b.min_time_ms);
          maxt = std::max(maxt, b.max_time_ms);
        } else {
          kept.push_back(b);
        }
      }
      ASSERT_EQ(kept.size() + plan.size(), blocks.size());
      ASSERT_LE(maxt - mint, 54 * h);
      kept.push_back(B("b" + std::to_string(next_id++), mint, maxt));
      blocks = kept;
    }
  }
  // 120h of data: two full 54h blocks, one 6h block, then the three 2h blocks of
  // [114h, 120h): the newest is in flight, and the other two neither fill their 6h
  // slot nor end before the newest starts (118h > 116h), so they wait.
  std::sort(blocks.begin(), blocks.end(), [](const PlannerBlock& a, const PlannerBlock& b) {
    return a.min_time_ms < b.min_time_ms;
  });
  std::vector<int64_t> lengths;
  for (const PlannerBlock& b : blocks) lengths.push_back((b.max_time_ms - b.min_time_ms) / h);
  EXPECT_THAT(lengths, ElementsAre(54, 54, 6, 2, 2, 2));
  for (size_t i = 1; i < blocks.size(); ++i) {
    EXPECT_EQ(blocks[i - 1].max_time_ms, blocks[i].min_time_ms);
  }
  EXPECT_THAT(Plan(blocks, o), IsEmpty());
}

}  // namespace
}  // namespace cairn::compact
