// RuleManager / RuleGroup / Rule over a real DB, driven synchronously with explicit
// evaluation times (EvalAllAt) so nothing depends on wall-clock timing.
#include "server/rules/rule_manager.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tsdb/db.h"
#include "tsdb/model/matcher.h"
#include "tsdb/model/sample.h"

namespace cairn::rules {
namespace {

constexpr int64_t kT0 = 1'700'000'040'000;  // a whole minute
constexpr int64_t kMin = 60'000;

class FakeSender : public notifier::AlertSender {
 public:
  void Send(std::vector<notifier::Alert> alerts) override {
    absl::MutexLock l(&mu_);
    for (auto& a : alerts) sent_.push_back(std::move(a));
  }
  std::vector<notifier::Alert> Take() {
    absl::MutexLock l(&mu_);
    return std::exchange(sent_, {});
  }

 private:
  absl::Mutex mu_;
  std::vector<notifier::Alert> sent_;
};

class RuleManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/rule_manager_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenDb();
  }
  void TearDown() override {
    mgr_.reset();
    if (db_ != nullptr) db_->Close().IgnoreError();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenDb() {
    DbOptions opts;
    opts.background = false;
    auto db = DB::Open(dir_ + "/data", opts);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }

  // A manager whose first (restore-enabling) load is already done unless `fresh`.
  void NewManager(const std::string& rules_yaml, bool fresh = false) {
    std::ofstream(dir_ + "/rules.yml") << rules_yaml;
    RuleManager::Options o;
    o.engine = &engine_;
    o.queryable = db_.get();
    o.appendable = db_.get();
    o.sender = &sender_;
    o.external_url = "http://cairn:9090";
    mgr_ = std::make_unique<RuleManager>(o);
    if (!fresh) {
      ASSERT_TRUE(mgr_->Update(RulesConfig{}).ok());
    }
    ASSERT_TRUE(Load(rules_yaml).ok());
  }
  absl::Status Load(const std::string& rules_yaml) {
    std::ofstream(dir_ + "/rules.yml", std::ios::trunc) << rules_yaml;
    RulesConfig cfg;
    cfg.files = {dir_ + "/rules.yml"};
    cfg.evaluation_interval_ms = kMin;
    cfg.external_labels = Labels{{"dc", "eu"}};
    return mgr_->Update(cfg);
  }

  void Add(const Labels& l, int64_t t, double v) {
    auto app = db_->NewAppender();
    ASSERT_TRUE(app->Append(0, l, t, v).ok());
    ASSERT_TRUE(app->Commit().ok());
  }

  // Raw samples of the series matching name, in [mint, maxt].
  std::map<std::string, std::vector<Sample>> Raw(std::string_view name, int64_t mint = 0,
                                                 int64_t maxt = INT64_MAX / 2) {
    std::map<std::string, std::vector<Sample>> out;
    auto q = db_->NewQuerier(mint, maxt);
    EXPECT_TRUE(q.ok());
    std::vector<Matcher> ms;
    ms.push_back(*Matcher::Create(MatchType::kEqual, "__name__", name));
    auto set = (*q)->Select(mint, maxt, ms);
    while (set->Next()) {
      auto it = set->At().Iterator();
      auto& v = out[set->At().labels().ToString()];
      while (it->Next()) v.push_back({it->t(), it->v()});
    }
    return out;
  }

  const RuleSnapshot& OnlyRule() {
    groups_ = mgr_->Groups();
    EXPECT_EQ(groups_.size(), 1u);
    EXPECT_EQ(groups_[0].rules.size(), 1u);
    return groups_[0].rules[0];
  }

  std::string dir_;
  std::unique_ptr<DB> db_;
  promql::Engine engine_{promql::EngineOptions{}};
  FakeSender sender_;
  std::unique_ptr<RuleManager> mgr_;
  std::vector<GroupSnapshot> groups_;
};

TEST_F(RuleManagerTest, RecordingRuleWritesResultsAndStaleMarkers) {
  NewManager(R"(groups:
  - name: rec
    rules:
      - record: m:doubled
        expr: m * 2 > 2
        labels: {k: v}
)");
  Add(Labels{{"__name__", "m"}, {"a", "1"}}, kT0, 2);
  Add(Labels{{"__name__", "m"}, {"a", "2"}}, kT0, 3);
  mgr_->EvalAllAt(kT0);
  Add(Labels{{"__name__", "m"}, {"a", "1"}}, kT0 + kMin, 0);  // drops out of the result
  Add(Labels{{"__name__", "m"}, {"a", "2"}}, kT0 + kMin, 5);
  mgr_->EvalAllAt(kT0 + kMin);

  auto raw = Raw("m:doubled");
  ASSERT_EQ(raw.size(), 2u);
  const auto& s1 = raw["{__name__=\"m:doubled\", a=\"1\", k=\"v\"}"];
  ASSERT_EQ(s1.size(), 2u);
  EXPECT_EQ(s1[0].t, kT0);
  EXPECT_EQ(s1[0].v, 4);
  EXPECT_EQ(s1[1].t, kT0 + kMin);
  EXPECT_TRUE(IsStaleNaN(s1[1].v));
  const auto& s2 = raw["{__name__=\"m:doubled\", a=\"2\", k=\"v\"}"];
  ASSERT_EQ(s2.size(), 2u);
  EXPECT_EQ(s2[1].v, 10);

  const RuleSnapshot& r = OnlyRule();
  EXPECT_EQ(r.health, RuleHealth::kOk);
  EXPECT_EQ(r.query, "m * 2 > 2");
  EXPECT_GT(r.last_evaluation_wall_us, 0);
  EXPECT_EQ(groups_[0].stats.evaluations, 2u);
  EXPECT_EQ(groups_[0].stats.iterations, 2u);
  EXPECT_EQ(groups_[0].stats.last_eval_timestamp_ms, kT0 + kMin);
}

TEST_F(RuleManagerTest, ScalarResultAndLimit) {
  NewManager(R"(groups:
  - name: g
    limit: 1
    rules:
      - record: two
        expr: m
)");
  Add(Labels{{"__name__", "m"}, {"a", "1"}}, kT0, 1);
  Add(Labels{{"__name__", "m"}, {"a", "2"}}, kT0, 1);
  mgr_->EvalAllAt(kT0);
  const RuleSnapshot& r = OnlyRule();
  EXPECT_EQ(r.health, RuleHealth::kErr);
  EXPECT_EQ(r.last_error, "exceeded limit of 1 with 2 series");
  EXPECT_EQ(groups_[0].stats.evaluation_failures, 1u);
  EXPECT_TRUE(Raw("two").empty());

  ASSERT_TRUE(
      Load("groups:\n  - name: g\n    rules:\n      - record: s\n        expr: \"42\"\n").ok());
  mgr_->EvalAllAt(kT0 + kMin);
  auto raw = Raw("s");
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw.begin()->first, "{__name__=\"s\"}");
  EXPECT_EQ(raw.begin()->second[0].v, 42);
}

