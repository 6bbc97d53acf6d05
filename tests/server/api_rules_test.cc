// /api/v1/rules and /api/v1/alerts: the JSON against Prometheus 2.42's output for the
// same state (field order, omitted fields, number and time formats), and the server
// wiring: rule_files globs relative to the config, reload refusing a bad rule file.
#include "server/api_rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cairn_server.h"
#include "tests/server/test_http_client.h"

namespace cairn::server {
namespace {

using ::testing::HasSubstr;

rules::GroupSnapshot ExampleGroup() {
  rules::GroupSnapshot g;
  g.name = "g1";
  g.file = "rules.yml";
  g.interval_ms = 5000;
  g.evaluation_seconds = 0.001104302;
  g.last_evaluation_wall_us = 1796554399175357;  // 2026-12-06T10:53:19.175357Z
  rules::RuleSnapshot rec;
  rec.name = "job:up:sum";
  rec.query = "sum by (job) (up)";
  rec.labels = Labels{{"team", "a"}};
  rec.health = rules::RuleHealth::kOk;
  rec.evaluation_seconds = 0.000350139;
  rec.last_evaluation_wall_us = 1796554399175373;
  rules::RuleSnapshot plain = rec;
  plain.name = "nolabels";
  plain.query = "vector(1)";
  plain.labels = Labels();
  rules::RuleSnapshot alert;
  alert.is_alert = true;
  alert.name = "Pending";
  alert.query = "up > 0";
  alert.for_ms = 600000;
  alert.keep_firing_for_ms = 60000;
  alert.health = rules::RuleHealth::kErr;
  alert.last_error = "boom";
  alert.evaluation_seconds = 5e-7;
  alert.state = rules::AlertState::kPending;
  rules::AlertSnapshot a;
  a.labels = Labels{{"alertname", "Pending"}, {"job", "prom"}};
  a.state = rules::AlertState::kPending;
  a.active_at_ms = 1796554394151;
  a.value = 1;
  alert.alerts.push_back(a);
  g.rules = {rec, plain, alert};
  return g;
}

TEST(RulesJsonTest, MatchesPrometheusShape) {
  EXPECT_EQ(
      RuleGroupsJson({ExampleGroup()}, ""),
      R"({"groups":[{"name":"g1","file":"rules.yml","rules":[)"
      R"J({"name":"job:up:sum","query":"sum by (job) (up)","labels":{"team":"a"},"health":"ok",)J"
      R"("evaluationTime":0.000350139,"lastEvaluation":"2026-12-06T10:53:19.175373Z","type":"recording"},)"
      R"J({"name":"nolabels","query":"vector(1)","health":"ok","evaluationTime":0.000350139,)J"
      R"("lastEvaluation":"2026-12-06T10:53:19.175373Z","type":"recording"},)"
      R"({"state":"pending","name":"Pending","query":"up > 0","duration":600,"keepFiringFor":60,)"
      R"("labels":{},"annotations":{},"alerts":[{"labels":{"alertname":"Pending","job":"prom"},)"
      R"("annotations":{},"state":"pending","activeAt":"2026-12-06T10:53:14.151Z","value":"1e+00"}],)"
      R"("health":"err","lastError":"boom","evaluationTime":5e-7,"lastEvaluation":"0001-01-01T00:00:00Z",)"
      R"("type":"alerting"}],"interval":5,"limit":0,"evaluationTime":0.001104302,)"
      R"("lastEvaluation":"2026-12-06T10:53:19.175357Z"}]})");
  // type=record keeps the group with only its recording rules; type=alert likewise.
  std::string rec = RuleGroupsJson({ExampleGroup()}, "record");
  EXPECT_THAT(rec, HasSubstr("job:up:sum"));
  EXPECT_THAT(rec, ::testing::Not(HasSubstr("alerting")));
  std::string alert = RuleGroupsJson({ExampleGroup()}, "alert");
  EXPECT_THAT(alert, ::testing::Not(HasSubstr("recording")));
  EXPECT_THAT(alert, HasSubstr("\"name\":\"g1\""));
  EXPECT_EQ(AlertsJson({ExampleGroup()}),
            R"({"alerts":[{"labels":{"alertname":"Pending","job":"prom"},"annotations":{},)"
            R"("state":"pending","activeAt":"2026-12-06T10:53:14.151Z","value":"1e+00"}]})");
  EXPECT_EQ(RuleGroupsJson({}, ""), R"({"groups":[]})");
}

using test_http::Reply;
using test_http::Request;

TEST(RulesServerTest, RuleFilesLoadedAndBadReloadRefused) {
  char tmpl[] = "/tmp/cairn_rules_server_test_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/rules.d");
  std::ofstream(dir + "/rules.d/a.yml") << "groups:\n  - name: ga\n    rules:\n"
                                           "      - record: r1\n        expr: vector(1)\n"
                                           "      - alert: A\n        expr: vector(1) > 2\n";
  std::ofstream(dir + "/prom.yml") << "global:\n  evaluation_interval: 1h\n"
                                      "rule_files: ['rules.d/*.yml']\nscrape_configs: []\n";
  ServerFlags f;
  f.storage_path = dir + "/data";
  f.web_listen_address = "127.0.0.1:0";
  f.grpc_listen_address = "127.0.0.1:0";
  f.config_file = dir + "/prom.yml";
  f.enable_lifecycle = true;
  {
    CairnServer server(f);
    absl::Status s = server.Start();
    ASSERT_TRUE(s.ok()) << s;
    const int port = server.http_port();
    Reply r = Request(port, "GET", "/api/v1/rules");
    EXPECT_EQ(r.status, 200);
    EXPECT_THAT(r.body, HasSubstr(R"("name":"ga","file":")" + dir + R"(/rules.d/a.yml")"));
    EXPECT_THAT(r.body, HasSubstr(R"("interval":3600)"));
    EXPECT_EQ(Request(port, "GET", "/api/v1/rules?type=x").status, 400);
    EXPECT_EQ(Request(port, "GET", "/api/v1/alerts").body,
              R"({"status":"success","data":{"alerts":[]}})");
    EXPECT_THAT(
        Request(port, "GET", "/metrics").body,
        HasSubstr("prometheus_rule_group_rules{rule_group=\"" + dir + "/rules.d/a.yml;ga\"} 2"));

    // A broken rule file refuses the reload; the loaded rules stay.
    std::ofstream(dir + "/rules.d/b.yml") << "groups:\n  - name: gb\n    rules:\n"
                                             "      - record: r2\n";
    r = Request(port, "POST", "/-/reload");
    EXPECT_EQ(r.status, 500);
    EXPECT_THAT(r.body,
                HasSubstr("b.yml:4: group \"gb\", rule 1, \"r2\": field 'expr' must be set"));
    r = Request(port, "GET", "/api/v1/rules");
    EXPECT_THAT(r.body, HasSubstr(R"("name":"ga")"));
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr(R"("name":"gb")")));
    // Fixed, the reload succeeds and adds the group.
    std::ofstream(dir + "/rules.d/b.yml", std::ios::trunc)
        << "groups:\n  - name: gb\n    rules:\n      - record: r2\n        expr: vector(2)\n";
    EXPECT_EQ(Request(port, "POST", "/-/reload").status, 200);
    EXPECT_THAT(Request(port, "GET", "/api/v1/rules").body, HasSubstr(R"("name":"gb")"));
    server.Stop();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::server
