#include "tsdb/chunk/xor_chunk.h"

#include <bit>

namespace cairn {
namespace {

constexpr size_t kHeaderBytes = 2;

// Whether `x` fits the signed bucket of `nbits` bits as Prometheus defines it:
// -(2^(n-1) - 1) <= x <= 2^(n-1).
inline bool FitsBucket(int64_t x, int nbits) {
  return -((int64_t{1} << (nbits - 1)) - 1) <= x && x <= (int64_t{1} << (nbits - 1));
}

// Sign-extends the `nbits`-bit bucket value as Prometheus' decoder does.
inline int64_t BucketToInt(uint64_t bits, int nbits) {
  if (bits > (uint64_t{1} << (nbits - 1)))
    return static_cast<int64_t>(bits) - (int64_t{1} << nbits);
  return static_cast<int64_t>(bits);
}

void PutVarintBits(BitWriter* w, uint64_t v) {
  while (v >= 0x80) {
    w->WriteBits((v & 0x7f) | 0x80, 8);
    v >>= 7;
  }
  w->WriteBits(v, 8);
}

bool GetVarintBits(BitReader* r, uint64_t* v) {
  uint64_t result = 0;
  for (int i = 0; i < 10; ++i) {
    uint64_t b = r->ReadBits(8);
    if (r->overrun()) return false;
    result |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      *v = result;
      return true;
    }
  }
  return false;
}

}  // namespace

void XorChunkEncoder::Reset() {
  w_.Reset();
  w_.WriteBits(0, 16);  // sample count, patched on every append
  w_.Seal();
  num_samples_ = 0;
  min_time_ = t_ = 0;
  t_delta_ = 0;
  v_bits_ = 0;
  leading_ = 0xff;
  trailing_ = 0;
}

void XorChunkEncoder::Append(int64_t t, double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (num_samples_ == 0) {
    // Zig-zag varint of the first timestamp, then the raw value.
    PutVarintBits(&w_, (static_cast<uint64_t>(t) << 1) ^ static_cast<uint64_t>(t >> 63));
    w_.WriteBits(bits, 64);
    min_time_ = t;
  } else if (num_samples_ == 1) {
    t_delta_ = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
    PutVarintBits(&w_, t_delta_);
    WriteValue(bits);
  } else {
    const uint64_t delta = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
    const int64_t dod = static_cast<int64_t>(delta - t_delta_);
    if (dod == 0) {
      w_.WriteBits(0, 1);
    } else if (FitsBucket(dod, 14)) {
      w_.WriteBits(0b10, 2);
      w_.WriteBits(static_cast<uint64_t>(dod), 14);
    } else if (FitsBucket(dod, 17)) {
      w_.WriteBits(0b110, 3);
      w_.WriteBits(static_cast<uint64_t>(dod), 17);
    } else if (FitsBucket(dod, 20)) {
      w_.WriteBits(0b1110, 4);
      w_.WriteBits(static_cast<uint64_t>(dod), 20);
    } else {
      w_.WriteBits(0b1111, 4);
      w_.WriteBits(static_cast<uint64_t>(dod), 64);
    }
    t_delta_ = delta;
    WriteValue(bits);
  }
  t_ = t;
  v_bits_ = bits;
  ++num_samples_;
  w_.Seal();
  w_.SetByte(0, static_cast<uint8_t>(num_samples_ >> 8));
  w_.SetByte(1, static_cast<uint8_t>(num_samples_));
}

