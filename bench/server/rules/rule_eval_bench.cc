// Rule evaluation: one group iteration (queries, template expansion, state machine,
// appending results + ALERTS through the DB's WAL) over a DB holding `series`
// counters {job (10 values), instance} with 15 s samples over 5 minutes.
//   - BM_RecordingRule: `sum by (job) (rate(x[1m]))` -> 10 series per iteration;
//   - BM_AlertingRuleTemplates: `rate(x[1m]) > 0` with `for: 5m`, a label and an
//     annotation template -> one pending alert per series (ALERTS + ALERTS_FOR_STATE
//     written).
// items_per_second = input series evaluated per second.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "server/rules/rule_manager.h"
#include "tsdb/db.h"

namespace cairn::rules {
namespace {

const bool kNoDeadlockDetection = [] {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}();

constexpr int64_t kT0 = 1'700'000'000'000;

struct Fixture {
  std::string dir;
  std::unique_ptr<DB> db;
  promql::Engine engine{promql::EngineOptions{}};
  std::unique_ptr<RuleManager> mgr;

  Fixture(int series, const std::string& rules) {
    dir = std::filesystem::temp_directory_path() / ("rule_eval_bench_" + std::to_string(series));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    DbOptions opts;
    opts.background = false;
    db = std::move(*DB::Open(dir + "/data", opts));
    auto app = db->NewAppender();
    for (int s = 0; s < series; ++s) {
      Labels ls{{"__name__", "x"},
                {"job", "job" + std::to_string(s % 10)},
                {"instance", "host" + std::to_string(s) + ":9100"}};
      storage::SeriesRef ref = 0;
      for (int i = 0; i <= 20; ++i) {
        auto r = app->Append(ref, ls, kT0 + i * 15'000, i * (1 + s % 7));
        if (r.ok()) ref = *r;
      }
    }
    (void)app->Commit();
    std::ofstream(dir + "/rules.yml") << rules;
    RuleManager::Options o;
    o.engine = &engine;
    o.queryable = db.get();
    o.appendable = db.get();
    mgr = std::make_unique<RuleManager>(o);
    (void)mgr->Update(RulesConfig{});  // not the first load: no restore wait
    RulesConfig cfg;
    cfg.files = {dir + "/rules.yml"};
    (void)mgr->Update(cfg);
  }
  ~Fixture() {
    mgr.reset();
    (void)db->Close();
    std::filesystem::remove_all(dir);
  }
};

void Run(benchmark::State& state, const std::string& rules) {
  const int series = static_cast<int>(state.range(0));
  Fixture f(series, rules);
  int64_t t = kT0 + 300'000;
  for (auto _ : state) f.mgr->EvalAllAt(t++);
  state.SetItemsProcessed(state.iterations() * series);
  auto groups = f.mgr->Groups();
  if (groups.empty() || groups[0].rules[0].health != RuleHealth::kOk) {
    state.SkipWithError("rule evaluation failed");
  }
}

void BM_RecordingRule(benchmark::State& state) {
  Run(state,
      "groups:\n  - name: g\n    rules:\n      - record: job:x:rate1m\n"
      "        expr: sum by (job) (rate(x[1m]))\n");
}
BENCHMARK(BM_RecordingRule)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_AlertingRuleTemplates(benchmark::State& state) {
  Run(state,
      "groups:\n  - name: g\n    rules:\n      - alert: Busy\n"
      "        expr: rate(x[1m]) > 0\n        for: 5m\n"
      "        labels: {team: \"{{ $labels.job }}\"}\n"
      "        annotations: {summary: \"{{ $labels.instance }} at {{ $value | humanize }}/s\"}\n");
}
BENCHMARK(BM_AlertingRuleTemplates)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cairn::rules
