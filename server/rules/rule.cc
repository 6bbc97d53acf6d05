#include "server/rules/rule.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/model/matcher.h"
#include "tsdb/model/sample.h"
#include "tsdb/promql/parser.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::rules {

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
    case AlertState::kInactive:
      break;
  }
  return "inactive";
}

std::string_view RuleHealthName(RuleHealth h) {
  switch (h) {
    case RuleHealth::kOk:
      return "ok";
    case RuleHealth::kErr:
      return "err";
    case RuleHealth::kUnknown:
      break;
  }
  return "unknown";
}

namespace {

void SortByLabels(std::vector<AlertSnapshot>* alerts) {
  std::sort(alerts->begin(), alerts->end(),
            [](const AlertSnapshot& a, const AlertSnapshot& b) { return a.labels < b.labels; });
}

Labels ToLabels(const std::vector<std::pair<std::string, std::string>>& pairs) {
  return Labels::FromPairs(pairs);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Rule>> Rule::Create(const RuleSpec& spec) {
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(spec.expr);
  if (!expr.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("rule \"%s\": could not parse expression: %s",
                                                      spec.name(), StdSv(expr.status().message())));
  }
  auto rule = std::unique_ptr<Rule>(new Rule());
  rule->is_alert_ = spec.is_alert();
  rule->name_ = spec.name();
  rule->query_ = promql::ToString(**expr);
  rule->for_ms_ = spec.for_ms;
  rule->keep_firing_for_ms_ = spec.keep_firing_for_ms;
  rule->labels_ = ToLabels(spec.labels);
  rule->annotations_ = ToLabels(spec.annotations);
  if (rule->is_alert_) {
    std::string tmpl_name = absl::StrCat("__alert_", rule->name_);
    for (const auto& [k, v] : spec.labels) {
      absl::StatusOr<Template> t = Template::Parse(tmpl_name, v);
      if (!t.ok()) return t.status();
      rule->label_templates_.emplace_back(k, std::move(*t));
    }
    for (const auto& [k, v] : spec.annotations) {
      absl::StatusOr<Template> t = Template::Parse(tmpl_name, v);
      if (!t.ok()) return t.status();
      rule->annotation_templates_.emplace_back(k, std::move(*t));
    }
  }
  // The definition a reload compares: everything of the rule as written.
  std::string def = absl::StrCat(rule->is_alert_ ? "alert: " : "record: ", rule->name_,
                                 "\nexpr: ", rule->query_, "\nfor: ", spec.for_ms,
                                 "\nkeep_firing_for: ", spec.keep_firing_for_ms, "\nlabels:");
  for (const auto& [k, v] : spec.labels)
    absl::StrAppend(&def, " ", k.size(), ":", k, "=", v.size(), ":", v);
  absl::StrAppend(&def, "\nannotations:");
  for (const auto& [k, v] : spec.annotations)
    absl::StrAppend(&def, " ", k.size(), ":", k, "=", v.size(), ":", v);
  rule->definition_ = std::move(def);
  return rule;
}

std::string Rule::Identity() const { return name_ + labels_.ToString(); }

absl::StatusOr<std::vector<promql::VectorSample>> Rule::Query(const EvalContext& ctx,
                                                              int64_t ts_ms) const {
  promql::QueryControl control;
  control.cancelled = ctx.cancelled;
  absl::StatusOr<promql::Value> v =
      ctx.engine->InstantQuery(*ctx.queryable, query_, ts_ms, control);
  if (!v.ok()) return v.status();
  switch (v->type) {
    case promql::ValueType::kVector:
      return std::move(v->vector);
    case promql::ValueType::kScalar: {
      std::vector<promql::VectorSample> out(1);
      out[0].t = v->scalar.t;
      out[0].v = v->scalar.v;
      return out;
    }
    default:
      return absl::InvalidArgumentError("rule result is not a vector or scalar");
  }
}

absl::StatusOr<std::vector<promql::VectorSample>> Rule::Eval(const EvalContext& ctx, int64_t ts_ms,
                                                             int64_t limit) {
  return is_alert_ ? EvalAlerting(ctx, ts_ms, limit) : EvalRecording(ctx, ts_ms, limit);
}

absl::StatusOr<std::vector<promql::VectorSample>> Rule::EvalRecording(const EvalContext& ctx,
                                                                      int64_t ts_ms,
                                                                      int64_t limit) {
  absl::StatusOr<std::vector<promql::VectorSample>> vec = Query(ctx, ts_ms);
  if (!vec.ok()) return vec.status();
  std::set<Labels> seen;
  LabelsBuilder b;
  for (promql::VectorSample& s : *vec) {
    b.Reset(s.labels);
    b.Set(kMetricNameLabel, name_);
    for (const Label& l : labels_) b.Set(l.name, l.value);
    s.labels = b.Build();
    if (!seen.insert(s.labels).second) {
      return absl::InvalidArgumentError(
          "vector contains metrics with the same labelset after applying rule labels");
    }
  }
  if (limit > 0 && static_cast<int64_t>(vec->size()) > limit) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("exceeded limit of %d with %d series", limit, vec->size()));
  }
  return vec;
}

