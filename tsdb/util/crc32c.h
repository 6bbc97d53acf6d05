// CRC-32C (Castagnoli), the checksum of every WAL record, index section and chunk
// in Cairn's formats — the same polynomial Prometheus uses, so the formats can be
// checked with standard tools. Uses the SSE4.2 crc32 instruction when the CPU has
// it (checked once at start-up) and a slicing-by-8 table otherwise.
// Thread-safe: pure functions.
#ifndef CAIRN_TSDB_UTIL_CRC32C_H_
#define CAIRN_TSDB_UTIL_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cairn::crc32c {

// Returns the CRC-32C of data[0, n) continuing from the CRC `init` of preceding data
// (0 for a fresh checksum).
uint32_t Extend(uint32_t init, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

}  // namespace cairn::crc32c

#endif  // CAIRN_TSDB_UTIL_CRC32C_H_
