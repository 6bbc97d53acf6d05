// EncodePackedChunk (packed_chunk.h, docs/format/chunks.md).
//
// Three passes over a chunk: scale the values to integers, turn samples into
// timestamp and value codes (zig-zag delta-of-deltas and deltas) while counting them
// by length, then write the codes at the widths the counts make smallest. On CPUs
// with AVX-512 (chunk_kernels.h) each pass takes eight samples at a time; the scalar
// code handles the rest and everything unusual (a value that raises the scale, an
// escaped code), so both produce the same bytes.
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "absl/container/fixed_array.h"
#include "tsdb/chunk/bit_stream.h"
#include "tsdb/chunk/chunk_kernels.h"
#include "tsdb/chunk/packed_chunk.h"
#include "tsdb/util/coding.h"

namespace cairn {
namespace {

constexpr double kTwo53 = 9007199254740992.0;

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

// Rounds in the current rounding mode (to nearest, even on ties), as the vector
// path's conversion does. Any rounding would be correct, since callers verify the
// result, but the scalar and vector paths must round alike to write the same bytes.
inline int64_t RoundToInt(double x) {
#if defined(__x86_64__)
  return _mm_cvtsd_si64(_mm_set_sd(x));  // one instruction
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
struct Scaler {
  int d = 0;
  double p = 1;

  // Scales value k into ints[k], raising the scale (and rescaling ints[0..k)) when
  // it needs more digits; false when no scale fits.
  bool Add(double v, size_t k, int64_t* ints) {
    if (d == 0 && IntegerValue(v, &ints[k])) return true;
    for (;;) {
      const double x = v * p;
      if (std::fabs(x) < kTwo53) {  // also false for NaN and ±Inf
        const int64_t r = RoundToInt(x);
        // Checked through the decoder's exact computation (this also refuses -0.0).
        if (SameBits(static_cast<double>(r) / p, v)) {
          ints[k] = r;
          return true;
        }
      }
      if (d == kPackedMaxScale) return false;
      ++d;
      p = kPackedPow10[d];
      for (size_t j = 0; j < k; ++j) {
        ints[j] *= 10;
        if (!(std::fabs(static_cast<double>(ints[j])) < kTwo53)) return false;
      }
    }
  }
};

// What choosing a code width needs to know of a chunk's codes: at width w (1..63)
// the escape code is 2^w - 1 and a code c escapes when c >= 2^w - 1, that is when
// bit_width(c + 1) > w. So a histogram of bit_width(c + 1) gives every width's
// escape count, and one increment per code builds it. Four copies of each counter,
// used in turn, keep a run of equal codes (common: most codes of a chunk have one
// or two lengths) from making each increment wait for the last through memory.
class CodeStats {
 public:
  // bit_width(c + 1) in 1..64, and 65 for the one code where c + 1 wraps to 0.
  static unsigned Key(uint64_t c) {
    const uint64_t c1 = c + 1;
    return c1 == 0 ? 65 : 64 - static_cast<unsigned>(std::countl_zero(c1 | 1));
  }
  void Add(uint64_t c, size_t i) {
    AddKey(Key(c), i);
    any_ |= c;
  }
  void AddKey(unsigned key, size_t i) {
    ++counts_[key * kLanes + (i & (kLanes - 1))];
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
      escapes -= Count(w);
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
  uint64_t Count(int k) const {
    uint64_t n = 0;
    for (size_t lane = 0; lane < kLanes; ++lane)
      n += counts_[static_cast<size_t>(k) * kLanes + lane];
    return n;
  }
  uint32_t counts_[66 * kLanes] = {};
  uint64_t any_ = 0;
  uint32_t count_ = 0;
};

// Any width 0..64 (v's bits above n must be 0): Put takes at most 56 bits.
inline void PutWide(BranchFreeBitWriter* w, uint64_t v, int n) {
  if (n > 32) {
    w->Put(v >> 32, n - 32);
    w->Put(v & 0xffffffff, 32);
  } else if (n > 0) {
    w->Put(v, n);
  }
}

// Writes one code at width w (0 < w < 64), escaped when it does not fit.
inline void PutCode(BranchFreeBitWriter* w, uint64_t code, int width, uint64_t escape) {
  if (code >= escape) {
    PutWide(w, escape, width);
    PutWide(w, code, 64);
  } else {
    PutWide(w, code, width);  // widths above 56 take two Puts
  }
}

// The codes of sample i >= 1 (sample 1's timestamp code is 0: dt1 is in the header).
inline void ComputeCodes(absl::Span<const Sample> s, const int64_t* ints, size_t i,
                         uint64_t* t_codes, uint64_t* v_codes) {
  const uint64_t dt = static_cast<uint64_t>(s[i].t) - static_cast<uint64_t>(s[i - 1].t);
  const uint64_t prev_dt =
      i >= 2 ? static_cast<uint64_t>(s[i - 1].t) - static_cast<uint64_t>(s[i - 2].t) : dt;
  t_codes[i] = ZigZagEncode(static_cast<int64_t>(dt - prev_dt));
  v_codes[i] = ZigZagEncode(
      static_cast<int64_t>(static_cast<uint64_t>(ints[i]) - static_cast<uint64_t>(ints[i - 1])));
}

// One sample's codes, escaped where they do not fit (the scalar writer).
inline void PutSample(BranchFreeBitWriter* w, uint64_t tc, uint64_t vc, int tw, int vw,
                      uint64_t tesc, uint64_t vesc) {
  const int stride = tw + vw;
  if (stride <= 56 && tc < tesc && vc < vesc) {
    if (stride > 0) w->Put((tc << vw) | vc, stride);
    return;
  }
  for (const auto& [code, width, escape] : {std::tuple{tc, tw, tesc}, std::tuple{vc, vw, vesc}}) {
    if (width == 64) {
      PutWide(w, code, 64);
    } else if (width > 0) {
      PutCode(w, code, width, escape);
    }
  }
}

#if defined(__x86_64__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_epi32(), which its own
// -Wmaybe-uninitialized and -Wuninitialized flag (a known false positive in the
// headers).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

static_assert(sizeof(Sample) == 16 && offsetof(Sample, v) == 8, "loads Samples as 2 words");

// The timestamps (lane j: s[j].t) or the value bits of eight samples.
CAIRN_CHUNK_KERNEL_AVX512 inline __m512i Times8(const Sample* s) {
  return _mm512_permutex2var_epi64(_mm512_loadu_si512(s),
                                   _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0),
                                   _mm512_loadu_si512(s + 4));
}
CAIRN_CHUNK_KERNEL_AVX512 inline __m512i ValueBits8(const Sample* s) {
  return _mm512_permutex2var_epi64(_mm512_loadu_si512(s),
                                   _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1),
                                   _mm512_loadu_si512(s + 4));
}

// Scaler::Add for eight values at once where none raises the scale: the same bit
// test for integers at scale 0, the same multiply, round, divide and compare above.
CAIRN_CHUNK_KERNEL_AVX512 bool ScaleAvx512(const Sample* s, size_t n, Scaler* sc, int64_t* ints) {
  const __m512i one = _mm512_set1_epi64(1);
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m512i bits = ValueBits8(s + k);
    __m512i r;
    __mmask8 ok;
    if (sc->d == 0) {
      const __m512i biased =
          _mm512_and_si512(_mm512_srli_epi64(bits, 52), _mm512_set1_epi64(0x7ff));
      const __m512i shift = _mm512_sub_epi64(_mm512_set1_epi64(1075), biased);
      const __m512i m =
          _mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi64((int64_t{1} << 52) - 1)),
                          _mm512_set1_epi64(int64_t{1} << 52));
      const __m512i fraction = _mm512_sub_epi64(_mm512_sllv_epi64(one, shift), one);
      ok = _mm512_cmple_epu64_mask(shift, _mm512_set1_epi64(52)) &
           _mm512_testn_epi64_mask(m, fraction);
      ok |= _mm512_cmpeq_epi64_mask(bits, _mm512_setzero_si512());  // +0.0 (r is 0 there)
      r = _mm512_srlv_epi64(m, shift);
      r = _mm512_mask_sub_epi64(r, _mm512_movepi64_mask(bits), _mm512_setzero_si512(), r);
    } else {
      const __m512d p = _mm512_set1_pd(sc->p);
      const __m512d x = _mm512_mul_pd(_mm512_castsi512_pd(bits), p);
      r = _mm512_cvtpd_epi64(x);  // the current rounding mode, as RoundToInt
      const __m512d back = _mm512_div_pd(_mm512_cvtepi64_pd(r), p);
      ok = _mm512_cmpeq_epi64_mask(_mm512_castpd_si512(back), bits) &
           _mm512_cmp_pd_mask(_mm512_abs_pd(x), _mm512_set1_pd(kTwo53), _CMP_LT_OQ);
    }
    if (ok == 0xff) {
      _mm512_storeu_si512(ints + k, r);
      continue;
    }
    for (size_t j = k; j < k + 8; ++j) {
      if (!sc->Add(s[j].v, j, ints)) return false;
    }
  }
  for (; k < n; ++k) {
    if (!sc->Add(s[k].v, k, ints)) return false;
  }
  return true;
}

