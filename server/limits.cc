#include "server/limits.h"

#include <cstdint>
#include <limits>
#include <string>

namespace cairn::server {
namespace {

size_t LimitOrMax(int64_t v) {
  return v <= 0 ? std::numeric_limits<size_t>::max() : static_cast<size_t>(v);
}

}  // namespace

absl::StatusOr<ServerLimits> ServerLimitsFromFlags(const ServerFlags& flags) {
  ServerLimits l;
  absl::StatusOr<int64_t> body = ParseByteSize(flags.web_max_request_body_size);
  if (!body.ok()) return body.status();
  absl::StatusOr<int64_t> decompressed = ParseByteSize(flags.remote_write_max_decompressed_size);
  if (!decompressed.ok()) return decompressed.status();
  l.http_max_body_bytes = LimitOrMax(*body);
  l.http_max_connections = LimitOrMax(flags.web_max_connections);
  l.write.max_decompressed_bytes = LimitOrMax(*decompressed);
  l.write.max_series_per_request = LimitOrMax(flags.remote_write_max_series_per_request);
  l.write.max_samples_per_request = LimitOrMax(flags.remote_write_max_samples_per_request);
  l.write.max_labels_per_series = LimitOrMax(flags.remote_write_max_labels_per_series);
  l.write.max_label_name_bytes = LimitOrMax(flags.remote_write_max_label_name_length);
  l.write.max_label_value_bytes = LimitOrMax(flags.remote_write_max_label_value_length);
  l.tsdb_max_series = flags.tsdb_max_series <= 0 ? 0 : static_cast<size_t>(flags.tsdb_max_series);
  return l;
}

LimitMetrics::LimitMetrics(MetricsRegistry* registry, const HttpServer* http,
                           const promql::Engine* engine, const DB* db)
    : hits_(registry->AddCounter(
          "cairn_limit_hits_total",
          "Refusals by a configured limit: requests, connections, queries, or for head_series "
          "samples of new series (docs/limits.md).",
          {"limit"})) {
  // Every limit shows from the start, at 0, so alerts can use rate() at once.
  for (std::string_view l : {kLimitHttpBodyBytes, kLimitHttpConnections, kLimitDecompressedBytes,
                             kLimitSeriesPerRequest, kLimitSamplesPerRequest, kLimitLabelsPerSeries,
                             kLimitLabelNameLength, kLimitLabelValueLength, kLimitHeadSeries,
                             kLimitQuerySamples, kLimitQueryTimeout, kLimitQueryQueue}) {
    hits_->Inc({std::string(l)}, 0);
  }
  MetricFamily* hits = hits_;
  registry->AddCollector([hits, http, engine, db] {
    if (http != nullptr) {
      HttpServer::LimitHits h = http->limit_hits();
      hits->Set({std::string(kLimitHttpBodyBytes)}, static_cast<double>(h.body_bytes));
      hits->Set({std::string(kLimitHttpConnections)}, static_cast<double>(h.connections));
    }
    if (engine != nullptr) {
      promql::EngineLimitHits e = engine->limit_hits();
      hits->Set({std::string(kLimitQuerySamples)}, static_cast<double>(e.max_samples));
      hits->Set({std::string(kLimitQueryTimeout)}, static_cast<double>(e.timeout));
      hits->Set({std::string(kLimitQueryQueue)}, static_cast<double>(e.queue_timeout));
    }
    if (db != nullptr) {
      hits->Set({std::string(kLimitHeadSeries)},
                static_cast<double>(db->stats().head_series_limit_rejections));
    }
  });
}

void LimitMetrics::CountWriteRefusal(const absl::Status& status) {
  std::string limit = WriteLimitHit(status);
  if (!limit.empty()) hits_->Inc({limit});
}

}  // namespace cairn::server
