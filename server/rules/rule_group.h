// RuleGroup: the rules of one `groups:` entry, evaluated in order at one timestamp
// every interval (Prometheus 2.42 rules.Group).
//
// One evaluation (Eval) runs each rule's expression at the evaluation time through
// the PromQL engine, appends the results with that timestamp in one appender batch
// per rule, writes stale markers for the series a rule wrote last time but not this
// time, hands due alerts to the AlertSender, and records health, last error and
// durations. A rule that fails keeps its previous series (no stale markers), as
// Prometheus does.
//
// Iterate() adds what the group's run loop does around Eval: after the second
// evaluation of a group loaded at start-up it restores alerts' `for` state from
// ALERTS_FOR_STATE (RestoreForState). Evaluation timestamps are aligned to the
// interval with a per-group offset (EvalTimestamp), so groups spread over the
// interval and keep their phase across restarts.
//
// Thread-safety: Eval/Iterate/RestoreForState/CopyStateFrom/MarkAllStale run on one
// thread at a time (the group's run loop, or a test); Snapshot() and stats() may run
// concurrently with them.
#ifndef CAIRN_SERVER_RULES_RULE_GROUP_H_
#define CAIRN_SERVER_RULES_RULE_GROUP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/notifier/alert.h"
#include "server/rules/rule.h"
#include "server/rules/rule_file.h"
#include "tsdb/promql/engine.h"
#include "tsdb/storage/appender.h"
#include "tsdb/storage/querier.h"

namespace cairn::rules {

// Shared by the groups of one config generation; borrowed pointers outlive the groups.
struct GroupOptions {
  promql::Engine* engine = nullptr;
  storage::Queryable* queryable = nullptr;
  storage::Appendable* appendable = nullptr;
  notifier::AlertSender* sender = nullptr;  // null: alerts are not delivered
  std::string external_url;                 // prefix of generator URLs
  Labels external_labels;
  int64_t resend_delay_ms = 60'000;
  int64_t outage_tolerance_ms = 3'600'000;
  int64_t for_grace_period_ms = 600'000;
  // Wall clock (unix microseconds) for lastEvaluation and durations.
  std::function<int64_t()> wall_now_us;
};

struct GroupStats {
  uint64_t evaluations = 0;          // rule evaluations (prometheus_rule_evaluations_total)
  uint64_t evaluation_failures = 0;  // prometheus_rule_evaluation_failures_total
  uint64_t iterations = 0;           // prometheus_rule_group_iterations_total
  uint64_t iterations_missed = 0;    // prometheus_rule_group_iterations_missed_total
  double last_duration_seconds = 0;  // prometheus_rule_group_last_duration_seconds
  int64_t last_eval_timestamp_ms = 0;
  uint64_t last_samples = 0;  // prometheus_rule_group_last_evaluation_samples
};

struct GroupSnapshot {
  std::string name;
  std::string file;
  int64_t interval_ms = 0;
  int64_t limit = 0;
  double evaluation_seconds = 0;
  int64_t last_evaluation_wall_us = 0;  // 0 = never
  std::vector<RuleSnapshot> rules;
  GroupStats stats;
};

class RuleGroup {
 public:
  // `interval_ms` is the group's own interval or the global default. `should_restore`
  // is true for groups loaded at start-up: their alerting rules write no ALERTS until
  // RestoreForState ran. kInvalidArgument if a rule does not compile.
  static absl::StatusOr<std::unique_ptr<RuleGroup>> Create(
      const RuleGroupSpec& spec, int64_t interval_ms, std::shared_ptr<const GroupOptions> options,
      bool should_restore);

  const std::string& name() const { return name_; }
  const std::string& file() const { return file_; }
  int64_t interval_ms() const { return interval_ms_; }
  // "file;name", the rule_group label of the metrics.
  std::string Key() const { return file_ + ";" + name_; }
  // Same file, name, interval, limit, rules and external labels: a reload keeps the
  // running group untouched.
  bool Equals(const RuleGroup& other) const;

  // The first evaluation time at or before `now_ms`: the interval grid shifted by
  // this group's offset (a stable hash of file and name).
  int64_t EvalTimestamp(int64_t now_ms) const;

  // One evaluation of every rule at `ts_ms`.
  void Eval(int64_t ts_ms);
  // Eval plus the start-up restore after the second evaluation; `now_ms` is the wall
  // time the restore treats as "now".
  void Iterate(int64_t ts_ms, int64_t now_ms);
  void RestoreForState(int64_t now_ms);

  // Carries over alert state and previous-series sets from the group this one
  // replaces on reload; series of old rules with no counterpart are marked stale at
  // the next evaluation.
  void CopyStateFrom(RuleGroup& old);
  // Writes stale markers at `ts_ms` for every series this group wrote last (the group
  // was removed from the config).
  void MarkAllStale(int64_t ts_ms);

  // While set, queries fail at once with kCancelled: stopping a group ends its
  // evaluation in progress quickly. Cleared when the group is started again.
  void set_cancelled(bool cancelled) { cancelled_.store(cancelled); }

  void AddMissedIterations(uint64_t n);
  GroupSnapshot Snapshot() const;
  GroupStats stats() const;
  const std::vector<std::unique_ptr<Rule>>& rules() const { return rules_; }

 private:
  RuleGroup() = default;
  void EvalRule(size_t i, int64_t ts_ms);
  void AppendStale(const std::vector<Labels>& series, int64_t ts_ms);

  std::string name_;
  std::string file_;
  int64_t interval_ms_ = 0;
  int64_t limit_ = 0;
  std::shared_ptr<const GroupOptions> options_;
  std::vector<std::unique_ptr<Rule>> rules_;
  bool should_restore_ = false;
  std::atomic<bool> cancelled_{false};
  int evaluations_before_restore_ = 0;

  // Touched only by the evaluating thread.
  // Per rule: the series written by its last successful evaluation.
  std::vector<absl::flat_hash_set<Labels>> series_in_previous_eval_;
  std::vector<Labels> stale_series_;  // from rules removed by a reload

  mutable absl::Mutex mu_;
  GroupStats stats_ ABSL_GUARDED_BY(mu_);
  double evaluation_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_evaluation_wall_us_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cairn::rules

#endif  // CAIRN_SERVER_RULES_RULE_GROUP_H_