CAIRN_CHUNK_KERNEL_AVX512 inline __m512i ZigZag8(__m512i x) {
  return _mm512_xor_si512(_mm512_slli_epi64(x, 1), _mm512_srai_epi64(x, 63));
}

// CodeStats::Key of eight codes, as bytes.
CAIRN_CHUNK_KERNEL_AVX512 inline __m128i Keys8(__m512i c) {
  const __m512i c1 = _mm512_add_epi64(c, _mm512_set1_epi64(1));
  __m512i key = _mm512_sub_epi64(_mm512_set1_epi64(64), _mm512_lzcnt_epi64(c1));
  key = _mm512_mask_mov_epi64(key, _mm512_cmpeq_epi64_mask(c1, _mm512_setzero_si512()),
                              _mm512_set1_epi64(65));
  return _mm512_cvtepi64_epi8(key);
}

// The codes and their keys of samples [2, i) for the largest i reached eight at a
// time; returns i. ORs the codes into *t_any / *v_any.
CAIRN_CHUNK_KERNEL_AVX512 size_t CodesAvx512(const Sample* s, const int64_t* ints, size_t n,
                                             uint64_t* t_codes, uint64_t* v_codes, uint8_t* t_keys,
                                             uint8_t* v_keys, uint64_t* t_any, uint64_t* v_any) {
  __m512i t_or = _mm512_setzero_si512(), v_or = _mm512_setzero_si512();
  size_t i = 2;
  for (; i + 8 <= n; i += 8) {
    const __m512i t1 = Times8(s + i - 1);
    // (t_i - t_(i-1)) - (t_(i-1) - t_(i-2)), wrapping
    const __m512i dod = _mm512_add_epi64(_mm512_sub_epi64(Times8(s + i), _mm512_add_epi64(t1, t1)),
                                         Times8(s + i - 2));
    const __m512i dv =
        _mm512_sub_epi64(_mm512_loadu_si512(ints + i), _mm512_loadu_si512(ints + i - 1));
    const __m512i tc = ZigZag8(dod), vc = ZigZag8(dv);
    _mm512_storeu_si512(t_codes + i, tc);
    _mm512_storeu_si512(v_codes + i, vc);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(t_keys + i), Keys8(tc));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(v_keys + i), Keys8(vc));
    t_or = _mm512_or_si512(t_or, tc);
    v_or = _mm512_or_si512(v_or, vc);
  }
  *t_any |= static_cast<uint64_t>(_mm512_reduce_or_epi64(t_or));
  *v_any |= static_cast<uint64_t>(_mm512_reduce_or_epi64(v_or));
  return i;
}

