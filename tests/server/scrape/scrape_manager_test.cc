// ScrapeManager: applying and re-applying configs, file SD, dropped targets.
// Loops are created unstarted and driven by hand so the tests are deterministic.
#include "server/scrape/scrape_manager.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/scrape/fake_storage.h"
#include "tsdb/model/sample.h"

namespace cairn::scrape {
namespace {

class ScrapeManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn_scrape_manager_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    ScrapeManager::Options opts;
    opts.start_loops = false;
    opts.fetcher_factory = [this](const Target&, const config::ScrapeConfig&) {
      return std::make_unique<FakeFetcher>(state_);
    };
    {
      absl::MutexLock lock(&state_->mu);
      state_->page = "m 1\n";
    }
    manager_ = std::make_unique<ScrapeManager>(&storage_, opts);
  }
  void TearDown() override {
    manager_.reset();
    std::filesystem::remove_all(dir_);
  }
  config::Config Parse(const std::string& yaml) {
    std::string path = (dir_ / "prometheus.yml").string();
    std::ofstream(path) << yaml;
    auto cfg = config::LoadConfigFile(path);
    EXPECT_TRUE(cfg.ok()) << cfg.status();
    return *cfg;
  }
  std::vector<std::string> Urls() {
    std::vector<std::string> out;
    for (const auto& t : manager_->ActiveTargets()) out.push_back(t.pool + " " + t.target->url());
    return out;
  }
  void ScrapeAll(const std::string& pool, absl::Time t) {
    for (ScrapeLoop* l : manager_->LoopsForTesting(pool)) l->ScrapeOnce(t);
  }
  bool StaleUp(std::string_view instance) {
    for (const Recorded& r : storage_.Named("up")) {
      if (r.labels.Get("instance") == instance && IsStaleNaN(r.v)) return true;
    }
    return false;
  }

  std::filesystem::path dir_;
  FakeStorage storage_;
  std::shared_ptr<FakeFetcher::State> state_ = std::make_shared<FakeFetcher::State>();
  std::unique_ptr<ScrapeManager> manager_;
};

const char* kTwoJobs = R"(
scrape_configs:
  - job_name: a
    static_configs:
      - targets: ['h1:1', 'h2:1']
  - job_name: b
    metrics_path: /m
    static_configs:
      - targets: ['h3:1']
)";

TEST_F(ScrapeManagerTest, ApplyCreatesOneLoopPerTarget) {
  manager_->ApplyConfig(Parse(kTwoJobs));
  EXPECT_THAT(Urls(), ::testing::ElementsAre("a http://h1:1/metrics", "a http://h2:1/metrics",
                                             "b http://h3:1/m"));
  EXPECT_TRUE(manager_->DroppedTargets().empty());
}

TEST_F(ScrapeManagerTest, ReapplyUnchangedKeepsLoops) {
  manager_->ApplyConfig(Parse(kTwoJobs));
  auto before = manager_->LoopsForTesting("a");
  ScrapeAll("a", absl::FromUnixSeconds(100));
  manager_->ApplyConfig(Parse(kTwoJobs));
  EXPECT_EQ(manager_->LoopsForTesting("a"), before);
  EXPECT_FALSE(StaleUp("h1:1"));
}

TEST_F(ScrapeManagerTest, RemovedTargetAndJobGoStale) {
  manager_->ApplyConfig(Parse(kTwoJobs));
  ScrapeAll("a", absl::FromUnixSeconds(100));
  ScrapeAll("b", absl::FromUnixSeconds(100));
  auto h1_loop = manager_->LoopsForTesting("a");
  manager_->ApplyConfig(Parse(R"(
scrape_configs:
  - job_name: a
    static_configs:
      - targets: ['h1:1']
)"));
  EXPECT_THAT(Urls(), ::testing::ElementsAre("a http://h1:1/metrics"));
  EXPECT_FALSE(StaleUp("h1:1"));
  EXPECT_TRUE(StaleUp("h2:1"));
  EXPECT_TRUE(StaleUp("h3:1"));
  // The remaining target kept its loop.
  auto now = manager_->LoopsForTesting("a");
  ASSERT_EQ(now.size(), 1u);
  EXPECT_TRUE(now[0] == h1_loop[0] || now[0] == h1_loop[1]);
  // Its scraped series went stale too for the removed targets.
  int stale_m = 0;
  for (const Recorded& r : storage_.Named("m")) stale_m += IsStaleNaN(r.v) ? 1 : 0;
  EXPECT_EQ(stale_m, 2);  // h2 and h3
}

TEST_F(ScrapeManagerTest, ChangedJobConfigRestartsLoopsWithoutStaleness) {
  manager_->ApplyConfig(Parse(kTwoJobs));
  ScrapeAll("b", absl::FromUnixSeconds(100));
  auto before = manager_->LoopsForTesting("b");
  manager_->ApplyConfig(Parse(R"(
scrape_configs:
  - job_name: a
    static_configs:
      - targets: ['h1:1', 'h2:1']
  - job_name: b
    metrics_path: /other
    static_configs:
      - targets: ['h3:1']
)"));
  ASSERT_EQ(before.size(), 1u);
  auto after = manager_->LoopsForTesting("b");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0]->scrapes(), 0u);  // a new loop (the old one had scraped once)
  EXPECT_THAT(Urls(), ::testing::Contains("b http://h3:1/other"));
  EXPECT_FALSE(StaleUp("h3:1"));
}

