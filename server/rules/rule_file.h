// Rule files: Prometheus 2.42's rule file format (rulefmt), parsed and validated as
// Prometheus and `promtool check rules` do.
//
//   groups:
//     - name: example            # unique within the file
//       interval: 30s            # optional; default the global evaluation_interval
//       limit: 10                # optional; 0 = no limit on series/alerts per rule
//       rules:
//         - record: job:up:sum   # a valid metric name
//           expr: sum by (job) (up)
//           labels: {team: a}
//         - alert: InstanceDown
//           expr: up == 0
//           for: 5m
//           keep_firing_for: 1m
//           labels: {severity: page}
//           annotations:
//             summary: "{{ $labels.instance }} down ({{ $value | humanize }})"
//
// Validation: unknown fields, duplicate group names, missing expr, both or neither of
// record/alert, invalid record or label names, for/keep_firing_for/annotations on
// recording rules, expressions that do not parse (tsdb/promql), and label/annotation
// templates that do not parse (template.h). Every problem found is reported, one per
// line, each naming file, line, group, rule and field, e.g.
//   rules.yml:4: group "a", rule 1, "bad name": invalid recording rule name: bad name
//
// Plain values; thread-compatible.
#ifndef CAIRN_SERVER_RULES_RULE_FILE_H_
#define CAIRN_SERVER_RULES_RULE_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tsdb/model/labels.h"

namespace cairn::rules {

struct RuleSpec {
  std::string record;  // exactly one of record / alert is set
  std::string alert;
  std::string expr;                // as written
  int64_t for_ms = 0;              // alerting only
  int64_t keep_firing_for_ms = 0;  // alerting only
  // Templates (alerting) or plain values (recording), sorted by name.
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  int line = 0;  // 1-based line of the rule in its file

  bool is_alert() const { return !alert.empty(); }
  const std::string& name() const { return is_alert() ? alert : record; }
};

struct RuleGroupSpec {
  std::string name;
  std::string file;         // the path the group was loaded from
  int64_t interval_ms = 0;  // 0 = the global evaluation interval
  int64_t limit = 0;        // 0 = no limit
  std::vector<RuleSpec> rules;
};

// Parses and validates rule file content. `filename` names the file in errors and is
// stored in each group. kInvalidArgument with every problem found, one per line.
absl::StatusOr<std::vector<RuleGroupSpec>> ParseRuleFile(std::string_view yaml,
                                                         std::string_view filename);

// Reads and parses `path`. kNotFound when it cannot be read.
absl::StatusOr<std::vector<RuleGroupSpec>> LoadRuleFile(const std::string& path);

// Expands rule_files patterns as Prometheus does: each is a glob, relative paths
// resolved against `base_dir` (the config file's directory). A pattern that matches
// nothing is skipped; a malformed one is kInvalidArgument. Sorted, de-duplicated.
absl::StatusOr<std::vector<std::string>> ExpandRuleFileGlobs(
    const std::vector<std::string>& patterns, const std::string& base_dir);

}  // namespace cairn::rules

#endif  // CAIRN_SERVER_RULES_RULE_FILE_H_
