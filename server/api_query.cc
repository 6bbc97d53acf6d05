#include "server/api_query.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/api_util.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

// Prometheus refuses range queries with more points per series (web/api/v1).
constexpr int64_t kMaxPointsPerSeries = 11000;

// Appends Prometheus' sample value ('f', or 'e' below 1e-6 / from 1e21) without a
// temporary string: responses carry up to millions of them.
void AppendApiValue(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[400];
  double a = std::abs(v);
  auto fmt = (a != 0 && (a < 1e-6 || a >= 1e21)) ? std::chars_format::scientific
                                                 : std::chars_format::fixed;
  auto res = std::to_chars(buf, buf + sizeof(buf), v, fmt);
  out->append(buf, res.ptr);
}

void AppendPoint(std::string* out, int64_t t, double v) {
  out->push_back('[');
  AppendApiTimestamp(out, t);
  out->append(",\"");
  AppendApiValue(out, v);
  out->append("\"]");
}

// Writes the success envelope around the result directly into the response body
// (RespondSuccess would copy a body of possibly tens of megabytes once more).
void RespondResult(HttpResponse* resp, const promql::Value& v) {
  resp->status = 200;
  resp->content_type = "application/json";
  resp->body.clear();
  size_t points = v.vector.size();
  for (const promql::MatrixSeries& s : v.matrix) points += s.points.size() + 4;
  resp->body.reserve(64 + points * 32);
  resp->body.append("{\"status\":\"success\",\"data\":");
  AppendQueryResultJson(&resp->body, v);
  resp->body.push_back('}');
}

// A `timeout` parameter, or an infinite duration when absent.
absl::StatusOr<absl::Duration> TimeoutParam(const HttpRequest& req) {
  std::string_view to = req.Param("timeout");
  if (to.empty()) return absl::InfiniteDuration();
  absl::StatusOr<int64_t> ms = ParseApiDuration(to);
  if (!ms.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("invalid parameter \"timeout\": %s", StdSv(ms.status().message())));
  }
  return absl::Milliseconds(*ms);
}

// `instant`: Prometheus 2.42 reports an instant query's parse errors as a bad "query"
// parameter, but a range query's as they are (web/api/v1 wraps only NewInstantQuery's
// error with invalidParamError).
void RespondQueryError(HttpResponse* resp, const absl::Status& s, bool instant) {
  if (instant && s.code() == absl::StatusCode::kInvalidArgument &&
      !absl::StartsWith(s.message(), "invalid expression type")) {
    return RespondError(resp, ApiErrorType::kBadData,
                        absl::StrFormat("invalid parameter \"query\": %s", StdSv(s.message())));
  }
  RespondError(resp, ApiErrorTypeFor(s), StdSv(s.message()));
}

// Go's strconv.FormatFloat(v, 'f', -1, 64).
std::string FormatFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

// encoding/json's float64 of t/1000: shortest decimal, no exponent for timestamps.
std::string FormatJsonSeconds(int64_t t_ms) {
  return FormatFloatF(static_cast<double>(t_ms) / 1000);
}

}  // namespace

std::string FormatApiValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  double a = std::abs(v);
  auto fmt = (a != 0 && (a < 1e-6 || a >= 1e21)) ? std::chars_format::scientific
                                                 : std::chars_format::fixed;
  auto res = std::to_chars(buf, buf + sizeof(buf), v, fmt);
  return std::string(buf, res.ptr);
}

void AppendApiTimestamp(std::string* out, int64_t t) {
  if (t < 0) {
    out->push_back('-');
    t = -t;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), t / 1000);
  out->append(buf, res.ptr);
  int frac = static_cast<int>(t % 1000);
  if (frac != 0) {
    char f[4] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                 static_cast<char>('0' + frac % 10)};
    out->append(f, 4);
  }
}

std::string QueryResultJson(const promql::Value& v) {
  std::string out;
  AppendQueryResultJson(&out, v);
  return out;
}

