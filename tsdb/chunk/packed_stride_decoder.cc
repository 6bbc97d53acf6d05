#include "tsdb/chunk/packed_stride_decoder.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "tsdb/chunk/bit_stream.h"
#include "tsdb/chunk/chunk_kernels.h"
#include "tsdb/util/coding.h"

namespace cairn {
namespace {

// One sample at a time. kT / kV: the width is non-zero (a zero width's codes are all
// 0 and take no bits). kTail: the position is within 8 bytes of the end, where loads
// are padded with zeros and each sample's end is checked against the stream's.
template <bool kT, bool kV, bool kScaled, bool kTail>
[[gnu::always_inline]] inline size_t DecodeScalar(const FixedStrideParams& p, FixedStrideState* st,
                                                  Sample* out, size_t want) {
  const int tw = p.t_width, vw = p.v_width, stride = tw + vw;
  const int tshift = 64 - tw, vshift = 64 - vw;
  const uint64_t tesc = (uint64_t{1} << tw) - 1, vesc = (uint64_t{1} << vw) - 1;
  const size_t size_bits = p.size * 8;
  // Whole-word loads stay inside the stream while pos < load_end.
  const size_t load_end = p.size >= 8 ? (p.size - 7) * 8 : 0;
  size_t pos = st->pos;
  uint64_t t = st->t, dt = st->dt, ival = st->ival;
  size_t k = 0;
  for (; k < want; ++k) {
    uint64_t w;
    if constexpr (kTail) {
      if (pos + static_cast<size_t>(stride) > size_bits) break;  // truncated: Next() says so
      uint8_t pad[8] = {};
      const size_t byte = pos >> 3;
      std::memcpy(pad, p.data + byte, std::min<size_t>(8, p.size - byte));
      w = internal::LoadBigEndian64(pad) << (pos & 7);
    } else {
      if (pos >= load_end) break;
      // A sample ends at most 57 bits after pos < (size - 7) * 8: inside the stream.
      w = BitReader::PeekAt(p.data, pos);
    }
    uint64_t tc = 0, vc = 0;
    if constexpr (kT) {
      tc = w >> tshift;
      if (tc == tesc) break;
    }
    if constexpr (kV) {
      vc = (w << tw) >> vshift;
      if (vc == vesc) break;
    }
    pos += static_cast<size_t>(stride);
    if constexpr (kT) dt += static_cast<uint64_t>(ZigZagDecode(tc));
    t += dt;
    if constexpr (kV) ival += static_cast<uint64_t>(ZigZagDecode(vc));
    double v = static_cast<double>(static_cast<int64_t>(ival));
    if constexpr (kScaled) v /= p.scale_div;
    out[k] = Sample{static_cast<int64_t>(t), v};
  }
  st->pos = pos;
  st->t = t;
  st->dt = dt;
  st->ival = ival;
  return k;
}

// As much of a batch as the scalar kernel can do, in place and then in the tail.
template <bool kT, bool kV, bool kScaled>
[[gnu::always_inline]] inline size_t DecodeScalarAll(const FixedStrideParams& p,
                                                     FixedStrideState* st, Sample* out,
                                                     size_t want) {
  size_t k = DecodeScalar<kT, kV, kScaled, false>(p, st, out, want);
  if (k < want && st->pos + 64 > p.size * 8) {  // stopped near the end, maybe not by an escape
    k += DecodeScalar<kT, kV, kScaled, true>(p, st, out + k, want - k);
  }
  return k;
}

using KernelFn = size_t (*)(const FixedStrideParams&, FixedStrideState*, Sample*, size_t);

// Instantiations for every (t width > 0, v width > 0, scaled) combination, indexed by
// KernelIndex().
#define CAIRN_SCALAR_KERNELS(attr, name)                                                       \
  template <bool kT, bool kV, bool kScaled>                                                    \
  attr size_t name##One(const FixedStrideParams& p, FixedStrideState* st, Sample* out,         \
                        size_t want) {                                                         \
    return DecodeScalarAll<kT, kV, kScaled>(p, st, out, want);                                 \
  }                                                                                            \
  constexpr KernelFn name[8] = {name##One<false, false, false>, name##One<false, false, true>, \
                                name##One<false, true, false>,  name##One<false, true, true>,  \
                                name##One<true, false, false>,  name##One<true, false, true>,  \
                                name##One<true, true, false>,   name##One<true, true, true>};

size_t KernelIndex(const FixedStrideParams& p) {
  return (p.t_width > 0 ? 4 : 0) + (p.v_width > 0 ? 2 : 0) + (p.scale_div != 1 ? 1 : 0);
}

CAIRN_SCALAR_KERNELS(, kScalarBaseline)

size_t DecodeBaseline(const FixedStrideParams& p, FixedStrideState* st, Sample* out, size_t want) {
  return kScalarBaseline[KernelIndex(p)](p, st, out, want);
}

#if defined(__x86_64__)
// BMI2's shifts by a register are one instruction instead of three; the scalar kernel
// does three per sample.
CAIRN_SCALAR_KERNELS([[gnu::target("bmi,bmi2")]], kScalarBmi2)

size_t DecodeBmi2(const FixedStrideParams& p, FixedStrideState* st, Sample* out, size_t want) {
  return kScalarBmi2[KernelIndex(p)](p, st, out, want);
}

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_epi32(), which its own
// -Wmaybe-uninitialized and -Wuninitialized flag (a known false positive in the
// headers).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

static_assert(sizeof(Sample) == 16 && offsetof(Sample, v) == 8, "stores Samples as 2 words");

// Inclusive prefix sum of the eight lanes (wrapping).
CAIRN_CHUNK_KERNEL_AVX512 inline __m512i PrefixSum(__m512i x) {
  const __m512i zero = _mm512_setzero_si512();
  x = _mm512_add_epi64(x, _mm512_alignr_epi64(x, zero, 7));  // + lane j-1
  x = _mm512_add_epi64(x, _mm512_alignr_epi64(x, zero, 6));  // + lanes j-2, j-3
  x = _mm512_add_epi64(x, _mm512_alignr_epi64(x, zero, 4));  // + lanes j-4 .. j-7
  return x;
}

CAIRN_CHUNK_KERNEL_AVX512 inline __m512i UnZigZag8(__m512i c) {
  const __m512i neg_low =
      _mm512_sub_epi64(_mm512_setzero_si512(), _mm512_and_si512(c, _mm512_set1_epi64(1)));
  return _mm512_xor_si512(_mm512_srli_epi64(c, 1), neg_low);
}

// Eight samples per step. 8 * stride bits are exactly `stride` bytes, so every group
// of eight has the same layout relative to its first byte: one 64-byte load, one byte
// permutation that gathers each sample's 8 bytes into its lane big-endian, and one
// variable shift that left-aligns it. Then the codes, the prefix sums (timestamps
// take two: delta-of-delta to delta to time), the int-to-double conversion and the
// interleaving into Samples are all in vector registers. The last group of a batch
// may be partial (masked). A group with an escape is left to the scalar kernel, which
// stops before the escaped sample; a sample that would end past the stream is not
// decoded here (the caller's checked decoder reports the truncation).
CAIRN_CHUNK_KERNEL_AVX512 size_t DecodeAvx512(const FixedStrideParams& p, FixedStrideState* st,
                                              Sample* out, size_t want) {
  const int tw = p.t_width, vw = p.v_width;
  const size_t stride = static_cast<size_t>(tw + vw);
  const size_t size_bits = p.size * 8;
  size_t pos = st->pos, k = 0;
  // Lane j holds sample j of a group, which starts `bit` bits into the group's first
  // byte: its 8 bytes start at byte bit / 8 and are shifted left by bit % 8. The byte
  // index of lane j's byte b (little-endian in the lane) is bit / 8 + 7 - b, so the
  // lane reads big-endian.
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i bit =
      _mm512_add_epi64(_mm512_set1_epi64(static_cast<int64_t>(pos & 7)),
                       _mm512_mullo_epi64(lane, _mm512_set1_epi64(static_cast<int64_t>(stride))));
  const __m512i gather_idx = _mm512_add_epi64(
      _mm512_mullo_epi64(_mm512_srli_epi64(bit, 3), _mm512_set1_epi64(0x0101010101010101)),
      _mm512_set1_epi64(0x0001020304050607));
  const __m512i align_shift = _mm512_and_si512(bit, _mm512_set1_epi64(7));
  // Shift counts of 64 (a zero width) give 0, as a zero width's codes are.
  const __m128i t_right = _mm_cvtsi32_si128(64 - tw), t_left = _mm_cvtsi32_si128(tw);
  const __m128i v_right = _mm_cvtsi32_si128(64 - vw);
  // The escape codes; a zero width has none (its codes, 0, never match all ones).
  const __m512i t_esc =
      _mm512_set1_epi64(tw > 0 ? static_cast<int64_t>((uint64_t{1} << tw) - 1) : -1);
  const __m512i v_esc =
      _mm512_set1_epi64(vw > 0 ? static_cast<int64_t>((uint64_t{1} << vw) - 1) : -1);
  const __m512i lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);  // t0 v0 t1 v1 ...
  const __m512i hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  const __m512d div = _mm512_set1_pd(p.scale_div);
  const bool scaled = p.scale_div != 1;
  __m512i t = _mm512_set1_epi64(static_cast<int64_t>(st->t));
  __m512i dt = _mm512_set1_epi64(static_cast<int64_t>(st->dt));
  __m512i ival = _mm512_set1_epi64(static_cast<int64_t>(st->ival));
  // Groups whose 64-byte load lies inside the stream (then so do their samples: a
  // group spans at most 7 + 8 * 57 bits < 64 bytes) need no masks.
  size_t until_masked = 0;
  if (p.size >= 64 && pos <= (p.size - 64) * 8) {
    until_masked = want / 8;
    if (stride > 0)
      until_masked = std::min(until_masked, ((p.size - 64) * 8 - pos) / (8 * stride) + 1);
  }
  while (k < want) {
    size_t r = 8;
    __mmask8 lanes = 0xff;
    __mmask64 bytes = ~__mmask64{0};
    const size_t base = pos >> 3;
    if (until_masked > 0) {
      --until_masked;
    } else {
      r = std::min<size_t>(8, want - k);
      if (pos + r * stride > size_bits) r = (size_bits - pos) / stride;  // stride > 0 here
      if (r == 0) break;
      lanes = static_cast<__mmask8>((1u << r) - 1);
      const size_t avail = p.size - base;  // bytes past the end are not read: masked
      bytes = avail >= 64 ? ~__mmask64{0} : (__mmask64{1} << avail) - 1;
    }
    __m512i w = _mm512_maskz_loadu_epi8(bytes, p.data + base);
    w = _mm512_sllv_epi64(_mm512_permutexvar_epi8(gather_idx, w), align_shift);
    const __m512i tc = _mm512_srl_epi64(w, t_right);
    const __m512i vc = _mm512_srl_epi64(_mm512_sll_epi64(w, t_left), v_right);
    if ((_mm512_mask_cmpeq_epi64_mask(lanes, tc, t_esc) |
         _mm512_mask_cmpeq_epi64_mask(lanes, vc, v_esc)) != 0) {
      break;
    }
    const __m512i dts = _mm512_add_epi64(dt, PrefixSum(UnZigZag8(tc)));
    const __m512i ts = _mm512_add_epi64(t, PrefixSum(dts));
    const __m512i ivals = _mm512_add_epi64(ival, PrefixSum(UnZigZag8(vc)));
    __m512d v = _mm512_cvtepi64_pd(ivals);
    if (scaled) v = _mm512_div_pd(v, div);
    const __m512i vbits = _mm512_castpd_si512(v);
    const __m512i last = _mm512_set1_epi64(static_cast<int64_t>(r - 1));
    if (r == 8) {
      _mm512_storeu_si512(out + k, _mm512_permutex2var_epi64(ts, lo, vbits));
      _mm512_storeu_si512(out + k + 4, _mm512_permutex2var_epi64(ts, hi, vbits));
    } else {
      const unsigned words = 2 * static_cast<unsigned>(r);  // < 16
      _mm512_mask_storeu_epi64(out + k, static_cast<__mmask8>((1u << std::min(words, 8u)) - 1),
                               _mm512_permutex2var_epi64(ts, lo, vbits));
      _mm512_mask_storeu_epi64(out + k + 4,
                               static_cast<__mmask8>((1u << (words > 8 ? words - 8 : 0)) - 1),
                               _mm512_permutex2var_epi64(ts, hi, vbits));
    }
    t = _mm512_permutexvar_epi64(last, ts);
    dt = _mm512_permutexvar_epi64(last, dts);
    ival = _mm512_permutexvar_epi64(last, ivals);
    pos += r * stride;
    k += r;
  }
  st->pos = pos;
  st->t = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(t)));
  st->dt = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(dt)));
  st->ival = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(ival)));
  if (k == want) return k;
  // Up to an escape (the scalar kernel stops before it), or nothing if the stream ends.
  return k + kScalarBmi2[KernelIndex(p)](p, st, out + k, want - k);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif  // __x86_64__

#undef CAIRN_SCALAR_KERNELS

}  // namespace

size_t DecodeFixedStride(const FixedStrideParams& p, FixedStrideState* st, Sample* out,
                         size_t want) {
  switch (ActiveChunkKernel()) {
#if defined(__x86_64__)
    case ChunkKernel::kAvx512:
      return DecodeAvx512(p, st, out, want);
    case ChunkKernel::kBmi2:
      return DecodeBmi2(p, st, out, want);
#endif
    default:
      return DecodeBaseline(p, st, out, want);
  }
}

}  // namespace cairn
