#include "tsdb/head/mem_series.h"

#include <bit>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/fixed_array.h"
#include "tsdb/chunk/any_chunk_iterator.h"
#include "tsdb/chunk/packed_chunk.h"
#include "tsdb/head/chunk_arena.h"

namespace cairn::head {
namespace {

// Floor division so negative timestamps align to the window they fall in.
int64_t WindowEnd(int64_t t, int64_t range) {
  int64_t q = t / range;
  if (t % range != 0 && t < 0) --q;
  return (q + 1) * range;
}

// The closed form of a full encoder's chunk: packed when that is smaller, else its
// XOR bytes. Copied into the arena when there is one, else onto the heap.
ClosedChunk MakeClosedChunk(const XorChunkEncoder& enc, ChunkArena* arena) {
  std::string_view b = enc.bytes();
  ClosedChunk c;
  std::optional<std::string> packed;
  {
    // The head's chunks are at most kSamplesPerChunk samples; re-encoded ones fewer.
    absl::FixedArray<Sample, kSamplesPerChunk> samples(enc.num_samples());
    XorChunkIterator it(b);
    if (it.NextBatch(samples.data(), samples.size()) == samples.size()) {
      packed = EncodePackedChunk(samples);
    }
  }
  if (packed.has_value() && packed->size() < b.size()) {
    b = *packed;
    c.encoding = ChunkEncoding::kPacked;
  }
  c.data = arena != nullptr ? arena->Add(b, enc.max_time()) : nullptr;
  if (c.data == nullptr) {
    c.heap.reset(new char[b.size()]);
    std::memcpy(c.heap.get(), b.data(), b.size());
    c.data = c.heap.get();
  }
  c.size_bytes = static_cast<uint32_t>(b.size());
  c.num_samples = enc.num_samples();
  c.min_time = enc.min_time();
  c.max_time = enc.max_time();
  return c;
}

// Re-encodes the samples of `bytes` outside [mint, maxt] into `out` (reset first).
// Chunks in the head were encoded by this process, so decoding cannot fail short of
// memory corruption; a decode error keeps the samples read before it.
void ReencodeWithout(std::string_view bytes, ChunkEncoding encoding, int64_t mint, int64_t maxt,
                     XorChunkEncoder* out) {
  std::vector<std::pair<int64_t, double>> keep;
  AnyChunkIterator it;
  it.Reset(encoding, bytes);
  while (it.Next()) {
    if (it.t() < mint || it.t() > maxt) keep.emplace_back(it.t(), it.v());
  }
  out->Reset();
  for (const auto& [t, v] : keep) out->Append(t, v);
}

}  // namespace

AppendCheck MemSeries::Check(int64_t t, double v) const {
  const int64_t last_t = last_t_.load(std::memory_order_relaxed);
  if (last_t == INT64_MIN || t > last_t) return AppendCheck::kOk;
  if (t < last_t) return AppendCheck::kOutOfOrder;
  return std::bit_cast<uint64_t>(v) == std::bit_cast<uint64_t>(last_v_) ? AppendCheck::kIdentical
                                                                        : AppendCheck::kDuplicate;
}

bool MemSeries::Append(int64_t t, double v, int64_t chunk_range_ms, ChunkArena* arena) {
  bool cut = false;
  if (open_.num_samples() > 0 && (open_.num_samples() >= kSamplesPerChunk || t >= open_end_)) {
    CloseOpenChunk(arena);
    cut = true;
  }
  if (open_.num_samples() == 0) open_end_ = WindowEnd(t, chunk_range_ms);
  open_.Append(t, v);
  last_t_.store(t, std::memory_order_relaxed);
  last_v_ = v;
  return cut;
}

void MemSeries::CloseOpenChunk(ChunkArena* arena) {
  if (open_.num_samples() == 0) return;
  if (closed_.size() == closed_.capacity()) closed_.reserve(closed_.size() + 2);
  closed_.push_back(MakeClosedChunk(open_, arena));
  open_.Reset();
}

int MemSeries::DeleteRange(int64_t mint_ms, int64_t maxt_ms, ChunkArena* arena) {
  if (mint_ms > maxt_ms) return 0;
  int delta = 0;
  XorChunkEncoder enc;
  std::vector<ClosedChunk> kept;
  kept.reserve(closed_.size());
  for (ClosedChunk& c : closed_) {
    if (c.max_time < mint_ms || c.min_time > maxt_ms) {
      kept.push_back(std::move(c));
      continue;
    }
    ReencodeWithout(c.bytes(), c.encoding, mint_ms, maxt_ms, &enc);
    if (enc.num_samples() == 0) {
      --delta;
    } else {
      kept.push_back(MakeClosedChunk(enc, arena));
    }
  }
  closed_ = std::move(kept);
  if (open_.num_samples() > 0 && open_.max_time() >= mint_ms && open_.min_time() <= maxt_ms) {
    // The encoder's buffer is read while a fresh one is filled, then swapped in; the
    // window end (open_end_) stays, so chunk cuts keep their alignment.
    ReencodeWithout(open_.bytes(), ChunkEncoding::kXor, mint_ms, maxt_ms, &enc);
    if (enc.num_samples() == 0) --delta;
    open_ = std::move(enc);
  }
  return delta;
}

int64_t MemSeries::min_time() const {
  if (!closed_.empty()) return closed_.front().min_time;
  if (open_.num_samples() > 0) return open_.min_time();
  return INT64_MAX;
}

int MemSeries::TruncateBefore(int64_t min_time_ms) {
  size_t n = 0;
  while (n < closed_.size() && closed_[n].max_time < min_time_ms) ++n;
  closed_.erase(closed_.begin(), closed_.begin() + n);
  int dropped = static_cast<int>(n);
  if (closed_.empty() && open_.num_samples() > 0 && open_.max_time() < min_time_ms) {
    open_.Reset();
    ++dropped;
  }
  if (closed_.empty()) closed_.shrink_to_fit();
  return dropped;
}

size_t MemSeries::HeapBytes() const {
  size_t n = labels_.ByteSize() > 15 ? labels_.ByteSize() : 0;
  n += closed_.capacity() * sizeof(ClosedChunk);
  for (const ClosedChunk& c : closed_) n += c.heap != nullptr ? c.size_bytes : 0;
  n += open_.size_bytes();
  return n;
}

}  // namespace cairn::head
