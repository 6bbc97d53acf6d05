#include "tsdb/chunk/chunk_kernels.h"

#include <atomic>

namespace cairn {
namespace {

bool HaveBmi2() {
#if defined(__x86_64__)
  __builtin_cpu_init();  // g_active's initialiser may run before libgcc's
  return __builtin_cpu_supports("bmi2");
#else
  return false;
#endif
}

bool HaveAvx512() {
#if defined(__x86_64__)
  // libgcc's checks include the OS's support for the AVX-512 register state.
  return HaveBmi2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vbmi");
#else
  return false;
#endif
}

std::atomic<ChunkKernel> g_active{SupportedChunkKernels().back()};

}  // namespace

std::vector<ChunkKernel> SupportedChunkKernels() {
  std::vector<ChunkKernel> out = {ChunkKernel::kBaseline};
  if (HaveBmi2()) out.push_back(ChunkKernel::kBmi2);
  if (HaveAvx512()) out.push_back(ChunkKernel::kAvx512);
  return out;
}

ChunkKernel ActiveChunkKernel() { return g_active.load(std::memory_order_relaxed); }

void UseChunkKernel(ChunkKernel kernel) { g_active.store(kernel, std::memory_order_relaxed); }

std::string_view ChunkKernelName(ChunkKernel kernel) {
  switch (kernel) {
    case ChunkKernel::kBaseline:
      return "Baseline";
    case ChunkKernel::kBmi2:
      return "Bmi2";
    case ChunkKernel::kAvx512:
      return "Avx512";
  }
  return "Unknown";
}

}  // namespace cairn
