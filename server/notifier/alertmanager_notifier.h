// AlertmanagerNotifier: delivers the rule manager's alerts to the Alertmanagers of
// the `alerting:` config section, as Prometheus 2.42's notifier.Manager does.
//
//   Send()  adds the external labels an alert lacks, applies alert_relabel_configs
//           (an alert they drop is not sent), and appends the rest to a bounded
//           queue; it never waits on the network. When the queue is full the oldest
//           alerts are dropped (and counted) in favour of the new ones.
//   sender  one thread takes up to max_batch alerts from the queue head and POSTs them
//           as one JSON array (alert_json.h) to every active Alertmanager at once
//           (alert_poster.h). A failed POST that may succeed later (connection error,
//           timeout, 5xx, 429) is retried for that Alertmanager only, with exponential
//           backoff, up to max_attempts; a batch that no Alertmanager accepted is
//           dropped and counted, as in Prometheus. Alerts are re-sent by the rule
//           manager on its next evaluation anyway, so losing a batch costs one
//           resend interval, while retrying forever would let the queue fill.
//
// Metrics follow Prometheus' definitions: sent counts the alerts of every POST
// attempt, successful or not, and errors counts failed POSTs, so
// errors/sent is the error ratio Prometheus' own alerts use.
//
// ApplyConfig() swaps the Alertmanager list, external labels and relabel configs;
// the queue and the batch in flight are kept (the batch goes to the Alertmanagers it
// was started with). Stop() cancels the POSTs in flight and discards the queue, as
// Prometheus 2.42 does on shutdown.
//
// Thread-safety: every public method may be called from any thread.
#ifndef CAIRN_SERVER_NOTIFIER_ALERTMANAGER_NOTIFIER_H_
#define CAIRN_SERVER_NOTIFIER_ALERTMANAGER_NOTIFIER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "server/notifier/alert.h"
#include "server/notifier/alert_poster.h"
#include "server/notifier/alertmanager_set.h"

namespace cairn::notifier {

class AlertmanagerNotifier : public AlertSender {
 public:
  struct Options {
    // Prometheus' --alertmanager.notification-queue-capacity.
    size_t queue_capacity = 10000;
    // Alerts per POST (Prometheus' maxBatchSize).
    size_t max_batch = 64;
    // POSTs per batch and Alertmanager, first one included.
    int max_attempts = 3;
    // Wait before the first retry; doubled for each later one, up to max_backoff.
    absl::Duration initial_backoff = absl::Milliseconds(500);
    absl::Duration max_backoff = absl::Seconds(5);
  };

  // Starts the sender thread. With no config applied there is no Alertmanager:
  // batches are dropped (and counted), as Prometheus does.
  AlertmanagerNotifier();
  explicit AlertmanagerNotifier(Options options);
  ~AlertmanagerNotifier() override;
  AlertmanagerNotifier(const AlertmanagerNotifier&) = delete;
  AlertmanagerNotifier& operator=(const AlertmanagerNotifier&) = delete;

  void Send(std::vector<Alert> alerts) override;

  // Takes the Alertmanagers, alert_relabel_configs and external labels of `cfg`.
  // Targets that cannot be used are left out and reported by errors().
  void ApplyConfig(const config::Config& cfg);

  // Cancels the POSTs in flight, joins the sender thread and discards the queue.
  // Later Send() calls drop their alerts. Idempotent.
  void Stop();

  struct Stats {
    std::map<std::string, uint64_t> sent;    // alerts POSTed, by Alertmanager URL
    std::map<std::string, uint64_t> errors;  // failed POSTs, by Alertmanager URL
    uint64_t dropped = 0;
    size_t queue_length = 0;
    size_t in_flight = 0;  // alerts taken from the queue, delivery not finished yet
    size_t queue_capacity = 0;
    size_t alertmanagers_discovered = 0;
  };
  Stats stats() const;

  // The Alertmanagers of the applied config (for /api/v1/alertmanagers).
  AlertmanagerSet alertmanagers() const;

 private:
  // What ApplyConfig sets; immutable once published, shared with batches in flight.
  struct State {
    AlertmanagerSet set;
    Labels external_labels;
    std::vector<config::RelabelConfig> alert_relabel_configs;
  };

  void Run();
  // POSTs `batch` to the Alertmanagers of `state`, with retries.
  void Deliver(const std::vector<Alert>& batch, const State& state);
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sleeps for `d` unless Stop() comes first; false when stopping.
  bool WaitUnlessStopping(absl::Duration d);

  const Options options_;
  AlertPoster poster_;  // used by the sender thread only; Cancel() from Stop()

  mutable absl::Mutex mu_;
  std::shared_ptr<const State> state_ ABSL_GUARDED_BY(mu_);
  std::deque<Alert> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, uint64_t> sent_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> errors_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex stop_mu_;  // serializes Stop() so the thread is joined once
  std::thread thread_;
};

}  // namespace cairn::notifier

#endif  // CAIRN_SERVER_NOTIFIER_ALERTMANAGER_NOTIFIER_H_