TEST_F(ScrapeManagerTest, RelabelDroppedTargetsListed) {
  manager_->ApplyConfig(Parse(R"(
scrape_configs:
  - job_name: a
    static_configs:
      - targets: ['keep:1', 'drop:1']
    relabel_configs:
      - source_labels: [__address__]
        regex: drop:.*
        action: drop
)"));
  EXPECT_THAT(Urls(), ::testing::ElementsAre("a http://keep:1/metrics"));
  auto dropped = manager_->DroppedTargets();
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].pool, "a");
  EXPECT_EQ(dropped[0].discovered_labels.Get("__address__"), "drop:1");
  EXPECT_EQ(dropped[0].discovered_labels.Get("job"), "a");
}

TEST_F(ScrapeManagerTest, FileSdRelativeToConfigAndRefreshed) {
  std::ofstream(dir_ / "t.json") << R"([{"targets": ["f1:1"], "labels": {"env": "x"}}])";
  manager_->ApplyConfig(Parse(R"(
scrape_configs:
  - job_name: f
    file_sd_configs:
      - files: ['*.json']
)"));
  auto targets = manager_->ActiveTargets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].target->url(), "http://f1:1/metrics");
  EXPECT_EQ(targets[0].target->public_labels().Get("env"), "x");
  EXPECT_EQ(targets[0].target->discovered_labels().Get("__meta_filepath"),
            (dir_ / "t.json").string());

  std::ofstream(dir_ / "t.json") << R"([{"targets": ["f1:1", "f2:1"], "labels": {"env": "x"}}])";
  manager_->RefreshFileSd();
  EXPECT_EQ(manager_->ActiveTargets().size(), 2u);

  std::ofstream(dir_ / "t.json") << "not json [";
  manager_->RefreshFileSd();
  EXPECT_EQ(manager_->sd_errors().size(), 1u);
  // A broken file keeps its last good targets.
  EXPECT_EQ(manager_->ActiveTargets().size(), 2u);
  std::filesystem::remove(dir_ / "t.json");
  manager_->RefreshFileSd();
  EXPECT_EQ(manager_->ActiveTargets().size(), 0u);
}

// With the scheduler running (the tests above drive loops by hand): a reload that
// keeps a target keeps its loop scraping; a target removed while running gets its
// stale markers; Stop() ends every loop.
TEST(ScrapeManagerRunningTest, ReloadKeepsUnchangedTargetsScraping) {
  FakeStorage storage;
  auto state = std::make_shared<FakeFetcher::State>();
  {
    absl::MutexLock lock(&state->mu);
    state->page = "m 1\n";
  }
  ScrapeManager::Options opts;
  opts.fetcher_factory = [state](const Target&, const config::ScrapeConfig&) {
    return std::make_unique<FakeFetcher>(state);
  };
  ScrapeManager manager(&storage, opts);
  // Job a scraping `targets` every 50 ms.
  auto config_with = [](const std::string& targets) {
    return config::ParseConfig(std::string(R"(
global:
  scrape_interval: 50ms
  scrape_timeout: 50ms
scrape_configs:
  - job_name: a
    static_configs:
      - targets: [)") + targets + "]\n",
                               "test.yml");
  };
  auto cfg = config_with("'h1:1', 'h2:1'");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  manager.ApplyConfig(*cfg);
  auto loops = manager.LoopsForTesting("a");
  ASSERT_EQ(loops.size(), 2u);
  auto scraped = [&](size_t n) {
    for (int i = 0; i < 3000; ++i) {
      bool all = true;
      for (ScrapeLoop* l : manager.LoopsForTesting("a")) all = all && l->scrapes() >= n;
      if (all) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(scraped(2));
  manager.ApplyConfig(*cfg);
  EXPECT_EQ(manager.LoopsForTesting("a"), loops);
  ASSERT_TRUE(scraped(4));  // the same loops, still scheduled

  auto one = config_with("'h1:1'");
  ASSERT_TRUE(one.ok()) << one.status();
  manager.ApplyConfig(*one);
  ASSERT_EQ(manager.LoopsForTesting("a").size(), 1u);
  bool h1_stale = false, h2_stale = false;
  for (const Recorded& r : storage.Named("up")) {
    if (!IsStaleNaN(r.v)) continue;
    h1_stale |= r.labels.Get("instance") == "h1:1";
    h2_stale |= r.labels.Get("instance") == "h2:1";
  }
  EXPECT_FALSE(h1_stale);
  EXPECT_TRUE(h2_stale);
  ASSERT_TRUE(scraped(6));
  manager.Stop();
  EXPECT_TRUE(manager.LoopsForTesting("a").empty());
}

}  // namespace
}  // namespace cairn::scrape
