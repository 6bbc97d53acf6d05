#include "tsdb/chunk/packed_chunk.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/container/fixed_array.h"
#include "absl/strings/str_format.h"
#include "tsdb/chunk/packed_stride_decoder.h"
#include "tsdb/util/coding.h"

namespace cairn {
namespace {

constexpr double kPow10[kPackedMaxScale + 1] = {1,      10,      100,      1000,      10000,
                                                100000, 1000000, 10000000, 100000000, 1000000000};
constexpr double kTwo53 = 9007199254740992.0;

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t u) { return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1)); }

bool SameBits(double a, double b) {
  uint64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return x == y;
}

// Rounds to a nearby integer. Any rounding will do: callers verify the result.
inline int64_t RoundToInt(double x) {
#if defined(__SSE2__)
  return _mm_cvtsd_si64(_mm_set_sd(x));  // round-to-nearest-even, one instruction
#else
  return std::llrint(x);
#endif
}

// Whether v is an integer of magnitude below 2^53 (+0.0 included, -0.0 not), and
// which, from its bits alone. Integers (counters, most gauges) are the common case,
// and this keeps them off the FP-to-integer conversions, which share one port.
inline bool IntegerValue(double v, int64_t* out) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  const uint64_t biased = (bits >> 52) & 0x7ff;
  // v = m * 2^-shift with the implicit bit in m; integers below 2^53 have shift
  // 0..52 (biased exponents 1023..1075) and no fraction bits below the shift.
  const uint64_t shift = 1075 - biased;
  const uint64_t m = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1} << 52);
  if (shift > 52 || (m & ((uint64_t{1} << shift) - 1)) != 0) {
    *out = 0;
    return bits == 0;
  }
  const int64_t r = static_cast<int64_t>(m >> shift);
  *out = (bits >> 63) != 0 ? -r : r;
  return true;
}

// Scales every value to an integer at the smallest scale d that represents all of
// them exactly (double(ints[k]) / 10^d has the bits of the value), or returns false.
//
// One trial per value in the common case: a value is tried at the largest scale any
// earlier value needed, and only a value that fails there raises the scale. Raising
// it multiplies the integers already found by 10 per step, which keeps them exact:
// with |10r| < 2^53 both 10r and 10^(d+1) are exact doubles and IEEE division is
// correctly rounded, so double(10r) / 10^(d+1) and double(r) / 10^d are the rounding
// of the same real number. Representability is monotone in d for the same reason, so
// the scale found is the smallest that fits every value.
bool ScaleValues(absl::Span<const Sample> samples, int* scale, int64_t* ints) {
  int d = 0;
  double p = 1;
  for (size_t k = 0; k < samples.size(); ++k) {
    const double v = samples[k].v;
    if (d == 0 && IntegerValue(v, &ints[k])) continue;
    for (;;) {
      const double x = v * p;
      if (std::fabs(x) < kTwo53) {  // also false for NaN and ±Inf
        const int64_t r = RoundToInt(x);
        // Checked through the decoder's exact computation (this also refuses -0.0).
        if (SameBits(static_cast<double>(r) / p, v)) {
          ints[k] = r;
          break;
        }
      }
      if (d == kPackedMaxScale) return false;
      ++d;
      p = kPow10[d];
      for (size_t j = 0; j < k; ++j) {
        ints[j] *= 10;
        if (!(std::fabs(static_cast<double>(ints[j])) < kTwo53)) return false;
      }
    }
  }
  *scale = d;
  return true;
}

// What choosing a code width needs to know of a chunk's codes: at width w (1..63)
// the escape code is 2^w - 1 and a code c escapes when c >= 2^w - 1, that is when
// bit_width(c + 1) > w. So a histogram of bit_width(c + 1) gives every width's
// escape count, and one increment per code builds it. Four copies of each counter,
// used in turn, keep a run of equal codes (common: most codes of a chunk have one
// or two lengths) from making each increment wait for the last through memory.
class CodeStats {
 public:
  void Add(uint64_t c, size_t i) {
    // bit_width(c + 1) in 1..64, and 65 for the one code where c + 1 wraps to 0.
    const uint64_t c1 = c + 1;
    const int key = c1 == 0 ? 65 : 64 - std::countl_zero(c1 | 1);
    ++counts_[static_cast<size_t>(key) * kLanes + (i & (kLanes - 1))];
    any_ |= c;
    ++count_;
  }

