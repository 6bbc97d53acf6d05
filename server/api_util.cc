#include "server/api_util.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "tsdb/promql/parser.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {

std::string_view ApiErrorTypeName(ApiErrorType t) {
  switch (t) {
    case ApiErrorType::kBadData:
      return "bad_data";
    case ApiErrorType::kExecution:
      return "execution";
    case ApiErrorType::kTimeout:
      return "timeout";
    case ApiErrorType::kCanceled:
      return "canceled";
    case ApiErrorType::kInternal:
      return "internal";
    case ApiErrorType::kNotFound:
      return "not_found";
    case ApiErrorType::kUnavailable:
      return "unavailable";
  }
  return "internal";
}

int ApiErrorHttpStatus(ApiErrorType t) {
  switch (t) {
    case ApiErrorType::kBadData:
      return 400;
    case ApiErrorType::kExecution:
      return 422;
    case ApiErrorType::kTimeout:
    case ApiErrorType::kCanceled:
    case ApiErrorType::kUnavailable:
      return 503;
    case ApiErrorType::kNotFound:
      return 404;
    case ApiErrorType::kInternal:
      return 500;
  }
  return 500;
}

ApiErrorType ApiErrorTypeFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return ApiErrorType::kBadData;
    case absl::StatusCode::kDeadlineExceeded:
      return ApiErrorType::kTimeout;
    case absl::StatusCode::kCancelled:
      return ApiErrorType::kCanceled;
    case absl::StatusCode::kNotFound:
      return ApiErrorType::kNotFound;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kFailedPrecondition:
      return ApiErrorType::kExecution;
    case absl::StatusCode::kUnavailable:
      return ApiErrorType::kUnavailable;
    default:
      return ApiErrorType::kInternal;
  }
}

absl::StatusOr<int64_t> ParseApiTime(std::string_view s) {
  double f;
  if (absl::SimpleAtod(Sv(s), &f) && std::isfinite(f)) {
    double secs = std::trunc(f);
    double frac = std::round((f - secs) * 1000) / 1000;
    double ms = secs * 1000 + frac * 1000;
    if (ms > static_cast<double>(kApiMaxTimeMs) || ms < static_cast<double>(kApiMinTimeMs)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("cannot parse \"%s\" to a valid timestamp", s));
    }
    return static_cast<int64_t>(std::llround(ms));
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, Sv(s), &t, &err)) {
    return absl::ToUnixMillis(t);
  }
  if (s == "-292273086-05-16T16:47:06Z") return kApiMinTimeMs;
  if (s == "292277025-08-18T07:12:54.999999999Z") return kApiMaxTimeMs;
  return absl::InvalidArgumentError(absl::StrFormat("cannot parse \"%s\" to a valid timestamp", s));
}

absl::StatusOr<int64_t> ParseApiTimeParam(const HttpRequest& req, std::string_view name,
                                          int64_t default_ms) {
  std::string_view v = req.Param(name);
  if (v.empty()) return default_ms;
  absl::StatusOr<int64_t> t = ParseApiTime(v);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("invalid parameter \"%s\": %s", name, StdSv(t.status().message())));
  }
  return t;
}

absl::StatusOr<int64_t> ParseApiDuration(std::string_view s) {
  double f;
  if (absl::SimpleAtod(Sv(s), &f)) {
    double ms = f * 1000;
    if (!(ms < 9.2e18 && ms > -9.2e18)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("cannot parse \"%s\" to a valid duration. It overflows int64", s));
    }
    return static_cast<int64_t>(ms);
  }
  absl::StatusOr<int64_t> d = promql::ParseDuration(s);
  if (d.ok()) return d;
  return absl::InvalidArgumentError(absl::StrFormat("cannot parse \"%s\" to a valid duration", s));
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void RespondSuccess(HttpResponse* resp, std::string_view data_json) {
  resp->status = 200;
  resp->content_type = "application/json";
  resp->body.clear();
  resp->body.reserve(data_json.size() + 32);
  resp->body.append("{\"status\":\"success\",\"data\":");
  resp->body.append(data_json);
  resp->body.push_back('}');
}

void RespondError(HttpResponse* resp, ApiErrorType type, std::string_view message) {
  resp->status = ApiErrorHttpStatus(type);
  resp->content_type = "application/json";
  resp->body = "{\"status\":\"error\",\"errorType\":\"";
  resp->body.append(ApiErrorTypeName(type));
  resp->body.append("\",\"error\":");
  AppendJsonString(&resp->body, message);
  resp->body.push_back('}');
}

void AppendLabelsJson(std::string* out, const Labels& labels) {
  out->push_back('{');
  bool first = true;
  for (const Label& l : labels) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, l.name);
    out->push_back(':');
    AppendJsonString(out, l.value);
  }
  out->push_back('}');
}

}  // namespace cairn::server
