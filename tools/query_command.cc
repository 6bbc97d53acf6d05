#include "tools/query_command.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::tools {
namespace {

std::string UrlEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

// Go's strconv.Quote for the ASCII range; bytes >= 0x80 (UTF-8 text, which label
// values are) pass through as Go keeps printable runes.
void AppendGoQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
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
      case '\v':
        out->append("\\v");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(out, "\\x%02x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string Quote(std::string_view body) {
  std::string head(body.substr(0, 120));
  for (char& c : head) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return head;
}

absl::Status Malformed(std::string_view why, std::string_view body) {
  return absl::InvalidArgumentError(
      absl::StrFormat("not a Prometheus API response (%s): \"%s\"", why, Quote(body)));
}

// Timestamps and values are kept as the server spelt them (parsed with
// kParseNumbersAsStringsFlag): Prometheus writes both in the shortest 'f' form that
// promtool prints, so no float round trip can change them.
bool PointText(const rapidjson::Value& p, std::string* out) {
  if (!p.IsArray() || p.Size() != 2 || !p[0].IsString() || !p[1].IsString()) return false;
  absl::StrAppend(out, Sv(std::string_view(p[1].GetString(), p[1].GetStringLength())), " @[",
                  Sv(std::string_view(p[0].GetString(), p[0].GetStringLength())), "]");
  return true;
}

bool MetricText(const rapidjson::Value& m, std::string* out) {
  if (!m.IsObject()) return false;
  std::vector<std::pair<std::string, std::string>> labels;
  for (auto it = m.MemberBegin(); it != m.MemberEnd(); ++it) {
    if (!it->value.IsString()) return false;
    labels.emplace_back(std::string(it->name.GetString(), it->name.GetStringLength()),
                        std::string(it->value.GetString(), it->value.GetStringLength()));
  }
  out->append(FormatMetric(labels));
  return true;
}

size_t OnData(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

absl::StatusOr<HttpResponse> Exchange(const QueryRequest& req, bool post) {
  static const bool init = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)init;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  std::string url = QueryUrl(req);
  std::string form = QueryForm(req);
  if (!post) absl::StrAppend(&url, "?", form);
  HttpResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (post) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(req.timeout)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status_code);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrFormat("cannot query %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc)));
  }
  return resp;
}

int Usage() {
  std::fprintf(stderr,
               "usage: cairnctl query [--url=http://127.0.0.1:9090] [--format=table|json] "
               "[--time=T] EXPR\n"
               "       cairnctl query range --start=T --end=T --step=S [--url=..] "
               "[--format=..] EXPR\n"
               "times: RFC 3339 or unix seconds; step: duration (15s) or seconds\n");
  return 2;
}

}  // namespace

std::string QueryUrl(const QueryRequest& req) {
  std::string base = req.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return absl::StrCat(base, req.range ? "/api/v1/query_range" : "/api/v1/query");
}

std::string QueryForm(const QueryRequest& req) {
  std::string form = absl::StrCat("query=", UrlEscape(req.expr));
  auto add = [&form](const char* name, const std::string& value) {
    if (!value.empty()) absl::StrAppend(&form, "&", name, "=", UrlEscape(value));
  };
  if (req.range) {
    add("start", req.start);
    add("end", req.end);
    add("step", req.step);
  } else {
    add("time", req.time);
  }
  return form;
}

absl::StatusOr<HttpResponse> PostQuery(const QueryRequest& req) {
  absl::StatusOr<HttpResponse> r = Exchange(req, /*post=*/true);
  if (r.ok() && r->status_code == 405) r = Exchange(req, /*post=*/false);
  return r;
}

std::string FormatMetric(const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string name;
  bool has_name = false;
  std::vector<std::string> rendered;
  for (const auto& [n, v] : labels) {
    if (n == "__name__") {
      name = v;
      has_name = true;
      continue;
    }
    std::string s = n + "=";
    AppendGoQuoted(v, &s);
    rendered.push_back(std::move(s));
  }
  if (rendered.empty()) return has_name ? name : "{}";
  std::sort(rendered.begin(), rendered.end());
  return absl::StrCat(name, "{", absl::StrJoin(rendered, ", "), "}");
}

