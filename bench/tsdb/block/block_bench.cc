// Block size and read speed (issue #2): 10k series x 2 h at a 15 s interval with a few
// ms of jitter, a realistic mix of counters (growing by varying amounts, occasional
// resets), gauges with 2-3 decimals and constants. The XOR-only block is byte-for-byte
// the format Prometheus 2.42 writes (promtool reads it, tests/tsdb/block), so its size
// stands for Prometheus'; the default block adds packed decimal chunks.
//
// Counters: bytes_per_sample (chunks + index over samples), vs_prometheus (default
// block / XOR-only block); samples_per_second for Select + iterate.
#include <stdlib.h>

#include <map>
#include <random>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "tsdb/block/block.h"
#include "tsdb/block/block_writer.h"
#include "tsdb/block/ulid.h"

namespace cairn::block {
namespace {

constexpr int64_t kStart = 1700000000000LL;

// Series i: kind i%3 (counter, gauge, constant); labels like a node exporter's.
void GenerateSeries(int i, std::mt19937_64* rng, std::vector<std::vector<Sample>>* chunks) {
  chunks->assign(4, {});
  int kind = i % 3;
  double v = static_cast<double>((*rng)() % 10000);
  int64_t t = kStart;
  for (int k = 0; k < 480; ++k) {
    int64_t ts = t + static_cast<int64_t>((*rng)() % 7) - 3;
    t += 15000;
    if (kind == 0) {
      v = ((*rng)() % 1000 == 0) ? 0 : v + static_cast<double>((*rng)() % 2000);
    } else if (kind == 1) {
      v = static_cast<double>(static_cast<int64_t>((*rng)() % 1000000)) / 1000.0;
    }
    (*chunks)[k / 120].push_back({ts, v});
  }
}

std::string WriteTestBlock(const std::string& root, int num_series, bool packed) {
  std::string ulid = NewUlid(1);
  std::string dir = root + "/" + ulid;
  auto w = BlockWriter::Create(io::FileSystem::Default(), dir,
                               BlockWriterOptions{.packed_chunks = packed});
  std::vector<Labels> labels;
  for (int i = 0; i < num_series; ++i) {
    labels.push_back(Labels{{"__name__", absl::StrFormat("node_metric_%d", i % 200)},
                            {"instance", absl::StrFormat("host-%04d:9100", i / 200)},
                            {"job", "node"}});
  }
  std::vector<int> order(num_series);
  for (int i = 0; i < num_series; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return labels[a] < labels[b]; });
  std::vector<std::vector<Sample>> chunks;
  for (int i : order) {
    std::mt19937_64 rng(i);
    GenerateSeries(i, &rng, &chunks);
    if (!(*w)->AddSeriesSamples(labels[i], chunks).ok()) abort();
  }
  BlockMeta meta;
  meta.ulid = ulid;
  meta.min_time = kStart - 10;
  meta.max_time = kStart + 2 * 3600 * 1000;
  if (!(*w)->Finish(meta).ok()) abort();
  return dir;
}

class BenchDir {
 public:
  BenchDir() {
    char tmpl[] = "/tmp/cairn_block_bench_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) abort();
    path_ = tmpl;
  }
  ~BenchDir() { io::FileSystem::Default()->RemoveAll(path_).IgnoreError(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void BM_BlockSize(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  double packed_bps = 0, xor_bps = 0;
  for (auto _ : state) {
    BenchDir d;
    auto packed = Block::Open(io::FileSystem::Default(), WriteTestBlock(d.path(), n, true));
    auto plain = Block::Open(io::FileSystem::Default(), WriteTestBlock(d.path(), n, false));
    double samples = static_cast<double>((*packed)->meta().num_samples);
    packed_bps = static_cast<double>((*packed)->size_bytes()) / samples;
    xor_bps = static_cast<double>((*plain)->size_bytes()) / samples;
  }
  state.counters["bytes_per_sample"] = packed_bps;
  state.counters["xor_only_bytes_per_sample"] = xor_bps;
  state.counters["vs_prometheus"] = packed_bps / xor_bps;
}

void BM_BlockSelectIterate(benchmark::State& state) {
  BenchDir d;
  auto b =
      Block::Open(io::FileSystem::Default(), WriteTestBlock(d.path(), 10000, state.range(0) == 1));
  auto m = *Matcher::Create(MatchType::kEqual, "job", "node");
  int64_t samples = 0;
  for (auto _ : state) {
    auto q = (*b)->NewQuerier(kMinTimeMs, kMaxTimeMs);
    auto set = q->Select(kMinTimeMs, kMaxTimeMs, {m});
    double sum = 0;
    while (set->Next()) {
      auto it = set->At().Iterator();
      while (it->Next()) {
        sum += it->v();
        ++samples;
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.counters["samples_per_second"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}

// Arg: number of series.
BENCHMARK(BM_BlockSize)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(1);
// Arg: 1 packed (default), 0 XOR only.
BENCHMARK(BM_BlockSelectIterate)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cairn::block