  // The width minimising the codes' size, count * w + escapes(w) * 64 bits: 0 when
  // every code is 0, 64 for raw codes (never escaped). *bits gets that size.
  int BestWidth(uint64_t* bits) const {
    if (any_ == 0) {
      *bits = 0;
      return 0;
    }
    uint64_t escapes = count_;  // codes with key > w, for w from 0 up
    int best_w = 64;
    uint64_t best_cost = uint64_t{count_} * 64;
    for (int w = 1; w < 64 && escapes > 0; ++w) {  // wider than escape-free costs more
      escapes -= Key(w);
      const uint64_t cost = uint64_t{count_} * static_cast<uint64_t>(w) + escapes * 64;
      if (cost < best_cost) {
        best_cost = cost;
        best_w = w;
      }
    }
    *bits = best_cost;
    return best_w;
  }

 private:
  static constexpr size_t kLanes = 4;
  uint64_t Key(int k) const {
    uint64_t n = 0;
    for (size_t lane = 0; lane < kLanes; ++lane)
      n += counts_[static_cast<size_t>(k) * kLanes + lane];
    return n;
  }
  uint32_t counts_[66 * kLanes] = {};
  uint64_t any_ = 0;
  uint32_t count_ = 0;
};

// A branch-free MSB-first bit writer into a buffer sized in advance. Each Put ORs
// the bits into a 64-bit container and stores the container unconditionally, then
// advances by the whole bytes written, keeping the 0-7 leftover bits: no branch on
// whether a word filled up, which is data-dependent and mispredicts.
class FastBitWriter {
 public:
  // REQUIRES: 8 writable bytes past the last byte any Put reaches.
  explicit FastBitWriter(uint8_t* out) : p_(out) {}

  // Appends the low n bits of v (higher bits must be 0). REQUIRES: 1 <= n <= 56.
  void Put(uint64_t v, int n) {
    acc_ |= v << (64 - bits_ - n);
    bits_ += n;
    internal::StoreBigEndian64(p_, acc_);
    p_ += bits_ >> 3;
    acc_ <<= bits_ & ~7;
    bits_ &= 7;
  }
  // Any width 0..64 (v's bits above n must be 0).
  void PutWide(uint64_t v, int n) {
    if (n > 32) {
      Put(v >> 32, n - 32);
      Put(v & 0xffffffff, 32);
    } else if (n > 0) {
      Put(v, n);
    }
  }
  // Past the last byte holding a written bit (the tail of that byte is zero).
  uint8_t* end() const { return p_ + (bits_ + 7) / 8; }

 private:
  uint8_t* p_;
  uint64_t acc_ = 0;
  int bits_ = 0;  // 0..7 pending bits at the top of acc_
};

// Writes one code at width w (0 < w < 64), escaped when it does not fit.
inline void PutCode(FastBitWriter* w, uint64_t code, int width, uint64_t escape) {
  if (code >= escape) {
    w->Put(escape, width);
    w->PutWide(code, 64);
  } else {
    w->Put(code, width);
  }
}

}  // namespace

