// CairnServer with scraping, in-process: /api/v1/targets in Prometheus' shape, the
// embedded self-scrape config, and config reload over POST /-/reload (a bad config
// is refused and the old one keeps running).
#include "server/api_targets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cairn_server.h"
#include "tests/server/test_http_client.h"
#include "tsdb/io/file_system.h"

namespace cairn::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using test_http::Reply;
using test_http::Request;

class TargetsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_targets_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // A fake exporter.
    HttpServer::Options opts;
    opts.listen_address = "127.0.0.1:0";
    exporter_ = std::make_unique<HttpServer>(opts);
    exporter_->Route("/metrics", [](const HttpRequest&, HttpResponse* resp) {
      resp->body = "# TYPE fake_metric gauge\nfake_metric{kind=\"x\"} 42\n";
    });
    ASSERT_TRUE(exporter_->Start().ok());
  }
  void TearDown() override {
    server_.reset();
    exporter_->Stop();
    io::FileSystem::Default()->RemoveAll(dir_).IgnoreError();
  }
  void StartServer(bool with_config, bool lifecycle = true) {
    ServerFlags f;
    f.storage_path = dir_ + "/data";
    f.web_listen_address = "127.0.0.1:0";
    f.grpc_listen_address = "127.0.0.1:0";
    f.enable_lifecycle = lifecycle;
    if (with_config) f.config_file = config_path();
    server_ = std::make_unique<CairnServer>(f);
    absl::Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s;
    port_ = server_->http_port();
  }
  std::string config_path() const { return dir_ + "/prometheus.yml"; }
  void WriteConfig(const std::string& body) { std::ofstream(config_path()) << body; }
  std::string ExporterConfig(const std::string& extra = "") {
    return absl::StrCat(R"(
global:
  scrape_interval: 100ms
scrape_configs:
  - job_name: fake
    static_configs:
      - targets: ['127.0.0.1:)",
                        exporter_->port(), R"(']
        labels: {env: test}
    relabel_configs:
      - source_labels: [__address__]
        regex: nothing-matches
        action: drop
)",
                        extra);
  }
  // Polls /api/v1/targets until `needle` appears (or ~10 s pass).
  std::string WaitForTargets(const std::string& needle) {
    std::string body;
    for (int i = 0; i < 200; ++i) {
      body = Request(port_, "GET", "/api/v1/targets").body;
      if (body.find(needle) != std::string::npos) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return body;
  }

  std::string dir_;
  std::unique_ptr<HttpServer> exporter_;
  std::unique_ptr<CairnServer> server_;
  int port_ = 0;
};

TEST_F(TargetsApiTest, EmbeddedConfigScrapesSelf) {
  StartServer(/*with_config=*/false);
  Reply r = Request(port_, "GET", "/api/v1/targets");
  ASSERT_EQ(r.status, 200);
  const std::string self = absl::StrCat("localhost:", port_);
  EXPECT_THAT(r.body, HasSubstr("{\"status\":\"success\",\"data\":{\"activeTargets\":[{"));
  EXPECT_THAT(r.body, HasSubstr(absl::StrCat("\"labels\":{\"instance\":\"", self,
                                             "\",\"job\":\"cairn\"}")));
  EXPECT_THAT(r.body, HasSubstr(absl::StrCat("\"scrapeUrl\":\"http://", self, "/metrics\"")));
  EXPECT_THAT(r.body, HasSubstr("\"scrapePool\":\"cairn\""));
  EXPECT_THAT(r.body, HasSubstr("\"scrapeInterval\":\"15s\",\"scrapeTimeout\":\"10s\""));
  EXPECT_THAT(r.body, HasSubstr("\"droppedTargets\":[]"));
}

TEST_F(TargetsApiTest, ActiveTargetShapeAndHealth) {
  WriteConfig(ExporterConfig());
  StartServer(/*with_config=*/true);
  std::string body = WaitForTargets("\"health\":\"up\"");
  const std::string addr = absl::StrCat("127.0.0.1:", exporter_->port());
  EXPECT_THAT(
      body, HasSubstr(absl::StrCat(
                "{\"discoveredLabels\":{\"__address__\":\"", addr,
                "\",\"__metrics_path__\":\"/metrics\",\"__scheme__\":\"http\","
                "\"__scrape_interval__\":\"100ms\",\"__scrape_timeout__\":\"100ms\","
                "\"env\":\"test\",\"job\":\"fake\"},"
                "\"labels\":{\"env\":\"test\",\"instance\":\"",
                addr, "\",\"job\":\"fake\"},\"scrapePool\":\"fake\",\"scrapeUrl\":\"http://", addr,
                "/metrics\",\"globalUrl\":\"http://")));
  EXPECT_THAT(body, HasSubstr("\"lastError\":\"\",\"lastScrape\":\""));
  EXPECT_THAT(
      body,
      HasSubstr("\"health\":\"up\",\"scrapeInterval\":\"100ms\",\"scrapeTimeout\":\"100ms\"}"));
  // The scraped series is in storage with the target's labels.
  Reply series = Request(port_, "GET", "/api/v1/series?match[]=fake_metric");
  EXPECT_THAT(series.body, HasSubstr(absl::StrCat(
                               "{\"__name__\":\"fake_metric\",\"env\":\"test\",\"instance\":\"",
                               addr, "\",\"job\":\"fake\",\"kind\":\"x\"}")));
  Reply up = Request(port_, "GET", "/api/v1/series?match[]=up");
  EXPECT_THAT(up.body, HasSubstr("\"job\":\"fake\""));

  Reply active = Request(port_, "GET", "/api/v1/targets?state=dropped");
  EXPECT_THAT(active.body, HasSubstr("\"activeTargets\":[]"));
}

