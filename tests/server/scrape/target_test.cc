// Target label population and URLs, following Prometheus 2.42's
// scrape/target.go PopulateLabels and its tests.
#include "server/scrape/target.h"

#include "gtest/gtest.h"

namespace cairn::scrape {
namespace {

config::ScrapeConfig Cfg() {
  config::ScrapeConfig c;
  c.job_name = "job";
  c.scrape_interval = absl::Minutes(1);
  c.scrape_timeout = absl::Seconds(10);
  return c;
}

TEST(TargetTest, DefaultsAndInstance) {
  auto p = PopulateTargetLabels({{"__address__", "1.2.3.4:1000"}, {"custom", "value"}}, Cfg());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->dropped);
  EXPECT_EQ(p->labels, Labels({{"__address__", "1.2.3.4:1000"},
                               {"instance", "1.2.3.4:1000"},
                               {"__scheme__", "http"},
                               {"__metrics_path__", "/metrics"},
                               {"__scrape_interval__", "1m"},
                               {"__scrape_timeout__", "10s"},
                               {"job", "job"},
                               {"custom", "value"}}));
  EXPECT_EQ(p->discovered, Labels({{"__address__", "1.2.3.4:1000"},
                                   {"__scheme__", "http"},
                                   {"__metrics_path__", "/metrics"},
                                   {"__scrape_interval__", "1m"},
                                   {"__scrape_timeout__", "10s"},
                                   {"job", "job"},
                                   {"custom", "value"}}));
  Target t(p->labels, p->discovered, Cfg());
  EXPECT_EQ(t.url(), "http://1.2.3.4:1000/metrics");
  EXPECT_EQ(t.public_labels(),
            Labels({{"instance", "1.2.3.4:1000"}, {"job", "job"}, {"custom", "value"}}));
  EXPECT_EQ(t.interval(), absl::Minutes(1));
  EXPECT_EQ(t.timeout(), absl::Seconds(10));
}

TEST(TargetTest, DefaultPortFromScheme) {
  auto http = PopulateTargetLabels({{"__address__", "1.2.3.4"}}, Cfg());
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->labels.Get("__address__"), "1.2.3.4:80");
  EXPECT_EQ(http->labels.Get("instance"), "1.2.3.4:80");
  config::ScrapeConfig c = Cfg();
  c.scheme = "https";
  auto https = PopulateTargetLabels({{"__address__", "[::1]"}}, c);
  ASSERT_TRUE(https.ok());
  EXPECT_EQ(https->labels.Get("__address__"), "[::1]:443");
}

TEST(TargetTest, MetaLabelsRemovedInstanceKept) {
  auto p = PopulateTargetLabels({{"__address__", "a:1"}, {"__meta_x", "y"}, {"instance", "mine"}},
                                Cfg());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->labels.Has("__meta_x"));
  EXPECT_EQ(p->discovered.Get("__meta_x"), "y");
  EXPECT_EQ(p->labels.Get("instance"), "mine");
}

TEST(TargetTest, RelabelDropAndMissingAddress) {
  config::ScrapeConfig c = Cfg();
  config::RelabelConfig keep = config::DefaultRelabelConfig();
  keep.action = config::RelabelAction::kKeep;
  keep.source_labels = {"env"};
  keep.regex_text = "prod";
  ASSERT_TRUE(keep.CompileRegex().ok());
  c.relabel_configs = {keep};
  auto dropped = PopulateTargetLabels({{"__address__", "a:1"}, {"env", "dev"}}, c);
  ASSERT_TRUE(dropped.ok());
  EXPECT_TRUE(dropped->dropped);
  EXPECT_EQ(dropped->discovered.Get("env"), "dev");

  config::ScrapeConfig c2 = Cfg();
  config::RelabelConfig del = config::DefaultRelabelConfig();
  del.action = config::RelabelAction::kLabelDrop;
  del.regex_text = "__address__";
  ASSERT_TRUE(del.CompileRegex().ok());
  c2.relabel_configs = {del};
  auto bad = PopulateTargetLabels({{"__address__", "a:1"}}, c2);
  EXPECT_FALSE(bad.ok());
}

TEST(TargetTest, TimeoutOverIntervalFromLabelsRefused) {
  auto p = PopulateTargetLabels(
      {{"__address__", "a:1"}, {"__scrape_interval__", "5s"}, {"__scrape_timeout__", "6s"}}, Cfg());
  EXPECT_FALSE(p.ok());
}

TEST(TargetTest, UrlWithParamsAndOverride) {
  config::ScrapeConfig c = Cfg();
  c.metrics_path = "/probe";
  c.params = {{"module", {"http_2xx"}}, {"target", {"a b", "c"}}};
  auto p = PopulateTargetLabels({{"__address__", "bb:9115"}, {"__param_module", "icmp"}}, c);
  ASSERT_TRUE(p.ok());
  Target t(p->labels, p->discovered, c);
  EXPECT_EQ(t.url(), "http://bb:9115/probe?module=icmp&target=a+b&target=c");
}

TEST(TargetTest, HashDistinguishesTargets) {
  auto a = PopulateTargetLabels({{"__address__", "a:1"}}, Cfg());
  auto b = PopulateTargetLabels({{"__address__", "b:1"}}, Cfg());
  Target ta(a->labels, a->discovered, Cfg()), ta2(a->labels, a->discovered, Cfg()),
      tb(b->labels, b->discovered, Cfg());
  EXPECT_EQ(ta.hash(), ta2.hash());
  EXPECT_NE(ta.hash(), tb.hash());
}

TEST(TargetTest, HealthReport) {
  auto a = PopulateTargetLabels({{"__address__", "a:1"}}, Cfg());
  Target t(a->labels, a->discovered, Cfg());
  EXPECT_EQ(t.status().health, TargetHealth::kUnknown);
  t.Report(absl::FromUnixSeconds(5), absl::Milliseconds(3), absl::UnavailableError("boom"));
  EXPECT_EQ(t.status().health, TargetHealth::kDown);
  EXPECT_EQ(t.status().last_error, "boom");
  t.Report(absl::FromUnixSeconds(6), absl::Milliseconds(3), absl::OkStatus());
  EXPECT_EQ(t.status().health, TargetHealth::kUp);
  EXPECT_EQ(t.status().last_error, "");
}

}  // namespace
}  // namespace cairn::scrape
