// The body of Alertmanager's `POST /api/v2/alerts`: a JSON array of postable alerts,
// field for field what Prometheus 2.42's notifier sends (models.PostableAlerts):
//
//   [{"annotations":{"summary":"disk full"},
//     "endsAt":"2026-12-06T10:04:00.000Z","startsAt":"2026-12-06T10:00:00.000Z",
//     "generatorURL":"http://cairn:9090/graph?g0.expr=up\u0026g0.tab=1",
//     "labels":{"alertname":"DiskFull","instance":"a:9100"}}]
//
// Times are RFC 3339 in UTC with milliseconds (Go's strfmt.DateTime); an unset time
// (0) is Go's zero time "0001-01-01T00:00:00.000Z", which Alertmanager reads as unset
// (startsAt becomes "now", endsAt now + resolve_timeout). Empty annotations and
// generatorURL are left out. <, >, & and U+2028/9 in strings are escaped as \u003c...
// as Go does. So for the same alert the body is byte-identical to Prometheus'.
#ifndef CAIRN_SERVER_NOTIFIER_ALERT_JSON_H_
#define CAIRN_SERVER_NOTIFIER_ALERT_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "server/notifier/alert.h"

namespace cairn::notifier {

// Encodes alerts[begin, end) as the v2 JSON array. REQUIRES: begin <= end <= size.
std::string EncodeAlertsV2(const std::vector<Alert>& alerts, size_t begin, size_t end);
inline std::string EncodeAlertsV2(const std::vector<Alert>& alerts) {
  return EncodeAlertsV2(alerts, 0, alerts.size());
}

// "2006-01-02T15:04:05.000Z" for a unix time in milliseconds.
std::string FormatRfc3339Millis(int64_t unix_ms);
// As FormatRfc3339Millis, but 0 (unset) is Go's zero time.
std::string FormatAlertTime(int64_t unix_ms);

}  // namespace cairn::notifier

#endif  // CAIRN_SERVER_NOTIFIER_ALERT_JSON_H_