TEST_F(RuleManagerTest, AlertPendingFiringResolved) {
  NewManager(R"(groups:
  - name: alerts
    rules:
      - alert: High
        expr: m > 1
        for: 2m
        labels: {sev: "s{{ $labels.a }}"}
        annotations: {summary: "v={{ $value }} dc={{ $externalLabels.dc }}"}
)");
  Labels m{{"__name__", "m"}, {"a", "1"}};
  Add(m, kT0, 5);
  mgr_->EvalAllAt(kT0);
  {
    const RuleSnapshot& r = OnlyRule();
    EXPECT_EQ(r.state, AlertState::kPending);
    ASSERT_EQ(r.alerts.size(), 1u);
    EXPECT_EQ(r.alerts[0].labels.ToString(), "{a=\"1\", alertname=\"High\", sev=\"s1\"}");
    EXPECT_EQ(r.alerts[0].annotations.ToString(), "{summary=\"v=5 dc=eu\"}");
    EXPECT_EQ(r.alerts[0].active_at_ms, kT0);
  }
  EXPECT_TRUE(sender_.Take().empty());  // pending alerts are not sent

  Add(m, kT0 + kMin, 6);
  mgr_->EvalAllAt(kT0 + kMin);
  EXPECT_EQ(OnlyRule().state, AlertState::kPending);
  Add(m, kT0 + 2 * kMin, 7);
  mgr_->EvalAllAt(kT0 + 2 * kMin);
  EXPECT_EQ(OnlyRule().state, AlertState::kFiring);
  std::vector<notifier::Alert> sent = sender_.Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].starts_at_ms, kT0 + 2 * kMin);
  EXPECT_EQ(sent[0].ends_at_ms, kT0 + 2 * kMin + 4 * kMin);
  EXPECT_EQ(sent[0].annotations.Get("summary"), "v=7 dc=eu");
  EXPECT_EQ(sent[0].generator_url, "http://cairn:9090/graph?g0.expr=m+%3E+1&g0.tab=1");

  // Resend delay 1m: not re-sent one interval later, re-sent the one after.
  Add(m, kT0 + 3 * kMin, 7);
  mgr_->EvalAllAt(kT0 + 3 * kMin);
  EXPECT_TRUE(sender_.Take().empty());
  Add(m, kT0 + 4 * kMin, 7);
  mgr_->EvalAllAt(kT0 + 4 * kMin);
  EXPECT_EQ(sender_.Take().size(), 1u);

  // Resolves: sent once more with ends_at = the resolve time.
  Add(m, kT0 + 5 * kMin, 0);
  mgr_->EvalAllAt(kT0 + 5 * kMin);
  {
    const RuleSnapshot& r = OnlyRule();
    EXPECT_EQ(r.state, AlertState::kInactive);
    EXPECT_TRUE(r.alerts.empty());  // the API lists active alerts only
  }
  sent = sender_.Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].ends_at_ms, kT0 + 5 * kMin);

  // ALERTS: pending at 0 and 1m, then stale when the state label changed; firing from
  // 2m to 4m, stale at 5m. ALERTS_FOR_STATE holds activeAt in seconds.
  auto alerts = Raw("ALERTS");
  const auto& pending = alerts
      ["{__name__=\"ALERTS\", a=\"1\", alertname=\"High\", alertstate=\"pending\", "
       "sev=\"s1\"}"];
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].t, kT0);
  EXPECT_EQ(pending[1].v, 1);
  EXPECT_TRUE(IsStaleNaN(pending[2].v));
  EXPECT_EQ(pending[2].t, kT0 + 2 * kMin);
  const auto& firing = alerts
      ["{__name__=\"ALERTS\", a=\"1\", alertname=\"High\", alertstate=\"firing\", "
       "sev=\"s1\"}"];
  ASSERT_EQ(firing.size(), 4u);
  EXPECT_EQ(firing[0].t, kT0 + 2 * kMin);
  EXPECT_TRUE(IsStaleNaN(firing[3].v));
  auto for_state = Raw("ALERTS_FOR_STATE");
  ASSERT_EQ(for_state.size(), 1u);
  EXPECT_EQ(for_state.begin()->second[0].v, static_cast<double>(kT0 / 1000));
}

