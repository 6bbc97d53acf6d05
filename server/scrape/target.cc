#include "server/scrape/target.h"

#include <unistd.h>

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/config/relabel.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::scrape {
namespace {

constexpr std::string_view kAddressLabel = "__address__";
constexpr std::string_view kSchemeLabel = "__scheme__";
constexpr std::string_view kMetricsPathLabel = "__metrics_path__";
constexpr std::string_view kIntervalLabel = "__scrape_interval__";
constexpr std::string_view kTimeoutLabel = "__scrape_timeout__";
constexpr std::string_view kParamPrefix = "__param_";
constexpr std::string_view kMetaPrefix = "__meta_";

// Go's url.QueryEscape.
std::string QueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

std::string BuildUrl(const Labels& labels, const config::ScrapeConfig& cfg) {
  // Params from the config, each overridden by a __param_<name> label (first value
  // replaced, as Prometheus does).
  std::map<std::string, std::vector<std::string>> params = cfg.params;
  for (const Label& l : labels) {
    if (!absl::StartsWith(Sv(l.name), Sv(kParamPrefix))) continue;
    std::string name(l.name.substr(kParamPrefix.size()));
    auto& values = params[name];
    if (values.empty()) {
      values.emplace_back(l.value);
    } else {
      values[0] = std::string(l.value);
    }
  }
  std::string url = absl::StrFormat("%s://%s%s", labels.Get(kSchemeLabel),
                                    labels.Get(kAddressLabel), labels.Get(kMetricsPathLabel));
  char sep = '?';
  for (const auto& [name, values] : params) {
    for (const std::string& v : values) {
      absl::StrAppend(&url, std::string(1, sep), QueryEscape(name), "=", QueryEscape(v));
      sep = '&';
    }
  }
  return url;
}

Labels PublicLabels(const Labels& labels) {
  LabelsBuilder b;
  for (const Label& l : labels) {
    if (!absl::StartsWith(Sv(l.name), "__")) b.Set(l.name, l.value);
  }
  return b.Build();
}

absl::Duration LabelDuration(const Labels& labels, std::string_view name) {
  auto d = config::ParsePromDuration(labels.Get(name));
  return d.ok() ? *d : absl::ZeroDuration();
}

// True when `addr` has no port: "host", "[::1]" — but not "host:80" or "[::1]:80".
bool NeedsPort(std::string_view addr) {
  if (addr.empty()) return false;
  if (addr.front() == '[') {
    size_t close = addr.find(']');
    return close != std::string_view::npos && close + 1 == addr.size();
  }
  return addr.find(':') == std::string_view::npos;
}

}  // namespace

std::string_view TargetHealthName(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUp:
      return "up";
    case TargetHealth::kDown:
      return "down";
    case TargetHealth::kUnknown:
      break;
  }
  return "unknown";
}

Target::Target(Labels labels, Labels discovered_labels, const config::ScrapeConfig& cfg)
    : labels_(std::move(labels)),
      public_labels_(PublicLabels(labels_)),
      discovered_labels_(std::move(discovered_labels)),
      url_(BuildUrl(labels_, cfg)),
      interval_(LabelDuration(labels_, kIntervalLabel)),
      timeout_(LabelDuration(labels_, kTimeoutLabel)),
      hash_(labels_.StableHash() ^ (Labels({{"url", url_}}).StableHash() * 0x9E3779B97F4A7C15ULL)) {
}

std::string Target::GlobalUrl() const {
  std::string_view addr = labels_.Get(kAddressLabel);
  std::string_view host = addr.substr(0, addr.rfind(':'));
  if (host != "localhost" && !absl::StartsWith(Sv(host), "127.") && host != "[::1]") return url_;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return url_;
  std::string out = url_;
  size_t at = out.find(host);
  if (at != std::string::npos) out.replace(at, host.size(), name);
  return out;
}

void Target::Report(absl::Time start, absl::Duration duration, const absl::Status& error) {
  absl::MutexLock lock(&mu_);
  status_.health = error.ok() ? TargetHealth::kUp : TargetHealth::kDown;
  status_.last_error = error.ok() ? "" : std::string(error.message());
  status_.last_scrape = start;
  status_.last_duration = duration;
}

Target::Status Target::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

std::vector<Labels> GroupTargets(const config::StaticConfig& group) {
  std::vector<Labels> out;
  out.reserve(group.targets.size());
  for (const std::string& t : group.targets) {
    LabelsBuilder b(group.labels);
    b.Set(kAddressLabel, t);
    out.push_back(b.Build());
  }
  return out;
}

absl::StatusOr<PopulatedTarget> PopulateTargetLabels(const Labels& discovered,
                                                     const config::ScrapeConfig& cfg) {
  LabelsBuilder b(discovered);
  auto set_default = [&](std::string_view name, std::string_view value) {
    if (b.Get(name).empty()) b.Set(name, value);
  };
  set_default("job", cfg.job_name);
  set_default(kIntervalLabel, config::FormatPromDuration(cfg.scrape_interval));
  set_default(kTimeoutLabel, config::FormatPromDuration(cfg.scrape_timeout));
  set_default(kMetricsPathLabel, cfg.metrics_path);
  set_default(kSchemeLabel, cfg.scheme);
  for (const auto& [name, values] : cfg.params) {
    if (!values.empty()) set_default(absl::StrCat(Sv(kParamPrefix), name), values[0]);
  }
  PopulatedTarget out;
  out.discovered = b.Build();
  std::optional<Labels> relabelled = config::Process(out.discovered, cfg.relabel_configs);
  if (!relabelled.has_value()) {
    out.dropped = true;
    return out;
  }
  LabelsBuilder r(*relabelled);
  std::string addr(r.Get(kAddressLabel));
  if (addr.empty()) return absl::InvalidArgumentError("no address");
  if (NeedsPort(addr)) {
    std::string_view scheme = r.Get(kSchemeLabel);
    if (scheme == "http" || scheme.empty()) {
      addr += ":80";
    } else if (scheme == "https") {
      addr += ":443";
    } else {
      return absl::InvalidArgumentError(absl::StrFormat("invalid scheme: \"%s\"", cfg.scheme));
    }
    r.Set(kAddressLabel, addr);
  }
  if (addr.find('/') != std::string::npos || addr.find('@') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrFormat("invalid address \"%s\"", addr));
  }
  auto interval = config::ParsePromDuration(r.Get(kIntervalLabel));
  if (!interval.ok() || *interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("error parsing scrape interval \"%s\"", r.Get(kIntervalLabel)));
  }
  auto timeout = config::ParsePromDuration(r.Get(kTimeoutLabel));
  if (!timeout.ok() || *timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("error parsing scrape timeout \"%s\"", r.Get(kTimeoutLabel)));
  }
  if (*timeout > *interval) {
    return absl::InvalidArgumentError(
        absl::StrFormat("scrape timeout cannot be greater than scrape interval (\"%s\" > \"%s\")",
                        r.Get(kTimeoutLabel), r.Get(kIntervalLabel)));
  }
  Labels after = r.Build();
  for (const Label& l : after) {
    if (absl::StartsWith(Sv(l.name), Sv(kMetaPrefix))) r.Del(l.name);
  }
  if (r.Get("instance").empty()) r.Set("instance", addr);
  out.labels = r.Build();
  return out;
}

}  // namespace cairn::scrape
