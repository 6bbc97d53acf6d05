// WebUi: serves Cairn's browser UI — a client of the Prometheus HTTP API
// (/api/v1/*) — from files compiled into the binary (docs/ui.md).
//
// Page URLs follow Prometheus so bookmarks keep working: "/" redirects to /graph;
// /graph (with g0.expr, g0.tab, g0.range_input, ... parameters), /targets, /alerts,
// /rules, /status, /flags, /tsdb-status and /config all return the single-page app,
// which picks the page from the path. Files live under /static/<name>.
//
// Never touches the filesystem: a path names an embedded asset or gets 404, so no
// "..", encoded slash or absolute path can reach a file. Responses carry a weak
// ETag (CRC-32 and size of the bytes; weak because the HTTP layer may gzip) and
// "Cache-Control: no-cache", so browsers revalidate and get 304 Not Modified while
// the binary is unchanged. HEAD answers the headers without a body.
//
// Thread-safety: immutable after construction; Serve may run concurrently.
#ifndef CAIRN_SERVER_WEB_UI_H_
#define CAIRN_SERVER_WEB_UI_H_

#include <string>
#include <string_view>
#include <vector>

#include "server/http_server.h"

namespace cairn::server {

class WebUi {
 public:
  WebUi();

  // Routes the page paths and /static/ on `server`.
  void Register(HttpServer* server) const;

  // Answers a GET or HEAD of a page path or /static/<asset>; 404 for anything else.
  void Serve(const HttpRequest& req, HttpResponse* resp) const;

  // The page paths that return the app (besides "/", which redirects).
  static const std::vector<std::string>& PagePaths();
  // Whether uPlot was found at build time.
  static bool HasChartLibrary();
  // The Content-Type for an asset path, from its extension.
  static std::string_view ContentType(std::string_view path);

 private:
  struct Asset {
    std::string_view path;
    std::string_view bytes;
    std::string etag;
  };
  const Asset* Find(std::string_view path) const;
  void ServeAsset(const Asset& asset, const HttpRequest& req, HttpResponse* resp) const;

  std::vector<Asset> assets_;  // sorted by path
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_WEB_UI_H_
