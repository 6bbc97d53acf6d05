// AlertmanagerSet: the Alertmanagers an `alerting:` config section points at, as
// Prometheus 2.42's notifier discovers them (notifier.alertmanagerFromGroup).
//
// Each static target starts with the labels
//   __address__     the target ("host:port")
//   __scheme__      the config's scheme
//   __alerts_path__ path.Join("/", path_prefix, "/api/v2/alerts")
// plus its static_config's labels, then goes through the config's relabel_configs:
// dropped ones are listed as dropped; the rest are active and get the URL
// <__scheme__>://<__address__><__alerts_path__>. Active URLs are unique across the
// whole set (a later duplicate is skipped, as Prometheus dedupes by URL).
//
// A plain value: copyable, immutable once built.
#ifndef CAIRN_SERVER_NOTIFIER_ALERTMANAGER_SET_H_
#define CAIRN_SERVER_NOTIFIER_ALERTMANAGER_SET_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "server/config/config.h"
#include "tsdb/model/labels.h"

namespace cairn::notifier {

inline constexpr std::string_view kAlertsPathLabel = "__alerts_path__";

struct AlertmanagerTarget {
  std::string url;  // where alerts are POSTed
  absl::Duration timeout;
  Labels labels;  // after relabelling (active) or as discovered (dropped)
};

struct AlertmanagerSet {
  std::vector<AlertmanagerTarget> active;
  std::vector<AlertmanagerTarget> dropped;
  // Targets that could not become an Alertmanager (e.g. "alertmanagers[0]: invalid
  // address \"a/b\""): left out of both lists, reported here.
  std::vector<std::string> errors;
};

// Resolves the static targets of every alertmanagers entry of `alerting`.
AlertmanagerSet ResolveAlertmanagers(const config::AlertingConfig& alerting);

// path.Join("/", path_prefix, "/api/v2/alerts"): "/" + prefix without duplicate or
// trailing slashes, e.g. "/am/" -> "/am/api/v2/alerts".
std::string AlertsPath(std::string_view path_prefix);

}  // namespace cairn::notifier

#endif  // CAIRN_SERVER_NOTIFIER_ALERTMANAGER_SET_H_
