// Fuzz target: the packed-decimal chunk codec (docs/format/chunks.md).
// - The decoder on arbitrary bytes: no out-of-bounds read, no endless loop, Seek
//   consistent with Next, batch decoding consistent with Next under every kernel
//   (plain, BMI2, AVX-512: chunk_kernels.h) the CPU runs.
// - The encoder on samples read from the same bytes (16 bytes each: timestamp, value
//   bits, made decimal-like by the input's choice): every kernel writes the same
//   bytes, and they decode to the samples.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/batch_decode_agrees.h"
#include "tsdb/chunk/chunk_kernels.h"
#include "tsdb/chunk/packed_chunk.h"

namespace {

std::vector<cairn::Sample> SamplesFrom(const uint8_t* data, size_t size) {
  std::vector<cairn::Sample> out;
  if (size == 0) return out;
  const uint8_t mode = data[0];
  int64_t t = 0;
  for (size_t i = 1; i + 16 <= size; i += 16) {
    int64_t dt;
    uint64_t bits;
    std::memcpy(&dt, data + i, 8);
    std::memcpy(&bits, data + i + 8, 8);
    // Mostly increasing timestamps, some arbitrary ones (the encoder takes any).
    t = (mode & 1) ? static_cast<int64_t>(static_cast<uint64_t>(t) + static_cast<uint64_t>(dt))
                   : t + 1 + static_cast<int64_t>(static_cast<uint64_t>(dt) % 30000);
    double v = std::bit_cast<double>(bits);
    if (mode & 2) {  // a decimal with 0-9 digits, as metrics mostly are
      const int64_t i53 = static_cast<int64_t>(bits % (uint64_t{1} << 53)) >> (bits % 53);
      v = static_cast<double>(i53) / cairn::kPackedPow10[(bits >> 56) % 10];
    }
    out.push_back({t, v});
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::vector<cairn::ChunkKernel> kernels = cairn::SupportedChunkKernels();
  for (cairn::ChunkKernel k : kernels) {
    cairn::UseChunkKernel(k);
    CheckBatchDecodeAgrees<cairn::PackedChunkIterator>(in);
  }
  cairn::PackedChunkIterator it(in);
  int n = 0;
  int64_t last_t = 0;
  while (it.Next()) {
    if (++n > 65535) std::abort();  // the header's count is 16 bits
    last_t = it.t();
    (void)it.v();
  }
  (void)it.status();
  cairn::PackedChunkIterator again(in);
  if (n > 0 && again.Seek(last_t) && again.t() < last_t) std::abort();

  const std::vector<cairn::Sample> samples = SamplesFrom(data, size);
  std::optional<std::optional<std::string>> first;
  for (cairn::ChunkKernel k : kernels) {
    cairn::UseChunkKernel(k);
    std::optional<std::string> enc = cairn::EncodePackedChunk(samples);
    if (!first.has_value()) {
      first = enc;
    } else if (*first != enc) {
      std::abort();  // kernels disagree
    }
    if (!enc.has_value()) continue;
    cairn::PackedChunkIterator dec(*enc);
    for (const cairn::Sample& s : samples) {
      if (!dec.Next() || !(cairn::Sample{dec.t(), dec.v()} == s)) std::abort();
    }
    if (dec.Next() || !dec.status().ok()) std::abort();
  }
  return 0;
}