TEST_F(RuleManagerTest, KeepFiringFor) {
  NewManager(R"(groups:
  - name: g
    rules:
      - alert: Flappy
        expr: m > 1
        keep_firing_for: 2m
)");
  Labels m{{"__name__", "m"}};
  Add(m, kT0, 5);
  mgr_->EvalAllAt(kT0);
  EXPECT_EQ(OnlyRule().state, AlertState::kFiring);  // for: 0 fires at once
  Add(m, kT0 + kMin, 0);
  mgr_->EvalAllAt(kT0 + kMin);
  EXPECT_EQ(OnlyRule().state, AlertState::kFiring);
  EXPECT_EQ(OnlyRule().alerts[0].keep_firing_since_ms, kT0 + kMin);
  Add(m, kT0 + 2 * kMin, 0);
  mgr_->EvalAllAt(kT0 + 2 * kMin);
  EXPECT_EQ(OnlyRule().state, AlertState::kFiring);
  Add(m, kT0 + 3 * kMin, 0);
  mgr_->EvalAllAt(kT0 + 3 * kMin);
  EXPECT_EQ(OnlyRule().state, AlertState::kInactive);
}

TEST_F(RuleManagerTest, AlertLimit) {
  NewManager(R"(groups:
  - name: g
    limit: 1
    rules:
      - alert: Many
        expr: m > 0
)");
  Add(Labels{{"__name__", "m"}, {"a", "1"}}, kT0, 1);
  Add(Labels{{"__name__", "m"}, {"a", "2"}}, kT0, 1);
  mgr_->EvalAllAt(kT0);
  const RuleSnapshot& r = OnlyRule();
  EXPECT_EQ(r.health, RuleHealth::kErr);
  EXPECT_EQ(r.last_error, "exceeded limit of 1 with 2 alerts");
  EXPECT_EQ(r.state, AlertState::kInactive);
}

