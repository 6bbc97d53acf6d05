// The Prometheus rules and alerts API over a rules::RuleManager:
//   /api/v1/rules   [type=alert|record]  rule groups with their rules' state
//   /api/v1/alerts                       every pending and firing alert
// JSON shape, field order and omissions follow Prometheus 2.42 (docs/api.md), e.g.
//   {"status":"success","data":{"groups":[{"name":"g","file":"rules.yml","rules":[
//     {"state":"firing","name":"Down","query":"up == 0","duration":300,
//      "keepFiringFor":0,"labels":{},"annotations":{},"alerts":[...],"health":"ok",
//      "evaluationTime":0.0004,"lastEvaluation":"2024-01-01T00:00:00.123Z",
//      "type":"alerting"}],"interval":60,"limit":0,"evaluationTime":0.0005,
//      "lastEvaluation":"..."}]}}
//
// Thread-safety: handlers may run concurrently (the manager snapshots its state).
#ifndef CAIRN_SERVER_API_RULES_H_
#define CAIRN_SERVER_API_RULES_H_

#include <string>
#include <vector>

#include "server/http_server.h"
#include "server/rules/rule_manager.h"

namespace cairn::server {

class RulesApi {
 public:
  // `manager` is borrowed, must outlive this object, and may be null (no rules).
  explicit RulesApi(const rules::RuleManager* manager) : manager_(manager) {}

  void Register(HttpServer* server);
  void Rules(const HttpRequest& req, HttpResponse* resp) const;
  void Alerts(const HttpRequest& req, HttpResponse* resp) const;

 private:
  const rules::RuleManager* manager_;
};

// The "data" objects, for tests. `type` is "", "alert" or "record".
std::string RuleGroupsJson(const std::vector<rules::GroupSnapshot>& groups, std::string_view type);
std::string AlertsJson(const std::vector<rules::GroupSnapshot>& groups);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_API_RULES_H_
