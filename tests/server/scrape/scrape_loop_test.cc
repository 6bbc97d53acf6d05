// ScrapeLoop semantics, driven one scrape at a time with a fake page and a fake
// storage. Expectations follow Prometheus 2.42 (scrape/scrape.go, docs on
// honor_labels, staleness and the report series).
#include "server/scrape/scrape_loop.h"

#include <bit>
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/scrape/fake_storage.h"
#include "tsdb/model/sample.h"

namespace cairn::scrape {
namespace {

using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

class ScrapeLoopTest : public ::testing::Test {
 protected:
  void Make(config::ScrapeConfig cfg = {}) {
    if (cfg.job_name.empty()) cfg.job_name = "j";
    cfg.scrape_interval = absl::Seconds(10);
    cfg.scrape_timeout = absl::Seconds(5);
    cfg_ = std::make_shared<const config::ScrapeConfig>(cfg);
    auto populated = PopulateTargetLabels({{"__address__", "h:1"}}, *cfg_);
    ASSERT_TRUE(populated.ok());
    target_ = std::make_shared<Target>(populated->labels, populated->discovered, *cfg_);
    loop_ = std::make_unique<ScrapeLoop>(&storage_, target_, cfg_,
                                         std::make_unique<FakeFetcher>(state_));
  }
  void SetPage(std::string page) {
    absl::MutexLock lock(&state_->mu);
    state_->page = std::move(page);
    state_->error = absl::OkStatus();
  }
  void SetError(absl::Status st) {
    absl::MutexLock lock(&state_->mu);
    state_->error = std::move(st);
  }
  // The value of report series `name` at `t`.
  double Report(std::string_view name, absl::Time t) {
    Labels l{{"__name__", name}, {"job", "j"}, {"instance", "h:1"}};
    for (const Recorded& r : storage_.Of(l)) {
      if (r.t == absl::ToUnixMillis(t)) return r.v;
    }
    ADD_FAILURE() << "no " << name << " at " << t;
    return -1;
  }

  FakeStorage storage_;
  std::shared_ptr<FakeFetcher::State> state_ = std::make_shared<FakeFetcher::State>();
  std::shared_ptr<const config::ScrapeConfig> cfg_;
  std::shared_ptr<Target> target_;
  std::unique_ptr<ScrapeLoop> loop_;
};

TEST_F(ScrapeLoopTest, SamplesGetTargetLabelsAndScrapeTime) {
  Make();
  SetPage("# TYPE a gauge\na{x=\"1\"} 1.5\nb 2 1234\n");
  ScrapeStats st = loop_->ScrapeOnce(kT0);
  ASSERT_TRUE(st.error.ok()) << st.error;
  auto a = storage_.Of({{"__name__", "a"}, {"x", "1"}, {"job", "j"}, {"instance", "h:1"}});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].t, absl::ToUnixMillis(kT0));
  EXPECT_EQ(a[0].v, 1.5);
  // honor_timestamps defaults to true: the exposed timestamp is kept.
  auto b = storage_.Of({{"__name__", "b"}, {"job", "j"}, {"instance", "h:1"}});
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].t, 1234);
  EXPECT_EQ(Report("up", kT0), 1);
  EXPECT_EQ(Report("scrape_samples_scraped", kT0), 2);
  EXPECT_EQ(Report("scrape_samples_post_metric_relabeling", kT0), 2);
  EXPECT_EQ(Report("scrape_series_added", kT0), 2);
  EXPECT_GE(Report("scrape_duration_seconds", kT0), 0);
  EXPECT_EQ(target_->status().health, TargetHealth::kUp);
  EXPECT_EQ(target_->status().last_scrape, kT0);

  // The same page again adds no series.
  loop_->ScrapeOnce(kT0 + absl::Seconds(10));
  EXPECT_EQ(Report("scrape_series_added", kT0 + absl::Seconds(10)), 0);
}

