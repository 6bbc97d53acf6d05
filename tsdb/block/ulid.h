// ULIDs name blocks: 48 bits of milliseconds since the epoch and 80 random bits,
// written as 26 Crockford base32 characters, so block directories sort by creation
// time as in Prometheus.
#ifndef CAIRN_TSDB_BLOCK_ULID_H_
#define CAIRN_TSDB_BLOCK_ULID_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::block {

// A new ULID for time `ms` with randomness from a thread-local generator seeded from
// the OS.
std::string NewUlid(int64_t ms);
// Encodes the 128-bit value hi:lo.
std::string EncodeUlid(uint64_t hi, uint64_t lo);
// Whether `s` is a syntactically valid ULID (26 base32 characters, first <= '7').
bool IsUlid(std::string_view s);

}  // namespace cairn::block

#endif  // CAIRN_TSDB_BLOCK_ULID_H_