TEST_F(RuleManagerTest, RestoresForStateAfterRestart) {
  const std::string rules = R"(groups:
  - name: g
    rules:
      - alert: Slow
        expr: m > 0
        for: 30m
)";
  Labels m{{"__name__", "m"}};
  NewManager(rules, /*fresh=*/true);
  // The first load restores after the second evaluation; no ALERTS before that.
  for (int i = 0; i <= 10; ++i) {
    Add(m, kT0 + i * kMin, 1);
    mgr_->EvalAllAt(kT0 + i * kMin);
    if (i == 0) {
      EXPECT_TRUE(Raw("ALERTS_FOR_STATE").empty());
    }
  }
  EXPECT_EQ(OnlyRule().state, AlertState::kPending);
  // "Restart": a new manager and a reopened DB, 10 minutes later.
  mgr_.reset();
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  OpenDb();
  NewManager(rules, /*fresh=*/true);
  const int64_t t_restart = kT0 + 20 * kMin;
  Add(m, t_restart, 1);
  mgr_->EvalAllAt(t_restart);
  EXPECT_EQ(OnlyRule().alerts[0].active_at_ms, t_restart);  // not restored yet
  Add(m, t_restart + kMin, 1);
  mgr_->EvalAllAt(t_restart + kMin);
  // Was pending 10m before going down at kT0+10m; 20m remain (> grace 10m), so the
  // outage (restore time - down time) is added to the original activeAt.
  EXPECT_EQ(OnlyRule().alerts[0].active_at_ms, kT0 + (t_restart + kMin - (kT0 + 10 * kMin)));
}

TEST_F(RuleManagerTest, RestoreWithinGracePeriod) {
  const std::string rules = R"(groups:
  - name: g
    rules:
      - alert: Slow
        expr: m > 0
        for: 30m
)";
  Labels m{{"__name__", "m"}};
  NewManager(rules, /*fresh=*/true);
  for (int i = 0; i <= 25; ++i) {
    Add(m, kT0 + i * kMin, 1);
    mgr_->EvalAllAt(kT0 + i * kMin);
  }
  mgr_.reset();
  NewManager(rules, /*fresh=*/true);
  const int64_t t = kT0 + 40 * kMin;
  Add(m, t, 1);
  mgr_->EvalAllAt(t);
  Add(m, t + kMin, 1);
  mgr_->EvalAllAt(t + kMin);
  // 5m remained (< grace 10m): fires 10m after the restore.
  EXPECT_EQ(OnlyRule().alerts[0].active_at_ms, t + kMin + 10 * kMin - 30 * kMin);
}

TEST_F(RuleManagerTest, ReloadKeepsStateAndBadFileRefused) {
  NewManager(R"(groups:
  - name: g
    rules:
      - alert: A
        expr: m > 0
        for: 5m
)");
  Labels m{{"__name__", "m"}};
  Add(m, kT0, 1);
  mgr_->EvalAllAt(kT0);
  // A changed group (a rule added) inherits the alert's state.
  ASSERT_TRUE(Load(R"(groups:
  - name: g
    rules:
      - alert: A
        expr: m > 0
        for: 5m
      - record: r
        expr: m
)")
                  .ok());
  Add(m, kT0 + kMin, 1);
  mgr_->EvalAllAt(kT0 + kMin);
  groups_ = mgr_->Groups();
  ASSERT_EQ(groups_[0].rules.size(), 2u);
  EXPECT_EQ(groups_[0].rules[0].alerts[0].active_at_ms, kT0);

  // A bad file is refused and the running groups stay.
  absl::Status s = Load("groups:\n  - name: g\n    rules:\n      - record: r\n");
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("field 'expr' must be set"));
  EXPECT_EQ(mgr_->Groups()[0].rules.size(), 2u);

  // A removed group stops and its series go stale.
  ASSERT_TRUE(Load("groups: []\n").ok());
  EXPECT_TRUE(mgr_->Groups().empty());
  auto raw = Raw("r");
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_TRUE(IsStaleNaN(raw.begin()->second.back().v));
}

