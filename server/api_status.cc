#include "server/api_status.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/api_util.h"
#include "tsdb/model/matcher.h"
#include "tsdb/model/sample.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  return absl::FormatTime(absl::RFC3339_full, absl::FromChrono(t), absl::UTCTimeZone());
}

// [{"name":..,"value":..}, ...] of the top `n` entries by value, descending.
std::string TopTable(const absl::flat_hash_map<std::string, uint64_t>& counts, size_t n) {
  std::vector<std::pair<std::string, uint64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > n) v.resize(n);
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"name\":");
    AppendJsonString(&out, v[i].first);
    absl::StrAppend(&out, ",\"value\":", v[i].second, "}");
  }
  out.push_back(']');
  return out;
}

}  // namespace

StatusApi::StatusApi(DB* db, ServerFlags flags)
    : db_(db), flags_(std::move(flags)), start_time_(std::chrono::system_clock::now()) {}

void StatusApi::Register(HttpServer* server) {
  server->Route("/api/v1/status/buildinfo",
                [this](const HttpRequest& q, HttpResponse* r) { BuildInfo(q, r); });
  server->Route("/api/v1/status/flags",
                [this](const HttpRequest& q, HttpResponse* r) { Flags(q, r); });
  server->Route("/api/v1/status/runtimeinfo",
                [this](const HttpRequest& q, HttpResponse* r) { RuntimeInfo(q, r); });
  server->Route("/api/v1/status/tsdb",
                [this](const HttpRequest& q, HttpResponse* r) { Tsdb(q, r); });
}

void StatusApi::BuildInfo(const HttpRequest&, HttpResponse* resp) const {
  RespondSuccess(resp, absl::StrCat("{\"version\":\"", kCairnVersion,
                                    "\",\"revision\":\"\",\"branch\":\"\",\"buildUser\":\"\","
                                    "\"buildDate\":\"\",\"goVersion\":\"\"}"));
}

void StatusApi::Flags(const HttpRequest&, HttpResponse* resp) const {
  const std::map<std::string, std::string> flags = {
      {"config.file", flags_.config_file},
      {"storage.tsdb.path", flags_.storage_path},
      {"storage.tsdb.retention.time", flags_.retention_time},
      {"storage.tsdb.retention.size", flags_.retention_size},
      {"web.listen-address", flags_.web_listen_address},
      {"web.config.file", flags_.web_config_file},
      {"grpc.listen-address", flags_.grpc_listen_address},
      {"query.lookback-delta", flags_.lookback_delta},
      {"query.timeout", flags_.query_timeout},
      {"query.max-samples", absl::StrCat(flags_.query_max_samples)},
      {"query.max-concurrency", absl::StrCat(flags_.query_max_concurrency)},
      {"web.max-request-body-size", flags_.web_max_request_body_size},
      {"web.max-connections", absl::StrCat(flags_.web_max_connections)},
      {"storage.remote-write.max-decompressed-size", flags_.remote_write_max_decompressed_size},
      {"storage.remote-write.max-series-per-request",
       absl::StrCat(flags_.remote_write_max_series_per_request)},
      {"storage.remote-write.max-samples-per-request",
       absl::StrCat(flags_.remote_write_max_samples_per_request)},
      {"storage.remote-write.max-labels-per-series",
       absl::StrCat(flags_.remote_write_max_labels_per_series)},
      {"storage.remote-write.max-label-name-length",
       absl::StrCat(flags_.remote_write_max_label_name_length)},
      {"storage.remote-write.max-label-value-length",
       absl::StrCat(flags_.remote_write_max_label_value_length)},
      {"storage.tsdb.max-series", absl::StrCat(flags_.tsdb_max_series)},
      {"web.enable-admin-api", flags_.enable_admin_api ? "true" : "false"},
      {"web.enable-lifecycle", flags_.enable_lifecycle ? "true" : "false"},
      {"log.level", flags_.log_level},
  };
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : flags) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(&out, k);
    out.push_back(':');
    AppendJsonString(&out, v);
  }
  out.push_back('}');
  RespondSuccess(resp, out);
}

void StatusApi::RuntimeInfo(const HttpRequest&, HttpResponse* resp) const {
  char cwd[4096];
  std::string dir = getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : "";
  DbStats s = db_->stats();
  std::string out = "{\"startTime\":";
  AppendJsonString(&out, Rfc3339(start_time_));
  out.append(",\"CWD\":");
  AppendJsonString(&out, dir);
  absl::StrAppend(&out, ",\"reloadConfigSuccess\":true,\"lastConfigTime\":");
  AppendJsonString(&out, Rfc3339(start_time_));
  absl::StrAppend(&out, ",\"corruptionCount\":", s.corrupt_blocks_skipped,
                  ",\"goroutineCount\":0,\"GOMAXPROCS\":", std::thread::hardware_concurrency(),
                  ",\"GOMEMLIMIT\":0,\"GOGC\":\"\",\"GODEBUG\":\"\",\"storageRetention\":");
  std::string retention = flags_.retention_time;
  if (flags_.retention_size != "0") absl::StrAppend(&retention, " or ", flags_.retention_size);
  AppendJsonString(&out, retention);
  out.push_back('}');
  RespondSuccess(resp, out);
}

void StatusApi::Tsdb(const HttpRequest&, HttpResponse* resp) const {
  DbStats s = db_->stats();
  auto querier = db_->NewQuerier(kMinTimeMs, kMaxTimeMs);
  if (!querier.ok()) {
    return RespondError(resp, ApiErrorTypeFor(querier.status()),
                        std::string(querier.status().message()));
  }
  auto all = Matcher::Create(MatchType::kRegexMatch, "__name__", ".+");
  auto set = (*querier)->Select(kMinTimeMs, kMaxTimeMs, {*all});
  absl::flat_hash_map<std::string, uint64_t> by_metric, pairs, memory_by_name;
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, bool>> values_by_name;
  while (set->Next()) {
    const Labels& ls = set->At().labels();
    ++by_metric[std::string(ls.MetricName())];
    for (const Label& l : ls) {
      ++pairs[absl::StrCat(Sv(l.name), "=", Sv(l.value))];
      auto& vals = values_by_name[std::string(l.name)];
      if (vals.emplace(std::string(l.value), true).second) {
        memory_by_name[std::string(l.name)] += l.value.size();
      }
    }
  }
  absl::flat_hash_map<std::string, uint64_t> value_counts;
  for (const auto& [name, vals] : values_by_name) value_counts[name] = vals.size();
  std::string out =
      absl::StrCat("{\"headStats\":{\"numSeries\":", s.head_series,
                   ",\"numLabelPairs\":", pairs.size(), ",\"chunkCount\":", s.head_chunks,
                   ",\"minTime\":", s.head_min_time_ms, ",\"maxTime\":", s.head_max_time_ms,
                   "},\"seriesCountByMetricName\":", TopTable(by_metric, 10),
                   ",\"labelValueCountByLabelName\":", TopTable(value_counts, 10),
                   ",\"memoryInBytesByLabelName\":", TopTable(memory_by_name, 10),
                   ",\"seriesCountByLabelValuePair\":", TopTable(pairs, 10), "}");
  RespondSuccess(resp, out);
}

}  // namespace cairn::server