TEST_F(ScrapeLoopTest, HonorTimestampsFalseUsesScrapeTime) {
  config::ScrapeConfig cfg;
  cfg.honor_timestamps = false;
  Make(cfg);
  SetPage("b 2 1234\n");
  loop_->ScrapeOnce(kT0);
  auto b = storage_.Named("b");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].t, absl::ToUnixMillis(kT0));
}

TEST_F(ScrapeLoopTest, VanishedSeriesGetStaleMarker) {
  Make();
  SetPage("a 1\nb 2\nc 3 1000\n");
  loop_->ScrapeOnce(kT0);
  SetPage("a 1\n");
  const absl::Time t1 = kT0 + absl::Seconds(10);
  ScrapeStats st = loop_->ScrapeOnce(t1);
  ASSERT_TRUE(st.error.ok());
  auto b = storage_.Named("b");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].t, absl::ToUnixMillis(t1));
  EXPECT_EQ(std::bit_cast<uint64_t>(b[1].v), kStaleNaNBits);
  // A series with its own timestamp is left to its exposer.
  EXPECT_EQ(storage_.Named("c").size(), 1u);
  EXPECT_EQ(storage_.Named("a").size(), 2u);
  EXPECT_FALSE(IsStaleNaN(storage_.Named("a")[1].v));
  // Coming back: a normal sample again, no further marker.
  SetPage("a 1\nb 5\n");
  loop_->ScrapeOnce(t1 + absl::Seconds(10));
  b = storage_.Named("b");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[2].v, 5);
  EXPECT_EQ(Report("scrape_series_added", t1 + absl::Seconds(10)), 0);  // still cached
}

TEST_F(ScrapeLoopTest, FailedScrapeMarksEverythingStaleAndUpZero) {
  Make();
  SetPage("a 1\nb 2\n");
  loop_->ScrapeOnce(kT0);
  SetError(absl::UnavailableError("Get \"http://h:1/metrics\": connection refused"));
  const absl::Time t1 = kT0 + absl::Seconds(10);
  ScrapeStats st = loop_->ScrapeOnce(t1);
  EXPECT_FALSE(st.error.ok());
  EXPECT_EQ(Report("up", t1), 0);
  EXPECT_EQ(Report("scrape_samples_scraped", t1), 0);
  for (std::string_view name : {"a", "b"}) {
    auto s = storage_.Named(name);
    ASSERT_EQ(s.size(), 2u) << name;
    EXPECT_TRUE(IsStaleNaN(s[1].v)) << name;
    EXPECT_EQ(s[1].t, absl::ToUnixMillis(t1));
  }
  Target::Status ts = target_->status();
  EXPECT_EQ(ts.health, TargetHealth::kDown);
  EXPECT_THAT(ts.last_error, HasSubstr("connection refused"));
  // A second failure writes no second marker.
  loop_->ScrapeOnce(t1 + absl::Seconds(10));
  EXPECT_EQ(storage_.Named("a").size(), 2u);
}

TEST_F(ScrapeLoopTest, ParseErrorFailsScrapeAndIngestsNothing) {
  Make();
  SetPage("a 1\nb{ 2\n");
  ScrapeStats st = loop_->ScrapeOnce(kT0);
  EXPECT_FALSE(st.error.ok());
  EXPECT_THAT(std::string(st.error.message()), HasSubstr("line 2"));
  EXPECT_TRUE(storage_.Named("a").empty());
  EXPECT_EQ(Report("up", kT0), 0);
}

TEST_F(ScrapeLoopTest, MalformedLabelSetFailsScrapeWhateverTheCache) {
  Make();
  SetPage("a{x=\"1\"} 1\n");
  ASSERT_TRUE(loop_->ScrapeOnce(kT0).error.ok());
  // Labels of cached series are not re-parsed; a new, malformed label set still
  // fails the scrape.
  SetPage("a{x=\"1\"} 1\nb{x=1} 2\n");
  ScrapeStats st = loop_->ScrapeOnce(kT0 + absl::Seconds(10));
  EXPECT_EQ(st.error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.error.message()), HasSubstr("line 2"));
  EXPECT_TRUE(storage_.Named("b").empty());
  EXPECT_EQ(Report("up", kT0 + absl::Seconds(10)), 0);
}

