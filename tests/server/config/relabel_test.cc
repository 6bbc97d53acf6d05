// Relabelling semantics. Expected results follow Prometheus' documentation and its
// model/relabel/relabel_test.go cases (v2.42); hashmod values were computed
// independently with Python's hashlib (md5, low 8 bytes big-endian, mod N).
#include "server/config/relabel.h"

#include <optional>
#include <vector>

#include "gtest/gtest.h"

namespace cairn::config {
namespace {

RelabelConfig Make(RelabelAction action, std::vector<std::string> sources, std::string regex,
                   std::string target = "", std::string replacement = "$1") {
  RelabelConfig c = DefaultRelabelConfig();
  c.action = action;
  c.source_labels = std::move(sources);
  c.regex_text = std::move(regex);
  c.target_label = std::move(target);
  c.replacement = std::move(replacement);
  EXPECT_TRUE(c.CompileRegex().ok());
  return c;
}

std::optional<Labels> Apply(const Labels& in, std::vector<RelabelConfig> cfgs) {
  for (const auto& c : cfgs) EXPECT_TRUE(c.Validate().ok()) << c.Validate();
  return Process(in, cfgs);
}

TEST(RelabelTest, ReplaceWithCaptureGroups) {
  auto out = Apply({{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
                   {Make(RelabelAction::kReplace, {"a"}, "f(.*)", "d", "ch${1}-ch${1}")});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, Labels({{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "choo-choo"}}));
}

TEST(RelabelTest, ReplaceJoinsSourcesWithSeparator) {
  RelabelConfig c = Make(RelabelAction::kReplace, {"a", "b"}, "f(.*);(.*)r", "a", "b${1}${2}m");
  auto out = Apply({{"a", "foo"}, {"b", "bar"}, {"c", "baz"}}, {c});
  ASSERT_TRUE(out.has_value());
  // "foo;bar" matches f(.*);(.*)r with $1="oo", $2="ba".
  EXPECT_EQ(out->Get("a"), "boobam");
}

TEST(RelabelTest, ReplaceNoMatchLeavesLabels) {
  Labels in{{"a", "foo"}};
  auto out = Apply(in, {Make(RelabelAction::kReplace, {"a"}, "x(.*)", "b")});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, in);
}

TEST(RelabelTest, ReplaceEmptyResultDeletesTarget) {
  auto out = Apply({{"a", "foo"}, {"b", "bar"}},
                   {Make(RelabelAction::kReplace, {"a"}, "(f).*", "b", "$2")});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, Labels({{"a", "foo"}}));
}

TEST(RelabelTest, ReplaceTargetFromGroupAndInvalidTargetSkipped) {
  auto out = Apply({{"a", "some-name-value"}},
                   {Make(RelabelAction::kReplace, {"a"}, "some-([^-]+)-([^,]+)", "${1}", "${2}")});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->Get("name"), "value");
  // A target that expands to an invalid label name is skipped, as in Prometheus.
  auto out2 = Apply({{"a", "some-1name-value"}},
                    {Make(RelabelAction::kReplace, {"a"}, "some-([^-]+)-([^,]+)", "${1}", "${2}")});
  ASSERT_TRUE(out2.has_value());
  EXPECT_EQ(*out2, Labels({{"a", "some-1name-value"}}));
}

TEST(RelabelTest, RegexIsAnchored) {
  // "o" alone does not match "foo": relabel regexes are fully anchored.
  auto out = Apply({{"a", "foo"}}, {Make(RelabelAction::kReplace, {"a"}, "o", "b", "x")});
  EXPECT_FALSE(out->Has("b"));
}

TEST(RelabelTest, GoExpandRules) {
  // $1x names group "1x" (absent) so expands empty; $$ is a literal dollar; $01 is a
  // group name in Go, not index 1.
  auto out =
      Apply({{"a", "foo"}}, {Make(RelabelAction::kReplace, {"a"}, "(f)oo", "b", "$1x-$$-${1}")});
  EXPECT_EQ(out->Get("b"), "-$-f");
  auto out2 = Apply({{"a", "foo"}}, {Make(RelabelAction::kReplace, {"a"}, "(f)oo", "b", "z$01")});
  EXPECT_EQ(out2->Get("b"), "z");
}

TEST(RelabelTest, KeepAndDrop) {
  Labels in{{"a", "foo"}};
  EXPECT_FALSE(Apply(in, {Make(RelabelAction::kKeep, {"a"}, "bar")}).has_value());
  EXPECT_TRUE(Apply(in, {Make(RelabelAction::kKeep, {"a"}, "f.*")}).has_value());
  EXPECT_FALSE(Apply(in, {Make(RelabelAction::kDrop, {"a"}, "f.*")}).has_value());
  EXPECT_TRUE(Apply(in, {Make(RelabelAction::kDrop, {"a"}, "f")}).has_value());
  // A missing source label is the empty string: keep with regex "" keeps it.
  EXPECT_TRUE(Apply(in, {Make(RelabelAction::kKeep, {"missing"}, "")}).has_value());
}

