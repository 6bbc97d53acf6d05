// AlertmanagerNotifier against fake Alertmanagers (Cairn's HttpServer on loopback):
// batching, the JSON it POSTs, retries, queue overflow, external labels and
// relabelling, reload, and what it counts. Waits are "until it happened" with a
// generous bound, never timing assertions.
#include "server/notifier/alertmanager_notifier.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/notifier/fake_alertmanager.h"

namespace cairn::notifier {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// A config sending to `ams`; `global` and `alert_relabel` are YAML put before and
// inside the alerting section.
config::Config ConfigFor(const std::vector<const FakeAlertmanager*>& ams,
                         const std::string& global = "", const std::string& alert_relabel = "") {
  std::string targets;
  for (const auto* am : ams) {
    absl::StrAppend(&targets, targets.empty() ? "" : ", ", "'", am->target(), "'");
  }
  std::string yaml =
      absl::StrCat(global, "\nalerting:\n", alert_relabel, "  alertmanagers:\n    - timeout: 10s\n",
                   "      static_configs:\n        - targets: [", targets, "]\n");
  auto cfg = config::ParseConfig(yaml, "test.yml");
  EXPECT_TRUE(cfg.ok()) << cfg.status() << "\n" << yaml;
  return cfg.ok() ? *cfg : config::Config();
}

Alert MakeAlert(const std::string& name, int i = 0) {
  Alert a;
  a.labels = Labels{{"alertname", name}, {"i", std::to_string(i)}};
  return a;
}

std::vector<Alert> MakeAlerts(const std::string& name, int from, int to) {
  std::vector<Alert> out;
  for (int i = from; i < to; ++i) out.push_back(MakeAlert(name, i));
  return out;
}

std::vector<std::string> Indexes(const std::vector<ReceivedAlert>& alerts) {
  std::vector<std::string> out;
  for (const auto& a : alerts) out.push_back(a.labels.count("i") ? a.labels.at("i") : "?");
  return out;
}

std::string Url(const FakeAlertmanager& am) {
  return absl::StrCat("http://", am.target(), "/api/v2/alerts");
}

// Waits (up to 60 s) until `done` holds.
template <typename F>
bool WaitUntil(F done) {
  for (int i = 0; i < 6000; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

// Waits until the notifier has finished with every alert it was given.
bool WaitIdle(const AlertmanagerNotifier& n) {
  return WaitUntil([&] {
    AlertmanagerNotifier::Stats s = n.stats();
    return s.queue_length == 0 && s.in_flight == 0;
  });
}

bool WaitForDropped(const AlertmanagerNotifier& n, uint64_t dropped) {
  return WaitUntil([&] { return n.stats().dropped >= dropped; });
}

AlertmanagerNotifier::Options FastRetries() {
  AlertmanagerNotifier::Options o;
  o.initial_backoff = absl::Milliseconds(5);
  o.max_backoff = absl::Milliseconds(20);
  return o;
}

TEST(AlertmanagerNotifierTest, PostsPrometheusJson) {
  FakeAlertmanager am;
  AlertmanagerNotifier n;
  n.ApplyConfig(ConfigFor({&am}));
  Alert a;
  a.labels = Labels{{"alertname", "DiskFull"}, {"severity", "page"}};
  a.annotations = Labels{{"summary", "disk full on a"}};
  a.starts_at_ms = 1765015200123;
  a.ends_at_ms = 1765015440000;
  a.generator_url = "http://cairn:9090/graph?g0.expr=x";
  n.Send({a});
  ASSERT_TRUE(am.WaitForRequests(1));
  std::vector<ReceivedRequest> reqs = am.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/api/v2/alerts");
  EXPECT_EQ(reqs[0].content_type, "application/json");
  ASSERT_EQ(reqs[0].alerts.size(), 1u);
  const ReceivedAlert& r = reqs[0].alerts[0];
  EXPECT_THAT(r.labels, ElementsAre(Pair("alertname", "DiskFull"), Pair("severity", "page")));
  EXPECT_THAT(r.annotations, ElementsAre(Pair("summary", "disk full on a")));
  EXPECT_EQ(r.starts_at, "2025-12-06T10:00:00.123Z");
  EXPECT_EQ(r.ends_at, "2025-12-06T10:04:00.000Z");
  EXPECT_EQ(r.generator_url, "http://cairn:9090/graph?g0.expr=x");
  ASSERT_TRUE(WaitIdle(n));
  n.Stop();
  AlertmanagerNotifier::Stats s = n.stats();
  EXPECT_EQ(s.sent[Url(am)], 1u);
  EXPECT_EQ(s.errors[Url(am)], 0u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.alertmanagers_discovered, 1u);
  EXPECT_EQ(s.queue_capacity, 10000u);
}

TEST(AlertmanagerNotifierTest, PathPrefix) {
  FakeAlertmanager am("/am/api/v2/alerts");
  AlertmanagerNotifier n;
  auto cfg = config::ParseConfig(
      absl::StrCat("alerting:\n  alertmanagers:\n    - path_prefix: /am\n      static_configs:\n",
                   "        - targets: ['", am.target(), "']\n"),
      "t.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  n.ApplyConfig(*cfg);
  n.Send({MakeAlert("A")});
  ASSERT_TRUE(am.WaitForRequests(1));
  EXPECT_EQ(am.requests()[0].path, "/am/api/v2/alerts");
}

TEST(AlertmanagerNotifierTest, BatchesOfAtMost64InOrder) {
  FakeAlertmanager am;
  am.Hold();  // keeps the first batch in flight while the rest queue up
  AlertmanagerNotifier n;
  n.ApplyConfig(ConfigFor({&am}));
  n.Send({MakeAlert("A", 0)});
  ASSERT_TRUE(am.WaitForRequests(1));
  n.Send(MakeAlerts("A", 1, 151));
  EXPECT_EQ(n.stats().queue_length, 150u);
  am.Release();
  ASSERT_TRUE(am.WaitForRequests(4));
  std::vector<ReceivedRequest> reqs = am.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].alerts.size(), 1u);
  EXPECT_EQ(reqs[1].alerts.size(), 64u);
  EXPECT_EQ(reqs[2].alerts.size(), 64u);
  EXPECT_EQ(reqs[3].alerts.size(), 22u);
  std::vector<std::string> want;
  for (int i = 0; i < 151; ++i) want.push_back(std::to_string(i));
  EXPECT_EQ(Indexes(am.alerts()), want);
  ASSERT_TRUE(WaitIdle(n));
  n.Stop();
  EXPECT_EQ(n.stats().sent[Url(am)], 151u);
  EXPECT_EQ(n.stats().queue_length, 0u);
}

TEST(AlertmanagerNotifierTest, RetriesServerErrorsWithBackoff) {
  FakeAlertmanager am;
  am.SetStatuses({500, 503});
  AlertmanagerNotifier n(FastRetries());
  n.ApplyConfig(ConfigFor({&am}));
  n.Send(MakeAlerts("A", 0, 3));
  ASSERT_TRUE(am.WaitForRequests(3));
  std::vector<ReceivedRequest> reqs = am.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].body, reqs[1].body);  // the same batch again
  EXPECT_EQ(reqs[1].body, reqs[2].body);
  ASSERT_TRUE(WaitIdle(n));
  n.Stop();
  AlertmanagerNotifier::Stats s = n.stats();
  EXPECT_EQ(s.errors[Url(am)], 2u);
  EXPECT_EQ(s.sent[Url(am)], 9u);  // alerts of every attempt, as Prometheus counts
  EXPECT_EQ(s.dropped, 0u);
}

