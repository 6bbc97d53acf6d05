// The contract between the rule manager (server/rules), which decides what fires,
// and the notifier (server/notifier), which delivers alerts to Alertmanager. Kept in
// its own header so that each side can be built and tested with a fake of the other.
//
// Semantics follow Prometheus' notifier: the rule manager re-sends every firing alert
// on each evaluation (at most once per resend delay, 1m by default) with ends_at set
// to "now + 4 × max(evaluation interval, resend delay)", and a resolved alert once
// more with ends_at = the time it resolved. Alertmanager expires alerts by ends_at, so
// a lost resolve still ends the alert.
#ifndef CAIRN_SERVER_NOTIFIER_ALERT_H_
#define CAIRN_SERVER_NOTIFIER_ALERT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tsdb/model/labels.h"

namespace cairn::notifier {

// One alert as the Alertmanager v2 API (`POST /api/v2/alerts`) takes it.
struct Alert {
  Labels labels;       // includes alertname; external labels are added by the sender
  Labels annotations;  // already expanded from their templates
  int64_t starts_at_ms = 0;   // unix ms; 0 = unset
  int64_t ends_at_ms = 0;     // unix ms; 0 = unset
  std::string generator_url;  // link back to the expression in the UI
};

// Where the rule manager hands its alerts. Implementations must be thread-safe and
// must not block on the network: Send() enqueues.
class AlertSender {
 public:
  virtual ~AlertSender() = default;
  virtual void Send(std::vector<Alert> alerts) = 0;
};

}  // namespace cairn::notifier

#endif  // CAIRN_SERVER_NOTIFIER_ALERT_H_
