#include "server/rules/rule_group.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/model/sample.h"
#include "tsdb/storage/append_error.h"

namespace cairn::rules {
namespace {

int64_t DefaultWallNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Go's url.QueryEscape.
std::string QueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out += absl::StrFormat("%%%02X", c);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RuleGroup>> RuleGroup::Create(
    const RuleGroupSpec& spec, int64_t interval_ms, std::shared_ptr<const GroupOptions> options,
    bool should_restore) {
  auto g = std::unique_ptr<RuleGroup>(new RuleGroup());
  g->name_ = spec.name;
  g->file_ = spec.file;
  g->interval_ms_ = spec.interval_ms > 0 ? spec.interval_ms : interval_ms;
  if (g->interval_ms_ <= 0) g->interval_ms_ = 60'000;
  g->limit_ = spec.limit;
  g->options_ = std::move(options);
  g->should_restore_ = should_restore;
  for (const RuleSpec& r : spec.rules) {
    absl::StatusOr<std::unique_ptr<Rule>> rule = Rule::Create(r);
    if (!rule.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: group \"%s\": %s", spec.file, spec.name, rule.status().message()));
    }
    // Rules loaded at start-up write no ALERTS until their `for` state is restored.
    (*rule)->set_restored(!should_restore);
    g->rules_.push_back(std::move(*rule));
  }
  g->series_in_previous_eval_.resize(g->rules_.size());
  return g;
}

bool RuleGroup::Equals(const RuleGroup& other) const {
  if (name_ != other.name_ || file_ != other.file_ || interval_ms_ != other.interval_ms_ ||
      limit_ != other.limit_ || rules_.size() != other.rules_.size()) {
    return false;
  }
  if (!(options_->external_labels == other.options_->external_labels) ||
      options_->external_url != other.options_->external_url) {
    return false;
  }
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i]->Definition() != other.rules_[i]->Definition()) return false;
  }
  return true;
}

int64_t RuleGroup::EvalTimestamp(int64_t now_ms) const {
  Labels key{{"name", name_}, {"file", file_}};
  int64_t offset = static_cast<int64_t>(key.StableHash() % static_cast<uint64_t>(interval_ms_));
  int64_t adj_now = now_ms - offset;
  int64_t rem = adj_now % interval_ms_;
  if (rem < 0) rem += interval_ms_;
  return adj_now - rem + offset;
}

void RuleGroup::Iterate(int64_t ts_ms, int64_t now_ms) {
  Eval(ts_ms);
  // Restore after the second evaluation: by then recording rules the alerts depend
  // on have run with fresh data (Prometheus waits the same).
  if (should_restore_ && ++evaluations_before_restore_ >= 2) {
    RestoreForState(now_ms);
    should_restore_ = false;
  }
}

void RuleGroup::Eval(int64_t ts_ms) {
  auto wall_now = options_->wall_now_us ? options_->wall_now_us : DefaultWallNowUs;
  int64_t start_us = wall_now();
  uint64_t samples = 0;
  for (size_t i = 0; i < rules_.size(); ++i) {
    EvalRule(i, ts_ms);
  }
  for (const auto& prev : series_in_previous_eval_) samples += prev.size();
  if (!stale_series_.empty()) {
    AppendStale(stale_series_, ts_ms);
    stale_series_.clear();
  }
  int64_t end_us = wall_now();
  absl::MutexLock lock(&mu_);
  evaluation_seconds_ = static_cast<double>(end_us - start_us) / 1e6;
  last_evaluation_wall_us_ = start_us;
  stats_.iterations++;
  stats_.last_duration_seconds = evaluation_seconds_;
  stats_.last_eval_timestamp_ms = ts_ms;
  stats_.last_samples = samples;
}

