// ChunkMeta: where one chunk of a series lives and which time range it covers, as the
// index records it. `ref` is the chunk file reference (block/chunk_file.h: segment
// sequence in the upper 32 bits, byte offset in the lower 32).
#ifndef CAIRN_TSDB_INDEX_CHUNK_META_H_
#define CAIRN_TSDB_INDEX_CHUNK_META_H_

#include <cstdint>

namespace cairn::index {

struct ChunkMeta {
  int64_t min_time = 0;  // inclusive, of the first sample
  int64_t max_time = 0;  // inclusive, of the last sample
  uint64_t ref = 0;
  friend bool operator==(const ChunkMeta&, const ChunkMeta&) = default;
};

}  // namespace cairn::index

#endif  // CAIRN_TSDB_INDEX_CHUNK_META_H_
