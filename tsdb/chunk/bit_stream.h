// BitWriter / BitReader: the MSB-first bit streams under the Gorilla chunk codec.
//
// BitWriter owns its buffer; after Seal() bytes() is a valid stream (the unused low
// bits of the last byte are zero), so a chunk that is still being appended to can be
// copied and decoded. BitReader reads borrowed bytes with unaligned 64-bit
// big-endian loads and never reads past the end: reads beyond it return zero bits
// and set overrun(), which decoders turn into a kDataLoss status.
//
// Thread-safety: none.
#ifndef CAIRN_TSDB_CHUNK_BIT_STREAM_H_
#define CAIRN_TSDB_CHUNK_BIT_STREAM_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace cairn {

namespace internal {
inline uint64_t LoadBigEndian64(const void* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return __builtin_bswap64(w);  // x86-64 and aarch64 hosts are little-endian
}
inline void StoreBigEndian64(void* p, uint64_t w) {
  w = __builtin_bswap64(w);
  std::memcpy(p, &w, 8);
}
}  // namespace internal

class BitWriter {
 public:
  // `header_bytes` zero bytes precede the bit stream; the owner patches them with
  // SetByte() (the XOR chunk keeps its sample count there).
  explicit BitWriter(size_t header_bytes = 0) { Reset(header_bytes); }
  BitWriter(BitWriter&&) noexcept = default;
  BitWriter& operator=(BitWriter&&) noexcept = default;

  void Reset(size_t header_bytes = 0) {
    pos_ = header_bytes;
    acc_ = 0;
    acc_bits_ = 0;
    if (cap_ < header_bytes + kSlackBytes) Grow(header_bytes + kSlackBytes);
    std::memset(buf_.get(), 0, header_bytes + 8);
  }

  // Makes room for `bits` more bits plus a Seal(). Writers call it once per logical
  // record so that WriteBits itself never checks capacity.
  void Reserve(size_t bits) {
    const size_t need = pos_ + bits / 8 + kSlackBytes;
    if (need > cap_) Grow(need);
  }

  // A run of writes with the writer's state held in locals (registers), stored back
  // and sealed by Finish(). Inside a run the compiler need not reload the state after
  // every byte store, which it must do for member fields since a uint8_t store may
  // alias them. At most one run per writer at a time; no other writer calls during it.
  class Run {
   public:
    // REQUIRES: w->Reserve() covers every bit written in this run.
    explicit Run(BitWriter* w)
        : w_(w), buf_(w->buf_.get()), pos_(w->pos_), acc_(w->acc_), acc_bits_(w->acc_bits_) {}
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    // Appends the low `n` bits of `v`, most significant first (higher bits of `v`
    // are ignored). REQUIRES: 1 <= n <= 64.
    //
    // Bits gather in a 64-bit accumulator that is stored as one big-endian word when
    // it fills, so a call costs a few register operations and at most one store.
    void WriteBits(uint64_t v, int n) {
      v &= ~uint64_t{0} >> (64 - n);
      const int free = 64 - acc_bits_;  // 1..64
      if (n < free) {
        acc_ = (acc_ << n) | v;
        acc_bits_ += n;
        return;
      }
      const int rest = n - free;  // 0..63
      // (x << (free - 1)) << 1 is x << free without the undefined shift by 64; bits
      // of acc_ above acc_bits_ (stale, never masked) are shifted out here.
      internal::StoreBigEndian64(buf_ + pos_, ((acc_ << (free - 1)) << 1) | (v >> rest));
      pos_ += 8;
      acc_ = v;
      acc_bits_ = rest;
    }

    // Stores the state back and seals the stream (see BitWriter::Seal).
    void Finish() {
      const uint64_t mask = acc_bits_ == 0 ? 0 : ~uint64_t{0} >> (64 - acc_bits_);
      internal::StoreBigEndian64(buf_ + pos_, ((acc_ & mask) << (63 - acc_bits_)) << 1);
      w_->pos_ = pos_;
      w_->acc_ = acc_;
      w_->acc_bits_ = acc_bits_;
    }

   private:
    BitWriter* const w_;
    uint8_t* const buf_;
    size_t pos_;
    uint64_t acc_;
    int acc_bits_;
  };

  // One-off write: a Run of one call (REQUIRES as Run::WriteBits, and Reserve()).
  void WriteBits(uint64_t v, int n) {
    Run r(this);
    r.WriteBits(v, n);
    r.Finish();
  }
  void WriteBit(bool b) { WriteBits(b ? 1 : 0, 1); }

  // Stores the partial accumulator (zero-padded) after the complete words, so that
  // bytes() is a whole stream. One store.
  void Seal() { Run(this).Finish(); }