absl::StatusOr<std::vector<promql::VectorSample>> Rule::EvalAlerting(const EvalContext& ctx,
                                                                     int64_t ts_ms, int64_t limit) {
  absl::StatusOr<std::vector<promql::VectorSample>> res = Query(ctx, ts_ms);
  if (!res.ok()) return res.status();
  static const Labels kNoLabels;
  // New alerts from this evaluation, keyed by their labels.
  absl::flat_hash_map<Labels, Alert> alerts;
  alerts.reserve(res->size());
  LabelsBuilder b;
  for (const promql::VectorSample& smpl : *res) {
    TemplateData data;
    data.labels = &smpl.labels;
    data.external_labels = ctx.external_labels != nullptr ? ctx.external_labels : &kNoLabels;
    data.value = smpl.v;
    data.external_url = ctx.external_url;
    auto expand = [&](const Template& t) {
      absl::StatusOr<std::string> out = t.Execute(data);
      if (!out.ok())
        return absl::StrCat("<error expanding template: ", out.status().message(), ">");
      return *out;
    };
    b.Reset(smpl.labels);
    b.Del(kMetricNameLabel);
    for (const auto& [k, t] : label_templates_) b.Set(k, expand(t));
    b.Set("alertname", name_);
    Labels lbs = b.Build();
    std::vector<std::pair<std::string, std::string>> ann;
    for (const auto& [k, t] : annotation_templates_) ann.emplace_back(k, expand(t));
    Alert a;
    a.s.labels = lbs;
    a.s.annotations = Labels::FromPairs(std::move(ann));
    a.s.active_at_ms = ts_ms;
    a.s.state = AlertState::kPending;
    a.s.value = smpl.v;
    if (!alerts.emplace(std::move(lbs), std::move(a)).second) {
      return absl::InvalidArgumentError(
          "vector contains metrics with the same labelset after applying alert labels");
    }
  }

  absl::MutexLock lock(&mu_);
  for (auto& [key, a] : alerts) {
    auto it = active_.find(key);
    // An alert still active keeps its activeAt; only value and annotations change.
    if (it != active_.end() && it->second.s.state != AlertState::kInactive) {
      it->second.s.value = a.s.value;
      it->second.s.annotations = a.s.annotations;
      continue;
    }
    active_[key] = std::move(a);
  }

  std::vector<promql::VectorSample> vec;
  int64_t num_active_pending = 0;
  for (auto it = active_.begin(); it != active_.end();) {
    Alert& a = it->second;
    // flat_hash_map::erase(it) returns void: advance before erasing.
    if (alerts.find(it->first) == alerts.end()) {
      bool keep_firing = false;
      if (a.s.state == AlertState::kFiring && keep_firing_for_ms_ > 0) {
        if (a.s.keep_firing_since_ms == 0) a.s.keep_firing_since_ms = ts_ms;
        if (ts_ms - a.s.keep_firing_since_ms < keep_firing_for_ms_) keep_firing = true;
      }
      // A previously firing alert is kept for resolvedRetention so its resolve is
      // sent; a pending one simply disappears.
      bool remove = a.s.state == AlertState::kPending ||
                    (a.s.resolved_at_ms != 0 && ts_ms - a.s.resolved_at_ms > kResolvedRetentionMs);
      if (a.s.state != AlertState::kInactive && !keep_firing) {
        a.s.state = AlertState::kInactive;
        a.s.resolved_at_ms = ts_ms;
      }
      if (remove) {
        active_.erase(it++);
        continue;
      }
      if (!keep_firing) {
        ++it;
        continue;
      }
    } else {
      a.s.keep_firing_since_ms = 0;
    }
    ++num_active_pending;
    if (a.s.state == AlertState::kPending && ts_ms - a.s.active_at_ms >= for_ms_) {
      a.s.state = AlertState::kFiring;
      a.s.fired_at_ms = ts_ms;
    }
    if (restored_) {
      promql::VectorSample alert_sample;
      b.Reset(a.s.labels);
      b.Set(kMetricNameLabel, "ALERTS");
      b.Set("alertstate", AlertStateName(a.s.state));
      alert_sample.labels = b.Build();
      alert_sample.t = ts_ms;
      alert_sample.v = 1;
      vec.push_back(std::move(alert_sample));
      promql::VectorSample for_state;
      b.Reset(a.s.labels);
      b.Set(kMetricNameLabel, "ALERTS_FOR_STATE");
      for_state.labels = b.Build();
      for_state.t = ts_ms;
      // Go's ActiveAt.Unix(): whole seconds, rounded down.
      int64_t secs = a.s.active_at_ms / 1000 - (a.s.active_at_ms % 1000 < 0 ? 1 : 0);
      for_state.v = static_cast<double>(secs);
      vec.push_back(std::move(for_state));
    }
    ++it;
  }
  if (limit > 0 && num_active_pending > limit) {
    active_.clear();
    return absl::ResourceExhaustedError(
        absl::StrFormat("exceeded limit of %d with %d alerts", limit, num_active_pending));
  }
  return vec;
}

