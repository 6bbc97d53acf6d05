#include "tsdb/model/matcher.h"

#include "gtest/gtest.h"
#include "tsdb/model/labels.h"

namespace cairn {
namespace {

Matcher M(MatchType t, std::string_view n, std::string_view v) {
  auto m = Matcher::Create(t, n, v);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

TEST(MatcherTest, RegexIsFullyAnchored) {
  Matcher m = M(MatchType::kRegexMatch, "job", "ap.");
  EXPECT_TRUE(m.Matches("api"));
  EXPECT_FALSE(m.Matches("xapi"));
  EXPECT_FALSE(m.Matches("apix"));
  Matcher alt = M(MatchType::kRegexMatch, "job", "a|b");
  EXPECT_TRUE(alt.Matches("a"));
  EXPECT_FALSE(alt.Matches("ab"));
}

TEST(MatcherTest, EmptyValueSemantics) {
  EXPECT_TRUE(M(MatchType::kEqual, "a", "").MatchesEmpty());
  EXPECT_TRUE(M(MatchType::kRegexMatch, "a", ".*").MatchesEmpty());
  EXPECT_FALSE(M(MatchType::kRegexMatch, "a", ".+").MatchesEmpty());
  EXPECT_TRUE(M(MatchType::kNotEqual, "a", "x").MatchesEmpty());
  EXPECT_FALSE(M(MatchType::kRegexNoMatch, "a", "").MatchesEmpty());
}

TEST(MatcherTest, DotMatchesNewline) {
  EXPECT_TRUE(M(MatchType::kRegexMatch, "a", "x.y").Matches("x\ny"));
}

TEST(MatcherTest, BadRegexNamesTheExpression) {
  auto m = Matcher::Create(MatchType::kRegexMatch, "a", "(unclosed");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("(unclosed"), std::string_view::npos);
}

TEST(MatcherTest, SetMatchesForLiteralAlternation) {
  EXPECT_EQ(M(MatchType::kRegexMatch, "a", "x|yy|z").set_matches(),
            (std::vector<std::string>{"x", "yy", "z"}));
  EXPECT_TRUE(M(MatchType::kRegexMatch, "a", "x.*|y").set_matches().empty());
}

TEST(MatcherTest, MatchesAllUsesEmptyForAbsentLabels) {
  Labels ls = {{"__name__", "up"}, {"job", "x"}};
  EXPECT_TRUE(MatchesAll({M(MatchType::kEqual, "job", "x"), M(MatchType::kEqual, "env", "")}, ls));
  EXPECT_FALSE(MatchesAll({M(MatchType::kNotEqual, "job", "x")}, ls));
}

TEST(MatcherTest, ToStringRendersPrometheusSyntax) {
  EXPECT_EQ(M(MatchType::kRegexNoMatch, "job", "a\"b").ToString(), "job!~\"a\\\"b\"");
}

}  // namespace
}  // namespace cairn
