// Rule: one recording or alerting rule of a group, with the evaluation state
// Prometheus 2.42 keeps for it (rules/recording.go, rules/alerting.go).
//
// A recording rule runs its expression at the evaluation time and returns the result
// renamed to the rule's name with its labels applied. An alerting rule turns each
// result element into an alert keyed by its labels (minus __name__, plus the rule's
// expanded labels and alertname): new alerts are pending; pending alerts that stay
// active for `for` fire; alerts whose element disappears resolve (or, when firing,
// keep firing for keep_firing_for) and are kept 15 minutes so the resolve is sent.
// Its output samples are ALERTS{alertstate=...} = 1 and ALERTS_FOR_STATE = the
// alert's activeAt in unix seconds, written only once the rule's `for` state has
// been restored after a restart (see RuleGroup).
//
// Times are unix milliseconds; 0 means "unset" (evaluation times are always > 0).
//
// Thread-safety: Eval, AlertsToSend, Restore and CopyStateFrom are called by the
// owning group's evaluation (one at a time); Snapshot and ActiveAlerts may run
// concurrently with them (state is guarded by mu_).
#ifndef CAIRN_SERVER_RULES_RULE_H_
#define CAIRN_SERVER_RULES_RULE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/notifier/alert.h"
#include "server/rules/rule_file.h"
#include "server/rules/template.h"
#include "tsdb/model/labels.h"
#include "tsdb/promql/engine.h"
#include "tsdb/promql/value.h"
#include "tsdb/storage/querier.h"

namespace cairn::rules {

enum class AlertState { kInactive, kPending, kFiring };
std::string_view AlertStateName(AlertState s);  // "inactive", "pending", "firing"

enum class RuleHealth { kUnknown, kOk, kErr };
std::string_view RuleHealthName(RuleHealth h);  // "unknown", "ok", "err"

// How long a resolved alert is kept (and re-sent) after it resolved.
inline constexpr int64_t kResolvedRetentionMs = 15 * 60 * 1000;

struct AlertSnapshot {
  Labels labels;
  Labels annotations;
  AlertState state = AlertState::kInactive;
  double value = 0;
  int64_t active_at_ms = 0;
  int64_t fired_at_ms = 0;
  int64_t resolved_at_ms = 0;
  int64_t keep_firing_since_ms = 0;
};

struct RuleSnapshot {
  bool is_alert = false;
  std::string name;
  std::string query;  // the expression as Prometheus prints it
  int64_t for_ms = 0;
  int64_t keep_firing_for_ms = 0;
  Labels labels;
  Labels annotations;  // the templates, unexpanded
  RuleHealth health = RuleHealth::kUnknown;
  std::string last_error;
  double evaluation_seconds = 0;
  int64_t last_evaluation_wall_us = 0;       // unix microseconds; 0 = never
  AlertState state = AlertState::kInactive;  // alerting: the highest state of its alerts
  std::vector<AlertSnapshot> alerts;         // alerting: pending and firing alerts
};

// What an evaluation needs from outside; borrowed for the call.
struct EvalContext {
  promql::Engine* engine = nullptr;
  storage::Queryable* queryable = nullptr;
  const Labels* external_labels = nullptr;
  std::string_view external_url;
  // Set when the group is being stopped: the query ends with kCancelled.
  const std::atomic<bool>* cancelled = nullptr;
};

class Rule {
 public:
  // REQUIRES: `spec` passed ParseRuleFile's validation (its expr parses).
  static absl::StatusOr<std::unique_ptr<Rule>> Create(const RuleSpec& spec);

  bool is_alert() const { return is_alert_; }
  const std::string& name() const { return name_; }
  const std::string& query() const { return query_; }
  int64_t for_ms() const { return for_ms_; }
  // Name plus labels, how a reload matches a new rule to an old one (CopyState).
  std::string Identity() const;
  // The rule as written (name, expr, for, keep_firing_for, labels, annotations), to
  // tell whether a reload changed it.
  const std::string& Definition() const { return definition_; }

  // Evaluates at `ts_ms`. Returns the samples to write (recording: the renamed
  // result; alerting: ALERTS and ALERTS_FOR_STATE once restored). `limit` > 0 fails
  // the rule when the result has more series / active alerts, as Prometheus.
  absl::StatusOr<std::vector<promql::VectorSample>> Eval(const EvalContext& ctx, int64_t ts_ms,
                                                         int64_t limit);

  // Alerting: alerts due to be (re)sent at `ts_ms`, marked as sent; see
  // notifier/alert.h for ends_at. `generator_url` is set on each.
  std::vector<notifier::Alert> AlertsToSend(int64_t ts_ms, int64_t resend_delay_ms,
                                            int64_t interval_ms, const std::string& generator_url);

  // Alerting: restores each active alert's activeAt from the newest
  // ALERTS_FOR_STATE sample in `querier` (Prometheus' RestoreForState).
  void RestoreForState(const storage::Querier& querier, int64_t ts_ms, int64_t mint_ms,
                       int64_t for_grace_period_ms);
  // Whether ALERTS samples are written (false until RestoreForState, for rules loaded
  // at start-up).
  void set_restored(bool restored);

  // Copies the active alerts of `from` (a rule of the same identity) on reload.
  void CopyStateFrom(const Rule& from);

  void SetResult(RuleHealth health, std::string last_error, double evaluation_seconds,
                 int64_t wall_us);
  RuleSnapshot Snapshot() const;
  // Alerting: pending and firing alerts (for /api/v1/alerts).
  std::vector<AlertSnapshot> ActiveAlerts() const;

 private:
  struct Alert {
    AlertSnapshot s;
    int64_t last_sent_at_ms = 0;
    int64_t valid_until_ms = 0;
  };

  Rule() = default;
  absl::StatusOr<std::vector<promql::VectorSample>> Query(const EvalContext& ctx,
                                                          int64_t ts_ms) const;
  absl::StatusOr<std::vector<promql::VectorSample>> EvalRecording(const EvalContext& ctx,
                                                                  int64_t ts_ms, int64_t limit);
  absl::StatusOr<std::vector<promql::VectorSample>> EvalAlerting(const EvalContext& ctx,
                                                                 int64_t ts_ms, int64_t limit);

  bool is_alert_ = false;
  std::string name_;
  std::string query_;
  std::string definition_;
  int64_t for_ms_ = 0;
  int64_t keep_firing_for_ms_ = 0;
  Labels labels_;  // recording rules: applied as is
  // Alerting rules: label and annotation templates, parsed once.
  std::vector<std::pair<std::string, Template>> label_templates_;
  std::vector<std::pair<std::string, Template>> annotation_templates_;
  Labels annotations_;

  mutable absl::Mutex mu_;
  // Keyed by the alert's labels (hashed: ordered maps spent most of an evaluation
  // comparing label sets; rule_eval_bench). Snapshots sort by labels.
  absl::flat_hash_map<Labels, Alert> active_ ABSL_GUARDED_BY(mu_);
  bool restored_ ABSL_GUARDED_BY(mu_) = true;
  RuleHealth health_ ABSL_GUARDED_BY(mu_) = RuleHealth::kUnknown;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  double evaluation_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_evaluation_wall_us_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cairn::rules

#endif  // CAIRN_SERVER_RULES_RULE_H_