// CodeStats::BestWidth from the codes' keys (m bytes, CodeStats::Key of each) and
// the OR of the codes: the same costs and the same choice, but each width's escape
// count, the number of keys above it, is counted 64 keys to a compare, which beats
// a histogram of one increment per code.
CAIRN_CHUNK_KERNEL_AVX512 int BestWidthFromKeys(const uint8_t* keys, size_t m, uint64_t any,
                                                uint64_t* bits) {
  if (any == 0) {
    *bits = 0;
    return 0;
  }
  int best_w = 64;
  uint64_t best_cost = uint64_t{m} * 64;
  uint64_t escapes = m;
  for (int w = 1; w < 64 && escapes > 0; ++w) {
    const __m512i above = _mm512_set1_epi8(static_cast<char>(w));
    escapes = 0;
    for (size_t i = 0; i < m; i += 64) {
      const __mmask64 valid = m - i >= 64 ? ~__mmask64{0} : (__mmask64{1} << (m - i)) - 1;
      const __m512i k = _mm512_maskz_loadu_epi8(valid, keys + i);
      escapes += static_cast<uint64_t>(std::popcount(_mm512_mask_cmpgt_epu8_mask(valid, k, above)));
    }
    const uint64_t cost = uint64_t{m} * static_cast<uint64_t>(w) + escapes * 64;
    if (cost < best_cost) {
      best_cost = cost;
      best_w = w;
    }
  }
  *bits = best_cost;
  return best_w;
}

