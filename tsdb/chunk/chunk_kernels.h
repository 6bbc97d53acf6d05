// Which instruction-set variant the packed chunk codec's fast paths use
// (packed_stride_decoder.h, packed_chunk_encoder.cc). Chosen once at startup, the
// best the CPU supports; every variant produces exactly the same bytes and samples,
// which the tests check by running each.
//
// Thread-safety: ActiveChunkKernel may be called from any thread; UseChunkKernel is
// for tests and benchmarks and must not race with encoding or decoding.
#ifndef CAIRN_TSDB_CHUNK_CHUNK_KERNELS_H_
#define CAIRN_TSDB_CHUNK_CHUNK_KERNELS_H_

#include <string_view>
#include <vector>

namespace cairn {

enum class ChunkKernel {
  kBaseline,  // plain x86-64 (or another architecture)
  kBmi2,      // scalar with BMI2 shifts (one instruction per shift by a register)
  kAvx512,    // eight samples at a time: AVX-512 F, BW, CD, DQ and VBMI
};

// Those this CPU runs, best last.
std::vector<ChunkKernel> SupportedChunkKernels();
ChunkKernel ActiveChunkKernel();
// REQUIRES: `kernel` is supported; no encoding or decoding runs concurrently.
void UseChunkKernel(ChunkKernel kernel);
std::string_view ChunkKernelName(ChunkKernel kernel);

// For the kernels' source files: the function attribute that compiles a function for
// ChunkKernel::kAvx512, the same extensions SupportedChunkKernels() checks.
#define CAIRN_CHUNK_KERNEL_AVX512 \
  [[gnu::target("avx512f,avx512bw,avx512cd,avx512dq,avx512vbmi,bmi,bmi2")]]

}  // namespace cairn

#endif  // CAIRN_TSDB_CHUNK_CHUNK_KERNELS_H_