TEST_F(TargetsApiTest, DownTargetReportsError) {
  WriteConfig(R"(
global:
  scrape_interval: 100ms
scrape_configs:
  - job_name: dead
    static_configs:
      - targets: ['127.0.0.1:1']
)");
  StartServer(/*with_config=*/true);
  std::string body = WaitForTargets("\"health\":\"down\"");
  EXPECT_THAT(body, HasSubstr("\"health\":\"down\""));
  EXPECT_THAT(body, HasSubstr("\"lastError\":\"Get \\\"http://127.0.0.1:1/metrics\\\": "));
}

TEST_F(TargetsApiTest, ReloadRefusesBadConfigAndAppliesGoodOne) {
  WriteConfig(ExporterConfig());
  StartServer(/*with_config=*/true);
  WaitForTargets("\"health\":\"up\"");

  WriteConfig("scrape_configs:\n  - job_name: x\n    scrape_intervall: 1s\n");
  Reply bad = Request(port_, "POST", "/-/reload");
  EXPECT_EQ(bad.status, 500);
  EXPECT_THAT(bad.body, HasSubstr("failed to reload config: "));
  EXPECT_THAT(bad.body, HasSubstr("prometheus.yml:3: field scrape_intervall not found"));
  // The old config keeps running.
  EXPECT_THAT(Request(port_, "GET", "/api/v1/targets").body, HasSubstr("\"scrapePool\":\"fake\""));
  EXPECT_THAT(Request(port_, "GET", "/metrics").body,
              HasSubstr("prometheus_config_last_reload_successful 0"));

  WriteConfig(ExporterConfig(R"(
  - job_name: second
    static_configs:
      - targets: ['127.0.0.1:1']
)"));
  Reply good = Request(port_, "POST", "/-/reload");
  EXPECT_EQ(good.status, 200) << good.body;
  std::string body = Request(port_, "GET", "/api/v1/targets").body;
  EXPECT_THAT(body, HasSubstr("\"scrapePool\":\"fake\""));
  EXPECT_THAT(body, HasSubstr("\"scrapePool\":\"second\""));
  EXPECT_THAT(Request(port_, "GET", "/metrics").body,
              HasSubstr("prometheus_config_last_reload_successful 1"));
  EXPECT_EQ(Request(port_, "GET", "/-/reload").status, 405);
}

TEST_F(TargetsApiTest, ReloadNeedsLifecycleFlag) {
  WriteConfig(ExporterConfig());
  StartServer(/*with_config=*/true, /*lifecycle=*/false);
  Reply r = Request(port_, "POST", "/-/reload");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("Lifecycle API is not enabled."));
  // Reload through the API the SIGHUP handler uses works regardless.
  EXPECT_TRUE(server_->ReloadConfig().ok());
}

TEST_F(TargetsApiTest, BadConfigFailsStartup) {
  WriteConfig("global:\n  scrape_interval: soon\n");
  ServerFlags f;
  f.storage_path = dir_ + "/data";
  f.web_listen_address = "127.0.0.1:0";
  f.grpc_listen_address = "127.0.0.1:0";
  f.config_file = config_path();
  CairnServer s(f);
  absl::Status st = s.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("prometheus.yml:2: field scrape_interval"));
}

TEST(FormatRfc3339NanoTest, GoRendering) {
  EXPECT_EQ(FormatRfc3339Nano(absl::InfinitePast()), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano(absl::FromUnixMillis(1484662064723)), "2017-01-17T14:07:44.723Z");
  EXPECT_EQ(FormatRfc3339Nano(absl::FromUnixSeconds(1484662064)), "2017-01-17T14:07:44Z");
}

}  // namespace
}  // namespace cairn::server
