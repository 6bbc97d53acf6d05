// Head: the in-memory block that takes every new sample. It owns the series map
// (stripe_series.h), the label postings used to select series, and the WAL that makes
// committed samples durable; it is appendable (head_appender.cc) and queryable
// (head_querier.cc) and, at block cuts, yields its chunks in label order for the block
// writer (ForEachSeriesChunks) and drops them (Truncate).
//
// Durability: Commit() logs new series and then the batch's samples in one WAL write,
// fsyncs it, and only then makes the samples visible. Open() replays the last
// checkpoint and the segments after it, restoring the series and samples.
//
// Thread-safety: all methods may run concurrently, except that Truncate() must not run
// while an Appender holds uncommitted samples for series it may remove (the DB cuts
// blocks from one background thread that excludes appenders, as Prometheus does).
//
//   auto head = Head::Open(fs, /*wal_dir=*/"", HeadOptions{});
//   auto app = (*head)->NewAppender();
//   app->Append(0, labels, t, v); app->Commit();
#ifndef CAIRN_TSDB_HEAD_HEAD_H_
#define CAIRN_TSDB_HEAD_HEAD_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tsdb/head/chunk_arena.h"
#include "tsdb/head/mem_series.h"
#include "tsdb/head/stripe_series.h"
#include "tsdb/io/file_system.h"
#include "tsdb/storage/append_error.h"
#include "tsdb/storage/appender.h"
#include "tsdb/storage/querier.h"
#include "tsdb/wal/wal.h"

namespace cairn::head {

struct HeadOptions {
  int64_t chunk_range_ms = 2 * 3600 * 1000;
  size_t num_stripes = StripeSeries::kDefaultStripes;
  wal::WalOptions wal_options;
  // Samples older than this are refused, and skipped on WAL replay: the DB sets it to
  // the end of its newest block, which already holds them.
  int64_t min_valid_time = INT64_MIN;
  // Where full chunks are kept out of the heap (chunk_arena.h); empty: on the heap.
  std::string chunk_dir;
  // Size of each file there (tests use small ones to see files roll and go).
  size_t chunk_file_size = ChunkArena::kDefaultFileSize;
  // Most series the head may hold; 0: no limit. An append that would create a series
  // beyond it is refused (RejectReason::kLimit, kResourceExhausted) while series
  // already in the head keep taking samples. WAL replay is not limited: it restores
  // series that were accepted before. Concurrent appenders may overshoot the limit by
  // at most one series each (the check and the creation are not one atomic step).
  size_t max_series = 0;
  // How far an appender's Commit() takes its batch unless the appender is told
  // otherwise (storage/appender.h).
  storage::CommitDurability commit_durability = storage::CommitDurability::kFsync;
};

class Head final : public storage::Appendable, public storage::Queryable {
 public:
  // Opens a head; `wal_dir` empty means no WAL (tests, benchmarks). Replays an
  // existing WAL (checkpoint, then segments) first, then opens it for writing.
  static absl::StatusOr<std::unique_ptr<Head>> Open(io::FileSystem* fs, std::string wal_dir,
                                                    HeadOptions options);
  ~Head() override;

  std::unique_ptr<storage::Appender> NewAppender() override;
  absl::StatusOr<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  // Deletes the samples with mint_ms <= t <= maxt_ms of every series matching all of
  // `matchers` (Prometheus' rules: matchers that match the empty string select the
  // series lacking the label). The deletion is logged to the WAL as a tombstones record
  // (one interval per series that had samples in the range) and fsynced before the
  // chunks are rewritten, so it survives a crash and replays in order with the samples.
  // A sample committed concurrently inside the range may survive in memory but not a
  // replay (it was logged before the tombstone); deletions are an admin action, rarely
  // raced with writes to the same range.
  // REQUIRES: no concurrent Truncate() (the DB serialises both with its maintenance).
  absl::Status Delete(int64_t mint_ms, int64_t maxt_ms, const std::vector<Matcher>& matchers);

  // Drops every chunk wholly before min_time_ms, removes series left empty (and their
  // postings), refuses later samples older than min_time_ms (kTooOld), and
  // checkpoints the WAL up to the current segment, deleting the segments before it.
  absl::Status Truncate(int64_t min_time_ms);
  // fsyncs what commits with CommitDurability::kOsBuffer left unsynced (cheap when
  // nothing is). No-op without a WAL.
  absl::Status SyncWal();
  // The WAL's counters; zero without a WAL.
  wal::WalStats wal_stats() const;