// Writes the codes of samples [2, i) for the largest i reached eight at a time;
// returns i. A group of eight without escapes is stride * 8 bits: its combined codes
// are merged pairwise in vector lanes (two, four or eight samples to a lane, as
// long as a lane's bits fit one Put) and written with 1 to 8 Puts. A group with an
// escape is written sample by sample. REQUIRES: 0 < tw + vw <= 56.
CAIRN_CHUNK_KERNEL_AVX512 size_t WriteAvx512(const uint64_t* t_codes, const uint64_t* v_codes,
                                             size_t n, int tw, int vw, uint64_t tesc, uint64_t vesc,
                                             BranchFreeBitWriter* w) {
  const int s = tw + vw;
  const int level = 8 * s <= 56 ? 3 : 4 * s <= 56 ? 2 : 2 * s <= 56 ? 1 : 0;
  const __m512i t_esc = _mm512_set1_epi64(static_cast<int64_t>(tesc));
  const __m512i v_esc = _mm512_set1_epi64(static_cast<int64_t>(vesc));
  const __m128i v_width = _mm_cvtsi32_si128(vw);
  const __m128i s1 = _mm_cvtsi32_si128(s), s2 = _mm_cvtsi32_si128(2 * s),
                s4 = _mm_cvtsi32_si128(4 * s);
  alignas(64) uint64_t lane[8];
  size_t i = 2;
  for (; i + 8 <= n; i += 8) {
    const __m512i tc = _mm512_loadu_si512(t_codes + i), vc = _mm512_loadu_si512(v_codes + i);
    if ((_mm512_cmpge_epu64_mask(tc, t_esc) | _mm512_cmpge_epu64_mask(vc, v_esc)) != 0) {
      for (size_t j = i; j < i + 8; ++j) PutSample(w, t_codes[j], v_codes[j], tw, vw, tesc, vesc);
      continue;
    }
    __m512i x = _mm512_or_si512(_mm512_sll_epi64(tc, v_width), vc);  // s bits a lane
    if (level >= 1) x = _mm512_or_si512(_mm512_sll_epi64(x, s1), _mm512_bsrli_epi128(x, 8));
    if (level >= 2) x = _mm512_or_si512(_mm512_sll_epi64(x, s2), _mm512_alignr_epi64(x, x, 2));
    if (level >= 3) x = _mm512_or_si512(_mm512_sll_epi64(x, s4), _mm512_alignr_epi64(x, x, 4));
    _mm512_store_si512(lane, x);
    switch (level) {
      case 3:
        w->Put(lane[0], 8 * s);
        break;
      case 2:
        w->Put(lane[0], 4 * s);
        w->Put(lane[4], 4 * s);
        break;
      case 1:
        for (int j = 0; j < 8; j += 2) w->Put(lane[j], 2 * s);
        break;
      default:
        for (int j = 0; j < 8; ++j) w->Put(lane[j], s);
    }
  }
  return i;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif  // __x86_64__

}  // namespace

