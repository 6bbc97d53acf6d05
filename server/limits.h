// The limits the cairn server enforces (docs/limits.md), in one place:
// ServerLimitsFromFlags turns the flags into the options each component takes, and
// LimitMetrics exposes how often each limit refused something as
//   cairn_limit_hits_total{limit="..."}
// Components enforce their own limits and count refusals themselves (HttpServer,
// promql::Engine, the head via DbStats); remote-write and gRPC refusals are counted
// here from the status they return (WriteLimitHit), so both ingestion paths share it.
//
//   absl::StatusOr<ServerLimits> limits = ServerLimitsFromFlags(flags);
//   LimitMetrics limit_metrics(&registry, http, engine, db);
//   limit_metrics.CountWriteRefusal(status);  // after each refused write request
//
// Thread-safety: LimitMetrics methods may be called concurrently; the borrowed
// components must outlive the registry's collectors, i.e. the LimitMetrics' registry.
#ifndef CAIRN_SERVER_LIMITS_H_
#define CAIRN_SERVER_LIMITS_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/flags.h"
#include "server/http_server.h"
#include "server/metrics_registry.h"
#include "server/remote_write.h"
#include "tsdb/db.h"
#include "tsdb/promql/engine.h"

namespace cairn::server {

struct ServerLimits {
  size_t http_max_body_bytes = 0;
  size_t http_max_connections = 0;
  RemoteWriteLimits write;
  size_t tsdb_max_series = 0;  // 0: no limit (as DbOptions::max_head_series)
};

// Converts the limit flags; a disabled limit (0) becomes the largest value.
// kInvalidArgument for a malformed size (ParseServerFlags already refuses those).
absl::StatusOr<ServerLimits> ServerLimitsFromFlags(const ServerFlags& flags);

// Label values of cairn_limit_hits_total beside the write limits of remote_write.h.
inline constexpr std::string_view kLimitHttpBodyBytes = "http_request_body_bytes";
inline constexpr std::string_view kLimitHttpConnections = "http_connections";
inline constexpr std::string_view kLimitHeadSeries = "head_series";
inline constexpr std::string_view kLimitQuerySamples = "query_samples";
inline constexpr std::string_view kLimitQueryTimeout = "query_timeout";
inline constexpr std::string_view kLimitQueryQueue = "query_concurrency";

class LimitMetrics {
 public:
  // Registers cairn_limit_hits_total in `registry`, with a collector that reads the
  // counts of `http`, `engine` and `db` at scrape time. All are borrowed.
  LimitMetrics(MetricsRegistry* registry, const HttpServer* http, const promql::Engine* engine,
               const DB* db);

  // Counts the write limit `status` reports (WriteLimitHit), if any.
  void CountWriteRefusal(const absl::Status& status);

 private:
  MetricFamily* hits_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_LIMITS_H_
