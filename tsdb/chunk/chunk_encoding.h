// The encodings a chunk can have, stored as one byte wherever chunks are persisted
// (block chunk files, head chunk files). New encodings get new values; readers
// refuse values they do not know (docs/format/chunks.md).
#ifndef CAIRN_TSDB_CHUNK_CHUNK_ENCODING_H_
#define CAIRN_TSDB_CHUNK_CHUNK_ENCODING_H_

#include <cstdint>

namespace cairn {

// kXor is Prometheus' encoding 1; kPacked (0x40, outside Prometheus' range) is Cairn's
// packed-decimal block codec (packed_chunk.h).
enum class ChunkEncoding : uint8_t { kXor = 1, kPacked = 0x40 };

}  // namespace cairn

#endif  // CAIRN_TSDB_CHUNK_CHUNK_ENCODING_H_