TEST_F(ScrapeLoopTest, OpenMetricsByContentType) {
  Make();
  {
    absl::MutexLock lock(&state_->mu);
    state_->content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    state_->page = "a_total 1 1700000001.5\n# EOF\n";
  }
  ScrapeStats st = loop_->ScrapeOnce(kT0);
  ASSERT_TRUE(st.error.ok()) << st.error;
  auto a = storage_.Named("a_total");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].t, 1700000001500);
  // The same body as the text format has no '# EOF' problem but OpenMetrics needs it.
  {
    absl::MutexLock lock(&state_->mu);
    state_->page = "a_total 1\n";
  }
  EXPECT_FALSE(loop_->ScrapeOnce(kT0 + absl::Seconds(10)).error.ok());
}

TEST_F(ScrapeLoopTest, ExposedLabelClashesRenamed) {
  Make();
  SetPage("a{job=\"other\",instance=\"x\",exported_instance=\"y\"} 1\n");
  loop_->ScrapeOnce(kT0);
  auto a = storage_.Named("a");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].labels, Labels({{"__name__", "a"},
                                 {"job", "j"},
                                 {"instance", "h:1"},
                                 {"exported_job", "other"},
                                 {"exported_instance", "y"},
                                 {"exported_exported_instance", "x"}}));
}

TEST_F(ScrapeLoopTest, HonorLabelsKeepsExposed) {
  config::ScrapeConfig cfg;
  cfg.honor_labels = true;
  Make(cfg);
  SetPage("a{job=\"other\"} 1\n");
  loop_->ScrapeOnce(kT0);
  auto a = storage_.Named("a");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].labels, Labels({{"__name__", "a"}, {"job", "other"}, {"instance", "h:1"}}));
}

TEST_F(ScrapeLoopTest, MetricRelabelDropsAndRewrites) {
  config::ScrapeConfig cfg;
  config::RelabelConfig drop = config::DefaultRelabelConfig();
  drop.action = config::RelabelAction::kDrop;
  drop.source_labels = {"__name__"};
  drop.regex_text = "go_.*";
  ASSERT_TRUE(drop.CompileRegex().ok());
  config::RelabelConfig rename = config::DefaultRelabelConfig();
  rename.source_labels = {"__name__"};
  rename.regex_text = "node_(.*)";
  rename.target_label = "__name__";
  rename.replacement = "host_$1";
  ASSERT_TRUE(rename.CompileRegex().ok());
  cfg.metric_relabel_configs = {drop, rename};
  Make(cfg);
  SetPage("go_goroutines 5\ngo_threads 3\nnode_load1 0.5\n");
  loop_->ScrapeOnce(kT0);
  EXPECT_TRUE(storage_.Named("go_goroutines").empty());
  EXPECT_EQ(storage_.Named("host_load1").size(), 1u);
  EXPECT_EQ(Report("scrape_samples_scraped", kT0), 3);
  EXPECT_EQ(Report("scrape_samples_post_metric_relabeling", kT0), 1);
  EXPECT_EQ(Report("scrape_series_added", kT0), 1);
}

TEST_F(ScrapeLoopTest, SampleLimitFailsWholeScrape) {
  config::ScrapeConfig cfg;
  cfg.sample_limit = 2;
  Make(cfg);
  SetPage("a 1\nb 1\n");
  ASSERT_TRUE(loop_->ScrapeOnce(kT0).error.ok());
  SetPage("a 1\nb 1\nc 1\n");
  const absl::Time t1 = kT0 + absl::Seconds(10);
  ScrapeStats st = loop_->ScrapeOnce(t1);
  EXPECT_EQ(st.error.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(st.error.message()), HasSubstr("sample limit exceeded"));
  EXPECT_TRUE(storage_.Named("c").empty());
  EXPECT_EQ(Report("up", t1), 0);
  EXPECT_TRUE(IsStaleNaN(storage_.Named("a").back().v));
}

