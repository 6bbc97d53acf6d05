#include "tsdb/model/labels.h"

#include "gtest/gtest.h"

namespace cairn {
namespace {

TEST(LabelsTest, SortsAndDeduplicates) {
  Labels ls = {{"job", "node"}, {"__name__", "up"}, {"instance", "a:1"}, {"job", "api"}};
  std::vector<std::pair<std::string, std::string>> got;
  for (const Label& l : ls) got.emplace_back(l.name, l.value);
  std::vector<std::pair<std::string, std::string>> want = {
      {"__name__", "up"}, {"instance", "a:1"}, {"job", "api"}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls.Get("job"), "api");
  EXPECT_EQ(ls.Get("missing"), "");
  EXPECT_EQ(ls.MetricName(), "up");
}

TEST(LabelsTest, EmptyValuesAreDropped) {
  Labels ls = {{"a", ""}, {"b", "x"}};
  EXPECT_EQ(ls.size(), 1u);
  EXPECT_FALSE(ls.Has("a"));
}

TEST(LabelsTest, ToStringQuotesAndEscapes) {
  Labels ls = {{"__name__", "m"}, {"a", "x\"y\\z\n"}};
  EXPECT_EQ(ls.ToString(), "{__name__=\"m\", a=\"x\\\"y\\\\z\\n\"}");
}

TEST(LabelsTest, CompareIsLexicographicOverPairs) {
  Labels a = {{"a", "1"}};
  Labels b = {{"a", "1"}, {"b", "1"}};
  Labels c = {{"a", "2"}};
  Labels d = {{"b", "0"}};
  EXPECT_LT(Labels::Compare(a, b), 0);
  EXPECT_LT(Labels::Compare(b, c), 0);
  EXPECT_LT(Labels::Compare(c, d), 0);
  EXPECT_EQ(Labels::Compare(b, b), 0);
  EXPECT_GT(Labels::Compare(d, a), 0);
}

TEST(LabelsTest, DecodeCheckedRejectsUnsortedAndTruncated) {
  Labels ls = {{"a", "1"}, {"b", "2"}};
  Labels out;
  EXPECT_TRUE(Labels::DecodeChecked(ls.encoded(), &out));
  EXPECT_EQ(out, ls);
  std::string truncated = ls.encoded().substr(0, ls.encoded().size() - 1);
  EXPECT_FALSE(Labels::DecodeChecked(truncated, &out));
  Labels b = {{"b", "2"}};
  Labels a = {{"a", "1"}};
  EXPECT_FALSE(Labels::DecodeChecked(b.encoded() + a.encoded(), &out));
}

TEST(LabelsTest, BuilderSetDelKeep) {
  LabelsBuilder b(Labels{{"a", "1"}, {"b", "2"}, {"c", "3"}});
  b.Set("a", "9");
  b.Del("b");
  b.Set("d", "4");
  b.Set("c", "");  // deletes
  EXPECT_EQ(b.Build(), (Labels{{"a", "9"}, {"d", "4"}}));
  b.Keep({"d"});
  EXPECT_EQ(b.Build(), (Labels{{"d", "4"}}));
}

TEST(LabelsTest, NameValidation) {
  EXPECT_TRUE(IsValidLabelName("_a1"));
  EXPECT_FALSE(IsValidLabelName("1a"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_TRUE(IsValidMetricName("ns:metric_total"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
}

TEST(LabelsTest, StableHashDependsOnContent) {
  Labels a = {{"a", "1"}};
  Labels b = {{"a", "2"}};
  EXPECT_NE(a.StableHash(), b.StableHash());
  EXPECT_EQ(a.StableHash(), (Labels{{"a", "1"}}).StableHash());
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

// Names and values of 128 bytes or more have multi-byte length prefixes and take the
// iterator's slow path; mixing them with short ones must decode, compare and look up
// exactly as short ones do.
TEST(LabelsTest, LongNamesAndValuesDecodeAndCompare) {
  const std::string long_value(200, 'v');
  const std::string long_name = "n" + std::string(300, 'x');
  Labels a{{"__name__", "m"}, {long_name, "short"}, {"job", long_value}, {"z", "1"}};
  std::vector<std::pair<std::string, std::string>> got;
  for (const Label& l : a) got.emplace_back(std::string(l.name), std::string(l.value));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], (std::pair<std::string, std::string>{"__name__", "m"}));
  EXPECT_EQ(got[1], (std::pair<std::string, std::string>{"job", long_value}));
  EXPECT_EQ(got[2], (std::pair<std::string, std::string>{long_name, "short"}));
  EXPECT_EQ(got[3], (std::pair<std::string, std::string>{"z", "1"}));
  EXPECT_EQ(a.Get("job"), long_value);
  EXPECT_EQ(a.Get(long_name), "short");
  Labels b{{"__name__", "m"}, {long_name, "short"}, {"job", long_value + "w"}, {"z", "1"}};
  EXPECT_LT(Labels::Compare(a, b), 0);
  EXPECT_GT(Labels::Compare(b, a), 0);
  EXPECT_EQ(Labels::Compare(a, Labels(a)), 0);
}

}  // namespace
}  // namespace cairn
