// Resolving `alerting.alertmanagers` into Alertmanager URLs, as Prometheus 2.42 does.
#include "server/notifier/alertmanager_set.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cairn::notifier {
namespace {

using ::testing::HasSubstr;

config::Config Parse(const std::string& yaml) {
  auto cfg = config::ParseConfig(yaml, "p.yml");
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  return cfg.ok() ? *cfg : config::Config();
}

std::vector<std::string> Urls(const std::vector<AlertmanagerTarget>& targets) {
  std::vector<std::string> out;
  for (const auto& t : targets) out.push_back(t.url);
  return out;
}

TEST(AlertsPathTest, JoinsLikeGoPathJoin) {
  EXPECT_EQ(AlertsPath("/"), "/api/v2/alerts");
  EXPECT_EQ(AlertsPath(""), "/api/v2/alerts");
  EXPECT_EQ(AlertsPath("/am"), "/am/api/v2/alerts");
  EXPECT_EQ(AlertsPath("am/"), "/am/api/v2/alerts");
  EXPECT_EQ(AlertsPath("//a//b/"), "/a/b/api/v2/alerts");
  EXPECT_EQ(AlertsPath("/a/../b/./"), "/b/api/v2/alerts");
}

TEST(ResolveAlertmanagersTest, UrlsTimeoutsAndLabels) {
  config::Config cfg = Parse(R"(
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['am1:9093', 'am2:9093']
          labels: {dc: eu}
    - scheme: https
      path_prefix: /alertmanager/
      timeout: 3s
      static_configs:
        - targets: ['am3:443']
)");
  AlertmanagerSet set = ResolveAlertmanagers(cfg.alerting);
  EXPECT_THAT(
      Urls(set.active),
      ::testing::ElementsAre("http://am1:9093/api/v2/alerts", "http://am2:9093/api/v2/alerts",
                             "https://am3:443/alertmanager/api/v2/alerts"));
  EXPECT_TRUE(set.dropped.empty());
  EXPECT_TRUE(set.errors.empty());
  EXPECT_EQ(set.active[0].timeout, absl::Seconds(10));
  EXPECT_EQ(set.active[2].timeout, absl::Seconds(3));
  EXPECT_EQ(set.active[0].labels.Get("dc"), "eu");
  EXPECT_EQ(set.active[0].labels.Get("__alerts_path__"), "/api/v2/alerts");
  EXPECT_EQ(set.active[2].labels.Get("__scheme__"), "https");
}

TEST(ResolveAlertmanagersTest, RelabelDropsRewritesAndDedupes) {
  config::Config cfg = Parse(R"(
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['keep:9093', 'skip:9093', 'old:9093']
      relabel_configs:
        - source_labels: [__address__]
          regex: 'skip:.*'
          action: drop
        - source_labels: [__address__]
          regex: 'old:(.*)'
          target_label: __address__
          replacement: 'keep:$1'
)");
  AlertmanagerSet set = ResolveAlertmanagers(cfg.alerting);
  // old:9093 became keep:9093, a duplicate of the first: one Alertmanager.
  EXPECT_THAT(Urls(set.active), ::testing::ElementsAre("http://keep:9093/api/v2/alerts"));
  EXPECT_THAT(Urls(set.dropped), ::testing::ElementsAre("http://skip:9093/api/v2/alerts"));
  EXPECT_EQ(set.dropped[0].labels.Get("__address__"), "skip:9093");
}

TEST(ResolveAlertmanagersTest, InvalidAddressReported) {
  config::Config cfg = Parse(R"(
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['ok:9093', 'bad:9093']
      relabel_configs:
        - source_labels: [__address__]
          regex: 'bad:(.*)'
          target_label: __address__
          replacement: 'bad/path:$1'
)");
  AlertmanagerSet set = ResolveAlertmanagers(cfg.alerting);
  EXPECT_THAT(Urls(set.active), ::testing::ElementsAre("http://ok:9093/api/v2/alerts"));
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_THAT(set.errors[0], HasSubstr("alertmanagers[0]"));
  EXPECT_THAT(set.errors[0],
              HasSubstr("target \"bad:9093\": \"bad/path:9093\" is not a valid hostname"));
}

TEST(ResolveAlertmanagersTest, NoAlerting) {
  AlertmanagerSet set = ResolveAlertmanagers(config::AlertingConfig());
  EXPECT_TRUE(set.active.empty());
  EXPECT_TRUE(set.dropped.empty());
}

}  // namespace
}  // namespace cairn::notifier
