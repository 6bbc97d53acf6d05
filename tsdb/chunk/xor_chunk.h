// The Gorilla XOR chunk codec (Pelkonen et al., VLDB 2015), bit-compatible with
// Prometheus' chunkenc.XORChunk: delta-of-delta timestamps in prefix-coded buckets,
// values XORed with their predecessor with leading/trailing-zero windows.
// Layout, bucket widths and a worked example: docs/format/chunks.md.
//
// Pure codec, no I/O. Every float64 bit pattern round-trips exactly (stale NaN,
// other NaN payloads, ±Inf, -0.0, subnormals), because values are handled as bits.
//
// Chunk-cut policy (the head's contract, not enforced here): the head cuts a chunk at
// 120 samples or when a sample crosses the chunk's 2 h-aligned time range, as
// Prometheus does; this codec itself holds up to 65535 samples.
//
// Thread-safety: none. The head copies bytes() under its series lock to read an
// open chunk concurrently with appends.
#ifndef CAIRN_TSDB_CHUNK_XOR_CHUNK_H_
#define CAIRN_TSDB_CHUNK_XOR_CHUNK_H_

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/status/statusor.h"
#include "tsdb/chunk/bit_stream.h"
#include "tsdb/chunk/branch_free.h"
#include "tsdb/chunk/sample_iterator.h"

namespace cairn {

class XorChunkEncoder {
 public:
  XorChunkEncoder() { Reset(); }

  void Reset();
  // REQUIRES: t >= max_time() (callers refuse out-of-order samples);
  // num_samples() < 65535.
  //
  // Inline, with the common case (a dod of at most 14 bits, room in the buffer) here
  // and the rest out of line: called, a fifth of its instructions were the call,
  // register saves and spills (BM_Encode).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Append(int64_t t, double v) {
    const uint64_t delta = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
    const uint64_t udod = delta - t_delta_;
    const uint16_t n = num_samples();
    // In the 14-bit bucket -(2^13 - 1) <= dod <= 2^13, i.e. dod + 2^13 - 1 < 2^14.
    // At most 16 timestamp bits and 2 + 5 + 6 + 64 value bits.
    if (n < 2 || udod + 0x1fff > 0x3fff || !w_.HasRoom(16 + 13 + 64)) [[unlikely]] {
      AppendSlow(t, v);
      return;
    }
    // '0' or '10' + 14 bits. With millisecond jitter dod = 0 and the 14-bit bucket
    // alternate at random, so the choice is made without a branch.
    const bool zero = udod == 0;
    const uint64_t field =
        internal::Select(zero, 0, ((uint64_t{0b10} << 14) | (udod & 0x3fff)) << 48);
    const uint64_t bits = std::bit_cast<uint64_t>(v);
    BitWriter::Run r(&w_);  // must not escape, so that it lives in registers
    WriteValue(&r, bits, field, internal::SelectInt(zero, 1, 16));
    r.FinishSealed();  // WriteValue's last write stores the partial byte
    t_delta_ = delta;
    t_ = t;
    v_bits_ = bits;
    w_.SetBigEndian16(0, n + 1);
  }

  uint16_t num_samples() const { return w_.GetBigEndian16(0); }
  int64_t min_time() const { return min_time_; }  // undefined when empty
  int64_t max_time() const { return t_; }         // undefined when empty
  // A complete, decodable encoding of everything appended so far.
  std::string_view bytes() const { return w_.bytes(); }
  size_t size_bytes() const { return w_.bytes().size(); }

