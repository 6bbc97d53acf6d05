// Head append throughput and memory per active series.
//
// BM_HeadAppend: 100k active series, refs cached (as the scrape loop and remote-write
// series cache do), batches of 1000 samples per Commit like a remote-write request.
// Threads split the series, so 2 threads measure contention on the head, not series.
// wal:1 logs each batch (zstd-compressed record) and writes it to the WAL file before
// Commit() returns (kill -9 durability, the server's default); wal:2 also fsyncs it
// (--storage.tsdb.wal-fsync-on-commit), one fsync per 1000 samples.
//
// BM_HeadAppendByLabels: as a remote-write request, which names every series by its
// labels (ref 0): one series lookup per sample, no WAL.
//
// BM_HeadMemoryPerSeries: RSS growth (/proc/self/statm) for 100k series x 480 samples
// (2 h at a 15 s scrape), reported as bytes_per_series.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "tsdb/head/head.h"
#include "tsdb/io/file_system.h"

namespace cairn::head {
namespace {

// Debian's Abseil is a debug build: absl::Mutex then records every lock in a
// deadlock-detection graph, which cost 60% of append time in perf (GraphCycles::GetId).
// Production binaries turn it off the same way.
const bool kNoDeadlockDetection = [] {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}();

constexpr int kSeries = 100000;
constexpr int kBatch = 1000;

Labels SeriesLabels(int i) {
  return Labels{{"__name__", "http_requests_total"},
                {"instance", "host-" + std::to_string(i / 100) + ":9100"},
                {"job", "api"},
                {"handler", "/api/v1/h" + std::to_string(i % 100)}};
}

struct Fixture {
  std::unique_ptr<Head> head;
  std::vector<Labels> labels;
  std::vector<storage::SeriesRef> refs;
};

// wal: 0 = no WAL, 1 = WAL in a temp dir (one Log + one write per Commit), 2 = the same
// plus one fsync per Commit.
Fixture* GetFixture(int wal) {
  static Fixture* fixtures[3] = {nullptr, nullptr, nullptr};
  static std::once_flag once[3];
  std::call_once(once[wal], [wal] {
    auto* f = new Fixture;
    std::string dir;
    if (wal) {
      dir = "/tmp/head_bench_wal_" + std::to_string(getpid()) + "_" + std::to_string(wal);
      std::filesystem::remove_all(dir);
      // Removed when the benchmark exits (the fixture itself is never destroyed).
      struct RemoveAtExit {
        std::string dir;
        ~RemoveAtExit() { std::filesystem::remove_all(dir); }
      };
      static RemoveAtExit cleanup[3];
      cleanup[wal].dir = dir;
    }
    HeadOptions opts;
    opts.commit_durability =
        wal == 2 ? storage::CommitDurability::kFsync : storage::CommitDurability::kOsBuffer;
    f->head = std::move(*Head::Open(io::FileSystem::Default(), dir, opts));
    auto app = f->head->NewAppender();
    for (int i = 0; i < kSeries; ++i) {
      f->labels.push_back(SeriesLabels(i));
      f->refs.push_back(*app->Append(0, f->labels.back(), 0, 0));
    }
    (void)app->Commit();
    fixtures[wal] = f;
  });
  return fixtures[wal];
}

// Appends batches of kBatch samples, committing each, to the fixture's series; by
// their refs, or with ref 0 (a lookup by labels per sample) when `by_labels`.
void AppendBatches(benchmark::State& state, Fixture* f, bool by_labels) {
  const int threads = state.threads();
  const int me = state.thread_index();
  auto app = f->head->NewAppender();
  // Each thread owns series me, me+threads, ...; all threads start just after the
  // head's newest sample and advance at the same pace, so every sample stays inside
  // the head's appendable window (the newest minus half a chunk range).
  int64_t t = f->head->max_time() + 15000;
  int next = me;
  double v = 0;
  int64_t rejected = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      const storage::SeriesRef ref = by_labels ? 0 : f->refs[next];
      rejected += !app->Append(ref, f->labels[next], t, v).ok();
      next += threads;
      if (next >= kSeries) {
        next = me;
        t += 15000;
        v += 1;
      }
    }
    if (!app->Commit().ok()) state.SkipWithError("commit failed");
  }
  if (rejected > 0) state.SkipWithError("samples were rejected");
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_HeadAppend(benchmark::State& state) {
  AppendBatches(state, GetFixture(static_cast<int>(state.range(0))), false);
}

void BM_HeadAppendByLabels(benchmark::State& state) { AppendBatches(state, GetFixture(0), true); }
BENCHMARK(BM_HeadAppendByLabels)->UseRealTime();

BENCHMARK(BM_HeadAppend)
    ->ArgName("wal")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

int64_t RssBytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return int64_t{resident} * sysconf(_SC_PAGESIZE);
}

void BM_HeadMemoryPerSeries(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<Labels> labels;
    labels.reserve(kSeries);
    for (int i = 0; i < kSeries; ++i) labels.push_back(SeriesLabels(i));
    int64_t before = RssBytes();
    HeadOptions opts;
    // Arg 1: full chunks in the off-heap arena, as the DB runs the head.
    if (state.range(0) == 1)
      opts.chunk_dir = "/tmp/cairn_head_bench_chunks_" + std::to_string(getpid());
    auto head = std::move(*Head::Open(nullptr, "", opts));
    std::vector<storage::SeriesRef> refs(kSeries, 0);
    auto app = head->NewAppender();
    for (int s = 0; s < 480; ++s) {
      int64_t t = int64_t{1700000000000} + s * 15000;
      for (int i = 0; i < kSeries; ++i) {
        // Counters growing by small integers, a typical exporter shape.
        double v = 1000.0 + 3 * s + ((s + i) * 7919 % 5);
        auto ref = app->Append(refs[i], labels[i], t, v);
        if (ref.ok()) refs[i] = *ref;
        if (i % kBatch == kBatch - 1) (void)app->Commit();
      }
      (void)app->Commit();
    }
    int64_t after = RssBytes();
    state.counters["bytes_per_series"] = static_cast<double>(after - before) / kSeries;
    state.counters["series_heap_bytes_per_series"] =
        static_cast<double>(head->SeriesHeapBytes()) / kSeries;
    state.counters["chunks"] = static_cast<double>(head->num_chunks());
    head.reset();
    if (!opts.chunk_dir.empty()) std::filesystem::remove_all(opts.chunk_dir);
  }
  state.SetItemsProcessed(state.iterations() * int64_t{kSeries} * 480);
}
BENCHMARK(BM_HeadMemoryPerSeries)
    ->ArgName("arena")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cairn::head