TEST_F(RuleManagerTest, RenamedRuleMarksOldSeriesStale) {
  NewManager("groups:\n  - name: g\n    rules:\n      - record: old\n        expr: vector(1)\n");
  mgr_->EvalAllAt(kT0);
  ASSERT_TRUE(
      Load("groups:\n  - name: g\n    rules:\n      - record: new\n        expr: vector(1)\n")
          .ok());
  mgr_->EvalAllAt(kT0 + kMin);
  auto old_series = Raw("old");
  ASSERT_EQ(old_series.size(), 1u);
  const auto& samples = old_series.begin()->second;
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[1].t, kT0 + kMin);
  EXPECT_TRUE(IsStaleNaN(samples[1].v));
  EXPECT_EQ(Raw("new").size(), 1u);
}

TEST_F(RuleManagerTest, RunLoopEvaluatesOnTheAlignedGrid) {
  // A fake clock the evaluation thread reads; it re-checks at least every second.
  std::atomic<int64_t> now{kT0 + 1234};
  std::ofstream(dir_ + "/rules.yml") << "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
                                        "      - record: r\n        expr: vector(1)\n";
  RuleManager::Options o;
  o.engine = &engine_;
  o.queryable = db_.get();
  o.appendable = db_.get();
  o.now_ms = [&now] { return now.load(); };
  mgr_ = std::make_unique<RuleManager>(o);
  RulesConfig cfg;
  cfg.files = {dir_ + "/rules.yml"};
  ASSERT_TRUE(mgr_->Update(cfg).ok());
  mgr_->Start();
  GroupStats stats;
  for (int i = 0; i < 200 && stats.iterations == 0; ++i) {
    now += 10'000;  // one slot per round: the thread finds a due slot and runs it
    absl::SleepFor(absl::Milliseconds(50));
    stats = mgr_->Groups()[0].stats;
  }
  mgr_->Stop();
  ASSERT_GE(stats.iterations, 1u) << "the group never ran";
  // On the group's grid (interval 10s, its own phase), after the start time.
  RuleGroupSpec spec;
  spec.name = "g";
  spec.file = dir_ + "/rules.yml";
  auto g = RuleGroup::Create(spec, 10'000, std::make_shared<GroupOptions>(), false);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(stats.last_eval_timestamp_ms % 10'000, (*g)->EvalTimestamp(kT0) % 10'000);
  EXPECT_GT(stats.last_eval_timestamp_ms, kT0 + 1234);
  EXPECT_EQ(Raw("r").size(), 1u);
}

TEST(RuleGroupTest, EvalTimestampIsAlignedWithStableOffset) {
  RuleGroupSpec spec;
  spec.name = "g";
  spec.file = "f.yml";
  auto g = RuleGroup::Create(spec, 10'000, std::make_shared<GroupOptions>(), false);
  ASSERT_TRUE(g.ok());
  const int64_t phase = (*g)->EvalTimestamp(kT0) % 10'000;
  for (int64_t now : {kT0, kT0 + 1, kT0 + 9'999, kT0 + 123'456}) {
    int64_t ts = (*g)->EvalTimestamp(now);
    EXPECT_LE(ts, now);
    EXPECT_GT(ts, now - 10'000);
    EXPECT_EQ(ts % 10'000, phase);
  }
  // Another group name lands on another phase (the offset spreads groups).
  spec.name = "other";
  auto h = RuleGroup::Create(spec, 10'000, std::make_shared<GroupOptions>(), false);
  ASSERT_TRUE(h.ok());
  EXPECT_NE((*h)->EvalTimestamp(kT0) % 10'000, phase);
}

}  // namespace
}  // namespace cairn::rules
