// BitWriter / BitReader: the MSB-first bit streams under the Gorilla chunk codec;
// BranchFreeBitWriter, the writing core they share with the packed chunk encoder.
//
// BitWriter owns its buffer; after every WriteBits() and every Run bytes() is a valid
// stream (the unused low bits of the last byte are zero), so a chunk that is still
// being appended to can be copied and decoded. BitReader reads borrowed bytes with
// unaligned 64-bit big-endian loads and never reads past the end: reads beyond it
// return zero bits and set overrun(), which decoders turn into a kDataLoss status.
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

#include "tsdb/chunk/branch_free.h"

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

// The branch-free MSB-first writer under BitWriter::Run and the packed chunk encoder:
// bits go into a caller's buffer, which must have 8 writable bytes from the byte of
// the last bit written on (16 for WriteLeftPair, which stores two words).
//
// Branch-free (zstd-style, MSB first): the pending bits of the partial last byte
// (acc_bits_ < 8 of them, left-aligned in acc_) are merged with the new bits and the
// word is stored unconditionally; the position advances by the whole bytes completed
// and the partial byte's bits stay in acc_. Whether a write completes a byte, a word
// or nothing is data-dependent, so a branch on it is mispredicted often. The word
// stored holds the new partial byte with its unused low bits zero, except after a
// WriteLeft that crosses a word: StorePartialByte() stores that byte.
class BranchFreeBitWriter {
 public:
  // Continues a stream of `bit_pos` bits in `buf`, whose last partial byte (if any)
  // has its unused low bits zero.
  BranchFreeBitWriter(uint8_t* buf, size_t bit_pos)
      : buf_(buf),
        pos_(bit_pos >> 3),
        acc_(uint64_t{buf_[pos_]} << 56),
        acc_bits_(static_cast<int>(bit_pos & 7)) {}

  // Appends the top `n` bits of `v`, most significant first.
  // REQUIRES: 0 <= n <= 64; the bits of `v` below the top n are zero.
  void WriteLeft(uint64_t v, int n) {
    const uint64_t merged = acc_ | (v >> acc_bits_);
    internal::StoreBigEndian64(buf_ + pos_, merged);
    const int total = acc_bits_ + n;  // 0..71
    pos_ += static_cast<size_t>(total >> 3);
    // Past a full word the rest is the end of `v` that did not fit merged
    // ((v << (63 - a)) << 1 is v << (64 - a) without a shift by 64 when a = 0).
    const uint64_t spill = (v << (63 - acc_bits_)) << 1;
    acc_ = internal::Select(total >= 64, spill, merged << (total & 56));
    acc_bits_ = total & 7;
  }

  // Appends the top `n1` bits of `v1`, then the top `n2` bits of `v2`, in the same
  // branch-free way with two stores, which always include the new partial byte.
  // REQUIRES: 1 <= n1 <= 56, 0 <= n2 <= 64; the bits of v1 and v2 below the top
  // n1 and n2 are zero.
  void WriteLeftPair(uint64_t v1, int n1, uint64_t v2, int n2) {
    const int off = acc_bits_ + n1;  // 1..63: where v2 starts
    const uint64_t w0 = acc_ | (v1 >> acc_bits_) | (v2 >> off);
    const uint64_t w1 = v2 << (64 - off);
    internal::StoreBigEndian64(buf_ + pos_, w0);
    internal::StoreBigEndian64(buf_ + pos_ + 8, w1);
    const int total = off + n2;  // 1..127: the partial byte is in w0 or w1
    pos_ += static_cast<size_t>(total >> 3);
    acc_ = internal::Select(total >= 64, w1 << ((total - 64) & 56), w0 << (total & 56));
    acc_bits_ = total & 7;
  }

  // Appends the low `n` bits of `v`, most significant first (higher bits of `v`
  // are ignored). REQUIRES: 1 <= n <= 64.
  void WriteBits(uint64_t v, int n) { WriteLeft(v << (64 - n), n); }

  // WriteBits for n <= 56 with `v`'s bits above n zero: the bits then never reach
  // past the word stored, so there is no spill to handle (the packed encoder's
  // fixed-width codes).
  void Put(uint64_t v, int n) {
    const int total = acc_bits_ + n;  // 1..63
    acc_ |= v << (64 - total);
    internal::StoreBigEndian64(buf_ + pos_, acc_);
    pos_ += static_cast<size_t>(total >> 3);
    acc_ <<= total & 56;
    acc_bits_ = total & 7;
  }

  // Stores the partial byte (zero-padded) where the last write may not have.
  void StorePartialByte() { buf_[pos_] = static_cast<uint8_t>(acc_ >> 56); }
  // Bits written from the start of the buffer.
  size_t bit_pos() const { return pos_ * 8 + static_cast<size_t>(acc_bits_); }
  // Past the last byte holding a written bit.
  uint8_t* end() const { return buf_ + pos_ + (acc_bits_ + 7) / 8; }

 private:
  uint8_t* const buf_;
  size_t pos_;
  uint64_t acc_;
  int acc_bits_;
};

