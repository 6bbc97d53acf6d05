// Throughput of the block-independent compaction loop (merge + re-chunk) and of
// applying tombstones to a sample stream.
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "tests/tsdb/storage/list_series.h"
#include "tsdb/compact/deleted_series_set.h"
#include "tsdb/compact/series_compactor.h"
#include "tsdb/compact/tombstones.h"

namespace cairn::compact {
namespace {

using storage::testing::ListSeries;
using storage::testing::ListSeriesSet;

class CountingSink final : public CompactionSink {
 public:
  absl::Status AddSeries(const Labels&, absl::Span<const std::vector<Sample>> chunks) override {
    for (const auto& c : chunks) samples += c.size();
    return absl::OkStatus();
  }
  uint64_t samples = 0;
};

// 1000 series x 720 samples (2h at a 10s interval) per block.
std::vector<ListSeries> MakeBlock(int64_t mint) {
  std::vector<ListSeries> out;
  for (int i = 0; i < 1000; ++i) {
    std::vector<Sample> s;
    for (int j = 0; j < 720; ++j) s.push_back({mint + j * 10000, static_cast<double>(i * j)});
    out.emplace_back(Labels{{"__name__", "m"}, {"i", std::to_string(100000 + i)}}, std::move(s));
  }
  return out;
}

void BM_CompactSeries_ThreeBlocks(benchmark::State& state) {
  std::vector<std::vector<ListSeries>> blocks = {MakeBlock(0), MakeBlock(7200000),
                                                 MakeBlock(14400000)};
  uint64_t samples = 0;
  for (auto _ : state) {
    // Copying the generated inputs is not part of the measurement.
    state.PauseTiming();
    std::vector<std::unique_ptr<storage::SeriesSet>> sets;
    for (const auto& b : blocks) sets.push_back(std::make_unique<ListSeriesSet>(b));
    state.ResumeTiming();
    CountingSink sink;
    auto stats = CompactSeries(std::move(sets), &sink);
    benchmark::DoNotOptimize(stats);
    samples += sink.samples;
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
}
BENCHMARK(BM_CompactSeries_ThreeBlocks)->Unit(benchmark::kMillisecond);

void BM_DeletedSamplesIterator(benchmark::State& state) {
  std::vector<Sample> s;
  for (int j = 0; j < 100000; ++j) s.push_back({j * 10, 1.0});
  Intervals deleted;
  for (int64_t t = 0; t < 1000000; t += 10000) deleted.push_back({t, t + 999});  // 10%
  uint64_t n = 0;
  for (auto _ : state) {
    DeletedSamplesIterator it(std::make_unique<storage::testing::ListSampleIterator>(&s), deleted);
    while (it.Next()) benchmark::DoNotOptimize(it.v());
    n += s.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(BM_DeletedSamplesIterator);

}  // namespace
}  // namespace cairn::compact
