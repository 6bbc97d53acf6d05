// Byte-level encodings shared by every on-disk and on-wire format of the tsdb:
// fixed-width big-endian integers (the block and WAL formats are big-endian, as
// Prometheus' are, so a hex dump reads naturally), LEB128 varints (unsigned) and
// zig-zag signed varints. Decoders never read past the end of their input: they take
// a string_view, consume from its front and return false on truncation or overflow.
#ifndef CAIRN_TSDB_UTIL_CODING_H_
#define CAIRN_TSDB_UTIL_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cairn {

inline constexpr int kMaxVarint64Bytes = 10;

inline void PutBigEndian16(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  dst->append(b, 2);
}
inline void PutBigEndian32(std::string* dst, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  dst->append(b, 4);
}
inline void PutBigEndian64(std::string* dst, uint64_t v) {
  PutBigEndian32(dst, static_cast<uint32_t>(v >> 32));
  PutBigEndian32(dst, static_cast<uint32_t>(v));
}
inline void EncodeBigEndian32(char* dst, uint32_t v) {
  dst[0] = static_cast<char>(v >> 24);
  dst[1] = static_cast<char>(v >> 16);
  dst[2] = static_cast<char>(v >> 8);
  dst[3] = static_cast<char>(v);
}
inline void EncodeBigEndian64(char* dst, uint64_t v) {
  EncodeBigEndian32(dst, static_cast<uint32_t>(v >> 32));
  EncodeBigEndian32(dst + 4, static_cast<uint32_t>(v));
}
inline uint16_t DecodeBigEndian16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
inline uint32_t DecodeBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
inline uint64_t DecodeBigEndian64(const char* p) {
  return (uint64_t{DecodeBigEndian32(p)} << 32) | DecodeBigEndian32(p + 4);
}

// Appends `v` as an unsigned LEB128 varint (1-10 bytes).
void PutVarint64(std::string* dst, uint64_t v);
// Writes `v` to `dst` (which must have kMaxVarint64Bytes of room); returns bytes written.
int EncodeVarint64(char* dst, uint64_t v);
// Appends `v` zig-zag encoded, so small negative numbers stay short.
// Zig-zag mapping of signed to unsigned integers (0, -1, 1, -2, ... to 0, 1, 2, 3,
// ...), as Go's binary.PutVarint: small magnitudes get small codes.
inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t u) { return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1)); }

inline void PutSignedVarint64(std::string* dst, int64_t v) { PutVarint64(dst, ZigZagEncode(v)); }
// Appends a uvarint length followed by the bytes of `s`.
void PutLengthPrefixed(std::string* dst, std::string_view s);

// Decoders: consume from the front of `*in`; false (and `*in` unspecified) when the
// input is truncated or the varint is longer than 10 bytes.
// Inline: chunk decoders parse a few varints per chunk, which adds up over a query.
inline bool GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in->data());
  const size_t n = in->size();
  for (size_t i = 0; i < n && i < kMaxVarint64Bytes; ++i) {
    const uint64_t byte = p[i];
    if (i == kMaxVarint64Bytes - 1 && byte > 1) return false;  // overflows 64 bits
    result |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      *v = result;
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}
bool GetVarint32(std::string_view* in, uint32_t* v);
inline bool GetSignedVarint64(std::string_view* in, int64_t* v) {
  uint64_t u;
  if (!GetVarint64(in, &u)) return false;
  *v = ZigZagDecode(u);
  return true;
}
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);
bool GetBigEndian32(std::string_view* in, uint32_t* v);
bool GetBigEndian64(std::string_view* in, uint64_t* v);
inline bool GetByte(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

}  // namespace cairn

#endif  // CAIRN_TSDB_UTIL_CODING_H_
