// The Prometheus TSDB admin API, enabled by --web.enable-admin-api:
//   POST|PUT /api/v1/admin/tsdb/delete_series  match[]=<selector>... [start] [end] -> 204
//   POST|PUT /api/v1/admin/tsdb/clean_tombstones                                   -> 204
//   POST|PUT /api/v1/admin/tsdb/snapshot [skip_head=<bool>]  -> {"name":"<ts>-<hex>"}
// Snapshots go to <storage.tsdb.path>/snapshots/<name>. Disabled, every endpoint answers
// 500 {"errorType":"unavailable","error":"admin APIs disabled"}; other methods get 405.
// Status codes, error types and messages match Prometheus 2.42 (docs/api.md).
//
// Thread-safety: handlers may run concurrently; the DB serialises the admin actions.
#ifndef CAIRN_SERVER_API_ADMIN_H_
#define CAIRN_SERVER_API_ADMIN_H_

#include <string>

#include "server/http_server.h"
#include "tsdb/db.h"

namespace cairn::server {

class AdminApi {
 public:
  // `db` is borrowed and must outlive this object. `enabled` is
  // --web.enable-admin-api.
  AdminApi(DB* db, bool enabled) : db_(db), enabled_(enabled) {}

  void Register(HttpServer* server);

  void DeleteSeries(const HttpRequest& req, HttpResponse* resp) const;
  void CleanTombstones(const HttpRequest& req, HttpResponse* resp) const;
  void Snapshot(const HttpRequest& req, HttpResponse* resp) const;

 private:
  // Answers methods other than POST/PUT and the disabled API; true when it did.
  bool Refuse(const HttpRequest& req, HttpResponse* resp) const;

  DB* const db_;
  const bool enabled_;
};

// Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
bool ParseGoBool(std::string_view s, bool* out);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_API_ADMIN_H_
