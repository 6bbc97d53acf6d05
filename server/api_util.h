// Helpers shared by the Prometheus HTTP API handlers: parameter parsing with
// Prometheus' rules and messages, and the JSON response envelope
//   {"status":"success","data":...}
//   {"status":"error","errorType":"bad_data","error":"..."}
// with Prometheus' mapping of error types to HTTP codes.
#ifndef CAIRN_SERVER_API_UTIL_H_
#define CAIRN_SERVER_API_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/http_server.h"
#include "tsdb/model/labels.h"

namespace cairn::server {

enum class ApiErrorType {
  kBadData,
  kExecution,
  kTimeout,
  kCanceled,
  kInternal,
  kNotFound,
  kUnavailable
};

std::string_view ApiErrorTypeName(ApiErrorType t);  // "bad_data", "execution", ...
int ApiErrorHttpStatus(ApiErrorType t);             // 400, 422, 503, 503, 500, 404, 503

// Maps a status code to the error type Prometheus would report for it.
ApiErrorType ApiErrorTypeFor(const absl::Status& s);

// The earliest and latest representable times, as Prometheus' API uses for open
// ranges (minTime / maxTime in web/api/v1).
inline constexpr int64_t kApiMinTimeMs = -9223309901257974LL;
inline constexpr int64_t kApiMaxTimeMs = 9223309901257974LL;

// A timestamp parameter: float unix seconds (rounded to ms) or RFC 3339.
// Error text as Prometheus': cannot parse "x" to a valid timestamp.
absl::StatusOr<int64_t> ParseApiTime(std::string_view s);
// The parameter `name` as a time, or `default_ms` when absent/empty.
absl::StatusOr<int64_t> ParseApiTimeParam(const HttpRequest& req, std::string_view name,
                                          int64_t default_ms);
// A duration parameter: float seconds or a Prometheus duration. Milliseconds.
absl::StatusOr<int64_t> ParseApiDuration(std::string_view s);

// Writes the success envelope around `data_json` (already-encoded JSON).
void RespondSuccess(HttpResponse* resp, std::string_view data_json);
void RespondError(HttpResponse* resp, ApiErrorType type, std::string_view message);

// Appends `s` as a JSON string literal (quoted, escaped).
void AppendJsonString(std::string* out, std::string_view s);
// Appends `labels` as a JSON object {"name":"value",...} in label order.
void AppendLabelsJson(std::string* out, const Labels& labels);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_API_UTIL_H_
