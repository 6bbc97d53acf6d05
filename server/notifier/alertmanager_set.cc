#include "server/notifier/alertmanager_set.h"

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "server/config/relabel.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::notifier {
namespace {

constexpr std::string_view kAddressLabel = "__address__";
constexpr std::string_view kSchemeLabel = "__scheme__";

}  // namespace

std::string AlertsPath(std::string_view path_prefix) {
  // Go's path.Join then Clean: empty elements vanish, "." and ".." resolve.
  std::vector<std::string> parts;
  for (absl::string_view seg :
       absl::StrSplit(absl::StrCat(Sv(path_prefix), "/api/v2/alerts"), '/', absl::SkipEmpty())) {
    if (seg == ".") continue;
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.emplace_back(seg);
  }
  std::string out;
  for (const std::string& p : parts) absl::StrAppend(&out, "/", p);
  return out;
}

AlertmanagerSet ResolveAlertmanagers(const config::AlertingConfig& alerting) {
  AlertmanagerSet set;
  std::set<std::string> seen_urls;
  for (size_t i = 0; i < alerting.alertmanagers.size(); ++i) {
    const config::AlertmanagerConfig& am = alerting.alertmanagers[i];
    const std::string path = AlertsPath(am.path_prefix);
    for (const config::StaticConfig& group : am.static_configs) {
      for (const std::string& target : group.targets) {
        LabelsBuilder b(group.labels);
        b.Set(kAddressLabel, target);
        b.Set(kSchemeLabel, am.scheme);
        b.Set(kAlertsPathLabel, path);
        Labels discovered = b.Build();
        std::optional<Labels> relabelled = config::Process(discovered, am.relabel_configs);
        if (!relabelled.has_value()) {
          set.dropped.push_back(
              {absl::StrCat(am.scheme, "://", target, path), am.timeout, std::move(discovered)});
          continue;
        }
        std::string_view addr = relabelled->Get(kAddressLabel);
        if (addr.empty() || addr.find('/') != std::string_view::npos ||
            addr.find('@') != std::string_view::npos) {
          set.errors.push_back(absl::StrFormat(
              "alertmanagers[%d]: target \"%s\": \"%s\" is not a valid hostname", i, target, addr));
          continue;
        }
        std::string_view scheme = relabelled->Get(kSchemeLabel);
        if (scheme != "http" && scheme != "https") {
          set.errors.push_back(absl::StrFormat(
              "alertmanagers[%d]: target \"%s\": scheme \"%s\" not supported", i, target, scheme));
          continue;
        }
        std::string url =
            absl::StrCat(Sv(scheme), "://", Sv(addr), Sv(relabelled->Get(kAlertsPathLabel)));
        if (!seen_urls.insert(url).second) continue;
        set.active.push_back({std::move(url), am.timeout, std::move(*relabelled)});
      }
    }
  }
  return set;
}

}  // namespace cairn::notifier