  // Refuses (kTooOld) samples older than `t` from now on, and returns once every
  // commit that might still add older samples has finished. The DB calls it before
  // writing [.., t) into a block, so nothing lands in that range after it was read.
  void FenceAppendsBefore(int64_t t);
  // The oldest timestamp an append may have: the truncation bound, and no more than
  // half a chunk range behind the newest sample (Prometheus' appendable window), so
  // the part of the head about to become a block no longer changes.
  int64_t AppendableMinValidTime() const;

  // For the block writer: calls fn for each series, in label order, that has chunks
  // wholly within [mint, maxt), with those chunks (the open chunk too once it lies
  // there: chunk windows are aligned to the chunk range, so after
  // FenceAppendsBefore(maxt) it cannot grow). Chunks are borrowed for the call.
  absl::Status ForEachSeriesChunks(
      int64_t mint, int64_t maxt,
      const std::function<absl::Status(const Labels&, const std::vector<ChunkView>&)>& fn);

  // Stats.
  size_t num_series() const { return series_.size(); }
  int64_t num_chunks() const { return num_chunks_.load(std::memory_order_relaxed); }
  int64_t min_time() const { return min_time_.load(std::memory_order_relaxed); }
  int64_t max_time() const { return max_time_.load(std::memory_order_relaxed); }
  int64_t min_valid_time() const { return min_valid_time_.load(std::memory_order_relaxed); }
  int64_t samples_appended() const { return samples_appended_.load(std::memory_order_relaxed); }
  int64_t rejected(storage::RejectReason r) const {
    return rejected_[static_cast<int>(r)].load(std::memory_order_relaxed);
  }
  // Sum of MemSeries::HeapBytes over all series.
  size_t SeriesHeapBytes() const;

  const HeadOptions& options() const { return options_; }

 private:
  friend class HeadAppender;
  friend class HeadQuerier;

  Head(io::FileSystem* fs, std::string wal_dir, HeadOptions options);
  absl::Status Replay();

  void CountReject(storage::RejectReason r, int64_t n = 1) {
    rejected_[static_cast<int>(r)].fetch_add(n, std::memory_order_relaxed);
  }
  // Widens [min_time_, max_time_] to include [mint, maxt].
  void UpdateTimeRange(int64_t mint, int64_t maxt);
  // Adds a new series' labels to the postings.
  void IndexSeries(const MemSeries& s);
  // Applies a logged deletion to one series; returns the change in chunk count.
  int DeleteFromSeries(MemSeries* s, int64_t mint_ms, int64_t maxt_ms);
  // Refs of the series matching `matchers`, sorted.
  absl::StatusOr<std::vector<uint64_t>> SelectRefs(const std::vector<Matcher>& matchers) const;

  io::FileSystem* const fs_;
  const std::string wal_dir_;
  const HeadOptions options_;

  // Off-heap storage of closed chunks; null when options_.chunk_dir is empty. Declared
  // before series_ so that it outlives the chunks pointing into it.
  std::unique_ptr<ChunkArena> arena_;
  StripeSeries series_;

  // Held shared by queriers while they use MemSeries pointers and arena chunk pointers
  // taken from the series (HeadQuerier::Select), and exclusively by Truncate() while it
  // frees series and releases arena files. So a querier that pins the arena's files
  // while holding it keeps every chunk it saw mapped (chunk_arena.h), and no series is
  // freed under it. Lock order: before the series map's stripes and series' mutexes.
  mutable absl::Mutex reclaim_mu_;

  // Label postings: name -> value -> sorted refs. A stand-in for index::MemPostings
  // until that module lands. Read by SelectRefs() and, for label names and values
  // without matchers, by HeadQuerier. Lists left empty are erased.
  using ValuePostings = absl::flat_hash_map<std::string, std::vector<uint64_t>>;
  mutable absl::Mutex postings_mu_;
  absl::flat_hash_map<std::string, ValuePostings> postings_ ABSL_GUARDED_BY(postings_mu_);

  // Serializes WAL writes so a series record always precedes samples that use it;
  // also guards MemSeries::logged.
  mutable absl::Mutex wal_mu_;
  std::unique_ptr<wal::Wal> wal_ ABSL_GUARDED_BY(wal_mu_);

  // Held shared by Commit() while it applies samples; FenceAppendsBefore() takes it
  // exclusively to wait for commits that checked an older bound.
  absl::Mutex commit_fence_;

  std::atomic<int64_t> num_chunks_{0};
  std::atomic<int64_t> min_time_{INT64_MAX};
  std::atomic<int64_t> max_time_{INT64_MIN};
  std::atomic<int64_t> min_valid_time_{INT64_MIN};
  std::atomic<int64_t> samples_appended_{0};
  std::array<std::atomic<int64_t>, storage::kRejectReasonCount> rejected_{};
};

}  // namespace cairn::head

#endif  // CAIRN_TSDB_HEAD_HEAD_H_