TEST(AlertmanagerNotifierTest, RetriesAreBoundedThenBatchDropped) {
  FakeAlertmanager am;
  am.SetDefaultStatus(500);
  AlertmanagerNotifier::Options o = FastRetries();
  o.max_attempts = 4;
  AlertmanagerNotifier n(o);
  n.ApplyConfig(ConfigFor({&am}));
  n.Send(MakeAlerts("A", 0, 2));
  ASSERT_TRUE(WaitForDropped(n, 2));
  EXPECT_EQ(am.requests().size(), 4u);
  EXPECT_EQ(n.stats().errors[Url(am)], 4u);
  // The next batch is tried afresh.
  am.SetDefaultStatus(200);
  n.Send({MakeAlert("B")});
  ASSERT_TRUE(am.WaitForRequests(5));
  ASSERT_TRUE(WaitIdle(n));
  n.Stop();
  EXPECT_EQ(n.stats().dropped, 2u);
}

TEST(AlertmanagerNotifierTest, ClientErrorNotRetried) {
  FakeAlertmanager am;
  am.SetStatuses({400});
  AlertmanagerNotifier n(FastRetries());
  n.ApplyConfig(ConfigFor({&am}));
  n.Send({MakeAlert("A")});
  ASSERT_TRUE(WaitForDropped(n, 1));
  n.Send({MakeAlert("B")});
  ASSERT_TRUE(am.WaitForRequests(2));
  ASSERT_TRUE(WaitIdle(n));
  n.Stop();
  std::vector<ReceivedRequest> reqs = am.requests();
  ASSERT_EQ(reqs.size(), 2u);  // A once, then B: A was not retried
  EXPECT_EQ(reqs[1].alerts[0].labels["alertname"], "B");
  EXPECT_EQ(n.stats().errors[Url(am)], 1u);
}

