#include "tsdb/chunk/packed_chunk.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
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

// Scaled integers for `samples` at the smallest scale that represents every value
// exactly, or false.
bool ScaleValues(absl::Span<const Sample> samples, int* scale, std::vector<int64_t>* out) {
  for (int d = 0; d <= kPackedMaxScale; ++d) {
    out->clear();
    bool ok = true;
    for (const Sample& s : samples) {
      double x = s.v * kPow10[d];
      if (!(std::fabs(x) < kTwo53)) {  // also false for NaN
        ok = false;
        break;
      }
      // Check through the decoder's exact computation (this also refuses -0.0).
      int64_t r = static_cast<int64_t>(std::nearbyint(x));
      if (!SameBits(static_cast<double>(r) / kPow10[d], s.v)) {
        ok = false;
        break;
      }
      out->push_back(r);
    }
    if (ok) {
      *scale = d;
      return true;
    }
  }
  return false;
}

// The width minimising n*w + escapes*64 for these codes; all-ones is the escape code
// for widths 1..63, width 64 stores raw values and width 0 only zeros.
int BestWidth(const std::vector<uint64_t>& codes) {
  if (codes.empty()) return 0;
  int counts[65] = {};  // codes needing exactly b bits
  for (uint64_t c : codes) ++counts[c == 0 ? 0 : 64 - std::countl_zero(c)];
  if (counts[0] == static_cast<int>(codes.size())) return 0;
  int best_w = 64;
  uint64_t best_cost = codes.size() * 64;
  // fits[w]: codes < 2^w - 1 (literal at width w).
  for (int w = 1; w < 64; ++w) {
    uint64_t escapes = 0;
    for (uint64_t c : codes) escapes += c >= (uint64_t{1} << w) - 1;
    uint64_t cost = codes.size() * w + escapes * 64;
    if (cost < best_cost) {
      best_cost = cost;
      best_w = w;
    }
    if (escapes == 0) break;  // wider only costs more
  }
  return best_w;
}

void WriteCode(BitWriter* w, uint64_t code, int width) {
  if (width == 0) return;
  if (width == 64) {
    w->WriteBits(code, 64);
    return;
  }
  uint64_t escape = (uint64_t{1} << width) - 1;
  if (code >= escape) {
    w->WriteBits(escape, width);
    w->WriteBits(code, 64);
  } else {
    w->WriteBits(code, width);
  }
}

}  // namespace

