#include "tsdb/chunk/xor_chunk.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/base/attributes.h"
#include "tsdb/util/coding.h"

namespace cairn {
namespace {

constexpr size_t kHeaderBytes = 2;

// The bytes DecodeRun may read from a sample's first byte B on: the last load is the
// second half of a value longer than 57 bits after a 64-bit dod, 7 + 4 + 64 + 13 + 32
// = 120 bits from B's first bit, i.e. at byte B + 15, and reads 8 bytes: to B + 22.
constexpr size_t kUncheckedMarginBytes = 23;

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

template <typename Writer>
void PutVarintBits(Writer* w, uint64_t v) {
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
  w_.Reset(kHeaderBytes);  // the sample count, patched on every append
  min_time_ = t_ = 0;
  t_delta_ = 0;
  v_bits_ = 0;
  leading_ = 0xff;
  trailing_ = 0;
}

inline void XorChunkEncoder::Appended(int64_t t, uint64_t bits, uint16_t n) {
  t_ = t;
  v_bits_ = bits;
  w_.SetBigEndian16(0, n + 1);
}

// The general case: the first two samples, dods outside the 14-bit bucket, growth.
void XorChunkEncoder::AppendSlow(int64_t t, double v) {
  const uint16_t n = num_samples();
  if (n < 2) [[unlikely]] {
    AppendHead(t, v, n);
    return;
  }
  // At most 4 + 64 timestamp bits and 2 + 5 + 6 + 64 value bits.
  w_.Reserve(4 + 64 + 13 + 64);
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  BitWriter::Run r(&w_);  // must not escape, so that it lives in registers
  const uint64_t delta = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
  const uint64_t udod = delta - t_delta_;
  t_delta_ = delta;
  // The bucket: '0', '10'+14, '110'+17, '1110'+20 or '1111'+64 bits. With
  // millisecond jitter dod = 0 and the 14-bit bucket alternate at random, so these
  // two are chosen without a branch; larger ones (a missed scrape, a restart) take a
  // branch that is rarely taken. In bucket n, -(2^(n-1) - 1) <= dod <= 2^(n-1), i.e.
  // dod + 2^(n-1) - 1 is in [0, 2^n).
  if (udod + 0x1fff <= 0x3fff) [[likely]] {
    const bool zero = udod == 0;
    const uint64_t field =
        internal::Select(zero, 0, ((uint64_t{0b10} << 14) | (udod & 0x3fff)) << 48);
    WriteValue(&r, bits, field, internal::SelectInt(zero, 1, 16));
  } else if (udod + 0xffff <= 0x1ffff) {
    WriteValue(&r, bits, ((uint64_t{0b110} << 17) | (udod & 0x1ffff)) << 44, 20);
  } else if (udod + 0x7ffff <= 0xfffff) {
    WriteValue(&r, bits, ((uint64_t{0b1110} << 20) | (udod & 0xfffff)) << 40, 24);
  } else {
    r.WriteLeft(uint64_t{0b1111} << 60, 4);
    r.WriteLeft(udod, 64);
    WriteValue(&r, bits, 0, 0);
  }
  r.FinishSealed();  // WriteValue's last write stores the partial byte
  Appended(t, bits, n);
}

// The first two samples: a zig-zag varint timestamp and the raw value, then a varint
// timestamp delta and an XORed value. Out of line, so Append's fast path stays small.
void XorChunkEncoder::AppendHead(int64_t t, double v, uint16_t n) {
  w_.Reserve(2 * 80 + 64);
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  BitWriter::Run r(&w_);
  if (n == 0) {
    PutVarintBits(&r, ZigZagEncode(t));
    r.WriteBits(bits, 64);
    min_time_ = t;
  } else {
    t_delta_ = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
    PutVarintBits(&r, t_delta_);
    WriteValue(&r, bits, 0, 0);
  }
  r.Finish();
  Appended(t, bits, n);
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
    t_ = ZigZagDecode(zz);
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

// Decodes samples from data (a stream whose bit positions start at 0) into out[] until
// `stop` samples have been read in all, or, with kCheckEnd false, until the position
// reaches end_bits; with kCheckEnd true a sample that ends past end_bits is the
// truncation Next() reports. Reads are unchecked: the caller guarantees
// kUncheckedMarginBytes readable bytes from the position's byte on. Returns false on
// corruption (or truncation).
template <bool kCheckEnd>
bool XorChunkIterator::DecodeRun(const uint8_t* data, size_t end_bits, size_t stop, BatchState* st,
                                 Sample* out, size_t* n) {
  size_t pos = st->pos, k = *n;
  const size_t stop_k = k + (stop - st->read);  // out[] index of the last sample + 1
  uint64_t t = st->t, t_delta = st->t_delta, v_bits = st->v_bits;
  // The window as the shifts that place its bits: x = word >> (64 - length) <<
  // trailing. A right shift of 64 (length 0) marks "no window yet"; it is checked
  // before any shift by it.
  int value_shift = st->window ? st->leading + st->trailing : 64;
  int trailing = st->window ? st->trailing : 0;
  bool ok = true;
  // Branches on the prefixes, rather than conditional moves: the position is the
  // loop-carried dependency, and a predicted branch lets the CPU run ahead of it,
  // while a conditional move makes every position wait for the load of the previous
  // sample's bits (measured 2-3x slower on BM_DecodeBatch).
  while (k < stop_k && (kCheckEnd || pos < end_bits)) {
    // The timestamp and the value header are parsed from one 57-bit window: at most
    // 24 + 13 bits, except after the 64-bit dod, which reloads.
    uint64_t w = BitReader::PeekAt(data, pos);
    uint64_t dod;
    if ((w >> 63) == 0) {
      dod = 0;
      pos += 1;
      w <<= 1;
    } else if ((w >> 62) == 0b10) {
      dod = static_cast<uint64_t>(BucketToInt((w << 2) >> 50, 14));
      pos += 16;
      w <<= 16;
    } else if ((w >> 61) == 0b110) {
      dod = static_cast<uint64_t>(BucketToInt((w << 3) >> 47, 17));
      pos += 20;
      w <<= 20;
    } else if ((w >> 60) == 0b1110) {
      dod = static_cast<uint64_t>(BucketToInt((w << 4) >> 44, 20));
      pos += 24;
      w <<= 24;
    } else {
      pos += 4;
      dod = (BitReader::PeekAt(data, pos) >> 32) << 32;
      dod |= BitReader::PeekAt(data, pos + 32) >> 32;
      pos += 64;
      w = BitReader::PeekAt(data, pos);
    }
    uint64_t x = 0;
    if ((w >> 63) != 0) {
      if ((w >> 62) == 0b11) {
        const int leading = static_cast<int>((w >> 57) & 0x1f);
        const int sig = static_cast<int>(((w >> 51) - 1) & 0x3f) + 1;  // 0 means 64
        if (leading + sig > 64) {
          ok = false;
          break;
        }
        trailing = 64 - leading - sig;
        value_shift = leading + trailing;
        pos += 13;
      } else {
        if (value_shift == 64) {  // '10' reuses a window, but none was set yet
          ok = false;
          break;
        }
        pos += 2;
      }
      const int sig = 64 - value_shift;
      if (sig <= 57) [[likely]] {
        x = BitReader::PeekAt(data, pos) >> value_shift;
      } else {
        x = (BitReader::PeekAt(data, pos) >> 32) << (sig - 32);
        x |= BitReader::PeekAt(data, pos + 32) >> (96 - sig);
      }
      pos += static_cast<size_t>(sig);
    } else {
      pos += 1;
    }
    if (kCheckEnd && pos > end_bits) {
      ok = false;
      break;
    }
    t_delta += dod;
    t += t_delta;
    v_bits ^= x << trailing;
    out[k++] = Sample{static_cast<int64_t>(t), std::bit_cast<double>(v_bits)};
  }
  st->pos = pos;
  st->read += k - *n;
  st->t = t;
  st->t_delta = t_delta;
  st->v_bits = v_bits;
  st->window = value_shift != 64;
  if (st->window) {
    st->leading = value_shift - trailing;
    st->trailing = trailing;
  }
  *n = k;
  return ok;
}

size_t XorChunkIterator::NextBatch(Sample* out, size_t max) {
  size_t n = 0;
  // The first two samples (varints) take the checked path.
  while (n < max && read_ < 2) {
    if (!Next()) return n;
    out[n++] = Sample{t_, std::bit_cast<double>(v_bits_)};
  }
  if (n == max || read_ >= total_ || corrupt_) return n;
  BatchState st{r_.pos(),  read_,  static_cast<uint64_t>(t_), t_delta_, v_bits_, leading_,
                trailing_, window_};
  const size_t stop = std::min<size_t>(total_, read_ + (max - n));
  const uint8_t* data = r_.data();
  const size_t size = r_.size_bytes();
  bool ok = true;
  // In place while kUncheckedMarginBytes follow the position's byte; then the last
  // bytes (at most the margin) from a zero-padded copy, where a stream that ends early
  // reads zeros and is caught by the end check, as Next() catches it. A sample there
  // starts within the copied bytes, so it reads at most twice the margin.
  if (size > kUncheckedMarginBytes) {
    ok = DecodeRun<false>(data, (size - kUncheckedMarginBytes) * 8, stop, &st, out, &n);
  }
  if (ok && st.read < stop) {
    uint8_t tail[2 * kUncheckedMarginBytes] = {};
    const size_t from = st.pos >> 3;  // < size: a stream ends before its last bit
    const size_t pos_base = from * 8;
    std::memcpy(tail, data + from, size - from);
    st.pos -= pos_base;
    ok = DecodeRun<true>(tail, (size - from) * 8, stop, &st, out, &n);
    st.pos += pos_base;
  }
  r_.set_pos(st.pos);
  read_ = static_cast<uint16_t>(st.read);
  t_ = static_cast<int64_t>(st.t);
  t_delta_ = st.t_delta;
  v_bits_ = st.v_bits;
  leading_ = static_cast<uint8_t>(st.leading);
  trailing_ = static_cast<uint8_t>(st.trailing);
  window_ = st.window;
  if (!ok) Fail();
  return n;
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
