#include "tsdb/block/ulid.h"

#include <random>

namespace cairn::block {
namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}  // namespace

std::string EncodeUlid(uint64_t hi, uint64_t lo) {
  // 26 characters of 5 bits cover 130 bits; the top two are zero.
  std::string out(26, '0');
  for (int i = 25; i >= 0; --i) {
    out[i] = kAlphabet[lo & 31];
    lo = (lo >> 5) | (hi << 59);
    hi >>= 5;
  }
  return out;
}

std::string NewUlid(int64_t ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t r1 = rng(), r2 = rng();
  uint64_t hi = (static_cast<uint64_t>(ms) << 16) | (r1 & 0xffff);
  return EncodeUlid(hi, r2);
}

bool IsUlid(std::string_view s) {
  if (s.size() != 26 || s[0] > '7') return false;
  for (char c : s) {
    bool ok = false;
    for (const char* a = kAlphabet; *a != '\0'; ++a) ok |= (*a == c);
    if (!ok) return false;
  }
  return true;
}

}  // namespace cairn::block