TEST_F(ScrapeLoopTest, LabelLimit) {
  config::ScrapeConfig cfg;
  cfg.label_limit = 4;  // __name__, job, instance + 1
  Make(cfg);
  SetPage("a{x=\"1\"} 1\n");
  EXPECT_TRUE(loop_->ScrapeOnce(kT0).error.ok());
  SetPage("a{x=\"1\",y=\"2\"} 1\n");
  ScrapeStats st = loop_->ScrapeOnce(kT0 + absl::Seconds(10));
  EXPECT_THAT(std::string(st.error.message()), HasSubstr("label_limit exceeded"));
}

TEST_F(ScrapeLoopTest, StopWithStaleMarksSeriesAndReport) {
  Make();
  SetPage("a 1\n");
  loop_->ScrapeOnce(kT0);
  loop_->MarkAllStale(kT0 + absl::Seconds(1));
  EXPECT_TRUE(IsStaleNaN(storage_.Named("a").back().v));
  for (std::string_view name : {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                                "scrape_samples_post_metric_relabeling", "scrape_series_added"}) {
    auto s = storage_.Named(name);
    ASSERT_EQ(s.size(), 2u) << name;
    EXPECT_TRUE(IsStaleNaN(s[1].v)) << name;
  }
}

TEST_F(ScrapeLoopTest, InitialDelayWithinInterval) {
  Make();
  for (int i = 0; i < 50; ++i) {
    absl::Duration d = loop_->InitialDelay(kT0 + absl::Milliseconds(137 * i), i);
    EXPECT_GE(d, absl::ZeroDuration());
    EXPECT_LE(d, absl::Seconds(10));
  }
  // Same target, same seed: the same phase whatever the start time.
  absl::Time a = kT0 + loop_->InitialDelay(kT0, 7);
  absl::Time b = kT0 + absl::Seconds(3) + loop_->InitialDelay(kT0 + absl::Seconds(3), 7);
  EXPECT_EQ(absl::ToInt64Nanoseconds(a - kT0) % 10'000'000'000,
            absl::ToInt64Nanoseconds(b - kT0) % 10'000'000'000);
}

TEST_F(ScrapeLoopTest, RunningLoopScrapesAndStops) {
  config::ScrapeConfig cfg;
  Make(cfg);
  // Use a short interval through the target labels.
  auto populated = PopulateTargetLabels(
      {{"__address__", "h:1"}, {"__scrape_interval__", "50ms"}, {"__scrape_timeout__", "40ms"}},
      *cfg_);
  ASSERT_TRUE(populated.ok()) << populated.status();
  target_ = std::make_shared<Target>(populated->labels, populated->discovered, *cfg_);
  loop_ =
      std::make_unique<ScrapeLoop>(&storage_, target_, cfg_, std::make_unique<FakeFetcher>(state_));
  SetPage("a 1\n");
  ScrapeScheduler scheduler;
  loop_->Start(&scheduler);
  for (int i = 0; i < 200 && loop_->scrapes() < 3; ++i) absl::SleepFor(absl::Milliseconds(20));
  loop_->Stop(/*mark_stale=*/true);
  EXPECT_GE(loop_->scrapes(), 3u);
  auto a = storage_.Named("a");
  ASSERT_GE(a.size(), 4u);
  EXPECT_TRUE(IsStaleNaN(a.back().v));
  for (size_t i = 1; i < a.size(); ++i) EXPECT_GT(a[i].t, a[i - 1].t);
}

}  // namespace
}  // namespace cairn::scrape
