#include "server/notifier/alertmanager_notifier.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

#include "server/config/relabel.h"
#include "server/notifier/alert_json.h"

namespace cairn::notifier {

AlertmanagerNotifier::AlertmanagerNotifier() : AlertmanagerNotifier(Options()) {}

AlertmanagerNotifier::AlertmanagerNotifier(Options options)
    : options_([&] {
        options.queue_capacity = std::max<size_t>(options.queue_capacity, 1);
        options.max_batch = std::max<size_t>(options.max_batch, 1);
        options.max_attempts = std::max(options.max_attempts, 1);
        return options;
      }()),
      state_(std::make_shared<State>()) {
  thread_ = std::thread([this] { Run(); });
}

AlertmanagerNotifier::~AlertmanagerNotifier() { Stop(); }

void AlertmanagerNotifier::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    queue_.clear();
  }
  poster_.Cancel();
  if (thread_.joinable()) thread_.join();
}

void AlertmanagerNotifier::ApplyConfig(const config::Config& cfg) {
  auto state = std::make_shared<State>();
  state->set = ResolveAlertmanagers(cfg.alerting);
  state->external_labels = cfg.global.external_labels;
  state->alert_relabel_configs = cfg.alerting.alert_relabel_configs;
  for (const std::string& e : state->set.errors) {
    std::fprintf(stderr, "cairn: notifier: %s\n", e.c_str());
  }
  absl::MutexLock lock(&mu_);
  state_ = std::move(state);
}

void AlertmanagerNotifier::Send(std::vector<Alert> alerts) {
  std::shared_ptr<const State> state;
  {
    absl::MutexLock lock(&mu_);
    state = state_;
  }
  // Labels and relabelling outside the lock: the rule manager may send thousands.
  std::vector<Alert> kept;
  kept.reserve(alerts.size());
  for (Alert& a : alerts) {
    if (!state->external_labels.empty()) {
      LabelsBuilder b(a.labels);
      for (const Label& l : state->external_labels) {
        if (!a.labels.Has(l.name)) b.Set(l.name, l.value);
      }
      a.labels = b.Build();
    }
    if (!state->alert_relabel_configs.empty()) {
      std::optional<Labels> relabelled = config::Process(a.labels, state->alert_relabel_configs);
      if (!relabelled.has_value()) continue;
      a.labels = std::move(*relabelled);
    }
    kept.push_back(std::move(a));
  }
  if (kept.empty()) return;

  absl::MutexLock lock(&mu_);
  if (stopping_) {
    dropped_ += kept.size();
    return;
  }
  const size_t cap = options_.queue_capacity;
  size_t first = 0;
  if (kept.size() > cap) {
    // Keep the newest `cap` of an oversized call.
    first = kept.size() - cap;
    dropped_ += first;
    std::fprintf(stderr, "cairn: notifier: alert batch larger than queue capacity, dropped %zu\n",
                 first);
  }
  const size_t incoming = kept.size() - first;
  if (queue_.size() + incoming > cap) {
    const size_t overflow = queue_.size() + incoming - cap;
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(overflow));
    dropped_ += overflow;
    std::fprintf(stderr, "cairn: notifier: alert queue full, dropped the %zu oldest alerts\n",
                 overflow);
  }
  for (size_t i = first; i < kept.size(); ++i) queue_.push_back(std::move(kept[i]));
}

void AlertmanagerNotifier::Run() {
  while (true) {
    std::vector<Alert> batch;
    std::shared_ptr<const State> state;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &AlertmanagerNotifier::HasWorkOrStopping));
      if (stopping_) return;
      const size_t n = std::min(options_.max_batch, queue_.size());
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      state = state_;
      in_flight_ = n;
    }
    Deliver(batch, *state);
    absl::MutexLock lock(&mu_);
    in_flight_ = 0;
  }
}

bool AlertmanagerNotifier::HasWorkOrStopping() const { return stopping_ || !queue_.empty(); }

bool AlertmanagerNotifier::WaitUnlessStopping(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

void AlertmanagerNotifier::Deliver(const std::vector<Alert>& batch, const State& state) {
  const std::vector<AlertmanagerTarget>& ams = state.set.active;
  if (ams.empty()) {
    absl::MutexLock lock(&mu_);
    dropped_ += batch.size();
    return;
  }
  const std::string body = EncodeAlertsV2(batch);
  std::vector<size_t> pending(ams.size());  // indexes into ams still to deliver to
  for (size_t i = 0; i < ams.size(); ++i) pending[i] = i;
  bool delivered = false;
  absl::Duration backoff = options_.initial_backoff;
  for (int attempt = 1; !pending.empty(); ++attempt) {
    std::vector<PostTarget> targets;
    targets.reserve(pending.size());
    for (size_t i : pending) targets.push_back({ams[i].url, ams[i].timeout});
    std::vector<absl::Status> results = poster_.PostAll(targets, body);

    std::vector<size_t> retry;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;  // cancelled: not an Alertmanager's error
      for (size_t k = 0; k < pending.size(); ++k) {
        const std::string& url = ams[pending[k]].url;
        sent_[url] += batch.size();
        if (results[k].ok()) {
          delivered = true;
          continue;
        }
        ++errors_[url];
        const bool again = AlertPoster::IsRetryable(results[k]) && attempt < options_.max_attempts;
        std::fprintf(stderr,
                     "cairn: notifier: error sending %zu alerts to %s (attempt %d/%d%s): %s\n",
                     batch.size(), url.c_str(), attempt, options_.max_attempts,
                     again ? ", will retry" : "", std::string(results[k].message()).c_str());
        if (again) retry.push_back(pending[k]);
      }
    }
    pending = std::move(retry);
    if (pending.empty()) break;
    if (!WaitUnlessStopping(backoff)) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  if (!delivered) {
    absl::MutexLock lock(&mu_);
    dropped_ += batch.size();
  }
}

AlertmanagerNotifier::Stats AlertmanagerNotifier::stats() const {
  absl::MutexLock lock(&mu_);
  Stats s;
  s.sent = sent_;
  s.errors = errors_;
  s.dropped = dropped_;
  s.queue_length = queue_.size();
  s.in_flight = in_flight_;
  s.queue_capacity = options_.queue_capacity;
  s.alertmanagers_discovered = state_->set.active.size();
  return s;
}

AlertmanagerSet AlertmanagerNotifier::alertmanagers() const {
  absl::MutexLock lock(&mu_);
  return state_->set;
}

}  // namespace cairn::notifier