 private:
  void AppendSlow(int64_t t, double v);
  // REQUIRES: n = num_samples() < 2.
  void AppendHead(int64_t t, double v, uint16_t n);
  // Records (t, bits) as the newest sample and patches the header's count to n + 1.
  void Appended(int64_t t, uint64_t bits, uint16_t n);
  // Writes the top `prefix_bits` bits of `prefix` (the timestamp field, left-aligned,
  // the rest zero; 0 bits for none), then the value. REQUIRES: prefix_bits <= 24.
  // Inlined into Append so that the Run stays in registers (called, it lives on the
  // stack, and reloading its fields stalls on store forwarding).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void WriteValue(BitWriter::Run* r, uint64_t bits, uint64_t prefix,
                                               int prefix_bits) {
    const uint64_t x = bits ^ v_bits_;
    if (x == 0) {
      // '0': the value repeats. A branch: whether values repeat is a property of the
      // series (constants, idle counters), so it is predicted well. (At most 25 bits:
      // the write stores the partial byte.)
      r->WriteLeft(prefix, prefix_bits + 1);  // the '0' is the zero bit after the prefix
      return;
    }
    // Reuse the previous window ('10' + its bits) when the value fits it, else open a
    // new one ('11' + 5 bits leading + 6 bits length, 64 wrapping to 0, + the bits).
    // Which one is data-dependent and unpredictable on counters and gauges, so both are
    // computed and the choice is made without a branch.
    // (leading_ is 0xff until the first window, which makes `reuse` false.)
    using internal::Select;
    // (64-bit arithmetic throughout: ints would be sign-extended before every use.)
    const uint64_t clz = static_cast<uint64_t>(std::countl_zero(x));
    const uint64_t ctz = static_cast<uint64_t>(std::countr_zero(x));
    const uint64_t new_lead = clz < 32 ? clz : 31;  // the window start is stored in 5 bits
    const bool reuse = (clz >= leading_) & (ctz >= trailing_);
    const uint64_t lead = Select(reuse, leading_, new_lead);
    const uint64_t trail = Select(reuse, trailing_, ctz);
    const uint64_t sig = 64 - lead - trail;
    const uint64_t header =
        Select(reuse, uint64_t{0b10} << 62,
               ((uint64_t{0b11} << 11) | (lead << 6) | (sig & 0x3f)) << 51);  // left-aligned
    const uint64_t header_bits = Select(reuse, 2, 13);
    leading_ = static_cast<uint8_t>(lead);
    trailing_ = static_cast<uint8_t>(trail);
    // The timestamp field and value header (2 to 24 + 13 bits), then the value's
    // bits, left-aligned: x has no set bit above its window (lead <= clz), so x << lead
    // is them followed by zeros.
    r->WriteLeftPair(prefix | (header >> prefix_bits), prefix_bits + static_cast<int>(header_bits),
                     x << lead, static_cast<int>(sig));
  }

  BitWriter w_{2};  // the 2-byte header is the sample count (the only copy)
  int64_t min_time_ = 0;
  int64_t t_ = 0;
  uint64_t t_delta_ = 0;
  uint64_t v_bits_ = 0;
  uint8_t leading_ = 0xff;  // 0xff: no window yet
  uint8_t trailing_ = 0;
};

class XorChunkIterator final : public SampleIterator {
 public:
  XorChunkIterator() = default;
  explicit XorChunkIterator(std::string_view bytes) { Reset(bytes); }

  // Starts over on `bytes`, which must outlive the iteration. Allocates nothing.
  void Reset(std::string_view bytes);

  bool Next() override;
  bool Seek(int64_t t) override;
  size_t NextBatch(Sample* out, size_t max) override;
  int64_t t() const override { return t_; }
  double v() const override;
  absl::Status status() const override;

 private:
  // The decoder's state, copied to locals for NextBatch's loop.
  struct BatchState {
    size_t pos;
    size_t read;
    uint64_t t, t_delta, v_bits;
    int leading, trailing;
    bool window;
  };
  template <bool kCheckEnd>
  static bool DecodeRun(const uint8_t* data, size_t end_bits, size_t stop, BatchState* st,
                        Sample* out, size_t* n);
  bool Fail();

  BitReader r_;
  uint16_t total_ = 0;
  uint16_t read_ = 0;
  int64_t t_ = 0;
  uint64_t t_delta_ = 0;
  uint64_t v_bits_ = 0;
  uint8_t leading_ = 0;
  uint8_t trailing_ = 0;
  uint16_t failed_at_ = 0;
  bool window_ = false;  // a leading/trailing window has been read
  bool corrupt_ = false;
  bool short_header_ = false;
};

// The sample count of an encoding, from its header; kDataLoss when too short.
absl::StatusOr<uint16_t> XorChunkNumSamples(std::string_view bytes);

}  // namespace cairn

#endif  // CAIRN_TSDB_CHUNK_XOR_CHUNK_H_