TEST(RelabelTest, KeepEqualAndDropEqual) {
  Labels in{{"a", "foo"}, {"b", "foo"}, {"c", "bar"}};
  EXPECT_TRUE(Apply(in, {Make(RelabelAction::kKeepEqual, {"a"}, "(.*)", "b")}).has_value());
  EXPECT_FALSE(Apply(in, {Make(RelabelAction::kKeepEqual, {"a"}, "(.*)", "c")}).has_value());
  EXPECT_FALSE(Apply(in, {Make(RelabelAction::kDropEqual, {"a"}, "(.*)", "b")}).has_value());
  EXPECT_TRUE(Apply(in, {Make(RelabelAction::kDropEqual, {"a"}, "(.*)", "c")}).has_value());
}

TEST(RelabelTest, HashMod) {
  RelabelConfig c = Make(RelabelAction::kHashMod, {"c"}, "(.*)", "d");
  c.modulus = 1000;
  auto out = Apply({{"a", "foo"}, {"b", "bar"}, {"c", "baz"}}, {c});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->Get("d"), "976");
  RelabelConfig c2 = Make(RelabelAction::kHashMod, {"b", "c"}, "(.*)", "d");
  c2.modulus = 1000;
  EXPECT_EQ(Apply({{"b", "bar"}, {"c", "baz"}}, {c2})->Get("d"), "82");
}

TEST(RelabelTest, LabelMap) {
  auto out = Apply({{"__meta_my_bar", "aaa"}, {"__meta_my_baz", "bbb"}, {"__meta_other", "ccc"}},
                   {Make(RelabelAction::kLabelMap, {}, "__meta_my_(.+)", "", "${1}")});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, Labels({{"__meta_my_bar", "aaa"},
                          {"__meta_my_baz", "bbb"},
                          {"__meta_other", "ccc"},
                          {"bar", "aaa"},
                          {"baz", "bbb"}}));
}

TEST(RelabelTest, LabelDropAndLabelKeep) {
  Labels in{{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}};
  EXPECT_EQ(*Apply(in, {Make(RelabelAction::kLabelDrop, {}, "b.*")}), Labels({{"a", "foo"}}));
  EXPECT_EQ(*Apply(in, {Make(RelabelAction::kLabelKeep, {}, "b.*")}),
            Labels({{"b1", "bar"}, {"b2", "baz"}}));
}

TEST(RelabelTest, LowercaseUppercase) {
  Labels in{{"foo", "bAr123Foo"}};
  EXPECT_EQ(
      Apply(in, {Make(RelabelAction::kLowercase, {"foo"}, "(.*)", "foo_lower")})->Get("foo_lower"),
      "bar123foo");
  EXPECT_EQ(
      Apply(in, {Make(RelabelAction::kUppercase, {"foo"}, "(.*)", "foo_upper")})->Get("foo_upper"),
      "BAR123FOO");
}

TEST(RelabelTest, ConfigsApplyInOrder) {
  auto out = Apply({{"__address__", "host:9100"}},
                   {Make(RelabelAction::kReplace, {"__address__"}, "(.*):.*", "host"),
                    Make(RelabelAction::kKeep, {"host"}, "host")});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->Get("host"), "host");
}

TEST(RelabelTest, ParseActionCaseInsensitive) {
  EXPECT_EQ(*ParseRelabelAction("LabelMap"), RelabelAction::kLabelMap);
  EXPECT_EQ(*ParseRelabelAction("keepequal"), RelabelAction::kKeepEqual);
  EXPECT_FALSE(ParseRelabelAction("explode").ok());
}

TEST(RelabelTest, ValidateRejectsWhatPrometheusRejects) {
  RelabelConfig c = DefaultRelabelConfig();
  c.action = RelabelAction::kReplace;
  EXPECT_FALSE(c.Validate().ok());  // no target_label
  c.target_label = "1bad";
  EXPECT_FALSE(c.Validate().ok());
  c.target_label = "${1}_ok";
  EXPECT_TRUE(c.Validate().ok());

  RelabelConfig h = DefaultRelabelConfig();
  h.action = RelabelAction::kHashMod;
  h.target_label = "t";
  EXPECT_FALSE(h.Validate().ok());  // modulus 0
  h.modulus = 2;
  EXPECT_TRUE(h.Validate().ok());

  RelabelConfig d = DefaultRelabelConfig();
  d.action = RelabelAction::kLabelDrop;
  d.source_labels = {"a"};
  EXPECT_FALSE(d.Validate().ok());  // labeldrop takes only regex

  RelabelConfig k = DefaultRelabelConfig();
  k.action = RelabelAction::kKeepEqual;
  k.target_label = "b";
  k.regex_text = "x";
  EXPECT_FALSE(k.Validate().ok());  // keepequal takes no regex

  RelabelConfig l = DefaultRelabelConfig();
  l.action = RelabelAction::kLowercase;
  l.target_label = "b";
  l.replacement = "x";
  EXPECT_FALSE(l.Validate().ok());

  RelabelConfig bad = DefaultRelabelConfig();
  bad.regex_text = "(";
  EXPECT_FALSE(bad.CompileRegex().ok());
}

}  // namespace
}  // namespace cairn::config
