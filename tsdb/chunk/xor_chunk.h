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

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tsdb/chunk/bit_stream.h"
#include "tsdb/chunk/sample_iterator.h"

namespace cairn {

class XorChunkEncoder {
 public:
  XorChunkEncoder() { Reset(); }

  void Reset();
  // REQUIRES: t >= max_time() (callers refuse out-of-order samples);
  // num_samples() < 65535.
  void Append(int64_t t, double v);

  uint16_t num_samples() const { return w_.GetBigEndian16(0); }
  int64_t min_time() const { return min_time_; }  // undefined when empty
  int64_t max_time() const { return t_; }         // undefined when empty
  // A complete, decodable encoding of everything appended so far.
  std::string_view bytes() const { return w_.bytes(); }
  size_t size_bytes() const { return w_.bytes().size(); }

 private:
  // REQUIRES: n = num_samples() < 2.
  void AppendHead(int64_t t, double v, uint16_t n);
  // Records (t, bits) as the newest sample and patches the header's count to n + 1.
  void Appended(int64_t t, uint64_t bits, uint16_t n);
  // Writes `prefix_bits` bits of `prefix` (the timestamp field; 0 bits for none), then
  // the value. REQUIRES: prefix_bits <= 24.
  void WriteValue(BitWriter::Run* r, uint64_t bits, uint64_t prefix, int prefix_bits);

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
