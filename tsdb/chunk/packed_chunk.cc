#include "tsdb/chunk/packed_chunk.h"

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

bool PackedChunkIterator::Seek(int64_t t) {
  if (read_ > 0 && !failed_ && t_ >= t) return true;
  while (Next()) {
    if (t_ >= t) return true;
  }
  return false;
}

}  // namespace cairn
