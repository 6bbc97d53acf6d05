// The Prometheus API's /api/v1/targets: the scrape manager's active targets (with
// discovered and final labels, URL, health, last error, last scrape time and
// duration) and the targets relabelling dropped, in Prometheus 2.42's shape
// (docs/api.md). `state` (active|dropped|any) and `scrapePool` filter as upstream.
//
// Thread-safety: the handler may run concurrently with itself and with config
// reloads (the manager is thread-safe).
#ifndef CAIRN_SERVER_API_TARGETS_H_
#define CAIRN_SERVER_API_TARGETS_H_

#include <string>

#include "absl/time/time.h"
#include "server/http_server.h"
#include "server/scrape/scrape_manager.h"

namespace cairn::server {

class TargetsApi {
 public:
  // `manager` is borrowed and must outlive this object.
  explicit TargetsApi(scrape::ScrapeManager* manager) : manager_(manager) {}

  void Register(HttpServer* server);
  void Targets(const HttpRequest& req, HttpResponse* resp) const;

 private:
  scrape::ScrapeManager* manager_;
};

// Go's time.RFC3339Nano rendering in UTC ("2017-01-17T14:07:44.723715405Z"); Go's
// zero time ("0001-01-01T00:00:00Z") for absl::InfinitePast().
std::string FormatRfc3339Nano(absl::Time t);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_API_TARGETS_H_
