// Head query path: HeadQuerier::Select and iteration, and the dashboard queries of
// bench/compare_prometheus.sh through the PromQL engine, over a head shaped like
// `cairnctl loadgen`'s load.
//
// Data (loadgen's labels: 5 metric names, job-0..6, host-N:9100, series=i), full chunks
// in the off-heap arena as the DB runs the head:
//   - "short": 100k series x 40 samples (10 min at 15 s): only open chunks, so
//     per-series work dominates — compare_prometheus.sh's 100k shape;
//   - "long":  20k series x 720 samples (3 h): six closed chunks and an open one per
//     series, so chunk handling shows.
// BM_HeadSelect selects one metric (20k resp. 4k series) over the whole range and
// walks the series, reading every sample when read:1; items_per_second is series per
// second.
// BM_DashboardQuery runs the six dashboard queries as range queries (15 s step) over
// the short head.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "tsdb/head/head.h"
#include "tsdb/io/file_system.h"
#include "tsdb/model/matcher.h"
#include "tsdb/promql/engine.h"

namespace cairn::head {
namespace {

// See head_bench.cc: Debian's Abseil records every lock for deadlock detection.
const bool kNoDeadlockDetection = [] {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}();

constexpr int64_t kScrapeMs = 15000;
constexpr int64_t kStartMs = 1700000000000;
const char* const kNames[] = {"node_cpu_seconds_total", "node_memory_bytes", "http_requests_total",
                              "process_open_fds", "node_load1"};

struct Shape {
  int series;
  int samples;
};
constexpr Shape kShapes[] = {{100000, 40}, {20000, 720}};

Labels SeriesLabels(int i) {
  return Labels{{"__name__", kNames[i % 5]},
                {"instance", absl::StrCat("host-", i / 100, ":9100")},
                {"job", absl::StrCat("job-", i % 7)},
                {"series", absl::StrCat(i)}};
}

struct Fixture {
  std::unique_ptr<Head> head;
  std::string chunk_dir;
  ~Fixture() {
    head.reset();
    std::filesystem::remove_all(chunk_dir);
  }
};

Fixture* GetFixture(int shape) {
  static Fixture* fixtures[2] = {nullptr, nullptr};
  static std::once_flag once[2];
  std::call_once(once[shape], [shape] {
    const Shape s = kShapes[shape];
    auto* f = new Fixture;
    f->chunk_dir = absl::StrCat("/tmp/cairn_head_query_bench_", getpid(), "_", shape);
    HeadOptions opts;
    opts.chunk_dir = f->chunk_dir;
    f->head = std::move(*Head::Open(io::FileSystem::Default(), "", opts));
    std::vector<Labels> labels;
    std::vector<storage::SeriesRef> refs(s.series, 0);
    for (int i = 0; i < s.series; ++i) labels.push_back(SeriesLabels(i));
    auto app = f->head->NewAppender();
    for (int r = 0; r < s.samples; ++r) {
      const int64_t t = kStartMs + r * kScrapeMs;
      for (int i = 0; i < s.series; ++i) {
        // Counters (half the series), gauges and constants, as loadgen sends.
        const int kind = i % 10;
        double v = kind < 5   ? (i % 1000) + 37.0 * r
                   : kind < 8 ? ((i * 7919 + r * 104729) % 100000) / 100.0
                              : i % 1000;
        auto ref = app->Append(refs[i], labels[i], t, v);
        if (ref.ok()) refs[i] = *ref;
        if (i % 1000 == 999) (void)app->Commit();
      }
      (void)app->Commit();
    }
    fixtures[shape] = f;
  });
  return fixtures[shape];
}

void BM_HeadSelect(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const bool read = state.range(1) != 0;
  Fixture* f = GetFixture(shape);
  const int64_t end = kStartMs + (kShapes[shape].samples - 1) * kScrapeMs;
  auto q = f->head->NewQuerier(kStartMs, end);
  if (!q.ok()) {
    state.SkipWithError("querier");
    return;
  }
  std::vector<Matcher> ms = {*Matcher::Create(MatchType::kEqual, "__name__", "process_open_fds")};
  int64_t series = 0, samples = 0;
  for (auto _ : state) {
    series = samples = 0;
    auto set = (*q)->Select(kStartMs, end, ms);
    std::unique_ptr<SampleIterator> it;
    double sum = 0;
    while (set->Next()) {
      const storage::Series& s = set->At();
      ++series;
      if (!read) continue;
      it = s.Iterator(std::move(it));
      while (it->Next()) {
        sum += it->v();
        ++samples;
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.counters["series"] = static_cast<double>(series);
  state.counters["samples"] = static_cast<double>(samples);
  state.SetItemsProcessed(state.iterations() * series);
}
BENCHMARK(BM_HeadSelect)
    ->ArgNames({"long", "read"})
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

// What Grafana asks to fill dashboard variables: label names and one label's values
// over the whole head (arg 0), or over one metric's series (arg 1).
void BM_HeadLabelValues(benchmark::State& state) {
  Fixture* f = GetFixture(0);
  auto q = f->head->NewQuerier(INT64_MIN, INT64_MAX);
  if (!q.ok()) {
    state.SkipWithError("querier");
    return;
  }
  std::vector<Matcher> ms;
  if (state.range(0) == 1) {
    ms.push_back(*Matcher::Create(MatchType::kEqual, "__name__", "process_open_fds"));
  }
  size_t n = 0;
  for (auto _ : state) {
    auto names = (*q)->LabelNames(ms);
    auto values = (*q)->LabelValues("instance", ms);
    if (!names.ok() || !values.ok()) {
      state.SkipWithError("label query failed");
      return;
    }
    n = values->size();
  }
  state.counters["values"] = static_cast<double>(n);
}
BENCHMARK(BM_HeadLabelValues)->ArgName("matcher")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

const char* const kQueries[] = {
    "sum by (job) (rate(node_cpu_seconds_total[5m]))",
    "topk(5, sum by (instance) (rate(http_requests_total[5m])))",
    "avg by (job) (node_memory_bytes)",
    "quantile(0.9, node_load1)",
    "count by (job) (process_open_fds)",
    "sum(rate(http_requests_total{job=\"job-3\"}[5m]))",
};

void BM_DashboardQuery(benchmark::State& state) {
  Fixture* f = GetFixture(0);
  static promql::Engine* engine = new promql::Engine(promql::EngineOptions{});
  const char* query = kQueries[state.range(0)];
  state.SetLabel(query);
  const int64_t end = kStartMs + (kShapes[0].samples - 1) * kScrapeMs;
  for (auto _ : state) {
    auto v = engine->RangeQuery(*f->head, query, kStartMs, end, kScrapeMs);
    if (!v.ok()) {
      state.SkipWithError(std::string(v.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_DashboardQuery)->DenseRange(0, 5)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cairn::head
