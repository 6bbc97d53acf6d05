// BitWriter / BitReader: the MSB-first bit streams under the Gorilla chunk codec.
//
// BitWriter appends to a std::string it owns; the string is a valid stream at every
// moment (the unused low bits of the last byte are zero), so a chunk that is still
// being appended to can be copied and decoded. BitReader reads from borrowed bytes
// through a 64-bit buffer and never reads past the end: reads beyond it return zero
// bits and set overrun(), which decoders turn into a kDataLoss status.
//
// Thread-safety: none.
#ifndef CAIRN_TSDB_CHUNK_BIT_STREAM_H_
#define CAIRN_TSDB_CHUNK_BIT_STREAM_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn {

class BitWriter {
 public:
  BitWriter() = default;

  void Reset() {
    bytes_.clear();
    free_bits_ = 0;
  }
  // Appends the low `n` bits of `v`, most significant first. REQUIRES: n <= 64.
  void WriteBits(uint64_t v, int n) {
    while (n > 0) {
      if (free_bits_ == 0) {
        bytes_.push_back(0);
        free_bits_ = 8;
      }
      int take = n < free_bits_ ? n : free_bits_;
      uint64_t chunk = (v >> (n - take)) & ((uint64_t{1} << take) - 1);
      bytes_.back() =
          static_cast<char>(static_cast<uint8_t>(bytes_.back()) | (chunk << (free_bits_ - take)));
      free_bits_ -= take;
      n -= take;
    }
  }
  void WriteBit(bool b) { WriteBits(b ? 1 : 0, 1); }
  // Appends whole bytes; REQUIRES: byte-aligned (free_bits() == 0).
  void WriteAlignedBytes(std::string_view b) { bytes_.append(b); }

  int free_bits() const { return free_bits_; }
  const std::string& bytes() const { return bytes_; }
  std::string* mutable_bytes() { return &bytes_; }

 private:
  std::string bytes_;
  int free_bits_ = 0;  // unused low bits of bytes_.back()
};

class BitReader {
 public:
  BitReader() = default;
  explicit BitReader(std::string_view bytes) { Reset(bytes); }

  void Reset(std::string_view bytes) {
    p_ = reinterpret_cast<const uint8_t*>(bytes.data());
    end_ = p_ + bytes.size();
    buf_ = 0;
    valid_ = 0;
    overrun_ = false;
  }

  bool ReadBit() {
    if (valid_ == 0) {
      Refill();
      if (valid_ == 0) {
        overrun_ = true;
        return false;
      }
    }
    bool b = (buf_ >> 63) != 0;
    buf_ <<= 1;
    --valid_;
    return b;
  }

  // Reads `n` bits (n <= 64) as an unsigned number.
  uint64_t ReadBits(int n) {
    if (n > 56) {
      uint64_t hi = ReadBits(n - 32);
      return (hi << 32) | ReadBits(32);
    }
    if (n == 0) return 0;
    if (valid_ < n) {
      Refill();
      if (valid_ < n) {
        overrun_ = true;
        valid_ = 0;
        buf_ = 0;
        return 0;
      }
    }
    uint64_t v = buf_ >> (64 - n);
    buf_ <<= n;
    valid_ -= n;
    return v;
  }

  // Reads up to `max` one-bits followed by a zero (or stops at `max` ones); returns
  // the number of ones. Used for the Gorilla timestamp prefix codes.
  int ReadUnaryPrefix(int max) {
    int n = 0;
    while (n < max && ReadBit()) ++n;
    return n;
  }

  bool overrun() const { return overrun_; }

 private:
  void Refill() {
    if (end_ - p_ >= 8 && valid_ <= 0) {
      // Fast path: a whole big-endian word.
      uint64_t w = (uint64_t{p_[0]} << 56) | (uint64_t{p_[1]} << 48) | (uint64_t{p_[2]} << 40) |
                   (uint64_t{p_[3]} << 32) | (uint64_t{p_[4]} << 24) | (uint64_t{p_[5]} << 16) |
                   (uint64_t{p_[6]} << 8) | uint64_t{p_[7]};
      buf_ = w;
      valid_ = 64;
      p_ += 8;
      return;
    }
    while (valid_ <= 56 && p_ < end_) {
      buf_ |= uint64_t{*p_++} << (56 - valid_);
      valid_ += 8;
    }
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint64_t buf_ = 0;  // next bits, left-aligned
  int valid_ = 0;     // how many of buf_'s top bits are valid
  bool overrun_ = false;
};

}  // namespace cairn

#endif  // CAIRN_TSDB_CHUNK_BIT_STREAM_H_
