// CairnServer: the running `cairn` process minus main(): opens the DB, serves the
// HTTP API (query metadata, remote write, /metrics, health), and shuts down in order
// (stop accepting, finish in-flight requests, close the DB so the WAL is synced).
//
// Thread-safety: Start() and Stop() are called from one thread; handlers run on the
// HTTP server's threads.
#ifndef CAIRN_SERVER_CAIRN_SERVER_H_
#define CAIRN_SERVER_CAIRN_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "server/api_metadata.h"
#include "server/api_query.h"
#include "server/api_status.h"
#include "server/flags.h"
#include "server/grpc_ingest.h"
#include "server/http_server.h"
#include "server/metrics_registry.h"
#include "server/remote_write.h"
#include "server/web_ui.h"
#include "tsdb/db.h"

namespace cairn::server {

class CairnServer {
 public:
  explicit CairnServer(ServerFlags flags);
  ~CairnServer();

  absl::Status Start();
  void Stop();

  int http_port() const { return http_ != nullptr ? http_->port() : 0; }
  int grpc_port() const { return grpc_port_; }
  DB* db() const { return db_.get(); }

 private:
  void RegisterRoutes();
  void RegisterMetrics();
  void HandleRemoteWrite(const HttpRequest& req, HttpResponse* resp);
  void CountWrite(std::string_view source, const RemoteWriteResult& result);

  const ServerFlags flags_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<IngestService> ingest_service_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
  std::unique_ptr<MetadataApi> metadata_api_;
  std::unique_ptr<promql::Engine> engine_;
  std::unique_ptr<QueryApi> query_api_;
  std::unique_ptr<StatusApi> status_api_;
  std::unique_ptr<WebUi> web_ui_;
  MetricsRegistry metrics_;
  RemoteWriteLimits write_limits_;

  MetricFamily* http_requests_ = nullptr;
  MetricFamily* http_duration_ = nullptr;
  MetricFamily* samples_ingested_ = nullptr;
  MetricFamily* samples_rejected_ = nullptr;
  MetricFamily* remote_write_requests_ = nullptr;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CAIRN_SERVER_H_
