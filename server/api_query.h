// The Prometheus HTTP query API over a promql::Engine and any storage::Queryable:
//   /api/v1/query        query, time (default now), timeout
//   /api/v1/query_range  query, start, end, step, timeout
// GET parameters or a POST form. Parameter rules, error messages and the JSON shape
// follow Prometheus 2.42 (docs/api.md), e.g.
//   {"status":"success","data":{"resultType":"vector",
//     "result":[{"metric":{"__name__":"up"},"value":[1700000000.123,"1"]}]}}
// Sample values are strings with the shortest round-trip decimal ("+Inf", "-Inf",
// "NaN"); timestamps are seconds with millisecond precision.
//
// Thread-safety: handlers may run concurrently (the engine limits concurrency).
#ifndef CAIRN_SERVER_API_QUERY_H_
#define CAIRN_SERVER_API_QUERY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "server/http_server.h"
#include "tsdb/promql/engine.h"
#include "tsdb/promql/value.h"
#include "tsdb/storage/querier.h"

namespace cairn::server {

class QueryApi {
 public:
  // Both are borrowed and must outlive this object. `now_ms` supplies the default
  // evaluation time (tests pin it); null means the wall clock.
  QueryApi(storage::Queryable* db, promql::Engine* engine,
           std::function<int64_t()> now_ms = nullptr);

  void Register(HttpServer* server);

  void Query(const HttpRequest& req, HttpResponse* resp) const;
  void QueryRange(const HttpRequest& req, HttpResponse* resp) const;

 private:
  storage::Queryable* db_;
  promql::Engine* engine_;
  std::function<int64_t()> now_ms_;
};

// JSON of a query result's "data" object: {"resultType":...,"result":...}.
std::string QueryResultJson(const promql::Value& v);
void AppendQueryResultJson(std::string* out, const promql::Value& v);
// Prometheus' sample value string: 'f' format, or 'e' below 1e-6 / from 1e21.
std::string FormatApiValue(double v);
// Prometheus' timestamp: seconds with up to three decimals ("1.5" is "1.500").
void AppendApiTimestamp(std::string* out, int64_t t_ms);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_API_QUERY_H_
