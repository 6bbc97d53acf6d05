#include "server/api_admin.h"

#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/api_util.h"
#include "tsdb/io/file_system.h"
#include "tsdb/promql/parser.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

void RespondNoContent(HttpResponse* resp) {
  resp->status = 204;
  resp->content_type.clear();
  resp->body.clear();
}

// Prometheus' time parameters wrap the parse error twice:
// invalid parameter "start": Invalid time value for 'start': cannot parse "x" ...
absl::StatusOr<int64_t> TimeParam(const HttpRequest& req, std::string_view name,
                                  int64_t default_ms) {
  std::string_view v = req.Param(name);
  if (v.empty()) return default_ms;
  absl::StatusOr<int64_t> t = ParseApiTime(v);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("invalid parameter \"%s\": Invalid time value for '%s': %s", name, name,
                        StdSv(t.status().message())));
  }
  return t;
}

// "<UTC time as 20060102T150405Z>-<16 hex digits>", as Prometheus names snapshots.
std::string SnapshotName() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t r = rng() >> 1;  // Go's rand.Int63: 63 random bits
  return absl::StrCat(absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone()), "-",
                      absl::StrFormat("%016x", r));
}

}  // namespace

bool ParseGoBool(std::string_view s, bool* out) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (s == t) {
      *out = true;
      return true;
    }
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (s == f) {
      *out = false;
      return true;
    }
  }
  return false;
}

void AdminApi::Register(HttpServer* server) {
  server->Route("/api/v1/admin/tsdb/delete_series",
                [this](const HttpRequest& req, HttpResponse* resp) { DeleteSeries(req, resp); });
  server->Route("/api/v1/admin/tsdb/clean_tombstones",
                [this](const HttpRequest& req, HttpResponse* resp) { CleanTombstones(req, resp); });
  server->Route("/api/v1/admin/tsdb/snapshot",
                [this](const HttpRequest& req, HttpResponse* resp) { Snapshot(req, resp); });
}

bool AdminApi::Refuse(const HttpRequest& req, HttpResponse* resp) const {
  if (req.method == "OPTIONS") {  // CORS preflight, answered as Prometheus' router does
    RespondNoContent(resp);
    resp->headers.emplace_back("Allow", "OPTIONS, POST, PUT");
    return true;
  }
  if (req.method != "POST" && req.method != "PUT") {
    resp->status = 405;
    resp->body = "Method Not Allowed\n";
    resp->headers.emplace_back("Allow", "OPTIONS, POST, PUT");
    return true;
  }
  if (!enabled_) {
    RespondError(resp, ApiErrorType::kUnavailable, "admin APIs disabled");
    // Prometheus 2.42 answers this with 500 although the type is "unavailable".
    resp->status = 500;
    return true;
  }
  return false;
}

void AdminApi::DeleteSeries(const HttpRequest& req, HttpResponse* resp) const {
  if (Refuse(req, resp)) return;
  std::vector<std::string> selectors = req.Params("match[]");
  if (selectors.empty()) {
    return RespondError(resp, ApiErrorType::kBadData, "no match[] parameter provided");
  }
  absl::StatusOr<int64_t> start = TimeParam(req, "start", kApiMinTimeMs);
  if (!start.ok())
    return RespondError(resp, ApiErrorType::kBadData, StdSv(start.status().message()));
  absl::StatusOr<int64_t> end = TimeParam(req, "end", kApiMaxTimeMs);
  if (!end.ok()) return RespondError(resp, ApiErrorType::kBadData, StdSv(end.status().message()));
  // Every selector is parsed before anything is deleted (Prometheus deletes as it
  // parses, so a bad second selector leaves the first one applied).
  std::vector<std::vector<Matcher>> matchers;
  for (const std::string& s : selectors) {
    absl::StatusOr<std::vector<Matcher>> ms = promql::ParseMetricSelector(s);
    if (!ms.ok()) {
      return RespondError(resp, ApiErrorType::kBadData,
                          absl::StrCat("invalid parameter \"match[]\": ", ms.status().message()));
    }
    matchers.push_back(std::move(*ms));
  }
  for (const auto& ms : matchers) {
    if (absl::Status s = db_->Delete(*start, *end, ms); !s.ok()) {
      return RespondError(resp, ApiErrorType::kInternal, StdSv(s.message()));
    }
  }
  RespondNoContent(resp);
}

void AdminApi::CleanTombstones(const HttpRequest& req, HttpResponse* resp) const {
  if (Refuse(req, resp)) return;
  if (absl::Status s = db_->CleanTombstones(); !s.ok()) {
    return RespondError(resp, ApiErrorType::kInternal, StdSv(s.message()));
  }
  RespondNoContent(resp);
}

void AdminApi::Snapshot(const HttpRequest& req, HttpResponse* resp) const {
  if (Refuse(req, resp)) return;
  bool skip_head = false;
  if (std::string_view v = req.Param("skip_head"); !v.empty() && !ParseGoBool(v, &skip_head)) {
    return RespondError(resp, ApiErrorType::kBadData,
                        absl::StrFormat("invalid parameter \"skip_head\": unable to parse boolean: "
                                        "strconv.ParseBool: parsing \"%s\": invalid syntax",
                                        v));
  }
  const std::string name = SnapshotName();
  const std::string dir = io::JoinPath(db_->dir(), "snapshots", name);
  if (absl::Status s = io::FileSystem::Default()->CreateDirs(dir); !s.ok()) {
    return RespondError(resp, ApiErrorType::kInternal,
                        absl::StrCat("create snapshot directory: ", s.message()));
  }
  if (absl::Status s = db_->Snapshot(dir, !skip_head); !s.ok()) {
    return RespondError(resp, ApiErrorType::kInternal,
                        absl::StrCat("create snapshot: ", s.message()));
  }
  std::string data = "{\"name\":";
  AppendJsonString(&data, name);
  data.push_back('}');
  RespondSuccess(resp, data);
}

}  // namespace cairn::server
