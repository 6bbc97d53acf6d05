#include "server/api_targets.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/api_util.h"
#include "server/config/config.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {

std::string FormatRfc3339Nano(absl::Time t) {
  if (t == absl::InfinitePast()) return "0001-01-01T00:00:00Z";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

void TargetsApi::Register(HttpServer* server) {
  server->Route("/api/v1/targets",
                [this](const HttpRequest& req, HttpResponse* resp) { Targets(req, resp); });
}

void TargetsApi::Targets(const HttpRequest& req, HttpResponse* resp) const {
  const std::string state = absl::AsciiStrToLower(Sv(req.Param("state")));
  const std::string pool_filter(req.Param("scrapePool"));
  const bool show_active = state.empty() || state == "any" || state == "active";
  const bool show_dropped = state.empty() || state == "any" || state == "dropped";

  std::string out = "{\"activeTargets\":[";
  if (show_active) {
    bool first = true;
    for (const auto& [pool, target] : manager_->ActiveTargets()) {
      if (!pool_filter.empty() && pool != pool_filter) continue;
      if (!first) out.push_back(',');
      first = false;
      scrape::Target::Status st = target->status();
      out += "{\"discoveredLabels\":";
      AppendLabelsJson(&out, target->discovered_labels());
      out += ",\"labels\":";
      AppendLabelsJson(&out, target->public_labels());
      out += ",\"scrapePool\":";
      AppendJsonString(&out, pool);
      out += ",\"scrapeUrl\":";
      AppendJsonString(&out, target->url());
      out += ",\"globalUrl\":";
      AppendJsonString(&out, target->GlobalUrl());
      out += ",\"lastError\":";
      AppendJsonString(&out, st.last_error);
      out += ",\"lastScrape\":";
      AppendJsonString(&out, FormatRfc3339Nano(st.last_scrape));
      absl::StrAppendFormat(&out, ",\"lastScrapeDuration\":%.9g",
                            absl::ToDoubleSeconds(st.last_duration));
      out += ",\"health\":";
      AppendJsonString(&out, scrape::TargetHealthName(st.health));
      out += ",\"scrapeInterval\":";
      AppendJsonString(&out, config::FormatPromDuration(target->interval()));
      out += ",\"scrapeTimeout\":";
      AppendJsonString(&out, config::FormatPromDuration(target->timeout()));
      out += "}";
    }
  }
  out += "],\"droppedTargets\":[";
  if (show_dropped) {
    bool first = true;
    for (const auto& d : manager_->DroppedTargets()) {
      if (!pool_filter.empty() && d.pool != pool_filter) continue;
      if (!first) out.push_back(',');
      first = false;
      out += "{\"discoveredLabels\":";
      AppendLabelsJson(&out, d.discovered_labels);
      out += "}";
    }
  }
  out += "]}";
  RespondSuccess(resp, out);
}

}  // namespace cairn::server
