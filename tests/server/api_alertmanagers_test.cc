// CairnServer with an `alerting:` section, in-process: /api/v1/alertmanagers in
// Prometheus' shape, the notification metrics on /metrics, alert_sender() delivering
// to a fake Alertmanager, reload switching Alertmanagers, and api_version v1 refused.
#include "server/api_alertmanagers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cairn_server.h"
#include "tests/server/notifier/fake_alertmanager.h"
#include "tests/server/test_http_client.h"
#include "tsdb/io/file_system.h"

namespace cairn::server {
namespace {

using notifier::FakeAlertmanager;
using ::testing::HasSubstr;
using ::testing::Not;

using test_http::Reply;

Reply Get(int port, const std::string& target) { return test_http::Request(port, "GET", target); }

class AlertmanagersApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_alertmanagers_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    server_.reset();
    io::FileSystem::Default()->RemoveAll(dir_).IgnoreError();
  }
  absl::Status StartServer() {
    ServerFlags f;
    f.storage_path = dir_ + "/data";
    f.web_listen_address = "127.0.0.1:0";
    f.grpc_listen_address = "127.0.0.1:0";
    f.config_file = config_path();
    f.alertmanager_queue_capacity = 123;
    server_ = std::make_unique<CairnServer>(f);
    absl::Status s = server_->Start();
    port_ = s.ok() ? server_->http_port() : 0;
    return s;
  }
  std::string config_path() const { return dir_ + "/prometheus.yml"; }
  void WriteConfig(const std::string& body) { std::ofstream(config_path()) << body; }
  static std::string AlertingConfig(const FakeAlertmanager& am, const std::string& dropped) {
    return absl::StrCat(R"(
global:
  external_labels: {cluster: c1}
scrape_configs: []
alerting:
  alertmanagers:
    - static_configs:
        - targets: [')",
                        am.target(), "', '", dropped, R"(']
      relabel_configs:
        - source_labels: [__address__]
          regex: 'drop\..*'
          action: drop
)");
  }

  std::string dir_;
  std::unique_ptr<CairnServer> server_;
  int port_ = 0;
};

TEST_F(AlertmanagersApiTest, ListsSendsCountsAndReloads) {
  FakeAlertmanager am, am2;
  WriteConfig(AlertingConfig(am, "drop.example:9093"));
  ASSERT_TRUE(StartServer().ok());
  const std::string url = absl::StrCat("http://", am.target(), "/api/v2/alerts");

  Reply r = Get(port_, "/api/v1/alertmanagers");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, absl::StrCat("{\"status\":\"success\",\"data\":{\"activeAlertmanagers\":"
                                 "[{\"url\":\"",
                                 url,
                                 "\"}],\"droppedAlertmanagers\":"
                                 "[{\"url\":\"http://drop.example:9093/api/v2/alerts\"}]}}"));

  std::string metrics = Get(port_, "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("prometheus_notifications_queue_capacity 123"));
  EXPECT_THAT(metrics, HasSubstr("prometheus_notifications_alertmanagers_discovered 1"));
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat("prometheus_notifications_sent_total{alertmanager=\"",
                                              url, "\"} 0")));
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat(
                           "prometheus_notifications_errors_total{alertmanager=\"", url, "\"} 0")));
  EXPECT_THAT(metrics, HasSubstr("prometheus_notifications_dropped_total 0"));
  EXPECT_THAT(metrics, HasSubstr("prometheus_notifications_queue_length 0"));

  ASSERT_NE(server_->alert_sender(), nullptr);
  notifier::Alert a;
  a.labels = Labels{{"alertname", "Up"}};
  server_->alert_sender()->Send({a});
  ASSERT_TRUE(am.WaitForRequests(1));
  std::vector<notifier::ReceivedAlert> got = am.alerts();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels["cluster"], "c1");  // the global external label
  // The counter follows once the notifier has finished with the batch.
  for (int i = 0; i < 1000; ++i) {
    metrics = Get(port_, "/metrics").body;
    if (metrics.find(absl::StrCat("sent_total{alertmanager=\"", url, "\"} 1")) !=
        std::string::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat("prometheus_notifications_sent_total{alertmanager=\"",
                                              url, "\"} 1")));

  // Reload onto another Alertmanager.
  WriteConfig(AlertingConfig(am2, "drop.other:9093"));
  ASSERT_TRUE(server_->ReloadConfig().ok());
  r = Get(port_, "/api/v1/alertmanagers");
  EXPECT_THAT(r.body, HasSubstr(am2.target()));
  EXPECT_THAT(r.body, Not(HasSubstr(am.target())));
  server_->alert_sender()->Send({a});
  ASSERT_TRUE(am2.WaitForRequests(1));
  EXPECT_EQ(am.requests().size(), 1u);
}

TEST_F(AlertmanagersApiTest, EmptyWithoutAlerting) {
  WriteConfig("scrape_configs: []\n");
  ASSERT_TRUE(StartServer().ok());
  EXPECT_EQ(Get(port_, "/api/v1/alertmanagers").body,
            "{\"status\":\"success\",\"data\":{\"activeAlertmanagers\":[],"
            "\"droppedAlertmanagers\":[]}}");
}

TEST_F(AlertmanagersApiTest, ApiV1RefusedAtStartup) {
  WriteConfig(
      "alerting:\n  alertmanagers:\n    - api_version: v1\n      static_configs:\n"
      "        - targets: ['127.0.0.1:9093']\n");
  absl::Status s = StartServer();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("api_version v1 is not supported"));
}

}  // namespace
}  // namespace cairn::server
