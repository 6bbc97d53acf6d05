#include "server/web_ui.h"

#include <zlib.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "server/web_assets.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

constexpr std::string_view kStaticPrefix = "/static/";
constexpr std::string_view kAppAsset = "index.html";

// True when an If-None-Match header value matches `etag` (weak comparison, RFC 9110
// 13.1.2: the W/ prefix is ignored on both sides).
bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  auto strip_weak = [](std::string_view t) {
    t = StdSv(absl::StripAsciiWhitespace(Sv(t)));
    if (absl::StartsWith(Sv(t), "W/")) t.remove_prefix(2);
    return t;
  };
  const std::string_view want = strip_weak(etag);
  for (absl::string_view part : absl::StrSplit(Sv(if_none_match), ',')) {
    std::string_view candidate = strip_weak(StdSv(part));
    if (candidate == "*" || candidate == want) return true;
  }
  return false;
}

void NotFound(HttpResponse* resp) {
  resp->status = 404;
  resp->content_type = "text/plain; charset=utf-8";
  resp->body = "404 page not found\n";
}

}  // namespace

WebUi::WebUi() {
  assets_.reserve(internal::kWebAssetCount);
  for (size_t i = 0; i < internal::kWebAssetCount; ++i) {
    const internal::WebAsset& a = internal::kWebAssets[i];
    std::string_view bytes(reinterpret_cast<const char*>(a.data), a.size);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, a.data, static_cast<uInt>(a.size));
    // Weak: the HTTP layer may gzip the body, and a strong tag would then claim
    // byte-identity across encodings.
    assets_.push_back(
        {a.path, bytes, absl::StrFormat("W/\"%08x-%x\"", static_cast<uint32_t>(crc), a.size)});
  }
  std::sort(assets_.begin(), assets_.end(),
            [](const Asset& x, const Asset& y) { return x.path < y.path; });
}

const std::vector<std::string>& WebUi::PagePaths() {
  static const std::vector<std::string>* const kPaths = new std::vector<std::string>{
      "/graph", "/targets", "/alerts", "/rules", "/status", "/flags", "/tsdb-status", "/config"};
  return *kPaths;
}

bool WebUi::HasChartLibrary() { return internal::kWebChartLibraryEmbedded; }

std::string_view WebUi::ContentType(std::string_view path) {
  struct Type {
    std::string_view ext, type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes) {
    if (absl::EndsWith(Sv(path), Sv(t.ext))) return t.type;
  }
  return "application/octet-stream";
}

void WebUi::Register(HttpServer* server) const {
  auto serve = [this](const HttpRequest& req, HttpResponse* resp) { Serve(req, resp); };
  server->Route("/", serve);
  for (const std::string& p : PagePaths()) server->Route(p, serve);
  server->Route(std::string(kStaticPrefix), serve, /*prefix=*/true);
}

const WebUi::Asset* WebUi::Find(std::string_view path) const {
  auto it = std::lower_bound(assets_.begin(), assets_.end(), path,
                             [](const Asset& a, std::string_view p) { return a.path < p; });
  if (it == assets_.end() || it->path != path) return nullptr;
  return &*it;
}

void WebUi::Serve(const HttpRequest& req, HttpResponse* resp) const {
  if (req.method != "GET" && req.method != "HEAD") {
    resp->status = 405;
    resp->headers.emplace_back("Allow", "GET, HEAD");
    resp->body = "the web UI takes GET or HEAD\n";
    return;
  }
  if (req.path == "/") {
    // As Prometheus: a 302 to the query page.
    resp->status = 302;
    resp->headers.emplace_back("Location", "/graph");
    resp->content_type = "text/html; charset=utf-8";
    resp->body = "<a href=\"/graph\">Found</a>.\n";
    return;
  }
  const Asset* asset = nullptr;
  if (absl::StartsWith(Sv(req.path), Sv(kStaticPrefix))) {
    asset = Find(std::string_view(req.path).substr(kStaticPrefix.size()));
  } else if (std::find(PagePaths().begin(), PagePaths().end(), req.path) != PagePaths().end()) {
    asset = Find(kAppAsset);
  }
  if (asset == nullptr) return NotFound(resp);
  ServeAsset(*asset, req, resp);
}

void WebUi::ServeAsset(const Asset& asset, const HttpRequest& req, HttpResponse* resp) const {
  resp->content_type = std::string(ContentType(asset.path));
  resp->headers.emplace_back("ETag", asset.etag);
  // Asset names carry no content hash, so caches must revalidate; the ETag makes
  // that a cheap 304.
  resp->headers.emplace_back("Cache-Control", "no-cache");
  resp->headers.emplace_back("X-Content-Type-Options", "nosniff");
  std::string_view inm = req.Header("if-none-match");
  if (!inm.empty() && EtagMatches(inm, asset.etag)) {
    resp->status = 304;
    resp->body.clear();
    return;
  }
  resp->status = 200;
  if (req.method == "GET") resp->body.assign(asset.bytes.data(), asset.bytes.size());
}

}  // namespace cairn::server
