#include "tsdb/util/coding.h"

namespace cairn {

int EncodeVarint64(char* dst, uint64_t v) {
  int n = 0;
  while (v >= 0x80) {
    dst[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  dst[n++] = static_cast<char>(v);
  return n;
}

void PutVarint64(std::string* dst, uint64_t v) {
  char buf[kMaxVarint64Bytes];
  dst->append(buf, EncodeVarint64(buf, v));
}

void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s.data(), s.size());
}

bool GetVarint32(std::string_view* in, uint32_t* v) {
  uint64_t u;
  if (!GetVarint64(in, &u) || u > UINT32_MAX) return false;
  *v = static_cast<uint32_t>(u);
  return true;
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* s) {
  uint64_t len;
  if (!GetVarint64(in, &len) || len > in->size()) return false;
  *s = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

bool GetBigEndian32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = DecodeBigEndian32(in->data());
  in->remove_prefix(4);
  return true;
}

bool GetBigEndian64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = DecodeBigEndian64(in->data());
  in->remove_prefix(8);
  return true;
}

}  // namespace cairn
