#include "tsdb/compact/retention.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cairn::compact {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<RetentionBlock> FiveBlocks() {
  // Deliberately unsorted; each 100 ms long and 10 bytes big.
  return {{"c", 200, 300, 10},
          {"a", 0, 100, 10},
          {"e", 400, 500, 10},
          {"b", 100, 200, 10},
          {"d", 300, 400, 10}};
}

TEST(RetentionTest, NoLimitsDeleteNothing) {
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), {}, 1000), IsEmpty());
  EXPECT_THAT(BlocksBeyondRetention({}, {100, 100}, 1000), IsEmpty());
}

TEST(RetentionTest, TimeIsMeasuredFromNewestMaxTime) {
  RetentionOptions o;
  o.retention_ms = 200;
  // newest max 500: d (400) and c (300, exactly 200 older) stay; b and a go.
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 0), ElementsAre("a", "b"));
  o.retention_ms = 199;
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 0), ElementsAre("a", "b", "c"));
  o.retention_ms = 400;
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 0), IsEmpty());
  o.retention_ms = 1;
  // The newest block is never deleted by time.
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 0), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(BlocksBeyondRetention({{"only", 0, 100, 10}}, o, 0), IsEmpty());
}

TEST(RetentionTest, SizeCountsHeadFirstThenNewestBlocks) {
  RetentionOptions o;
  o.retention_bytes = 50;
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 0), IsEmpty());  // exactly 50 fits
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 1), ElementsAre("a"));
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 25), ElementsAre("a", "b", "c"));
  // A head larger than the limit leaves no block.
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 51), ElementsAre("a", "b", "c", "d", "e"));
}

TEST(RetentionTest, TimeAndSizeCombineAsUnion) {
  RetentionOptions o;
  o.retention_ms = 300;    // deletes a
  o.retention_bytes = 35;  // with head 5: deletes a, b
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 5), ElementsAre("a", "b"));
  o.retention_ms = 100;  // deletes a, b, c
  EXPECT_THAT(BlocksBeyondRetention(FiveBlocks(), o, 5), ElementsAre("a", "b", "c"));
}

TEST(RetentionTest, ExtremeTimesDoNotOverflow) {
  RetentionOptions o;
  o.retention_ms = 1000;
  std::vector<RetentionBlock> blocks = {{"old", INT64_MIN, INT64_MIN + 10, 1},
                                        {"new", INT64_MAX - 10, INT64_MAX, 1}};
  EXPECT_THAT(BlocksBeyondRetention(blocks, o, 0), ElementsAre("old"));
}

}  // namespace
}  // namespace cairn::compact