std::optional<std::string> EncodePackedChunk(absl::Span<const Sample> samples) {
  if (samples.empty() || samples.size() > 65535) return std::nullopt;
  int scale;
  std::vector<int64_t> ints;
  if (!ScaleValues(samples, &scale, &ints)) return std::nullopt;
  const size_t n = samples.size();
  std::vector<uint64_t> t_codes, v_codes;
  t_codes.reserve(n);
  v_codes.reserve(n);
  uint64_t prev_dt = 0;
  for (size_t i = 1; i < n; ++i) {
    uint64_t dt = static_cast<uint64_t>(samples[i].t) - static_cast<uint64_t>(samples[i - 1].t);
    if (i >= 2) t_codes.push_back(ZigZag(static_cast<int64_t>(dt - prev_dt)));
    prev_dt = dt;
    v_codes.push_back(ZigZag(ints[i] - ints[i - 1]));
  }
  std::string out;
  PutBigEndian16(&out, static_cast<uint16_t>(n));
  PutSignedVarint64(&out, samples[0].t);
  PutSignedVarint64(&out, ints[0]);
  out.push_back(static_cast<char>(scale));
  if (n >= 2) {
    PutVarint64(&out, static_cast<uint64_t>(samples[1].t) - static_cast<uint64_t>(samples[0].t));
    int tw = BestWidth(t_codes), vw = BestWidth(v_codes);
    out.push_back(static_cast<char>(tw));
    out.push_back(static_cast<char>(vw));
    BitWriter w;
    for (size_t i = 1; i < n; ++i) {
      w.Reserve(4 * 64);  // two codes, each at most an escape and a raw value
      if (i >= 2) WriteCode(&w, t_codes[i - 2], tw);
      WriteCode(&w, v_codes[i - 1], vw);
    }
    w.Seal();
    out.append(w.bytes());
  }
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

// Decodes samples from data (a stream whose bit positions start at 0) into out[] until
// `stop` samples have been read in all, or, with kCheckEnd false, until the position
// reaches end_bits; with kCheckEnd true a sample that ends past end_bits is the
// truncation Next() reports (returns false). Reads are unchecked: the caller
// guarantees 48 readable bytes past the position (a sample spans at most
// 2 * (63 + 64) bits, and a load reads 8 bytes). REQUIRES: widths < 64, sum <= 57.
template <bool kCheckEnd, bool kScaled>
bool PackedChunkIterator::DecodeRun(const uint8_t* data, size_t end_bits, size_t stop,
                                    BatchState* st, Sample* out, size_t* n) const {
  // Codes sit at a fixed stride unless one is escaped, so successive loads do not
  // wait on decoded data. A width of 0 gives mask 0 (every code is 0) and an escape
  // no code can equal.
  const int tw = t_width_, vw = v_width_, stride = tw + vw;
  const uint64_t tmask = (uint64_t{1} << tw) - 1, vmask = (uint64_t{1} << vw) - 1;
  const uint64_t tesc = tw == 0 ? ~uint64_t{0} : tmask, vesc = vw == 0 ? ~uint64_t{0} : vmask;
  // Shifts stay below 64 for zero widths too (their masks are 0 then).
  const int tshift = tw == 0 ? 0 : 64 - tw, vshift = vw == 0 ? 0 : 64 - stride;
  const double div = scale_div_;
  auto read64 = [data](size_t p) {
    return ((BitReader::PeekAt(data, p) >> 32) << 32) | (BitReader::PeekAt(data, p + 32) >> 32);
  };
  size_t pos = st->pos, read = st->read, k = *n;
  uint64_t t = st->t, dt = st->dt, ival = st->ival;
  bool ok = true;
  while (read < stop && (kCheckEnd || pos < end_bits)) {
    const uint64_t w = BitReader::PeekAt(data, pos);
    uint64_t tc = (w >> tshift) & tmask;
    uint64_t vc = (w >> vshift) & vmask;
    if (tc == tesc || vc == vesc) [[unlikely]] {
      size_t p = pos + static_cast<size_t>(tw);
      if (tc == tesc) {
        tc = read64(p);
        p += 64;
      }
      if (vw > 0) {
        vc = (BitReader::PeekAt(data, p) >> (64 - vw)) & vmask;
        p += static_cast<size_t>(vw);
        if (vc == vesc) {
          vc = read64(p);
          p += 64;
        }
      }
      pos = p;
    } else {
      pos += static_cast<size_t>(stride);
    }
    if (kCheckEnd && pos > end_bits) {
      ok = false;
      break;
    }
    dt += static_cast<uint64_t>(UnZigZag(tc));
    t += dt;
    ival += static_cast<uint64_t>(UnZigZag(vc));
    double v = static_cast<double>(static_cast<int64_t>(ival));
    if constexpr (kScaled) v /= div;
    out[k++] = Sample{static_cast<int64_t>(t), v};
    ++read;
  }
  st->pos = pos;
  st->read = read;
  st->t = t;
  st->dt = dt;
  st->ival = ival;
  *n = k;
  return ok;
}

size_t PackedChunkIterator::NextBatch(Sample* out, size_t max) {
  size_t n = 0;
  // The first two samples come from the header; odd widths take the checked path.
  while (n < max && (read_ < 2 || t_width_ == 64 || v_width_ == 64 || t_width_ + v_width_ > 57)) {
    if (!Next()) return n;
    out[n++] = Sample{t_, v()};
  }
  if (n == max || read_ >= total_ || failed_) return n;
  BatchState st{r_.pos(), read_, static_cast<uint64_t>(t_), static_cast<uint64_t>(dt_),
                static_cast<uint64_t>(ival_)};
  const size_t stop = std::min<size_t>(total_, read_ + (max - n));
  const uint8_t* data = r_.data();
  const size_t size = r_.size_bytes();
  bool ok = true;
  // In place while 48 bytes follow the position; then the last bytes from a
  // zero-padded copy, where a stream that ends early reads zeros and is caught by the
  // end check, as Next() catches it.
  const bool scaled = scale_div_ != 1;
  if (size > 48) {
    ok = scaled ? DecodeRun<false, true>(data, (size - 48) * 8, stop, &st, out, &n)
                : DecodeRun<false, false>(data, (size - 48) * 8, stop, &st, out, &n);
  }
  if (ok && st.read < stop) {
    uint8_t tail[128] = {};
    const size_t from = std::min(st.pos >> 3, size);
    const size_t pos_base = from * 8;
    std::memcpy(tail, data + from, size - from);
    st.pos -= pos_base;
    ok = scaled ? DecodeRun<true, true>(tail, (size - from) * 8, stop, &st, out, &n)
                : DecodeRun<true, false>(tail, (size - from) * 8, stop, &st, out, &n);
    st.pos += pos_base;
  }
  r_.set_pos(st.pos);
  read_ = static_cast<uint16_t>(st.read);
  t_ = static_cast<int64_t>(st.t);
  dt_ = static_cast<int64_t>(st.dt);
  ival_ = static_cast<int64_t>(st.ival);
  if (!ok) Fail("bit stream (truncated)");
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