TEST(AlertmanagerNotifierTest, QueueOverflowDropsOldest) {
  FakeAlertmanager am;
  am.Hold();
  AlertmanagerNotifier::Options o;
  o.queue_capacity = 5;
  AlertmanagerNotifier n(o);
  n.ApplyConfig(ConfigFor({&am}));
  n.Send({MakeAlert("first")});
  ASSERT_TRUE(am.WaitForRequests(1));  // in flight, out of the queue
  n.Send(MakeAlerts("A", 0, 4));
  n.Send(MakeAlerts("A", 4, 8));  // 8 queued for 5 places: 0, 1, 2 go
  AlertmanagerNotifier::Stats s = n.stats();
  EXPECT_EQ(s.dropped, 3u);
  EXPECT_EQ(s.queue_length, 5u);
  EXPECT_EQ(s.queue_capacity, 5u);
  // One call larger than the queue keeps its newest alerts.
  n.Send(MakeAlerts("A", 100, 107));
  s = n.stats();
  EXPECT_EQ(s.dropped, 3u + 5u + 2u);
  EXPECT_EQ(s.queue_length, 5u);
  am.Release();
  ASSERT_TRUE(am.WaitForRequests(2));
  n.Stop();
  std::vector<ReceivedAlert> got = am.alerts();
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].labels["alertname"], "first");
  EXPECT_EQ(Indexes({got.begin() + 1, got.end()}),
            (std::vector<std::string>{"102", "103", "104", "105", "106"}));
}