std::optional<std::string> EncodePackedChunk(absl::Span<const Sample> samples) {
  const size_t n = samples.size();
  if (n == 0 || n > 65535) return std::nullopt;
#if defined(__x86_64__)
  const bool simd = ActiveChunkKernel() == ChunkKernel::kAvx512;
#else
  const bool simd = false;
#endif
  // ints, then the timestamp codes, then the value codes; then both codes' keys. On
  // the stack for chunks of usual length.
  absl::FixedArray<uint64_t, 3 * 256> buf(3 * n);
  int64_t* ints = reinterpret_cast<int64_t*>(buf.data());
  uint64_t* t_codes = buf.data() + n;
  uint64_t* v_codes = buf.data() + 2 * n;
  Scaler scaler;
  if (simd) {
#if defined(__x86_64__)
    if (!ScaleAvx512(samples.data(), n, &scaler, ints)) return std::nullopt;
#endif
  } else {
    for (size_t k = 0; k < n; ++k) {
      if (!scaler.Add(samples[k].v, k, ints)) return std::nullopt;
    }
  }
  const int scale = scaler.d;
  t_codes[1] = 0;  // sample 1 has no timestamp code (dt1 is in the header)
  int tw, vw;
  uint64_t t_bits, v_bits;
#if defined(__x86_64__)
  if (simd && n >= 2) {
    absl::FixedArray<uint8_t, 2 * 256> keys(2 * n);
    uint8_t* t_keys = keys.data();
    uint8_t* v_keys = keys.data() + n;
    uint64_t t_any = 0, v_any = 0;
    // Codes and keys of samples [2, vec_end) eight at a time; sample 1's value code
    // and the last few samples one at a time.
    const size_t vec_end =
        CodesAvx512(samples.data(), ints, n, t_codes, v_codes, t_keys, v_keys, &t_any, &v_any);
    ComputeCodes(samples, ints, 1, t_codes, v_codes);
    v_keys[1] = static_cast<uint8_t>(CodeStats::Key(v_codes[1]));
    v_any |= v_codes[1];
    for (size_t i = vec_end; i < n; ++i) {
      ComputeCodes(samples, ints, i, t_codes, v_codes);
      t_keys[i] = static_cast<uint8_t>(CodeStats::Key(t_codes[i]));
      v_keys[i] = static_cast<uint8_t>(CodeStats::Key(v_codes[i]));
      t_any |= t_codes[i];
      v_any |= v_codes[i];
    }
    tw = BestWidthFromKeys(t_keys + 2, n - 2, t_any, &t_bits);
    vw = BestWidthFromKeys(v_keys + 1, n - 1, v_any, &v_bits);
  } else
#endif
  {
    CodeStats t_stats, v_stats;
    for (size_t i = 1; i < n; ++i) {
      ComputeCodes(samples, ints, i, t_codes, v_codes);
      if (i >= 2) t_stats.Add(t_codes[i], i);
      v_stats.Add(v_codes[i], i);
    }
    tw = t_stats.BestWidth(&t_bits);
    vw = v_stats.BestWidth(&v_bits);
  }
  const uint64_t bits = t_bits + v_bits;
  // Header: count, t0, i0, scale, dt1, two widths; then the stream and the writer's
  // slack for its unconditional 8-byte store.
  std::string out;
  out.resize(2 + 3 * kMaxVarint64Bytes + 3 + bits / 8 + 1 + 8);
  char* h = out.data();
  *h++ = static_cast<char>(n >> 8);
  *h++ = static_cast<char>(n);
  h += EncodeVarint64(h, ZigZagEncode(samples[0].t));
  h += EncodeVarint64(h, ZigZagEncode(ints[0]));
  *h++ = static_cast<char>(scale);
  if (n < 2) {
    out.resize(static_cast<size_t>(h - out.data()));
    return out;
  }
  h += EncodeVarint64(h, static_cast<uint64_t>(samples[1].t) - static_cast<uint64_t>(samples[0].t));
  *h++ = static_cast<char>(tw);
  *h++ = static_cast<char>(vw);
  BranchFreeBitWriter w(reinterpret_cast<uint8_t*>(h), 0);  // (resize zeroed the bytes)
  // A zero width has no escape (its codes are all 0); width 64 never escapes.
  const uint64_t tesc = (tw == 0 || tw == 64) ? ~uint64_t{0} : (uint64_t{1} << tw) - 1;
  const uint64_t vesc = (vw == 0 || vw == 64) ? ~uint64_t{0} : (uint64_t{1} << vw) - 1;
  // Sample 1 has a value code only.
  PutSample(&w, 0, v_codes[1], 0, vw, ~uint64_t{0}, vesc);
  size_t i = 2;
#if defined(__x86_64__)
  if (simd && tw + vw > 0 && tw + vw <= 56)
    i = WriteAvx512(t_codes, v_codes, n, tw, vw, tesc, vesc, &w);
#endif
  if (tw + vw > 0) {
    for (; i < n; ++i) PutSample(&w, t_codes[i], v_codes[i], tw, vw, tesc, vesc);
  }
  const uint8_t* end = w.end();
  out.resize(static_cast<size_t>(end - reinterpret_cast<const uint8_t*>(out.data())));
  return out;
}

}  // namespace cairn
