// The notifier's metrics under Prometheus 2.42's names, help texts and labels:
//
//   prometheus_notifications_sent_total{alertmanager}    alerts in POSTs, ok or not
//   prometheus_notifications_errors_total{alertmanager}  failed POSTs
//   prometheus_notifications_dropped_total               alerts lost (queue full,
//                                                        no Alertmanager took them)
//   prometheus_notifications_queue_length
//   prometheus_notifications_queue_capacity
//   prometheus_notifications_alertmanagers_discovered
//
// `alertmanager` is the URL alerts are POSTed to. Like Prometheus, every active
// Alertmanager shows sent/errors series from 0 as soon as it is discovered.
#ifndef CAIRN_SERVER_NOTIFIER_METRICS_H_
#define CAIRN_SERVER_NOTIFIER_METRICS_H_

#include "server/metrics_registry.h"
#include "server/notifier/alertmanager_notifier.h"

namespace cairn::server {

// Adds the families and a collector that reads `notifier` at each scrape.
// `notifier` is borrowed and must outlive `registry`'s use.
void RegisterNotifierMetrics(const notifier::AlertmanagerNotifier* notifier,
                             MetricsRegistry* registry);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_NOTIFIER_METRICS_H_
