#include "server/api_metadata.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_format.h"
#include "server/api_util.h"
#include "tsdb/model/labels.h"
#include "tsdb/promql/parser.h"
#include "tsdb/storage/merge.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

struct Range {
  int64_t start_ms, end_ms;
};

absl::StatusOr<Range> ParseRange(const HttpRequest& req) {
  absl::StatusOr<int64_t> start = ParseApiTimeParam(req, "start", kApiMinTimeMs);
  if (!start.ok()) return start.status();
  absl::StatusOr<int64_t> end = ParseApiTimeParam(req, "end", kApiMaxTimeMs);
  if (!end.ok()) return end.status();
  return Range{*start, *end};
}

absl::StatusOr<std::vector<std::vector<Matcher>>> ParseMatches(const HttpRequest& req) {
  std::vector<std::vector<Matcher>> out;
  for (const std::string& m : req.Params("match[]")) {
    absl::StatusOr<std::vector<Matcher>> ms = promql::ParseMetricSelector(m);
    if (!ms.ok()) return ms.status();
    out.push_back(std::move(*ms));
  }
  return out;
}

void AppendStringArray(std::string* out, const std::vector<std::string>& values) {
  out->push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(out, values[i]);
  }
  out->push_back(']');
}

std::vector<std::string> Union(std::set<std::string>& set) {
  return std::vector<std::string>(set.begin(), set.end());
}

}  // namespace

void MetadataApi::Register(HttpServer* server) {
  server->Route("/api/v1/series",
                [this](const HttpRequest& req, HttpResponse* resp) { Series(req, resp); });
  server->Route("/api/v1/labels",
                [this](const HttpRequest& req, HttpResponse* resp) { LabelNames(req, resp); });
  server->Route(
      "/api/v1/label/",
      [this](const HttpRequest& req, HttpResponse* resp) { LabelValues(req, resp); },
      /*prefix=*/true);
}

void MetadataApi::Series(const HttpRequest& req, HttpResponse* resp) const {
  auto matches = ParseMatches(req);
  if (!matches.ok())
    return RespondError(resp, ApiErrorType::kBadData, StdSv(matches.status().message()));
  if (matches->empty()) {
    return RespondError(resp, ApiErrorType::kBadData, "no match[] parameter provided");
  }
  auto range = ParseRange(req);
  if (!range.ok())
    return RespondError(resp, ApiErrorType::kBadData, StdSv(range.status().message()));
  auto querier = db_->NewQuerier(range->start_ms, range->end_ms);
  if (!querier.ok()) {
    return RespondError(resp, ApiErrorTypeFor(querier.status()), StdSv(querier.status().message()));
  }
  std::vector<std::unique_ptr<storage::SeriesSet>> sets;
  for (const auto& ms : *matches) {
    sets.push_back((*querier)->Select(range->start_ms, range->end_ms, ms));
  }
  auto set = sets.size() == 1 ? std::move(sets[0]) : storage::MergeSeriesSets(std::move(sets));
  std::string out = "[";
  bool first = true;
  while (set->Next()) {
    if (!first) out.push_back(',');
    first = false;
    AppendLabelsJson(&out, set->At().labels());
  }
  if (!set->status().ok()) {
    return RespondError(resp, ApiErrorTypeFor(set->status()), StdSv(set->status().message()));
  }
  out.push_back(']');
  RespondSuccess(resp, out);
}

void MetadataApi::LabelNames(const HttpRequest& req, HttpResponse* resp) const {
  auto matches = ParseMatches(req);
  if (!matches.ok())
    return RespondError(resp, ApiErrorType::kBadData, StdSv(matches.status().message()));
  auto range = ParseRange(req);
  if (!range.ok())
    return RespondError(resp, ApiErrorType::kBadData, StdSv(range.status().message()));
  auto querier = db_->NewQuerier(range->start_ms, range->end_ms);
  if (!querier.ok()) {
    return RespondError(resp, ApiErrorTypeFor(querier.status()), StdSv(querier.status().message()));
  }
  std::set<std::string> names;
  if (matches->empty()) matches->push_back({});
  for (const auto& ms : *matches) {
    auto got = (*querier)->LabelNames(ms);
    if (!got.ok())
      return RespondError(resp, ApiErrorTypeFor(got.status()), StdSv(got.status().message()));
    names.insert(got->begin(), got->end());
  }
  std::string out;
  AppendStringArray(&out, Union(names));
  RespondSuccess(resp, out);
}

void MetadataApi::LabelValues(const HttpRequest& req, HttpResponse* resp) const {
  constexpr std::string_view kPrefix = "/api/v1/label/";
  constexpr std::string_view kSuffix = "/values";
  std::string_view path = req.path;
  if (path.size() <= kPrefix.size() + kSuffix.size() ||
      path.substr(path.size() - kSuffix.size()) != kSuffix) {
    resp->status = 404;
    resp->body = "404 page not found\n";
    return;
  }
  std::string_view name =
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  if (!IsValidLabelName(name)) {
    return RespondError(resp, ApiErrorType::kBadData,
                        absl::StrFormat("invalid label name: \"%s\"", name));
  }
  auto matches = ParseMatches(req);
  if (!matches.ok())
    return RespondError(resp, ApiErrorType::kBadData, StdSv(matches.status().message()));
  auto range = ParseRange(req);
  if (!range.ok())
    return RespondError(resp, ApiErrorType::kBadData, StdSv(range.status().message()));
  auto querier = db_->NewQuerier(range->start_ms, range->end_ms);
  if (!querier.ok()) {
    return RespondError(resp, ApiErrorTypeFor(querier.status()), StdSv(querier.status().message()));
  }
  std::set<std::string> values;
  if (matches->empty()) matches->push_back({});
  for (const auto& ms : *matches) {
    auto got = (*querier)->LabelValues(name, ms);
    if (!got.ok())
      return RespondError(resp, ApiErrorTypeFor(got.status()), StdSv(got.status().message()));
    values.insert(got->begin(), got->end());
  }
  std::string out;
  AppendStringArray(&out, Union(values));
  RespondSuccess(resp, out);
}

}  // namespace cairn::server
