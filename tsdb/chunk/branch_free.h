// Branch-free selection for the chunk codecs' hot loops.
//
// Which Gorilla bucket or value case a sample takes is data-dependent and, on
// realistic data (millisecond scrape jitter, counters and gauges), close to random,
// so a branch on it is mispredicted every few samples (~15 cycles each). GCC 12 turns
// `c ? a : b` over several values into branches, and a mask costs four instructions,
// so on x86-64 the selection is a conditional move in inline assembly.
//
// Thread-safety: pure functions.
#ifndef CAIRN_TSDB_CHUNK_BRANCH_FREE_H_
#define CAIRN_TSDB_CHUNK_BRANCH_FREE_H_

#include <cstdint>

namespace cairn::internal {

// `c ? a : b`, without a branch: a conditional move on x86-64, a mask elsewhere.
inline uint64_t Select(bool c, uint64_t a, uint64_t b) {
#if defined(__x86_64__) && defined(__GNUC__)
  __asm__("testb %b[c], %b[c]\n\tcmovnzq %[a], %[b]" : [b] "+r"(b) : [a] "r"(a), [c] "q"(c) : "cc");
  return b;
#else
  const uint64_t mask = uint64_t{0} - static_cast<uint64_t>(c);
  return b ^ ((a ^ b) & mask);
#endif
}
inline int SelectInt(bool c, int a, int b) {
  return static_cast<int>(Select(c, static_cast<uint64_t>(a), static_cast<uint64_t>(b)));
}

}  // namespace cairn::internal

#endif  // CAIRN_TSDB_CHUNK_BRANCH_FREE_H_
