// The fast path of packed chunk decoding (tsdb/chunk/packed_chunk.h,
// docs/format/chunks.md): runs of samples whose codes are not escaped.
//
// Without escapes a sample's two codes sit at a fixed stride (t_width + v_width
// bits), so the position of every sample is known before any is decoded and the
// work is a bit-unpacking and three prefix sums: no data-dependent branch and no
// serial dependency on the bit position. DecodeFixedStride stops *before* a sample it
// cannot do this way — an escaped code, or a sample that would end past the stream —
// and leaves it to the checked sample-by-sample decoder (PackedChunkIterator::Next),
// which also reports any error; so batch and single decoding agree on every input by
// construction.
//
// Thread-safety: pure functions.
#ifndef CAIRN_TSDB_CHUNK_PACKED_STRIDE_DECODER_H_
#define CAIRN_TSDB_CHUNK_PACKED_STRIDE_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tsdb/model/sample.h"

namespace cairn {

// Where decoding stands: the next sample's bit position in the stream and the
// running values. Integers wrap (corrupt chunks may overflow; that is not UB).
struct FixedStrideState {
  size_t pos;
  uint64_t t, dt, ival;
};

struct FixedStrideParams {
  const uint8_t* data;   // the bit stream (after the chunk header)
  size_t size;           // its bytes; never read past
  int t_width, v_width;  // REQUIRES: each < 64 and t_width + v_width <= 57
  double scale_div;      // 10^scale
};

// Decodes up to `want` samples (the third sample of the chunk or later) into out[],
// advancing *st; returns how many. Fewer than `want` means the next sample has an
// escaped code or ends past the stream.
size_t DecodeFixedStride(const FixedStrideParams& p, FixedStrideState* st, Sample* out,
                         size_t want);

// The implementations, chosen once from the CPU (the best it supports): plain x86-64
// (or another architecture), BMI2 shifts, and AVX-512 (F, BW, DQ, VBMI) eight samples
// at a time. All decode exactly the same.
enum class StrideKernel { kBaseline, kBmi2, kAvx512 };
// Those this CPU runs, best last.
std::vector<StrideKernel> SupportedStrideKernels();
// Replaces the choice, for tests and benchmarks that compare kernels. REQUIRES: the
// kernel is supported; no decoding runs concurrently in other threads.
void UseStrideKernel(StrideKernel kernel);

}  // namespace cairn

#endif  // CAIRN_TSDB_CHUNK_PACKED_STRIDE_DECODER_H_
