#include "tsdb/model/labels.h"

#include <algorithm>
#include <cassert>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "tsdb/util/coding.h"

namespace cairn {
namespace {

// Encodes sorted, de-duplicated pairs. REQUIRES: sorted by name, unique, non-empty values.
template <typename Pairs>
std::string Encode(const Pairs& pairs) {
  size_t n = 0;
  for (const auto& [name, value] : pairs) n += name.size() + value.size() + 4;
  std::string out;
  out.reserve(n);
  for (const auto& [name, value] : pairs) {
    PutLengthPrefixed(&out, name);
    PutLengthPrefixed(&out, value);
  }
  out.shrink_to_fit();
  return out;
}

template <typename Pairs>
void SortDedup(Pairs* pairs) {
  // Stable so that, among equal names, the later one wins after we keep the last.
  std::stable_sort(pairs->begin(), pairs->end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Pairs out;
  out.reserve(pairs->size());
  for (auto& p : *pairs) {
    if (!out.empty() && out.back().first == p.first) {
      out.back() = std::move(p);
    } else {
      out.push_back(std::move(p));
    }
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const auto& p) { return p.second.empty(); }),
            out.end());
  *pairs = std::move(out);
}

void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('"');
}

}  // namespace

void Labels::const_iterator::DecodeSlow() {
  // Restart the entry: the fast path may have consumed its name already.
  rest_ = std::string_view(pos_, static_cast<size_t>(rest_.data() + rest_.size() - pos_));
  bool ok = GetLengthPrefixed(&rest_, &current_.name) && GetLengthPrefixed(&rest_, &current_.value);
  assert(ok && "corrupt Labels encoding");
  (void)ok;
}

Labels::Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::vector<std::pair<std::string_view, std::string_view>> v(pairs);
  SortDedup(&v);
  data_ = Encode(v);
}

Labels Labels::FromPairs(std::vector<std::pair<std::string, std::string>> pairs) {
  SortDedup(&pairs);
  return Labels(Encode(pairs));
}

Labels Labels::FromEncoded(std::string encoded) {
  assert(DecodeChecked(encoded, nullptr));
  return Labels(std::move(encoded));
}

void Labels::AssignEncoded(std::string_view encoded) {
  assert(DecodeChecked(encoded, nullptr));
  data_.assign(encoded);
}

bool Labels::DecodeChecked(std::string_view encoded, Labels* out) {
  std::string_view in = encoded;
  std::string_view prev_name;
  bool first = true;
  while (!in.empty()) {
    std::string_view name, value;
    if (!GetLengthPrefixed(&in, &name) || !GetLengthPrefixed(&in, &value)) return false;
    if (name.empty() || value.empty()) return false;
    if (!first && name <= prev_name) return false;
    prev_name = name;
    first = false;
  }
  if (out != nullptr) *out = Labels(std::string(encoded));
  return true;
}

size_t Labels::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::string_view Labels::Get(std::string_view name) const {
  for (const Label& l : *this) {
    if (l.name == name) return l.value;
    if (l.name > name) break;
  }
  return {};
}

bool Labels::Has(std::string_view name) const {
  for (const Label& l : *this) {
    if (l.name == name) return true;
    if (l.name > name) break;
  }
  return false;
}

uint64_t Labels::Hash() const { return absl::HashOf(data_); }

uint64_t Labels::StableHash() const {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : data_) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Labels::ToString() const {
  std::string out = "{";
  bool first = true;
  for (const Label& l : *this) {
    if (!first) out.append(", ");
    first = false;
    out.append(l.name);
    out.push_back('=');
    AppendQuoted(&out, l.value);
  }
  out.push_back('}');
  return out;
}

int Labels::Compare(const Labels& a, const Labels& b) {
  if (a.data_ == b.data_) return 0;
  auto ia = a.begin(), ib = b.begin();
  const auto end = a.end();
  for (; ia != end && ib != end; ++ia, ++ib) {
    if (int c = ia->name.compare(ib->name); c != 0) return c < 0 ? -1 : 1;
    if (int c = ia->value.compare(ib->value); c != 0) return c < 0 ? -1 : 1;
  }
  if (ia == end && ib == end) return 0;
  return ia == end ? -1 : 1;
}

void LabelsBuilder::Reset(const Labels& base) {
  pairs_.clear();
  for (const Label& l : base) pairs_.emplace_back(std::string(l.name), std::string(l.value));
}

void LabelsBuilder::Set(std::string_view name, std::string_view value) {
  for (auto& p : pairs_) {
    if (p.first == name) {
      p.second.assign(value);
      return;
    }
  }
  pairs_.emplace_back(std::string(name), std::string(value));
}

void LabelsBuilder::Del(std::string_view name) {
  pairs_.erase(
      std::remove_if(pairs_.begin(), pairs_.end(), [&](const auto& p) { return p.first == name; }),
      pairs_.end());
}

std::string_view LabelsBuilder::Get(std::string_view name) const {
  for (const auto& p : pairs_) {
    if (p.first == name) return p.second;
  }
  return {};
}

void LabelsBuilder::Keep(const std::vector<std::string>& names) {
  pairs_.erase(std::remove_if(pairs_.begin(), pairs_.end(),
                              [&](const auto& p) {
                                return std::find(names.begin(), names.end(), p.first) ==
                                       names.end();
                              }),
               pairs_.end());
}

Labels LabelsBuilder::Build() const { return Labels::FromPairs(pairs_); }

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace cairn