std::vector<notifier::Alert> Rule::AlertsToSend(int64_t ts_ms, int64_t resend_delay_ms,
                                                int64_t interval_ms,
                                                const std::string& generator_url) {
  std::vector<notifier::Alert> out;
  if (!is_alert_) return out;
  absl::MutexLock lock(&mu_);
  for (auto& [key, a] : active_) {
    if (a.s.state == AlertState::kPending) continue;
    // Resolved since the last send, or the resend delay has passed.
    bool needs =
        a.s.resolved_at_ms > a.last_sent_at_ms || a.last_sent_at_ms + resend_delay_ms < ts_ms;
    if (!needs) continue;
    a.last_sent_at_ms = ts_ms;
    // Allow for two evaluation or Alertmanager send failures.
    a.valid_until_ms = ts_ms + 4 * std::max(resend_delay_ms, interval_ms);
    notifier::Alert n;
    n.labels = a.s.labels;
    n.annotations = a.s.annotations;
    n.starts_at_ms = a.s.fired_at_ms;
    n.ends_at_ms = a.s.resolved_at_ms != 0 ? a.s.resolved_at_ms : a.valid_until_ms;
    n.generator_url = generator_url;
    out.push_back(std::move(n));
  }
  return out;
}

void Rule::RestoreForState(const storage::Querier& querier, int64_t ts_ms, int64_t mint_ms,
                           int64_t for_grace_period_ms) {
  if (!is_alert_) return;
  absl::MutexLock lock(&mu_);
  // With `for` below the grace period, restoring would only delay firing further.
  if (for_ms_ < for_grace_period_ms) {
    restored_ = true;
    return;
  }
  for (auto& [key, a] : active_) {
    std::vector<Matcher> matchers;
    absl::StatusOr<Matcher> name =
        Matcher::Create(MatchType::kEqual, kMetricNameLabel, "ALERTS_FOR_STATE");
    if (!name.ok()) continue;
    matchers.push_back(std::move(*name));
    for (const Label& l : a.s.labels) {
      absl::StatusOr<Matcher> m = Matcher::Create(MatchType::kEqual, l.name, l.value);
      if (m.ok()) matchers.push_back(std::move(*m));
    }
    std::unique_ptr<storage::SeriesSet> set = querier.Select(mint_ms, ts_ms, matchers);
    size_t want = a.s.labels.size() + 1;
    bool found = false;
    int64_t t = 0;
    double v = 0;
    while (set->Next()) {
      // Every alert label matched, so equal size means equal label sets.
      if (set->At().labels().size() != want) continue;
      std::unique_ptr<SampleIterator> it = set->At().Iterator();
      while (it->Next()) {
        t = it->t();
        v = it->v();
        found = true;
      }
      if (!it->status().ok()) found = false;
      break;
    }
    if (!found || IsStaleNaN(v) || std::isnan(v)) continue;  // the alert was not active
    int64_t down_at_ms = (t / 1000) * 1000;                  // Go: time.Unix(t/1000, 0)
    int64_t restored_active_at_ms = static_cast<int64_t>(v) * 1000;
    int64_t time_spent_pending = down_at_ms - restored_active_at_ms;
    int64_t time_remaining_pending = for_ms_ - time_spent_pending;
    if (time_remaining_pending <= 0) {
      // It was firing when the server went down; the next evaluation fires it again
      // if it is still active.
    } else if (time_remaining_pending < for_grace_period_ms) {
      // Fire no earlier than the grace period from now.
      restored_active_at_ms = ts_ms + for_grace_period_ms - for_ms_;
    } else {
      // Keep the time spent pending before the outage, not counting the outage.
      restored_active_at_ms += ts_ms - down_at_ms;
    }
    a.s.active_at_ms = restored_active_at_ms;
  }
  restored_ = true;
}