std::optional<std::string> EncodePackedChunk(absl::Span<const Sample> samples) {
  const size_t n = samples.size();
  if (n == 0 || n > 65535) return std::nullopt;
  // ints, then the timestamp codes, then the value codes; on the stack for chunks
  // of usual length.
  absl::FixedArray<uint64_t, 3 * 256> buf(3 * n);
  int64_t* ints = reinterpret_cast<int64_t*>(buf.data());
  uint64_t* t_codes = buf.data() + n;
  uint64_t* v_codes = buf.data() + 2 * n;
  int scale;
  if (!ScaleValues(samples, &scale, ints)) return std::nullopt;
  CodeStats t_stats, v_stats;
  uint64_t prev_dt =
      static_cast<uint64_t>(samples[n > 1 ? 1 : 0].t) - static_cast<uint64_t>(samples[0].t);
  t_codes[1] = 0;  // sample 1 has no timestamp code (dt1 is in the header)
  for (size_t i = 1; i < n; ++i) {
    const uint64_t dt =
        static_cast<uint64_t>(samples[i].t) - static_cast<uint64_t>(samples[i - 1].t);
    const uint64_t tc = ZigZag(static_cast<int64_t>(dt - prev_dt));
    const uint64_t vc = ZigZag(
        static_cast<int64_t>(static_cast<uint64_t>(ints[i]) - static_cast<uint64_t>(ints[i - 1])));
    prev_dt = dt;
    t_codes[i] = tc;
    v_codes[i] = vc;
    if (i >= 2) t_stats.Add(tc, i);
    v_stats.Add(vc, i);
  }
  uint64_t t_bits, v_bits;
  const int tw = t_stats.BestWidth(&t_bits);
  const int vw = v_stats.BestWidth(&v_bits);
  const uint64_t bits = t_bits + v_bits;
  // Header: count, t0, i0, scale, dt1, two widths; then the stream and the writer's
  // slack for its unconditional 8-byte store.
  std::string out;
  out.resize(2 + 3 * kMaxVarint64Bytes + 3 + bits / 8 + 1 + 8);
  char* h = out.data();
  *h++ = static_cast<char>(n >> 8);
  *h++ = static_cast<char>(n);
  h += EncodeVarint64(h, ZigZag(samples[0].t));
  h += EncodeVarint64(h, ZigZag(ints[0]));
  *h++ = static_cast<char>(scale);
  if (n < 2) {
    out.resize(static_cast<size_t>(h - out.data()));
    return out;
  }
  h += EncodeVarint64(h, static_cast<uint64_t>(samples[1].t) - static_cast<uint64_t>(samples[0].t));
  *h++ = static_cast<char>(tw);
  *h++ = static_cast<char>(vw);
  uint8_t* const stream = reinterpret_cast<uint8_t*>(h);
  FastBitWriter w(stream);
  const uint64_t tesc = (tw == 0 || tw == 64) ? ~uint64_t{0} : (uint64_t{1} << tw) - 1;
  const uint64_t vesc = (vw == 0 || vw == 64) ? ~uint64_t{0} : (uint64_t{1} << vw) - 1;
  // Sample 1 has a value code only.
  if (vw == 64) {
    w.PutWide(v_codes[1], 64);
  } else if (vw > 0) {
    PutCode(&w, v_codes[1], vw, vesc);
  }
  const int stride = tw + vw;
  if (stride == 0) {
    // Every code is 0: no bits.
  } else if (stride <= 56) {
    // Common widths: a sample's two codes in one Put unless one escapes. With a
    // width of 0 its codes are 0 and its escape (all ones) is never reached.
    for (size_t i = 2; i < n; ++i) {
      const uint64_t tc = t_codes[i], vc = v_codes[i];
      if (tc >= tesc || vc >= vesc) [[unlikely]] {
        if (tw > 0) PutCode(&w, tc, tw, tesc);
        if (vw > 0) PutCode(&w, vc, vw, vesc);
      } else {
        w.Put((tc << vw) | vc, stride);
      }
    }
  } else {
    auto put = [&w](uint64_t code, int width, uint64_t escape) {
      if (width == 64) {
        w.PutWide(code, 64);
      } else if (width > 0) {
        PutCode(&w, code, width, escape);
      }
    };
    for (size_t i = 2; i < n; ++i) {
      put(t_codes[i], tw, tesc);
      put(v_codes[i], vw, vesc);
    }
  }
  const uint8_t* end = w.end();
  out.resize(static_cast<size_t>(end - reinterpret_cast<const uint8_t*>(out.data())));
  return out;
}