void RuleGroup::EvalRule(size_t i, int64_t ts_ms) {
  Rule& rule = *rules_[i];
  auto wall_now = options_->wall_now_us ? options_->wall_now_us : DefaultWallNowUs;
  int64_t start_us = wall_now();
  {
    absl::MutexLock lock(&mu_);
    stats_.evaluations++;
  }
  auto fail = [&](const absl::Status& s) {
    rule.SetResult(RuleHealth::kErr, std::string(s.message()),
                   static_cast<double>(wall_now() - start_us) / 1e6, start_us);
    absl::MutexLock lock(&mu_);
    stats_.evaluation_failures++;
  };
  EvalContext ctx;
  ctx.engine = options_->engine;
  ctx.queryable = options_->queryable;
  ctx.external_labels = &options_->external_labels;
  ctx.external_url = options_->external_url;
  ctx.cancelled = &cancelled_;
  absl::StatusOr<std::vector<promql::VectorSample>> vec = rule.Eval(ctx, ts_ms, limit_);
  if (!vec.ok()) {
    if (vec.status().code() != absl::StatusCode::kCancelled) {
      std::fprintf(stderr, "cairn: rules: group %s (%s), rule %s: evaluation failed: %s\n",
                   name_.c_str(), file_.c_str(), rule.name().c_str(),
                   std::string(vec.status().message()).c_str());
    }
    fail(vec.status());
    return;
  }
  if (rule.is_alert() && options_->sender != nullptr) {
    std::string url = absl::StrCat(options_->external_url,
                                   "/graph?g0.expr=", QueryEscape(rule.query()), "&g0.tab=1");
    std::vector<notifier::Alert> alerts =
        rule.AlertsToSend(ts_ms, options_->resend_delay_ms, interval_ms_, url);
    if (!alerts.empty()) options_->sender->Send(std::move(alerts));
  } else if (rule.is_alert()) {
    // Keep the resend bookkeeping identical whether or not a sender is attached.
    rule.AlertsToSend(ts_ms, options_->resend_delay_ms, interval_ms_, "");
  }

  std::unique_ptr<storage::Appender> app = options_->appendable->NewAppender();
  absl::flat_hash_set<Labels> returned;
  returned.reserve(vec->size());
  absl::Status first_error;
  for (const promql::VectorSample& s : *vec) {
    absl::StatusOr<storage::SeriesRef> ref = app->Append(0, s.labels, s.t, s.v);
    if (!ref.ok()) {
      // Out-of-order / duplicate samples (e.g. two rules writing one series) fail
      // the rule but not the batch.
      if (first_error.ok()) first_error = ref.status();
      continue;
    }
    returned.insert(s.labels);
  }
  for (const Labels& lset : series_in_previous_eval_[i]) {
    if (returned.contains(lset)) continue;
    // No longer produced: mark stale. Refusals are expected when another rule now
    // writes the series, and are not errors.
    (void)app->Append(0, lset, ts_ms, StaleNaN());
  }
  absl::Status commit = app->Commit();
  if (!commit.ok()) {
    std::fprintf(stderr, "cairn: rules: group %s, rule %s: appending samples failed: %s\n",
                 name_.c_str(), rule.name().c_str(), std::string(commit.message()).c_str());
    fail(commit);
    return;
  }
  series_in_previous_eval_[i] = std::move(returned);
  double seconds = static_cast<double>(wall_now() - start_us) / 1e6;
  if (!first_error.ok()) {
    rule.SetResult(RuleHealth::kErr, std::string(first_error.message()), seconds, start_us);
    return;
  }
  rule.SetResult(RuleHealth::kOk, "", seconds, start_us);
}

void RuleGroup::AppendStale(const std::vector<Labels>& series, int64_t ts_ms) {
  if (series.empty()) return;
  std::unique_ptr<storage::Appender> app = options_->appendable->NewAppender();
  for (const Labels& l : series) (void)app->Append(0, l, ts_ms, StaleNaN());
  if (absl::Status s = app->Commit(); !s.ok()) {
    std::fprintf(stderr, "cairn: rules: group %s: writing stale markers failed: %s\n",
                 name_.c_str(), std::string(s.message()).c_str());
  }
}

void RuleGroup::RestoreForState(int64_t now_ms) {
  int64_t mint = now_ms - options_->outage_tolerance_ms;
  absl::StatusOr<std::unique_ptr<storage::Querier>> q =
      options_->queryable->NewQuerier(mint, now_ms);
  if (!q.ok()) {
    std::fprintf(stderr, "cairn: rules: group %s: cannot restore alert state: %s\n", name_.c_str(),
                 std::string(q.status().message()).c_str());
    return;
  }
  for (const auto& rule : rules_) {
    rule->RestoreForState(**q, now_ms, mint, options_->for_grace_period_ms);
  }
}

void RuleGroup::CopyStateFrom(RuleGroup& old) {
  {
    absl::MutexLock lock(&old.mu_);
    int64_t last = old.last_evaluation_wall_us_;
    double secs = old.evaluation_seconds_;
    absl::MutexLock lock2(&mu_);
    last_evaluation_wall_us_ = last;
    evaluation_seconds_ = secs;
  }
  // Match rules by name and labels, in order, as Prometheus' CopyState.
  std::map<std::string, std::vector<size_t>> by_identity;
  for (size_t i = 0; i < old.rules_.size(); ++i) {
    by_identity[old.rules_[i]->Identity()].push_back(i);
  }
  for (size_t i = 0; i < rules_.size(); ++i) {
    auto it = by_identity.find(rules_[i]->Identity());
    if (it == by_identity.end() || it->second.empty()) continue;
    size_t from = it->second.front();
    it->second.erase(it->second.begin());
    series_in_previous_eval_[i] = old.series_in_previous_eval_[from];
    rules_[i]->CopyStateFrom(*old.rules_[from]);
  }
  stale_series_ = old.stale_series_;
  for (const auto& [identity, unmatched] : by_identity) {
    for (size_t from : unmatched) {
      for (const Labels& l : old.series_in_previous_eval_[from]) stale_series_.push_back(l);
    }
  }
}

void RuleGroup::MarkAllStale(int64_t ts_ms) {
  std::vector<Labels> all = stale_series_;
  for (const auto& prev : series_in_previous_eval_) {
    for (const Labels& l : prev) all.push_back(l);
  }
  AppendStale(all, ts_ms);
  for (auto& prev : series_in_previous_eval_) prev.clear();
  stale_series_.clear();
}

void RuleGroup::AddMissedIterations(uint64_t n) {
  absl::MutexLock lock(&mu_);
  stats_.iterations_missed += n;
}

GroupStats RuleGroup::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

GroupSnapshot RuleGroup::Snapshot() const {
  GroupSnapshot s;
  s.name = name_;
  s.file = file_;
  s.interval_ms = interval_ms_;
  s.limit = limit_;
  {
    absl::MutexLock lock(&mu_);
    s.evaluation_seconds = evaluation_seconds_;
    s.last_evaluation_wall_us = last_evaluation_wall_us_;
    s.stats = stats_;
  }
  for (const auto& r : rules_) s.rules.push_back(r->Snapshot());
  return s;
}

}  // namespace cairn::rules
