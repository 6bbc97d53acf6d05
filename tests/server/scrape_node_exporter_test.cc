// Integration: Debian's prometheus-node-exporter on a loopback port, scraped by a
// ScrapeManager writing into a real DB. While it runs, node_* series exist with job
// and instance labels and up is 1; once it is stopped, up is 0 and its series end
// with stale markers. Skipped when the exporter binary is not installed
// (tools/setup installs it).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/scrape/http_fetcher.h"
#include "server/scrape/scrape_manager.h"
#include "tests/server/test_http_client.h"
#include "tsdb/db.h"
#include "tsdb/model/sample.h"

namespace cairn::scrape {
namespace {

std::string ExporterBinary() {
  const char* env = std::getenv("CAIRN_NODE_EXPORTER");
  if (env != nullptr && env[0] != '\0') return env;
  return "/usr/bin/prometheus-node-exporter";
}

using server::test_http::FreePort;

struct Point {
  int64_t t;
  double v;
};

class NodeExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(ExporterBinary().c_str(), X_OK) != 0) {
      GTEST_SKIP() << ExporterBinary()
                   << " not found: apt-get install prometheus-node-exporter (tools/setup does)";
    }
    char tmpl[] = "/tmp/cairn_node_exporter_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    port_ = FreePort();
    address_ = absl::StrCat("127.0.0.1:", port_);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // Its collectors log errors in containers (no systemd, no udev): keep them out of
      // the test output.
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, 2);
      std::string listen = absl::StrCat("--web.listen-address=", address_);
      // Quiet logs; the textfile directory would otherwise point at /var/lib.
      std::string textfile = absl::StrCat("--collector.textfile.directory=", dir_);
      execl(ExporterBinary().c_str(), ExporterBinary().c_str(), listen.c_str(), textfile.c_str(),
            "--log.level=error", static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait for it to answer.
    config::ScrapeConfig probe_cfg;
    HttpFetcher probe(absl::StrCat("http://", address_, "/metrics"), absl::Seconds(2), probe_cfg);
    std::string body, ctype;
    bool ready = false;
    for (int i = 0; i < 100 && !ready; ++i) {
      ready = probe.Fetch(&body, &ctype).ok();
      if (!ready) absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_TRUE(ready) << "node exporter did not come up on " << address_;

    DbOptions opts;
    opts.background = false;
    auto db = DB::Open(dir_ + "/data", opts);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    manager_ = std::make_unique<ScrapeManager>(db_.get());
  }

  void TearDown() override {
    if (manager_ != nullptr) manager_->Stop();
    StopExporter();
    if (db_ != nullptr) db_->Close().IgnoreError();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void StopExporter() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  // Every series matching name=~regex, with its samples.
  std::vector<std::pair<Labels, std::vector<Point>>> Query(std::string_view name_regex) {
    std::vector<std::pair<Labels, std::vector<Point>>> out;
    auto q = db_->NewQuerier(kMinTimeMs + 1, kMaxTimeMs - 1);
    EXPECT_TRUE(q.ok()) << q.status();
    if (!q.ok()) return out;
    auto m = Matcher::Create(MatchType::kRegexMatch, "__name__", name_regex);
    EXPECT_TRUE(m.ok());
    auto set = (*q)->Select(kMinTimeMs + 1, kMaxTimeMs - 1, {*m});
    while (set->Next()) {
      std::vector<Point> points;
      auto it = set->At().Iterator();
      while (it->Next()) points.push_back({it->t(), it->v()});
      out.emplace_back(set->At().labels(), std::move(points));
    }
    EXPECT_TRUE(set->status().ok()) << set->status();
    return out;
  }

  Target::Status TargetStatus() {
    auto targets = manager_->ActiveTargets();
    if (targets.empty()) return {};
    return targets[0].target->status();
  }

  std::string dir_;
  int port_ = 0;
  std::string address_;
  pid_t pid_ = -1;
  std::unique_ptr<DB> db_;
  std::unique_ptr<ScrapeManager> manager_;
};

TEST_F(NodeExporterTest, ScrapesThenGoesStaleWhenStopped) {
  auto cfg = config::ParseConfig(absl::StrCat(R"(
global:
  scrape_interval: 500ms
scrape_configs:
  - job_name: node
    static_configs:
      - targets: [')",
                                              address_, "']\n"),
                                 "test.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  manager_->ApplyConfig(*cfg);

  // Two good scrapes.
  ScrapeLoop* loop = manager_->LoopsForTesting("node").at(0);
  for (int i = 0; i < 200 && loop->scrapes() < 2; ++i) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_GE(loop->scrapes(), 2u);
  Target::Status st = TargetStatus();
  EXPECT_EQ(st.health, TargetHealth::kUp) << st.last_error;

  auto up = Query("up");
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].first, Labels({{"__name__", "up"}, {"instance", address_}, {"job", "node"}}));
  ASSERT_FALSE(up[0].second.empty());
  EXPECT_EQ(up[0].second.back().v, 1);

  auto node = Query("node_.*");
  EXPECT_GT(node.size(), 50u);  // a node exporter exposes hundreds of node_* series
  for (const auto& [labels, points] : node) {
    EXPECT_EQ(labels.Get("job"), "node") << labels.ToString();
    EXPECT_EQ(labels.Get("instance"), address_) << labels.ToString();
    EXPECT_FALSE(points.empty());
  }
  bool has_load = false;
  for (const auto& [labels, points] : node) has_load |= labels.MetricName() == "node_load1";
  EXPECT_TRUE(has_load);

  auto samples_scraped = Query("scrape_samples_scraped");
  ASSERT_EQ(samples_scraped.size(), 1u);
  EXPECT_GT(samples_scraped[0].second.back().v, 100);

  // Stop the exporter: the next scrape fails.
  StopExporter();
  for (int i = 0; i < 200 && TargetStatus().health != TargetHealth::kDown; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  st = TargetStatus();
  EXPECT_EQ(st.health, TargetHealth::kDown);
  EXPECT_NE(st.last_error.find("Get \"http://" + address_ + "/metrics\""), std::string::npos)
      << st.last_error;

  up = Query("up");
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].second.back().v, 0);
  node = Query("node_.*");
  ASSERT_FALSE(node.empty());
  size_t stale = 0;
  for (const auto& [labels, points] : node) {
    if (!points.empty() && IsStaleNaN(points.back().v)) ++stale;
  }
  EXPECT_EQ(stale, node.size()) << "every node_* series ends with a stale marker";
}

}  // namespace
}  // namespace cairn::scrape
