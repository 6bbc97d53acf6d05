// The Prometheus API's status endpoints:
//   /api/v1/status/buildinfo, /api/v1/status/flags, /api/v1/status/runtimeinfo,
//   /api/v1/status/tsdb (head statistics and the top-10 cardinality tables).
// Shapes follow Prometheus 2.42 (docs/api.md). Thread-safety: handlers may run
// concurrently.
#ifndef CAIRN_SERVER_API_STATUS_H_
#define CAIRN_SERVER_API_STATUS_H_

#include <chrono>
#include <string>

#include "server/flags.h"
#include "server/http_server.h"
#include "tsdb/db.h"

namespace cairn::server {

inline constexpr char kCairnVersion[] = "0.1.0";

class StatusApi {
 public:
  // `db` is borrowed and must outlive this object.
  StatusApi(DB* db, ServerFlags flags);

  void Register(HttpServer* server);

  void BuildInfo(const HttpRequest& req, HttpResponse* resp) const;
  void Flags(const HttpRequest& req, HttpResponse* resp) const;
  void RuntimeInfo(const HttpRequest& req, HttpResponse* resp) const;
  void Tsdb(const HttpRequest& req, HttpResponse* resp) const;

 private:
  DB* db_;
  const ServerFlags flags_;
  const std::chrono::system_clock::time_point start_time_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_API_STATUS_H_
