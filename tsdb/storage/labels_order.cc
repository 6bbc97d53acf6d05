#include "tsdb/storage/labels_order.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace cairn::storage {
namespace {

void AppendEscaped(std::string_view s, std::string* out) {
  size_t plain = 0;  // start of the run not yet appended
  for (size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u > 1) continue;
    out->append(s.data() + plain, i - plain);
    out->push_back('\x01');
    out->push_back(static_cast<char>(u + 1));
    plain = i + 1;
  }
  out->append(s.data() + plain, s.size() - plain);
  out->push_back('\0');
}

// Big-endian load of up to 8 bytes, zero-padded: integer order is memcmp order.
uint64_t Prefix8(const char* p, size_t n) {
  unsigned char b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(b, p, std::min<size_t>(n, 8));
  uint64_t v = 0;
  for (unsigned char x : b) v = (v << 8) | x;
  return v;
}

struct Entry {
  uint64_t prefix;  // 8 key bytes after the common prefix
  size_t off;       // key bytes in `keys`, after the common prefix
  size_t len;
  uint32_t index;
};

}  // namespace

std::vector<uint32_t> LabelsSortOrder(const std::vector<const Labels*>& labels) {
  const size_t n = labels.size();
  std::vector<uint32_t> order(n);
  if (n < 2) {
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
    return order;
  }
  std::string keys;
  keys.reserve(n * (labels[0]->encoded().size() + 8));
  std::vector<size_t> starts(n + 1);
  for (size_t i = 0; i < n; ++i) {
    starts[i] = keys.size();
    for (const Label& l : *labels[i]) {
      AppendEscaped(l.name, &keys);
      AppendEscaped(l.value, &keys);
    }
  }
  starts[n] = keys.size();
  // The longest prefix of the first key that every key shares.
  size_t common = starts[1] - starts[0];
  for (size_t i = 1; i < n && common > 0; ++i) {
    const size_t len = std::min(common, starts[i + 1] - starts[i]);
    const char* a = keys.data();
    const char* b = keys.data() + starts[i];
    size_t k = 0;
    while (k < len && a[k] == b[k]) ++k;
    common = k;
  }
  std::vector<Entry> entries(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t off = starts[i] + common;
    const size_t len = starts[i + 1] - off;
    entries[i] = Entry{Prefix8(keys.data() + off, len), off, len, static_cast<uint32_t>(i)};
  }
  const char* base = keys.data();
  std::stable_sort(entries.begin(), entries.end(), [base](const Entry& a, const Entry& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    // Equal first 8 bytes (or both shorter and equal so far): compare the rest.
    const size_t len = std::min(a.len, b.len);
    if (len > 8) {
      if (int c = std::memcmp(base + a.off + 8, base + b.off + 8, len - 8); c != 0) return c < 0;
    }
    return a.len < b.len;
  });
  for (size_t i = 0; i < n; ++i) order[i] = entries[i].index;
  return order;
}

}  // namespace cairn::storage