  // The header and every written bit, the last byte zero-padded.
  // REQUIRES: Seal() since the last WriteBits.
  std::string_view bytes() const {
    return std::string_view(reinterpret_cast<const char*>(buf_.get()),
                            pos_ + (static_cast<size_t>(acc_bits_) + 7) / 8);
  }
  // Overwrites byte `i` of the header. REQUIRES: i < header_bytes.
  void SetByte(size_t i, uint8_t b) { buf_[i] = b; }
  // Heap bytes held (for memory accounting).
  size_t capacity_bytes() const { return cap_; }

 private:
  // Room kept past pos_: one word for the accumulator's store plus one for Seal().
  static constexpr size_t kSlackBytes = 16;

  // Grows by half: the head keeps one open chunk per series, so slack multiplies by
  // the number of series (a 120-sample gauge chunk of ~1.1 KB sits in 1.6 KB, not 2).
  void Grow(size_t need) {
    size_t cap = cap_ == 0 ? 64 : cap_;
    while (cap < need) cap = (cap + cap / 2 + 7) & ~size_t{7};
    std::unique_ptr<uint8_t[]> b(new uint8_t[cap]);
    if (buf_ != nullptr) std::memcpy(b.get(), buf_.get(), pos_ + 8);
    buf_ = std::move(b);
    cap_ = cap;
  }

  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_ = 0;
  size_t pos_ = 0;    // bytes complete in buf_; the accumulator's bits follow
  uint64_t acc_ = 0;  // the low acc_bits_ bits are the stream's tail
  int acc_bits_ = 0;  // 0..63 between calls
};

class BitReader {
 public:
  BitReader() = default;
  explicit BitReader(std::string_view bytes) { Reset(bytes); }

  void Reset(std::string_view bytes) {
    data_ = reinterpret_cast<const uint8_t*>(bytes.data());
    size_bytes_ = bytes.size();
    size_bits_ = bytes.size() * 8;
    pos_ = 0;
    overrun_ = false;
  }

  bool ReadBit() {
    if (pos_ >= size_bits_) {
      overrun_ = true;
      return false;
    }
    bool b = (data_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1;
    ++pos_;
    return b;
  }

  // Reads `n` bits (n <= 64) as an unsigned number.
  uint64_t ReadBits(int n) {
    if (n > 56) {
      uint64_t hi = ReadBits(n - 32);
      return (hi << 32) | ReadBits(32);
    }
    if (n == 0) return 0;
    if (pos_ + static_cast<size_t>(n) > size_bits_) {
      overrun_ = true;
      pos_ = size_bits_;
      return 0;
    }
    uint64_t v = Peek() >> (64 - n);
    pos_ += static_cast<size_t>(n);
    return v;
  }

  // Counts up to `max` one-bits and consumes them plus the terminating zero (no zero
  // is consumed when `max` ones were read). Used for the Gorilla prefix codes.
  int ReadUnaryPrefix(int max) {
    int ones = std::countl_one(Peek());
    if (ones > max) ones = max;
    size_t consume = static_cast<size_t>(ones + (ones < max ? 1 : 0));
    if (pos_ + consume > size_bits_) {
      overrun_ = true;
      pos_ = size_bits_;
      return 0;
    }
    pos_ += consume;
    return ones;
  }

  bool overrun() const { return overrun_; }

  // For decoders' unchecked batch loops, which read with PeekAt() while the position
  // is at least 32 bytes before the end and store the position back with set_pos().
  const uint8_t* data() const { return data_; }
  size_t size_bytes() const { return size_bytes_; }
  size_t pos() const { return pos_; }
  void set_pos(size_t bit_pos) { pos_ = bit_pos; }
  // The 57 or more bits at `bit_pos`, left-aligned. REQUIRES: bit_pos / 8 + 8 <= size.
  static uint64_t PeekAt(const uint8_t* data, size_t bit_pos) {
    return internal::LoadBigEndian64(data + (bit_pos >> 3)) << (bit_pos & 7);
  }

  // Fast-path primitives for decoders that parse several fields from one word:
  // Peek() returns the next 57 or more bits, left-aligned (zeros past the end);
  // Consume(n) advances, failing (and setting overrun) past the end.
  bool Consume(size_t n) {
    if (pos_ + n > size_bits_) {
      overrun_ = true;
      pos_ = size_bits_;
      return false;
    }
    pos_ += n;
    return true;
  }
  uint64_t Peek() const {
    const size_t byte = pos_ >> 3;
    uint64_t w;
    if (byte + 8 <= size_bytes_) {
      w = internal::LoadBigEndian64(data_ + byte);
    } else {
      w = 0;
      for (size_t i = 0; byte + i < size_bytes_; ++i)
        w |= uint64_t{data_[byte + i]} << (56 - 8 * i);
    }
    return w << (pos_ & 7);
  }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_bytes_ = 0;
  size_t size_bits_ = 0;
  size_t pos_ = 0;
  bool overrun_ = false;
};

}  // namespace cairn

#endif  // CAIRN_TSDB_CHUNK_BIT_STREAM_H_