void Rule::set_restored(bool restored) {
  absl::MutexLock lock(&mu_);
  restored_ = restored;
}

void Rule::CopyStateFrom(const Rule& from) {
  if (!is_alert_ || !from.is_alert_ || &from == this) return;
  absl::flat_hash_map<Labels, Alert> copy;
  {
    absl::MutexLock lock(&from.mu_);
    copy = from.active_;
  }
  absl::MutexLock lock(&mu_);
  for (auto& [k, a] : copy) active_[k] = std::move(a);
}

void Rule::SetResult(RuleHealth health, std::string last_error, double evaluation_seconds,
                     int64_t wall_us) {
  absl::MutexLock lock(&mu_);
  health_ = health;
  last_error_ = std::move(last_error);
  evaluation_seconds_ = evaluation_seconds;
  last_evaluation_wall_us_ = wall_us;
}

RuleSnapshot Rule::Snapshot() const {
  RuleSnapshot s;
  s.is_alert = is_alert_;
  s.name = name_;
  s.query = query_;
  s.for_ms = for_ms_;
  s.keep_firing_for_ms = keep_firing_for_ms_;
  s.labels = labels_;
  s.annotations = annotations_;
  absl::MutexLock lock(&mu_);
  s.health = health_;
  s.last_error = last_error_;
  s.evaluation_seconds = evaluation_seconds_;
  s.last_evaluation_wall_us = last_evaluation_wall_us_;
  for (const auto& [k, a] : active_) {
    // The API lists active alerts only, but the state counts resolved ones too.
    if (a.s.resolved_at_ms == 0) s.alerts.push_back(a.s);
    if (a.s.state > s.state) s.state = a.s.state;
  }
  SortByLabels(&s.alerts);
  return s;
}

std::vector<AlertSnapshot> Rule::ActiveAlerts() const {
  std::vector<AlertSnapshot> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [k, a] : active_) {
    if (a.s.resolved_at_ms == 0) out.push_back(a.s);
  }
  SortByLabels(&out);
  return out;
}

}  // namespace cairn::rules