class BitWriter {
 public:
  // `header_bytes` zero bytes precede the bit stream; the owner patches them with
  // SetByte() (the XOR chunk keeps its sample count there).
  explicit BitWriter(size_t header_bytes = 0) { Reset(header_bytes); }
  BitWriter(BitWriter&&) noexcept = default;
  BitWriter& operator=(BitWriter&&) noexcept = default;

  void Reset(size_t header_bytes = 0) {
    bit_pos_ = header_bytes * 8;
    if (cap_ < header_bytes + kSlackBytes) Grow(header_bytes + kSlackBytes);
    std::memset(buf_.get(), 0, header_bytes + 8);
  }

  // Makes room for `bits` more bits. Writers call it once per logical record so that
  // WriteBits itself never checks capacity.
  void Reserve(size_t bits) {
    const size_t need = (bit_pos_ >> 3) + bits / 8 + kSlackBytes;
    if (need > cap_) Grow(need);
  }

  // Whether `bits` more bits fit without Reserve() growing the buffer.
  bool HasRoom(size_t bits) const { return (bit_pos_ >> 3) + bits / 8 + kSlackBytes <= cap_; }

  // A run of writes with the writer's state held in locals (registers), stored back
  // by Finish(). Inside a run the compiler need not reload the state after every
  // store to the buffer, which it must do for member fields since a uint8_t store may
  // alias them. At most one run per writer at a time; no other writer calls during it.
  // REQUIRES: w->Reserve() covers every bit written in the run.
  class Run {
   public:
    explicit Run(BitWriter* w) : w_(w), bits_(w->buf_.get(), w->bit_pos_) {}
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    // As BranchFreeBitWriter's.
    void WriteLeft(uint64_t v, int n) { bits_.WriteLeft(v, n); }
    void WriteLeftPair(uint64_t v1, int n1, uint64_t v2, int n2) {
      bits_.WriteLeftPair(v1, n1, v2, n2);
    }
    void WriteBits(uint64_t v, int n) { bits_.WriteBits(v, n); }

    // Stores the position back and the partial byte (zero-padded) to the buffer, which
    // seals the stream.
    void Finish() {
      bits_.StorePartialByte();
      FinishSealed();
    }
    // Finish() without the byte store, when the last write already stored it: a
    // WriteLeftPair, or a WriteLeft that did not reach the end of a word (the partial
    // byte's bits before it + n < 64). Saves a store per record.
    void FinishSealed() { w_->bit_pos_ = bits_.bit_pos(); }

   private:
    BitWriter* const w_;
    BranchFreeBitWriter bits_;
  };

  // One-off write: a Run of one call (REQUIRES as Run::WriteBits, and Reserve()).
  void WriteBits(uint64_t v, int n) {
    Run r(this);
    r.WriteBits(v, n);
    r.Finish();
  }
  void WriteBit(bool b) { WriteBits(b ? 1 : 0, 1); }

  // Kept for callers that finish a stream explicitly: every WriteBits() (and every
  // Run's Finish()) already leaves bytes() a whole stream, the last byte zero-padded.
  void Seal() {}

  // The header and every written bit, the last byte zero-padded.
  std::string_view bytes() const {
    return std::string_view(reinterpret_cast<const char*>(buf_.get()), (bit_pos_ + 7) / 8);
  }
  // Overwrites byte `i` of the header. REQUIRES: i < header_bytes.
  void SetByte(size_t i, uint8_t b) { buf_[i] = b; }
  // Header bytes i and i + 1 as a big-endian number, and overwriting them in one
  // store. REQUIRES: i + 2 <= header_bytes.
  uint16_t GetBigEndian16(size_t i) const {
    uint16_t v;
    std::memcpy(&v, buf_.get() + i, 2);
    return __builtin_bswap16(v);
  }
  void SetBigEndian16(size_t i, uint16_t v) {
    v = __builtin_bswap16(v);
    std::memcpy(buf_.get() + i, &v, 2);
  }
  // Heap bytes held (for memory accounting).
  size_t capacity_bytes() const { return cap_; }

 private:
  // Room kept past the reserved bits: a write stores up to two words at the position
  // of the partial byte, which may be the last reserved byte.
  static constexpr size_t kSlackBytes = 16;

  // Grows by half: the head keeps one open chunk per series, so slack multiplies by
  // the number of series (a 120-sample gauge chunk of ~1.1 KB sits in 1.6 KB, not 2).
  void Grow(size_t need) {
    size_t cap = cap_ == 0 ? 64 : cap_;
    while (cap < need) cap = (cap + cap / 2 + 7) & ~size_t{7};
    std::unique_ptr<uint8_t[]> b(new uint8_t[cap]);
    if (buf_ != nullptr) std::memcpy(b.get(), buf_.get(), (bit_pos_ >> 3) + 8);
    buf_ = std::move(b);
    cap_ = cap;
  }

  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_ = 0;
  // Bits written, header included. Bytes before bit_pos_ / 8 are complete; the byte
  // at bit_pos_ / 8 holds the partial byte's bit_pos_ % 8 bits, the rest zero (so
  // bytes() is always a whole stream, and a Run reloads its accumulator from it).
  size_t bit_pos_ = 0;
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
