// Gorilla chunk encode/decode speed and size on a realistic mix (issue #2): counters
// growing by varying amounts with occasional resets, gauges with 2-3 decimals,
// constants; 15 s interval with a few ms of jitter; 120 samples per chunk.
#include <algorithm>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "tsdb/chunk/chunk_kernels.h"
#include "tsdb/chunk/packed_chunk.h"
#include "tsdb/chunk/xor_chunk.h"
#include "tsdb/model/sample.h"

namespace cairn {
namespace {

enum Kind { kCounter, kGauge, kConstant, kMix };

std::vector<std::vector<Sample>> MakeChunks(Kind kind, int chunks) {
  std::mt19937_64 rng(1);
  std::vector<std::vector<Sample>> out(chunks);
  for (int c = 0; c < chunks; ++c) {
    Kind k = kind == kMix ? static_cast<Kind>(c % 3) : kind;
    int64_t t = 1700000000000LL;
    double v = static_cast<double>(rng() % 1000);
    for (int i = 0; i < 120; ++i) {
      t += 15000 + static_cast<int64_t>(rng() % 7) - 3;
      switch (k) {
        case kCounter:
          v = (rng() % 500 == 0) ? 0 : v + static_cast<double>(rng() % 100);
          break;
        case kGauge:
          v = static_cast<double>(static_cast<int64_t>(rng() % 100000)) / 100.0;
          break;
        default:
          break;
      }
      out[c].push_back({t, v});
    }
  }
  return out;
}

// 256 chunks of `kind`, encoded XOR or packed; *samples gets their sample count.
std::vector<std::string> EncodeAll(Kind kind, bool packed, size_t* samples) {
  std::vector<std::string> encoded;
  for (const auto& c : MakeChunks(kind, 256)) {
    if (packed) {
      encoded.push_back(*EncodePackedChunk(c));
    } else {
      XorChunkEncoder enc;
      for (const Sample& s : c) enc.Append(s.t, s.v);
      encoded.emplace_back(enc.bytes());
    }
    *samples += c.size();
  }
  return encoded;
}

void BM_Encode(benchmark::State& state) {
  auto chunks = MakeChunks(static_cast<Kind>(state.range(0)), 256);
  XorChunkEncoder enc;
  size_t bytes = 0, samples = 0;
  for (auto _ : state) {
    bytes = samples = 0;
    for (const auto& c : chunks) {
      enc.Reset();
      for (const Sample& s : c) enc.Append(s.t, s.v);
      bytes += enc.size_bytes();
      samples += c.size();
      benchmark::DoNotOptimize(enc.bytes().data());
    }
  }
  state.SetItemsProcessed(state.iterations() * samples);
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / samples;
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(state.iterations() * samples),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert, benchmark::Counter::kIs1000);
}

void BM_Decode(benchmark::State& state) {
  size_t samples = 0;
  const std::vector<std::string> encoded =
      EncodeAll(static_cast<Kind>(state.range(0)), false, &samples);
  XorChunkIterator it;
  for (auto _ : state) {
    double sum = 0;
    for (const auto& e : encoded) {
      it.Reset(e);
      while (it.Next()) sum += it.v();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * samples);
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(state.iterations() * samples),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert, benchmark::Counter::kIs1000);
}

// Decoding through NextBatch, as the query engine reads chunks. Only the last sample
// of each batch is consumed: summing every value would time a chain of dependent
// floating-point adds (4 cycles each), not the decoder.
template <typename Iterator>
void DecodeBatched(benchmark::State& state, const std::vector<std::string>& encoded,
                   size_t samples) {
  Iterator it;
  Sample buf[128];
  for (auto _ : state) {
    for (const auto& e : encoded) {
      it.Reset(e);
      size_t k;
      do {
        k = it.NextBatch(buf, 128);
        benchmark::DoNotOptimize(buf[k > 0 ? k - 1 : 0]);
        benchmark::ClobberMemory();
      } while (k == 128);
    }
  }
  state.SetItemsProcessed(state.iterations() * samples);
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(state.iterations() * samples),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert, benchmark::Counter::kIs1000);
}

void BM_DecodeBatch(benchmark::State& state) {
  size_t samples = 0;
  const std::vector<std::string> encoded =
      EncodeAll(static_cast<Kind>(state.range(0)), false, &samples);
  DecodeBatched<XorChunkIterator>(state, encoded, samples);
}

void BM_PackedDecodeBatch(benchmark::State& state) {
  size_t samples = 0;
  const std::vector<std::string> encoded =
      EncodeAll(static_cast<Kind>(state.range(0)), true, &samples);
  DecodeBatched<PackedChunkIterator>(state, encoded, samples);
}

// The packed batch decoder with each fast-path kernel this CPU runs (0 plain x86-64,
// 1 BMI2, 2 AVX-512; BM_PackedDecodeBatch uses the best), on the mix.
void BM_PackedDecodeBatchKernel(benchmark::State& state) {
  const auto kernel = static_cast<ChunkKernel>(state.range(0));
  const std::vector<ChunkKernel> supported = SupportedChunkKernels();
  if (std::find(supported.begin(), supported.end(), kernel) == supported.end()) {
    state.SkipWithError("kernel not supported by this CPU");
    return;
  }
  size_t samples = 0;
  const std::vector<std::string> encoded = EncodeAll(kMix, true, &samples);
  UseChunkKernel(kernel);
  DecodeBatched<PackedChunkIterator>(state, encoded, samples);
  UseChunkKernel(supported.back());
}

// The block codec (packed decimal chunks) on the same data.
void BM_PackedEncode(benchmark::State& state) {
  auto chunks = MakeChunks(static_cast<Kind>(state.range(0)), 256);
  size_t bytes = 0, samples = 0;
  for (auto _ : state) {
    bytes = samples = 0;
    for (const auto& c : chunks) {
      auto enc = EncodePackedChunk(c);
      bytes += enc->size();
      samples += c.size();
      benchmark::DoNotOptimize(enc->data());
    }
  }
  state.SetItemsProcessed(state.iterations() * samples);
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / samples;
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(state.iterations() * samples),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert, benchmark::Counter::kIs1000);
}

void BM_PackedDecode(benchmark::State& state) {
  size_t samples = 0;
  const std::vector<std::string> encoded =
      EncodeAll(static_cast<Kind>(state.range(0)), true, &samples);
  PackedChunkIterator it;
  for (auto _ : state) {
    double sum = 0;
    for (const auto& e : encoded) {
      it.Reset(e);
      while (it.Next()) sum += it.v();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * samples);
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(state.iterations() * samples),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert, benchmark::Counter::kIs1000);
}

// Arg: 0 counter, 1 gauge, 2 constant, 3 mix.
BENCHMARK(BM_Encode)->DenseRange(0, 3);
BENCHMARK(BM_Decode)->DenseRange(0, 3);
BENCHMARK(BM_PackedEncode)->DenseRange(0, 3);
BENCHMARK(BM_PackedDecode)->DenseRange(0, 3);
BENCHMARK(BM_DecodeBatch)->DenseRange(0, 3);
BENCHMARK(BM_PackedDecodeBatch)->DenseRange(0, 3);
BENCHMARK(BM_PackedDecodeBatchKernel)->DenseRange(0, 2);

}  // namespace
}  // namespace cairn
