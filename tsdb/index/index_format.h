// Constants of the block index file, the Prometheus TSDB index format version 2
// (docs/format/index.md describes every byte). Kept identical to Prometheus' so that
// its tools (promtool tsdb list/dump/analyze) can read Cairn blocks and vice versa.
#ifndef CAIRN_TSDB_INDEX_INDEX_FORMAT_H_
#define CAIRN_TSDB_INDEX_INDEX_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace cairn::index {

inline constexpr uint32_t kIndexMagic = 0xBAAAD700;
inline constexpr uint8_t kIndexVersion2 = 2;
inline constexpr size_t kIndexHeaderSize = 5;
// Series entries start at multiples of this; a series reference is offset / 16.
inline constexpr size_t kSeriesAlignment = 16;
// Six big-endian uint64 section offsets and a CRC32C.
inline constexpr size_t kTocSize = 6 * 8 + 4;

}  // namespace cairn::index

#endif  // CAIRN_TSDB_INDEX_INDEX_FORMAT_H_
