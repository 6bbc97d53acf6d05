// Error texts follow `promtool check rules` 2.42 for the same input (its messages,
// with Cairn's "file:line:" prefix).
#include "server/rules/rule_file.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cairn::rules {
namespace {

using ::testing::HasSubstr;

std::string Err(std::string_view yaml) {
  absl::StatusOr<std::vector<RuleGroupSpec>> g = ParseRuleFile(yaml, "r.yml");
  if (g.ok()) return "OK";
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(g.status().message());
}

TEST(RuleFileTest, ParsesGroupsAndRules) {
  absl::StatusOr<std::vector<RuleGroupSpec>> g = ParseRuleFile(R"(
groups:
  - name: a
    interval: 30s
    limit: 5
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {team: x}
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.instance }} is down"
  - name: b
    rules: []
)",
                                                               "r.yml");
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->size(), 2u);
  const RuleGroupSpec& a = (*g)[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.file, "r.yml");
  EXPECT_EQ(a.interval_ms, 30000);
  EXPECT_EQ(a.limit, 5);
  ASSERT_EQ(a.rules.size(), 2u);
  EXPECT_EQ(a.rules[0].record, "job:up:sum");
  EXPECT_FALSE(a.rules[0].is_alert());
  EXPECT_EQ(a.rules[0].labels.size(), 1u);
  EXPECT_EQ(a.rules[1].alert, "Down");
  EXPECT_EQ(a.rules[1].for_ms, 300000);
  EXPECT_EQ(a.rules[1].keep_firing_for_ms, 60000);
  EXPECT_EQ(a.rules[1].line, 10);
  EXPECT_EQ(a.rules[1].annotations[0].first, "summary");
  EXPECT_EQ((*g)[1].interval_ms, 0);
  EXPECT_TRUE(ParseRuleFile("", "empty.yml").ok());
}

TEST(RuleFileTest, ReportsEveryProblemWithLine) {
  std::string e = Err(R"(groups:
  - name: a
    rules:
      - record: "bad name"
        expr: up
      - alert: X
        expr: up
        for: 5m
        annotations:
          s: "{{ humanise $value }}"
  - name: a
    rules:
      - record: x
        alert: y
        expr: up
      - record: z
      - record: w
        expr: "up +"
        labels:
          "bad-l": x
      - record: rec
        expr: up
        for: 1m
        annotations: {a: b}
)");
  EXPECT_THAT(e, HasSubstr("r.yml:4: group \"a\", rule 1, \"bad name\": invalid recording rule "
                           "name: bad name"));
  EXPECT_THAT(e, HasSubstr("group \"a\", rule 2, \"X\": annotation \"s\": template: __alert_X:1: "
                           "function \"humanise\" not defined"));
  EXPECT_THAT(e, HasSubstr("r.yml:11: groupname: \"a\" is repeated in the same file"));
  EXPECT_THAT(e, HasSubstr("r.yml:13: group \"a\", rule 1, \"y\": only one of 'record' and "
                           "'alert' must be set"));
  EXPECT_THAT(e, HasSubstr("group \"a\", rule 2, \"z\": field 'expr' must be set in rule"));
  EXPECT_THAT(e, HasSubstr("r.yml:18: group \"a\", rule 3, \"w\": could not parse expression: "
                           "1:5: parse error: unexpected end of input"));
  EXPECT_THAT(e, HasSubstr("group \"a\", rule 3, \"w\": invalid label name: bad-l"));
  EXPECT_THAT(e, HasSubstr("r.yml:21: group \"a\", rule 4, \"rec\": invalid field 'annotations' "
                           "in recording rule"));
  EXPECT_THAT(e, HasSubstr("r.yml:21: group \"a\", rule 4, \"rec\": invalid field 'for' in "
                           "recording rule"));
}

TEST(RuleFileTest, UnknownFieldsRefused) {
  EXPECT_EQ(Err("groups:\n  - name: a\n    intervall: 1m\n    rules: []\n"),
            "r.yml:3: field intervall not found in type rulefmt.RuleGroup");
  EXPECT_EQ(Err("groups:\n  - name: a\n    rules:\n    - alert: x\n      expr: up\n      fo: 1m\n"),
            "r.yml:6: field fo not found in type rulefmt.RuleNode");
  EXPECT_EQ(Err("group: []\n"), "r.yml:1: field group not found in type rulefmt.RuleGroups");
}

TEST(RuleFileTest, OtherErrors) {
  EXPECT_THAT(Err("groups:\n  - rules: []\n"), HasSubstr("Groupname must not be empty"));
  EXPECT_THAT(Err("groups:\n  - name: a\n    rules:\n      - expr: up\n"),
              HasSubstr("one of 'record' or 'alert' must be set"));
  EXPECT_THAT(Err("groups:\n  - name: a\n    interval: 5x\n"),
              HasSubstr("r.yml:3: field interval: not a valid duration string: \"5x\""));
  EXPECT_THAT(Err("groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n"
                  "        for: soon\n"),
              HasSubstr("r.yml:6: field for: not a valid duration string"));
  EXPECT_THAT(Err("groups:\n  - name: a\n    rules:\n      - record: r\n        expr: up\n"
                  "        keep_firing_for: 1m\n"),
              HasSubstr("invalid field 'keep_firing_for' in recording rule"));
  EXPECT_THAT(Err("groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n"
                  "        annotations: {\"1x\": y}\n"),
              HasSubstr("invalid annotation name: 1x"));
  EXPECT_THAT(Err("groups: [\n"), HasSubstr("r.yml:"));
  EXPECT_THAT(Err("groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n"
                  "        labels: {__name__: x}\n"),
              HasSubstr("r.yml:4: group \"a\", rule 1, \"A\": invalid label name: __name__"));
  EXPECT_THAT(Err("groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n"
                  "        labels: {x: \"a\xff\"}\n"),
              HasSubstr("invalid label value: "));
  EXPECT_THAT(Err("groups:\n  - name: a\n    limit: many\n"),
              HasSubstr("r.yml:3: field limit: cannot unmarshal \"many\" into int"));
}

TEST(RuleFileTest, GlobsResolveAgainstConfigDir) {
  std::string dir = ::testing::TempDir() + "/rule_globs";
  std::filesystem::create_directories(dir + "/sub");
  std::ofstream(dir + "/sub/a.rules.yml") << "groups: []\n";
  std::ofstream(dir + "/sub/b.rules.yml") << "groups: []\n";
  absl::StatusOr<std::vector<std::string>> files =
      ExpandRuleFileGlobs({"sub/*.rules.yml", "missing/*.yml", dir + "/sub/a.rules.yml"}, dir);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0], dir + "/sub/a.rules.yml");
  EXPECT_EQ((*files)[1], dir + "/sub/b.rules.yml");
  EXPECT_EQ(LoadRuleFile(dir + "/nope.yml").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cairn::rules