void AppendQueryResultJson(std::string* outp, const promql::Value& v) {
  std::string& out = *outp;
  out.append("{\"resultType\":\"");
  switch (v.type) {
    case promql::ValueType::kScalar:
      // Prometheus 2.42 marshals scalars through encoding/json: the time as a float
      // and the value in 'f' format, unlike vector and matrix samples.
      out.append("scalar\",\"result\":[");
      out.append(FormatJsonSeconds(v.scalar.t));
      out.append(",\"");
      out.append(FormatFloatF(v.scalar.v));
      out.append("\"]");
      break;
    case promql::ValueType::kString:
      out.append("string\",\"result\":[");
      out.append(FormatJsonSeconds(v.string_t));
      out.push_back(',');
      AppendJsonString(&out, v.string_value);
      out.push_back(']');
      break;
    case promql::ValueType::kVector: {
      out.append("vector\",\"result\":[");
      bool first = true;
      for (const promql::VectorSample& s : v.vector) {
        if (!first) out.push_back(',');
        first = false;
        out.append("{\"metric\":");
        AppendLabelsJson(&out, s.labels);
        out.append(",\"value\":");
        AppendPoint(&out, s.t, s.v);
        out.push_back('}');
      }
      out.push_back(']');
      break;
    }
    default: {
      out.append("matrix\",\"result\":[");
      bool first = true;
      for (const promql::MatrixSeries& s : v.matrix) {
        if (!first) out.push_back(',');
        first = false;
        out.append("{\"metric\":");
        AppendLabelsJson(&out, s.labels);
        out.append(",\"values\":[");
        for (size_t i = 0; i < s.points.size(); ++i) {
          if (i > 0) out.push_back(',');
          AppendPoint(&out, s.points[i].t, s.points[i].v);
        }
        out.append("]}");
      }
      out.push_back(']');
      break;
    }
  }
  out.push_back('}');
}

QueryApi::QueryApi(storage::Queryable* db, promql::Engine* engine, std::function<int64_t()> now_ms)
    : db_(db), engine_(engine), now_ms_(std::move(now_ms)) {
  if (!now_ms_) now_ms_ = [] { return absl::ToUnixMillis(absl::Now()); };
}

void QueryApi::Register(HttpServer* server) {
  server->Route("/api/v1/query",
                [this](const HttpRequest& req, HttpResponse* resp) { Query(req, resp); });
  server->Route("/api/v1/query_range",
                [this](const HttpRequest& req, HttpResponse* resp) { QueryRange(req, resp); });
}

void QueryApi::Query(const HttpRequest& req, HttpResponse* resp) const {
  int64_t ts = now_ms_();
  if (std::string_view t = req.Param("time"); !t.empty()) {
    absl::StatusOr<int64_t> parsed = ParseApiTime(t);
    if (!parsed.ok()) {
      // Prometheus 2.42's wording, with its doubled prefix.
      return RespondError(resp, ApiErrorType::kBadData,
                          absl::StrFormat("invalid parameter \"time\": Invalid time value for "
                                          "'time': %s",
                                          StdSv(parsed.status().message())));
    }
    ts = *parsed;
  }
  absl::StatusOr<absl::Duration> timeout = TimeoutParam(req);
  if (!timeout.ok()) {
    return RespondError(resp, ApiErrorType::kBadData, StdSv(timeout.status().message()));
  }
  promql::QueryControl ctl;
  ctl.timeout = *timeout;
  absl::StatusOr<promql::Value> v = engine_->InstantQuery(*db_, req.Param("query"), ts, ctl);
  if (!v.ok()) return RespondQueryError(resp, v.status(), /*instant=*/true);
  RespondResult(resp, *v);
}

void QueryApi::QueryRange(const HttpRequest& req, HttpResponse* resp) const {
  auto param_error = [&](std::string_view name, std::string_view msg) {
    RespondError(resp, ApiErrorType::kBadData,
                 absl::StrFormat("invalid parameter \"%s\": %s", name, msg));
  };
  absl::StatusOr<int64_t> start = ParseApiTime(req.Param("start"));
  if (!start.ok()) return param_error("start", StdSv(start.status().message()));
  absl::StatusOr<int64_t> end = ParseApiTime(req.Param("end"));
  if (!end.ok()) return param_error("end", StdSv(end.status().message()));
  if (*end < *start) return param_error("end", "end timestamp must not be before start time");
  absl::StatusOr<int64_t> step = ParseApiDuration(req.Param("step"));
  if (!step.ok()) return param_error("step", StdSv(step.status().message()));
  if (*step <= 0) {
    return param_error("step",
                       "zero or negative query resolution step widths are not accepted. Try a "
                       "positive integer");
  }
  // Prometheus compares time.Duration values (nanoseconds); in milliseconds the
  // quotient is the same.
  if ((*end - *start) / *step > kMaxPointsPerSeries) {
    return RespondError(resp, ApiErrorType::kBadData,
                        "exceeded maximum resolution of 11,000 points per timeseries. Try "
                        "decreasing the query resolution (?step=XX)");
  }
  absl::StatusOr<absl::Duration> timeout = TimeoutParam(req);
  if (!timeout.ok()) {
    return RespondError(resp, ApiErrorType::kBadData, StdSv(timeout.status().message()));
  }
  promql::QueryControl ctl;
  ctl.timeout = *timeout;
  absl::StatusOr<promql::Value> v =
      engine_->RangeQuery(*db_, req.Param("query"), *start, *end, *step, ctl);
  if (!v.ok()) return RespondQueryError(resp, v.status(), /*instant=*/false);
  RespondResult(resp, *v);
}

}  // namespace cairn::server
