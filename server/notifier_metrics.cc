#include "server/notifier_metrics.h"

namespace cairn::server {

void RegisterNotifierMetrics(const notifier::AlertmanagerNotifier* notifier,
                             MetricsRegistry* registry) {
  MetricFamily* sent = registry->AddCounter("prometheus_notifications_sent_total",
                                            "Total number of alerts sent.", {"alertmanager"});
  MetricFamily* errors =
      registry->AddCounter("prometheus_notifications_errors_total",
                           "Total number of errors sending alert notifications.", {"alertmanager"});
  MetricFamily* dropped = registry->AddCounter(
      "prometheus_notifications_dropped_total",
      "Total number of alerts dropped due to errors when sending to Alertmanager.");
  MetricFamily* queue_length = registry->AddGauge(
      "prometheus_notifications_queue_length", "The number of alert notifications in the queue.");
  MetricFamily* queue_capacity = registry->AddGauge(
      "prometheus_notifications_queue_capacity", "The capacity of the alert notifications queue.");
  MetricFamily* discovered =
      registry->AddGauge("prometheus_notifications_alertmanagers_discovered",
                         "The number of alertmanagers discovered and active.");
  registry->AddCollector([=] {
    notifier::AlertmanagerNotifier::Stats s = notifier->stats();
    for (const notifier::AlertmanagerTarget& am : notifier->alertmanagers().active) {
      s.sent.try_emplace(am.url, 0);
      s.errors.try_emplace(am.url, 0);
    }
    for (const auto& [url, n] : s.sent) sent->Set({url}, static_cast<double>(n));
    for (const auto& [url, n] : s.errors) errors->Set({url}, static_cast<double>(n));
    dropped->Set({}, static_cast<double>(s.dropped));
    queue_length->Set({}, static_cast<double>(s.queue_length));
    queue_capacity->Set({}, static_cast<double>(s.queue_capacity));
    discovered->Set({}, static_cast<double>(s.alertmanagers_discovered));
  });
}

}  // namespace cairn::server
