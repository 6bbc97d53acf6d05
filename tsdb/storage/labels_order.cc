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

void LabelsSorter::Add(const Labels& labels) {
  starts_.push_back(keys_.size());
  for (const Label& l : labels) {
    AppendEscaped(l.name, &keys_);
    AppendEscaped(l.value, &keys_);
  }
}

std::vector<uint32_t> LabelsSorter::Order() const {
  const size_t n = starts_.size();
  std::vector<uint32_t> order(n);
  if (n < 2) {
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
    return order;
  }
  auto end_of = [&](size_t i) { return i + 1 < n ? starts_[i + 1] : keys_.size(); };
  // The longest prefix of the first key that every key shares.
  const char* base = keys_.data();
  size_t common = end_of(0);
  for (size_t i = 1; i < n && common > 0; ++i) {
    const size_t len = std::min(common, end_of(i) - starts_[i]);
    const char* b = base + starts_[i];
    size_t k = 0;
    // Eight bytes at a time, then the tail.
    while (k + 8 <= len && std::memcmp(base + k, b + k, 8) == 0) k += 8;
    while (k < len && base[k] == b[k]) ++k;
    common = k;
  }
  std::vector<Entry> entries(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t off = starts_[i] + common;
    const size_t len = end_of(i) - off;
    entries[i] = Entry{Prefix8(base + off, len), off, len, static_cast<uint32_t>(i)};
  }
  // First by the 8-byte integers alone (cheap, and most sets differ there), then
  // each run of equal integers by the rest of the keys.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : a.index < b.index;
  });
  auto rest_less = [base](const Entry& a, const Entry& b) {
    // Equal first 8 bytes (or both shorter and equal so far): compare the rest.
    const size_t len = std::min(a.len, b.len);
    if (len > 8) {
      if (int c = std::memcmp(base + a.off + 8, base + b.off + 8, len - 8); c != 0) return c < 0;
    }
    if (a.len != b.len) return a.len < b.len;
    return a.index < b.index;  // equal sets: stable
  };
  for (size_t run = 0; run < n;) {
    size_t end = run + 1;
    while (end < n && entries[end].prefix == entries[run].prefix) ++end;
    if (end - run > 1) std::sort(entries.begin() + run, entries.begin() + end, rest_less);
    run = end;
  }
  for (size_t i = 0; i < n; ++i) order[i] = entries[i].index;
  return order;
}

std::vector<uint32_t> LabelsSortOrder(const std::vector<const Labels*>& labels) {
  LabelsSorter sorter;
  if (!labels.empty()) sorter.Reserve(labels.size(), labels[0]->encoded().size() + 8);
  for (const Labels* l : labels) sorter.Add(*l);
  return sorter.Order();
}

}  // namespace cairn::storage
