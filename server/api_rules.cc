#include "server/api_rules.h"

#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "server/api_targets.h"
#include "server/api_util.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

// encoding/json's float64: shortest round trip, 'f' notation unless the exponent is
// below -6 or from 21 on, where it writes 'e' with a trimmed exponent ("5e-7").
void AppendJsonFloat(std::string* out, double v) {
  if (!std::isfinite(v)) v = 0;  // durations are finite; never emit invalid JSON
  char buf[64];
  double a = std::abs(v);
  bool sci = a != 0 && (a < 1e-6 || a >= 1e21);
  auto r = std::to_chars(buf, buf + sizeof(buf), v,
                         sci ? std::chars_format::scientific : std::chars_format::fixed);
  std::string s(buf, r.ptr);
  if (sci) {
    // "e-07" -> "e-7", as Go does.
    size_t e = s.find('e');
    if (e != std::string::npos && e + 2 < s.size() && s[e + 2] == '0') s.erase(e + 2, 1);
  }
  out->append(s);
}

// strconv.FormatFloat(v, 'e', -1, 64), the alert "value" field.
std::string FormatValueE(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  return std::string(buf, r.ptr);
}

void AppendTime(std::string* out, int64_t unix_us) {
  absl::Time t = unix_us == 0 ? absl::InfinitePast() : absl::FromUnixMicros(unix_us);
  AppendJsonString(out, FormatRfc3339Nano(t));
}

void AppendAlert(std::string* out, const rules::AlertSnapshot& a) {
  out->append("{\"labels\":");
  AppendLabelsJson(out, a.labels);
  out->append(",\"annotations\":");
  AppendLabelsJson(out, a.annotations);
  out->append(",\"state\":");
  AppendJsonString(out, rules::AlertStateName(a.state));
  out->append(",\"activeAt\":");
  AppendTime(out, a.active_at_ms * 1000);
  if (a.keep_firing_since_ms != 0) {
    out->append(",\"keepFiringSince\":");
    AppendTime(out, a.keep_firing_since_ms * 1000);
  }
  out->append(",\"value\":");
  AppendJsonString(out, FormatValueE(a.value));
  out->push_back('}');
}

void AppendRule(std::string* out, const rules::RuleSnapshot& r) {
  out->push_back('{');
  if (r.is_alert) {
    out->append("\"state\":");
    AppendJsonString(out, rules::AlertStateName(r.state));
    out->push_back(',');
  }
  out->append("\"name\":");
  AppendJsonString(out, r.name);
  out->append(",\"query\":");
  AppendJsonString(out, r.query);
  if (r.is_alert) {
    out->append(",\"duration\":");
    AppendJsonFloat(out, static_cast<double>(r.for_ms) / 1000);
    out->append(",\"keepFiringFor\":");
    AppendJsonFloat(out, static_cast<double>(r.keep_firing_for_ms) / 1000);
    out->append(",\"labels\":");
    AppendLabelsJson(out, r.labels);
    out->append(",\"annotations\":");
    AppendLabelsJson(out, r.annotations);
    out->append(",\"alerts\":[");
    for (size_t i = 0; i < r.alerts.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendAlert(out, r.alerts[i]);
    }
    out->push_back(']');
  } else if (!r.labels.empty()) {
    out->append(",\"labels\":");
    AppendLabelsJson(out, r.labels);
  }
  out->append(",\"health\":");
  AppendJsonString(out, rules::RuleHealthName(r.health));
  if (!r.last_error.empty()) {
    out->append(",\"lastError\":");
    AppendJsonString(out, r.last_error);
  }
  out->append(",\"evaluationTime\":");
  AppendJsonFloat(out, r.evaluation_seconds);
  out->append(",\"lastEvaluation\":");
  AppendTime(out, r.last_evaluation_wall_us);
  out->append(",\"type\":");
  AppendJsonString(out, r.is_alert ? "alerting" : "recording");
  out->push_back('}');
}

std::vector<rules::GroupSnapshot> Snapshot(const rules::RuleManager* manager) {
  if (manager == nullptr) return {};
  return manager->Groups();
}

}  // namespace

std::string RuleGroupsJson(const std::vector<rules::GroupSnapshot>& groups, std::string_view type) {
  std::string out = "{\"groups\":[";
  for (size_t g = 0; g < groups.size(); ++g) {
    const rules::GroupSnapshot& grp = groups[g];
    if (g > 0) out.push_back(',');
    out.append("{\"name\":");
    AppendJsonString(&out, grp.name);
    out.append(",\"file\":");
    AppendJsonString(&out, grp.file);
    out.append(",\"rules\":[");
    bool first = true;
    for (const rules::RuleSnapshot& r : grp.rules) {
      if (type == "alert" && !r.is_alert) continue;
      if (type == "record" && r.is_alert) continue;
      if (!first) out.push_back(',');
      first = false;
      AppendRule(&out, r);
    }
    out.append("],\"interval\":");
    AppendJsonFloat(&out, static_cast<double>(grp.interval_ms) / 1000);
    absl::StrAppend(&out, ",\"limit\":", grp.limit, ",\"evaluationTime\":");
    AppendJsonFloat(&out, grp.evaluation_seconds);
    out.append(",\"lastEvaluation\":");
    AppendTime(&out, grp.last_evaluation_wall_us);
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

std::string AlertsJson(const std::vector<rules::GroupSnapshot>& groups) {
  std::string out = "{\"alerts\":[";
  bool first = true;
  for (const rules::GroupSnapshot& g : groups) {
    for (const rules::RuleSnapshot& r : g.rules) {
      for (const rules::AlertSnapshot& a : r.alerts) {
        if (!first) out.push_back(',');
        first = false;
        AppendAlert(&out, a);
      }
    }
  }
  out.append("]}");
  return out;
}

void RulesApi::Register(HttpServer* server) {
  server->Route("/api/v1/rules",
                [this](const HttpRequest& req, HttpResponse* resp) { Rules(req, resp); });
  server->Route("/api/v1/alerts",
                [this](const HttpRequest& req, HttpResponse* resp) { Alerts(req, resp); });
}

void RulesApi::Rules(const HttpRequest& req, HttpResponse* resp) const {
  std::string type = absl::AsciiStrToLower(Sv(req.Param("type")));
  if (!type.empty() && type != "alert" && type != "record") {
    return RespondError(resp, ApiErrorType::kBadData,
                        absl::StrFormat("invalid parameter \"type\": not supported value %s",
                                        absl::StrCat("\"", type, "\"")));
  }
  RespondSuccess(resp, RuleGroupsJson(Snapshot(manager_), type));
}

void RulesApi::Alerts(const HttpRequest&, HttpResponse* resp) const {
  RespondSuccess(resp, AlertsJson(Snapshot(manager_)));
}

}  // namespace cairn::server