void XorChunkEncoder::WriteValue(uint64_t bits) {
  const uint64_t x = bits ^ v_bits_;
  if (x == 0) {
    w_.WriteBits(0, 1);
    return;
  }
  int leading = std::countl_zero(x);
  const int trailing = std::countr_zero(x);
  if (leading >= 32) leading = 31;  // the window start is stored in 5 bits
  if (leading_ != 0xff && leading >= leading_ && trailing >= trailing_) {
    // Fits the previous window: '10' + the window's bits.
    w_.WriteBits(0b10, 2);
    w_.WriteBits(x >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  leading_ = static_cast<uint8_t>(leading);
  trailing_ = static_cast<uint8_t>(trailing);
  const int sigbits = 64 - leading - trailing;
  // '11' + 5 bits leading + 6 bits length (64 wraps to 0) + the bits.
  w_.WriteBits(0b11, 2);
  w_.WriteBits(static_cast<uint64_t>(leading), 5);
  w_.WriteBits(static_cast<uint64_t>(sigbits) & 0x3f, 6);
  w_.WriteBits(x >> trailing, sigbits);
}

void XorChunkIterator::Reset(std::string_view bytes) {
  corrupt_ = false;
  short_header_ = bytes.size() < kHeaderBytes;
  total_ = short_header_ ? 0
                         : static_cast<uint16_t>((static_cast<uint8_t>(bytes[0]) << 8) |
                                                 static_cast<uint8_t>(bytes[1]));
  r_.Reset(short_header_ ? std::string_view() : bytes.substr(kHeaderBytes));
  read_ = 0;
  t_ = 0;
  t_delta_ = 0;
  v_bits_ = 0;
  leading_ = trailing_ = 0;
  window_ = false;
}

bool XorChunkIterator::Fail() {
  corrupt_ = true;
  failed_at_ = read_;
  read_ = total_;
  return false;
}

bool XorChunkIterator::Next() {
  if (read_ >= total_ || corrupt_) return false;
  if (read_ == 0) {
    uint64_t zz;
    if (!GetVarintBits(&r_, &zz)) return Fail();
    t_ = static_cast<int64_t>((zz >> 1) ^ (~(zz & 1) + 1));
    v_bits_ = r_.ReadBits(64);
    if (r_.overrun()) return Fail();
    ++read_;
    return true;
  }
  if (read_ == 1) {
    if (!GetVarintBits(&r_, &t_delta_)) return Fail();
    // Unsigned arithmetic: corrupt input may overflow, which must wrap, not be UB.
    t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + t_delta_);
  } else {
    // Timestamp and value are parsed from 57-bit windows of the stream (Peek) with
    // one bounds check per field; only 64-bit payloads take the general path.
    uint64_t w = r_.Peek();
    int64_t dod;
    if ((w >> 63) == 0) {
      dod = 0;
      if (!r_.Consume(1)) return Fail();
    } else if ((w >> 62) == 0b10) {
      dod = BucketToInt((w << 2) >> 50, 14);
      if (!r_.Consume(16)) return Fail();
    } else if ((w >> 61) == 0b110) {
      dod = BucketToInt((w << 3) >> 47, 17);
      if (!r_.Consume(20)) return Fail();
    } else if ((w >> 60) == 0b1110) {
      dod = BucketToInt((w << 4) >> 44, 20);
      if (!r_.Consume(24)) return Fail();
    } else {
      if (!r_.Consume(4)) return Fail();
      dod = static_cast<int64_t>(r_.ReadBits(64));
    }
    t_delta_ += static_cast<uint64_t>(dod);
    t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + t_delta_);
  }
  // Value: '0' same, '10' previous window, '11' new window.
  uint64_t w = r_.Peek();
  if ((w >> 63) == 0) {
    if (!r_.Consume(1)) return Fail();
  } else {
    int header;
    if ((w >> 62) == 0b11) {
      leading_ = static_cast<uint8_t>((w >> 57) & 0x1f);
      int sigbits = static_cast<int>((w >> 51) & 0x3f);
      if (sigbits == 0) sigbits = 64;
      if (leading_ + sigbits > 64) return Fail();
      trailing_ = static_cast<uint8_t>(64 - leading_ - sigbits);
      window_ = true;
      header = 13;
    } else {
      if (!window_) return Fail();  // '10' reuses a window, but none was set yet
      header = 2;
    }
    const int sigbits = 64 - leading_ - trailing_;
    if (header + sigbits <= 57) {
      if (!r_.Consume(static_cast<size_t>(header + sigbits))) return Fail();
      v_bits_ ^= ((w << header) >> (64 - sigbits)) << trailing_;
    } else {
      if (!r_.Consume(static_cast<size_t>(header))) return Fail();
      v_bits_ ^= r_.ReadBits(sigbits) << trailing_;
    }
  }
  if (r_.overrun()) return Fail();
  ++read_;
  return true;
}

bool XorChunkIterator::Seek(int64_t t) {
  if (read_ > 0 && !corrupt_ && t_ >= t) return true;
  while (Next()) {
    if (t_ >= t) return true;
  }
  return false;
}

double XorChunkIterator::v() const { return std::bit_cast<double>(v_bits_); }

absl::Status XorChunkIterator::status() const {
  if (short_header_) return absl::DataLossError("xor chunk: shorter than its 2-byte header");
  if (corrupt_) {
    return absl::DataLossError("xor chunk: truncated or corrupt bit stream at sample " +
                               std::to_string(failed_at_));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint16_t> XorChunkNumSamples(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) {
    return absl::DataLossError("xor chunk: shorter than its 2-byte header");
  }
  return static_cast<uint16_t>((static_cast<uint8_t>(bytes[0]) << 8) |
                               static_cast<uint8_t>(bytes[1]));
}

}  // namespace cairn