absl::StatusOr<QueryAnswer> ParseQueryResponse(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseNumbersAsStringsFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    return Malformed(absl::StrFormat("JSON error at offset %d: %s", doc.GetErrorOffset(),
                                     rapidjson::GetParseError_En(doc.GetParseError())),
                     body);
  }
  if (!doc.IsObject() || !doc.HasMember("status") || !doc["status"].IsString()) {
    return Malformed("no \"status\"", body);
  }
  QueryAnswer a;
  if (doc.HasMember("warnings") && doc["warnings"].IsArray()) {
    for (const auto& w : doc["warnings"].GetArray()) {
      if (w.IsString()) a.warnings.emplace_back(w.GetString(), w.GetStringLength());
    }
  }
  std::string_view status(doc["status"].GetString(), doc["status"].GetStringLength());
  if (status != "success") {
    a.success = false;
    if (doc.HasMember("errorType") && doc["errorType"].IsString()) {
      a.error_type = doc["errorType"].GetString();
    }
    if (doc.HasMember("error") && doc["error"].IsString()) a.error = doc["error"].GetString();
    if (a.error_type.empty() && a.error.empty()) {
      return Malformed("status is not success but no error is given", body);
    }
    return a;
  }
  a.success = true;
  if (!doc.HasMember("data") || !doc["data"].IsObject()) return Malformed("no \"data\"", body);
  const rapidjson::Value& data = doc["data"];
  if (!data.HasMember("resultType") || !data["resultType"].IsString() ||
      !data.HasMember("result")) {
    return Malformed("no \"resultType\" or \"result\"", body);
  }
  std::string_view type(data["resultType"].GetString(), data["resultType"].GetStringLength());
  const rapidjson::Value& result = data["result"];
  std::string& out = a.table;
  if (type == "vector" || type == "matrix") {
    if (!result.IsArray()) return Malformed("result is not an array", body);
    for (const auto& s : result.GetArray()) {
      if (!s.IsObject() || !s.HasMember("metric") || !MetricText(s["metric"], &out)) {
        return Malformed("series without a valid \"metric\"", body);
      }
      if (type == "vector") {
        out.append(" => ");
        if (s.HasMember("value")) {
          if (!PointText(s["value"], &out)) return Malformed("invalid sample value", body);
        } else if (s.HasMember("histogram")) {
          out.append("<native histogram>");
        } else {
          return Malformed("sample without a value", body);
        }
        out.push_back('\n');
        continue;
      }
      out.append(" =>\n");
      if (s.HasMember("values")) {
        if (!s["values"].IsArray()) return Malformed("\"values\" is not an array", body);
        for (const auto& p : s["values"].GetArray()) {
          if (!PointText(p, &out)) return Malformed("invalid sample value", body);
          out.push_back('\n');
        }
      }
      if (s.HasMember("histograms")) out.append("<native histograms>\n");
    }
  } else if (type == "scalar" || type == "string") {
    if (type == "scalar") out.append("scalar: ");
    if (type == "string") {
      // model.String.String() is the bare value.
      if (!result.IsArray() || result.Size() != 2 || !result[1].IsString()) {
        return Malformed("invalid string result", body);
      }
      absl::StrAppend(&out, result[1].GetString(), " @[", result[0].GetString(), "]\n");
    } else {
      if (!PointText(result, &out)) return Malformed("invalid scalar result", body);
      out.push_back('\n');
    }
  } else {
    return Malformed(absl::StrFormat("unknown resultType %s", type), body);
  }
  return a;
}

int QueryCommand(int argc, char** argv, int first) {
  QueryRequest req;
  bool json = false;
  bool have_expr = false;
  int i = first;
  if (i < argc &&
      (std::string_view(argv[i]) == "range" || std::string_view(argv[i]) == "instant")) {
    req.range = std::string_view(argv[i]) == "range";
    ++i;
  }
  bool flags_done = false;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (!flags_done && a == "--") {
      flags_done = true;
      continue;
    }
    if (!flags_done && a.substr(0, 2) == "--") {
      a.remove_prefix(2);
      size_t eq = a.find('=');
      std::string_view key = a.substr(0, eq);
      std::string value = eq == std::string_view::npos ? "" : std::string(a.substr(eq + 1));
      if (key == "url") {
        req.url = value;
      } else if (key == "format" && (value == "table" || value == "json")) {
        json = value == "json";
      } else if (key == "time" && !req.range) {
        req.time = value;
      } else if (key == "start" && req.range) {
        req.start = value;
      } else if (key == "end" && req.range) {
        req.end = value;
      } else if (key == "step" && req.range) {
        req.step = value;
      } else if (key == "timeout") {
        if (!absl::ParseDuration(value, &req.timeout) || req.timeout <= absl::ZeroDuration()) {
          std::fprintf(stderr, "cairnctl query: --timeout: not a duration: %s\n", value.c_str());
          return 2;
        }
      } else {
        std::fprintf(stderr, "cairnctl query: unknown or invalid flag --%s\n",
                     std::string(a).c_str());
        return Usage();
      }
      continue;
    }
    if (have_expr) {
      std::fprintf(stderr, "cairnctl query: more than one expression given\n");
      return Usage();
    }
    req.expr = std::string(a);
    have_expr = true;
  }
  if (!have_expr || req.expr.empty()) {
    std::fprintf(stderr, "cairnctl query: no expression given\n");
    return Usage();
  }
  if (req.range && (req.start.empty() || req.end.empty() || req.step.empty())) {
    std::fprintf(stderr, "cairnctl query range: --start, --end and --step are required\n");
    return Usage();
  }
  absl::StatusOr<HttpResponse> resp = PostQuery(req);
  if (!resp.ok()) {
    std::fprintf(stderr, "cairnctl query: %s\n", std::string(resp.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<QueryAnswer> answer = ParseQueryResponse(resp->body);
  if (!answer.ok()) {
    std::fprintf(stderr, "cairnctl query: %s answered HTTP %ld: %s\n", QueryUrl(req).c_str(),
                 resp->status_code, std::string(answer.status().message()).c_str());
    return 2;
  }
  for (const std::string& w : answer->warnings) {
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  }
  if (json) {
    std::fwrite(resp->body.data(), 1, resp->body.size(), stdout);
    if (resp->body.empty() || resp->body.back() != '\n') std::fputc('\n', stdout);
  }
  if (!answer->success) {
    std::fprintf(stderr, "cairnctl query: %s: %s\n", answer->error_type.c_str(),
                 answer->error.c_str());
    return 1;
  }
  if (!json) std::fwrite(answer->table.data(), 1, answer->table.size(), stdout);
  return 0;
}

}  // namespace cairn::tools
