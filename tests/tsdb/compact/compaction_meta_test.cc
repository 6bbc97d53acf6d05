#include "tsdb/compact/compaction_meta.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cairn::compact {
namespace {

using ::testing::ElementsAre;

TEST(CombineMetasTest, UnionOfRangesLevelPlusOneUnionOfSources) {
  auto meta = CombineMetas({{"B", 7200, 14400, 1, {}},
                            {"A", 0, 7200, 1, {"A"}},
                            {"C", 14400, 64800, 2, {"X", "Y", "A"}}});
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->min_time_ms, 0);
  EXPECT_EQ(meta->max_time_ms, 64800);
  EXPECT_EQ(meta->level, 3);
  EXPECT_THAT(meta->sources, ElementsAre("A", "B", "X", "Y"));
  EXPECT_THAT(meta->parents, ElementsAre("B", "A", "C"));
}

TEST(CombineMetasTest, OverlappingAndNegativeRanges) {
  auto meta = CombineMetas({{"A", -100, 50, 1, {}}, {"B", -200, 10, 1, {}}});
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->min_time_ms, -200);
  EXPECT_EQ(meta->max_time_ms, 50);
  EXPECT_EQ(meta->level, 2);
}

TEST(CombineMetasTest, BadInput) {
  EXPECT_EQ(CombineMetas({}).status().code(), absl::StatusCode::kInvalidArgument);
  auto bad = CombineMetas({{"A", 10, 0, 1, {}}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("block A"));
}

}  // namespace
}  // namespace cairn::compact