void PackedChunkIterator::Reset(std::string_view bytes) {
  status_ = absl::OkStatus();
  failed_ = false;
  read_ = 0;
  total_ = 0;
  std::string_view in = bytes;
  if (in.size() < 2) {
    Fail("chunk header");
    return;
  }
  total_ = DecodeBigEndian16(in.data());
  in.remove_prefix(2);
  uint8_t scale;
  if (total_ == 0 || !GetSignedVarint64(&in, &t0_) || !GetSignedVarint64(&in, &v0_) ||
      !GetByte(&in, &scale) || scale > kPackedMaxScale) {
    Fail("chunk header");
    return;
  }
  scale_div_ = kPow10[scale];
  t_width_ = v_width_ = 0;
  if (total_ >= 2) {
    uint64_t dt1;
    uint8_t tw, vw;
    if (!GetVarint64(&in, &dt1) || !GetByte(&in, &tw) || !GetByte(&in, &vw) || tw > 64 || vw > 64) {
      Fail("chunk header");
      return;
    }
    dt1_ = static_cast<int64_t>(dt1);
    t_width_ = tw;
    v_width_ = vw;
  }
  r_.Reset(in);
}

bool PackedChunkIterator::Fail(std::string_view what) {
  if (!failed_) {
    status_ = absl::DataLossError(
        absl::StrFormat("packed chunk: corrupt %s at sample %d of %d", what, read_, total_));
  }
  failed_ = true;
  read_ = total_;
  return false;
}

uint64_t PackedChunkIterator::ReadCode(int width) {
  if (width == 0) return 0;
  uint64_t c = r_.ReadBits(width);
  if (width < 64 && c == (uint64_t{1} << width) - 1) c = r_.ReadBits(64);
  return c;
}

bool PackedChunkIterator::Next() {
  if (failed_ || read_ >= total_) return false;
  if (read_ == 0) {
    t_ = t0_;
    ival_ = v0_;
  } else {
    if (read_ == 1) {
      dt_ = dt1_;
    } else {
      dt_ = static_cast<int64_t>(static_cast<uint64_t>(dt_) +
                                 static_cast<uint64_t>(UnZigZag(ReadCode(t_width_))));
    }
    t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + static_cast<uint64_t>(dt_));
    ival_ = static_cast<int64_t>(static_cast<uint64_t>(ival_) +
                                 static_cast<uint64_t>(UnZigZag(ReadCode(v_width_))));
    if (r_.overrun()) return Fail("bit stream (truncated)");
  }
  ++read_;
  return true;
}

size_t PackedChunkIterator::NextBatch(Sample* out, size_t max) {
  size_t n = 0;
  // The first two samples come from the header; widths the kernel cannot load in one
  // word take the checked path throughout.
  const bool fixed_stride_ok = t_width_ < 64 && v_width_ < 64 && t_width_ + v_width_ <= 57;
  while (n < max && (read_ < 2 || !fixed_stride_ok)) {
    if (!Next()) return n;
    out[n++] = Sample{t_, v()};
  }
  const FixedStrideParams params{r_.data(), r_.size_bytes(), t_width_, v_width_, scale_div_};
  while (n < max && read_ < total_ && !failed_) {
    FixedStrideState st{r_.pos(), static_cast<uint64_t>(t_), static_cast<uint64_t>(dt_),
                        static_cast<uint64_t>(ival_)};
    const size_t want = std::min<size_t>(max - n, total_ - read_);
    const size_t k = DecodeFixedStride(params, &st, out + n, want);
    n += k;
    read_ = static_cast<uint16_t>(read_ + k);
    r_.set_pos(st.pos);
    t_ = static_cast<int64_t>(st.t);
    dt_ = static_cast<int64_t>(st.dt);
    ival_ = static_cast<int64_t>(st.ival);
    if (k < want) {
      // An escaped sample, or the truncation Next() reports.
      if (!Next()) return n;
      out[n++] = Sample{t_, v()};
    }
  }
  return n;
}

bool PackedChunkIterator::Seek(int64_t t) {
  if (read_ > 0 && !failed_ && t_ >= t) return true;
  while (Next()) {
    if (t_ >= t) return true;
  }
  return false;
}

}  // namespace cairn
