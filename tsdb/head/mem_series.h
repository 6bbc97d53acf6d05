// MemSeries: one series held in the head — its labels, the chunks already cut
// (closed, immutable, stored as exactly-sized byte arrays) and the open Gorilla (XOR)
// chunk that takes new samples. A chunk is re-encoded as a packed decimal chunk
// (packed_chunk.h) when it closes, if that is smaller — usually 2-4x — so closed head
// chunks take less of the arena and decode at the packed codec's speed, as blocks do.
//
// Chunk cut policy (as Prometheus' head): a new chunk starts when the open one holds
// kSamplesPerChunk samples, or when the sample falls past the end of the aligned
// chunk-range window (default 2 h) that the open chunk started in, so chunks never
// straddle a block boundary.
//
// Memory: the per-series footprint is what bounds how many active series fit, so
// closed chunks are a unique_ptr<char[]> + size (no spare string capacity) and the
// struct carries no per-series copy of head options.
//
// Thread-safety: mu() guards every mutable field; callers take it (appends, reads,
// truncation). ref() and labels() are immutable and may be read without it.
#ifndef CAIRN_TSDB_HEAD_MEM_SERIES_H_
#define CAIRN_TSDB_HEAD_MEM_SERIES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tsdb/chunk/chunk_encoding.h"
#include "tsdb/chunk/xor_chunk.h"
#include "tsdb/model/labels.h"

namespace cairn::head {

inline constexpr int kSamplesPerChunk = 120;

// A closed chunk: immutable once built.
// A full chunk. Its bytes live in the head's ChunkArena (memory-mapped files) or, when
// there is none or it failed, on the heap (`heap` owns them then).
struct ClosedChunk {
  const char* data = nullptr;
  ChunkEncoding encoding = ChunkEncoding::kXor;
  std::unique_ptr<char[]> heap;
  uint32_t size_bytes = 0;
  uint16_t num_samples = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;

  std::string_view bytes() const { return std::string_view(data, size_bytes); }
};

class ChunkArena;

// A borrowed view of one chunk, as handed to the block writer.
struct ChunkView {
  int64_t min_time;
  int64_t max_time;
  uint16_t num_samples;
  std::string_view bytes;
  ChunkEncoding encoding;
};

enum class AppendCheck {
  kOk,          // append it
  kIdentical,   // same timestamp and value bits as the newest sample: drop silently
  kOutOfOrder,  // older than the newest sample
  kDuplicate,   // same timestamp as the newest sample, different value
};

class MemSeries {
 public:
  MemSeries(uint64_t ref, Labels labels) : ref_(ref), labels_(std::move(labels)) {}
  MemSeries(const MemSeries&) = delete;
  MemSeries& operator=(const MemSeries&) = delete;

  uint64_t ref() const { return ref_; }
  const Labels& labels() const { return labels_; }
  absl::Mutex& mu() const ABSL_LOCK_RETURNED(mu_) { return mu_; }

  // Whether (t, v) may follow the newest sample.
  AppendCheck Check(int64_t t, double v) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Appends (t, v), cutting a new chunk first when the policy says so. Returns whether
  // a chunk was cut. REQUIRES: Check(t, v) == kOk.
  bool Append(int64_t t, double v, int64_t chunk_range_ms, ChunkArena* arena = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  bool empty() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_.empty() && open_.num_samples() == 0;
  }
  int64_t min_time() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t max_time() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return last_t_.load(std::memory_order_relaxed);
  }
  // Whether `t` is past the newest sample, read without mu_: the newest timestamp
  // never decreases, so a true answer can only go stale by a racing append, which
  // the check under mu_ at commit time catches. The append fast path uses it to
  // skip a lock per sample.
  bool NewerThanNewest(int64_t t) const { return t > last_t_.load(std::memory_order_relaxed); }
  size_t num_chunks() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_.size() + (open_.num_samples() > 0 ? 1 : 0);
  }
  const std::vector<ClosedChunk>& closed_chunks() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_;
  }
  const XorChunkEncoder& open_chunk() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return open_; }

  // Calls fn(bytes, encoding, in_arena) for every chunk (closed, then the open one) that
  // overlaps [mint, maxt], in time order. in_arena: the bytes are a closed chunk in
  // the ChunkArena, immutable and valid after the lock is released for as long as
  // the arena's files are pinned (chunk_arena.h); otherwise (the open chunk, a chunk
  // kept on the heap) they are valid only under mu_ and must be copied to be kept.
  template <typename Fn>
  void ForEachChunk(int64_t mint, int64_t maxt, Fn&& fn) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const ClosedChunk& c : closed_) {
      if (c.max_time < mint || c.min_time > maxt) continue;
      fn(c.bytes(), c.encoding, c.heap == nullptr);
    }
    if (open_.num_samples() > 0 && open_.max_time() >= mint && open_.min_time() <= maxt) {
      fn(open_.bytes(), ChunkEncoding::kXor, false);
    }
  }

  // Closes the open chunk if it is non-empty (used by the block writer at a cut).
  void CloseOpenChunk(ChunkArena* arena = nullptr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Drops closed chunks whose max_time < min_time_ms, and the open chunk too if it
  // lies wholly before. Returns the number of chunks dropped.
  int TruncateBefore(int64_t min_time_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Removes the samples with mint_ms <= t <= maxt_ms: chunks overlapping the range are
  // re-encoded without them (dropped when left empty). The newest sample stays what
  // Check() compares against, so a deletion never lets an older sample in, as with
  // Prometheus' tombstones. Returns the change in the number of chunks (<= 0).
  int DeleteRange(int64_t mint_ms, int64_t maxt_ms, ChunkArena* arena = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Heap bytes owned by this series (labels, chunk storage), for memory accounting.
  size_t HeapBytes() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Whether the series record is in the WAL; guarded by the head's WAL mutex, not mu_.
  bool logged = false;

 private:
  const uint64_t ref_;
  const Labels labels_;
  mutable absl::Mutex mu_;
  std::vector<ClosedChunk> closed_ ABSL_GUARDED_BY(mu_);
  XorChunkEncoder open_ ABSL_GUARDED_BY(mu_);
  int64_t open_end_ ABSL_GUARDED_BY(mu_) = 0;  // exclusive end of the open chunk's window
  std::atomic<int64_t> last_t_{INT64_MIN};     // written under mu_ only; never decreases
  double last_v_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cairn::head

#endif  // CAIRN_TSDB_HEAD_MEM_SERIES_H_
