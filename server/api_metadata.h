// The Prometheus HTTP API's metadata endpoints over any storage::Queryable:
//   /api/v1/series                 (match[] required; start, end)
//   /api/v1/labels                 (optional match[]; start, end)
//   /api/v1/label/<name>/values    (optional match[]; start, end)
// Shapes, parameter rules and error messages follow Prometheus 2.42 (docs/api.md).
// Thread-safety: handlers may run concurrently.
#ifndef CAIRN_SERVER_API_METADATA_H_
#define CAIRN_SERVER_API_METADATA_H_

#include "server/http_server.h"
#include "tsdb/storage/querier.h"

namespace cairn::server {

class MetadataApi {
 public:
  // `db` is borrowed and must outlive this object.
  explicit MetadataApi(storage::Queryable* db) : db_(db) {}

  void Register(HttpServer* server);

  void Series(const HttpRequest& req, HttpResponse* resp) const;
  void LabelNames(const HttpRequest& req, HttpResponse* resp) const;
  void LabelValues(const HttpRequest& req, HttpResponse* resp) const;

 private:
  storage::Queryable* db_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_API_METADATA_H_
