// PromQL engine: range and instant queries over a head block (Gorilla chunks, so the
// figures include decoding), single-threaded.
//
// Data: counters with a 15 s scrape interval and small per-series rates, labels
// {__name__, job (10 values), instance}.
//   - "day":   1000 series x 1 day   (5.76M samples), range query step 60 s;
//   - "2h":   10000 series x 2 h     (4.8M samples),  range query step 15 s;
//   - histogram: 100 series x 12 `le` buckets x 2 h.
// items_per_second is samples read from storage per second (samples of the selected
// series inside the query's range, lookback/range included).
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "tsdb/head/head.h"
#include "tsdb/io/file_system.h"
#include "tsdb/promql/engine.h"

namespace cairn::promql {
namespace {

const bool kNoDeadlockDetection = [] {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}();

constexpr int64_t kScrapeMs = 15000;
constexpr int64_t kDayMs = 24 * 3600 * 1000;
constexpr int64_t k2hMs = 2 * 3600 * 1000;
constexpr int kDaySeries = 1000;
constexpr int k2hSeries = 10000;
constexpr int kHistSeries = 100;
const char* const kBuckets[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};

struct Fixture {
  std::unique_ptr<head::Head> head;
};

void AppendCounter(storage::Appender* app, const Labels& ls, int64_t end_ms, double rate) {
  storage::SeriesRef ref = 0;
  double v = 0;
  for (int64_t t = 0; t <= end_ms; t += kScrapeMs) {
    auto r = app->Append(ref, ls, t, v);
    if (r.ok()) ref = *r;
    v += rate * 15;
  }
}

Fixture* GetFixture() {
  static Fixture* f = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    f = new Fixture;
    f->head = std::move(*head::Head::Open(io::FileSystem::Default(), "", head::HeadOptions{}));
    auto app = f->head->NewAppender();
    for (int i = 0; i < kDaySeries; ++i) {
      Labels ls{{"__name__", "day_total"},
                {"job", "job" + std::to_string(i % 10)},
                {"instance", "host-" + std::to_string(i)}};
      AppendCounter(app.get(), ls, kDayMs, 1 + i % 7);
      if (i % 100 == 99) (void)app->Commit();
    }
    (void)app->Commit();
    for (const char* name : {"x_total", "y_total"}) {
      for (int i = 0; i < k2hSeries; ++i) {
        Labels ls{{"__name__", name},
                  {"job", "job" + std::to_string(i % 10)},
                  {"instance", "host-" + std::to_string(i)}};
        AppendCounter(app.get(), ls, k2hMs, 1 + i % 5);
        if (i % 100 == 99) (void)app->Commit();
      }
    }
    for (int i = 0; i < kHistSeries; ++i) {
      for (int b = 0; b < 12; ++b) {
        Labels ls{{"__name__", "h_bucket"},
                  {"job", "job" + std::to_string(i % 10)},
                  {"instance", "host-" + std::to_string(i)},
                  {"le", kBuckets[b]}};
        AppendCounter(app.get(), ls, k2hMs, 1 + b);
      }
      (void)app->Commit();
    }
    (void)app->Commit();
  });
  return f;
}

Engine& GetEngine() {
  static Engine* e = new Engine(EngineOptions{});
  return *e;
}

void RunRange(benchmark::State& state, const std::string& query, int64_t start, int64_t end,
              int64_t step, int64_t samples_per_query) {
  Fixture* f = GetFixture();
  size_t result_series = 0;
  for (auto _ : state) {
    absl::StatusOr<Value> v = GetEngine().RangeQuery(*f->head, query, start, end, step);
    if (!v.ok()) {
      state.SkipWithError(std::string(v.status().message()).c_str());
      return;
    }
    result_series = v->matrix.size();
    benchmark::DoNotOptimize(v);
  }
  state.counters["result_series"] = static_cast<double>(result_series);
  state.SetItemsProcessed(state.iterations() * samples_per_query);
}

void RunInstant(benchmark::State& state, const std::string& query, int64_t t,
                int64_t samples_per_query) {
  Fixture* f = GetFixture();
  for (auto _ : state) {
    absl::StatusOr<Value> v = GetEngine().InstantQuery(*f->head, query, t);
    if (!v.ok()) {
      state.SkipWithError(std::string(v.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations() * samples_per_query);
}

constexpr int64_t kDaySamples = int64_t{kDaySeries} * (kDayMs / kScrapeMs + 1);
constexpr int64_t k2hSamples = int64_t{k2hSeries} * (k2hMs / kScrapeMs + 1);

// Range query over the whole day (first 5 m of windows partly empty).
void BM_RateDay(benchmark::State& state) {
  RunRange(state, "rate(day_total[5m])", 0, kDayMs, 60000, kDaySamples);
}
BENCHMARK(BM_RateDay)->Unit(benchmark::kMillisecond);

void BM_SumByRateDay(benchmark::State& state) {
  RunRange(state, "sum by (job) (rate(day_total[5m]))", 0, kDayMs, 60000, kDaySamples);
}
BENCHMARK(BM_SumByRateDay)->Unit(benchmark::kMillisecond);

void BM_SumByRate2h(benchmark::State& state) {
  RunRange(state, "sum by (job) (rate(x_total[5m]))", 0, k2hMs, 15000, k2hSamples);
}
BENCHMARK(BM_SumByRate2h)->Unit(benchmark::kMillisecond);

void BM_HistogramQuantile2h(benchmark::State& state) {
  RunRange(state, "histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))", 0, k2hMs, 15000,
           int64_t{kHistSeries} * 12 * (k2hMs / kScrapeMs + 1));
}
BENCHMARK(BM_HistogramQuantile2h)->Unit(benchmark::kMillisecond);

// One-to-one join of two 10k-series vectors, as a range query (15 s step) and at one
// instant.
void BM_BinaryJoin2h(benchmark::State& state) {
  RunRange(state, "x_total / ignoring(__name__) y_total", 0, k2hMs, 15000, 2 * k2hSamples);
}
BENCHMARK(BM_BinaryJoin2h)->Unit(benchmark::kMillisecond);

void BM_BinaryJoinInstant(benchmark::State& state) {
  RunInstant(state, "x_total / ignoring(__name__) y_total", k2hMs, 2 * k2hSeries * 21);
}
BENCHMARK(BM_BinaryJoinInstant)->Unit(benchmark::kMillisecond);

void BM_TopkRate2h(benchmark::State& state) {
  RunRange(state, "topk(10, rate(x_total[5m]))", 0, k2hMs, 15000, k2hSamples);
}
BENCHMARK(BM_TopkRate2h)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cairn::promql