TEST(AlertmanagerNotifierTest, ExternalLabelsAndAlertRelabelling) {
  FakeAlertmanager am;
  AlertmanagerNotifier n;
  n.ApplyConfig(
      ConfigFor({&am}, "global:\n  external_labels: {cluster: eu1, replica: a, severity: info}\n",
                R"(  alert_relabel_configs:
    - action: labeldrop
      regex: replica
    - source_labels: [severity]
      regex: none
      action: drop
)"));
  Alert page;
  page.labels = Labels{{"alertname", "A"}, {"severity", "page"}};
  Alert none;
  none.labels = Labels{{"alertname", "B"}, {"severity", "none"}};
  Alert plain;
  plain.labels = Labels{{"alertname", "C"}};
  n.Send({page, none, plain});
  ASSERT_TRUE(am.WaitForRequests(1));
  n.Stop();
  std::vector<ReceivedAlert> got = am.alerts();
  ASSERT_EQ(got.size(), 2u);
  // The alert's own severity wins over the external label; replica is relabelled away.
  EXPECT_THAT(got[0].labels, ElementsAre(Pair("alertname", "A"), Pair("cluster", "eu1"),
                                         Pair("severity", "page")));
  EXPECT_THAT(got[1].labels, ElementsAre(Pair("alertname", "C"), Pair("cluster", "eu1"),
                                         Pair("severity", "info")));
}

TEST(AlertmanagerNotifierTest, SendsToEveryAlertmanagerAndSurvivesADeadOne) {
  FakeAlertmanager a, b;
  auto dead = std::make_unique<FakeAlertmanager>();
  const std::string dead_target = dead->target();
  const std::string dead_url = Url(*dead);
  dead.reset();  // its port is closed now: connection refused
  AlertmanagerNotifier n(FastRetries());
  auto cfg = config::ParseConfig(
      absl::StrCat("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['",
                   a.target(), "', '", dead_target, "', '", b.target(), "']\n"),
      "t.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  n.ApplyConfig(*cfg);
  EXPECT_EQ(n.stats().alertmanagers_discovered, 3u);
  n.Send({MakeAlert("A")});
  ASSERT_TRUE(a.WaitForRequests(1));
  ASSERT_TRUE(b.WaitForRequests(1));
  // The dead one is retried max_attempts times; the batch still counts as delivered.
  ASSERT_TRUE(WaitIdle(n));
  EXPECT_EQ(n.stats().errors[dead_url], 3u);
  n.Send({MakeAlert("B")});
  ASSERT_TRUE(a.WaitForRequests(2));
  ASSERT_TRUE(WaitIdle(n));
  n.Stop();
  AlertmanagerNotifier::Stats s = n.stats();
  EXPECT_EQ(s.errors[dead_url], 6u);  // 3 attempts for each of the 2 batches
  EXPECT_EQ(s.errors[Url(a)], 0u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(a.requests().size(), 2u);
}

TEST(AlertmanagerNotifierTest, NoAlertmanagerDropsAndCounts) {
  AlertmanagerNotifier n;
  n.Send(MakeAlerts("A", 0, 3));
  ASSERT_TRUE(WaitForDropped(n, 3));
  EXPECT_EQ(n.stats().alertmanagers_discovered, 0u);
}

TEST(AlertmanagerNotifierTest, ReloadKeepsQueueAndSwitchesAlertmanagers) {
  FakeAlertmanager old_am, new_am;
  old_am.Hold();
  AlertmanagerNotifier n;
  n.ApplyConfig(ConfigFor({&old_am}));
  n.Send({MakeAlert("A", 0)});
  ASSERT_TRUE(old_am.WaitForRequests(1));
  n.Send(MakeAlerts("A", 1, 4));  // queued behind the held batch
  n.ApplyConfig(ConfigFor({&new_am}));
  EXPECT_EQ(n.stats().queue_length, 3u);
  AlertmanagerSet set = n.alertmanagers();
  ASSERT_EQ(set.active.size(), 1u);
  EXPECT_EQ(set.active[0].url, Url(new_am));
  old_am.Release();
  ASSERT_TRUE(new_am.WaitForRequests(1));
  n.Stop();
  EXPECT_EQ(Indexes(old_am.alerts()), (std::vector<std::string>{"0"}));
  EXPECT_EQ(Indexes(new_am.alerts()), (std::vector<std::string>{"1", "2", "3"}));
}

TEST(AlertmanagerNotifierTest, StopCancelsAnInFlightPostAndLaterSendsDrop) {
  FakeAlertmanager am;
  am.Hold();
  AlertmanagerNotifier n;
  n.ApplyConfig(ConfigFor({&am}));
  n.Send({MakeAlert("A")});
  ASSERT_TRUE(am.WaitForRequests(1));
  n.Send(MakeAlerts("A", 1, 3));
  n.Stop();  // returns although the Alertmanager never answers
  EXPECT_EQ(n.stats().queue_length, 0u);
  n.Send({MakeAlert("late")});
  EXPECT_EQ(n.stats().dropped, 1u);
  n.Stop();  // idempotent
}

}  // namespace
}  // namespace cairn::notifier
