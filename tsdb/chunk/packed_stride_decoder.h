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

// Which implementation runs (plain, BMI2 or AVX-512) is ActiveChunkKernel()
// (chunk_kernels.h); all decode exactly the same.

}  // namespace cairn

#endif  // CAIRN_TSDB_CHUNK_PACKED_STRIDE_DECODER_H_
