// Constants of the WAL segment framing that the writer (wal.h) and the reader
// (wal_reader.h) agree on. The full grammar is in docs/format/wal.md.
//
//   segment  := header record*
//   header   := magic:u32be(0x43574131 "CWA1") version:u8(1) reserved:u8[3](0)
//   record   := flags:u8 length:u32be crc:u32be payload:u8[length]
//   flags    := bit 0: payload is a zstd frame; bits 1-7 zero
//   crc      := CRC32C over flags, the 4 length bytes and payload
#ifndef CAIRN_TSDB_WAL_WAL_FORMAT_H_
#define CAIRN_TSDB_WAL_WAL_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace cairn::wal {

inline constexpr uint32_t kSegmentMagic = 0x43574131;
inline constexpr uint8_t kSegmentVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 8;
inline constexpr size_t kRecordHeaderBytes = 9;
inline constexpr uint8_t kFlagZstd = 0x01;
// Records larger than this are refused by the writer and treated as corruption by
// the reader (so a garbage length cannot make it allocate without bound).
inline constexpr uint32_t kMaxRecordBytes = 128u << 20;
// Payloads smaller than this are stored uncompressed: zstd's frame overhead would
// eat the gain.
inline constexpr size_t kCompressMinBytes = 256;

// "00000012": segment file names are 8 decimal digits.
std::string SegmentName(int n);
// Parses a segment file name; -1 when `name` is not one.
int ParseSegmentName(const std::string& name);

}  // namespace cairn::wal

#endif  // CAIRN_TSDB_WAL_WAL_FORMAT_H_
