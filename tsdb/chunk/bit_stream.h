// BitWriter / BitReader: the MSB-first bit streams under the Gorilla chunk codec.
//
// BitWriter owns its buffer; bytes() is a valid stream at every moment (the unused
// low bits of the last byte are zero), so a chunk that is still being appended to can
// be copied and decoded. BitReader reads borrowed bytes with unaligned 64-bit
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
  BitWriter() = default;

  void Reset() {
    buf_.clear();
    acc_ = 0;
    acc_bits_ = 0;
    sealed_ = true;
  }
  // Appends the low `n` bits of `v`, most significant first. REQUIRES: n <= 64.
  // Bits gather in a register-sized accumulator and leave it as whole bytes. (A
  // read-modify-write of a 64-bit word per call was 3x slower: each store stalled
  // the next call's overlapping load.)
  void WriteBits(uint64_t v, int n) {
    if (n > 56) {
      WriteBits(v >> 32, n - 32);
      WriteBits(v & 0xffffffffULL, 32);
      return;
    }
    if (n == 0) return;
    if (sealed_) {
      if (acc_bits_ > 0) buf_.pop_back();  // the partial byte is still in acc_
      sealed_ = false;
    }
    acc_ = (acc_ << n) | (v & ((uint64_t{1} << n) - 1));
    acc_bits_ += n;
    while (acc_bits_ >= 8) {
      acc_bits_ -= 8;
      buf_.push_back(static_cast<char>(acc_ >> acc_bits_));
    }
    acc_ &= (uint64_t{1} << acc_bits_) - 1;
  }
  // Appends the partial last byte (zero-padded) so that bytes() is a complete
  // stream. Cheap to call after every logical record; the next WriteBits undoes it.
  void Seal() {
    if (sealed_) return;
    if (acc_bits_ > 0) buf_.push_back(static_cast<char>(acc_ << (8 - acc_bits_)));
    sealed_ = true;
  }
  void WriteBit(bool b) { WriteBits(b ? 1 : 0, 1); }

  // The stream: every written bit, the last byte zero-padded.
  // REQUIRES: Seal() since the last WriteBits.
  std::string_view bytes() const { return buf_; }
  // Overwrites byte `i` of the stream. REQUIRES: byte `i` is complete (not the
  // partial last byte).
  void SetByte(size_t i, uint8_t b) { buf_[i] = static_cast<char>(b); }

 private:
  std::string buf_;
  uint64_t acc_ = 0;    // the low acc_bits_ bits are not yet complete bytes
  int acc_bits_ = 0;    // < 8 between calls
  bool sealed_ = true;  // buf_ ends with the partial byte (if any)
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
