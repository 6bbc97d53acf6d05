#include "tsdb/index/index_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "tsdb/index/index_format.h"
#include "tsdb/util/coding.h"
#include "tsdb/util/crc32c.h"
#include "tsdb/util/status_macros.h"

namespace cairn::index {

absl::StatusOr<std::unique_ptr<IndexReader>> IndexReader::Open(std::string_view data,
                                                               std::string name) {
  std::unique_ptr<IndexReader> r(new IndexReader(data, std::move(name)));
  CAIRN_RETURN_IF_ERROR(r->Init());
  return r;
}

absl::Status IndexReader::Corrupt(uint64_t offset, std::string_view what) const {
  return absl::DataLossError(
      absl::StrFormat("index %s: corrupt %s at offset %d", name_, what, offset));
}

absl::StatusOr<std::string_view> IndexReader::Section(uint64_t offset,
                                                      std::string_view what) const {
  if (offset > data_.size() || data_.size() - offset < 8) return Corrupt(offset, what);
  uint32_t len = DecodeBigEndian32(data_.data() + offset);
  if (data_.size() - offset - 8 < len) return Corrupt(offset, what);
  std::string_view body = data_.substr(offset + 4, len);
  uint32_t crc = DecodeBigEndian32(data_.data() + offset + 4 + len);
  if (crc32c::Value(body) != crc) return Corrupt(offset, absl::StrFormat("%s (checksum)", what));
  return body;
}

absl::Status IndexReader::Init() {
  if (data_.size() < kIndexHeaderSize + kTocSize) {
    return absl::DataLossError(
        absl::StrFormat("index %s: file too short (%d bytes)", name_, data_.size()));
  }
  if (DecodeBigEndian32(data_.data()) != kIndexMagic) {
    return absl::DataLossError(absl::StrFormat("index %s: bad magic number", name_));
  }
  if (static_cast<uint8_t>(data_[4]) != kIndexVersion2) {
    return absl::DataLossError(
        absl::StrFormat("index %s: unsupported version %d", name_, static_cast<uint8_t>(data_[4])));
  }
  std::string_view toc = data_.substr(data_.size() - kTocSize);
  if (crc32c::Value(toc.substr(0, 48)) != DecodeBigEndian32(toc.data() + 48)) {
    return Corrupt(data_.size() - kTocSize, "table of contents (checksum)");
  }
  uint64_t off[6];
  for (int i = 0; i < 6; ++i) {
    off[i] = DecodeBigEndian64(toc.data() + 8 * i);
    if (off[i] > data_.size() - kTocSize)
      return Corrupt(data_.size() - kTocSize, "table of contents");
  }
  series_begin_ = off[1];
  series_end_ = off[2] != 0 ? off[2] : off[4];
  if (series_end_ < series_begin_) return Corrupt(data_.size() - kTocSize, "table of contents");
  CAIRN_RETURN_IF_ERROR(ReadSymbols(off[0]));
  CAIRN_RETURN_IF_ERROR(ReadPostingsOffsetTable(off[5]));
  return absl::OkStatus();
}

absl::Status IndexReader::ReadSymbols(uint64_t offset) {
  CAIRN_ASSIGN_OR_RETURN(std::string_view body, Section(offset, "symbol table"));
  uint32_t n;
  std::string_view in = body;
  if (!GetBigEndian32(&in, &n) || n > in.size()) return Corrupt(offset, "symbol table");
  symbol_offsets_.reserve(n);
  uint64_t base = offset + 4;  // body starts after the length field
  for (uint32_t i = 0; i < n; ++i) {
    symbol_offsets_.push_back(static_cast<uint32_t>(base + (body.size() - in.size())));
    std::string_view s;
    if (!GetLengthPrefixed(&in, &s)) return Corrupt(offset, "symbol table entry");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> IndexReader::Symbol(uint64_t index) const {
  if (index >= symbol_offsets_.size()) {
    return absl::DataLossError(
        absl::StrFormat("index %s: symbol reference %d out of range", name_, index));
  }
  std::string_view in = data_.substr(symbol_offsets_[index]);
  std::string_view s;
  GetLengthPrefixed(&in, &s);  // validated in ReadSymbols
  return s;
}

absl::Status IndexReader::ReadPostingsOffsetTable(uint64_t offset) {
  CAIRN_ASSIGN_OR_RETURN(std::string_view body, Section(offset, "postings offset table"));
  uint32_t n;
  std::string_view in = body;
  if (!GetBigEndian32(&in, &n)) return Corrupt(offset, "postings offset table");
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t keys, postings_offset;
    std::string_view name, value;
    if (!GetVarint64(&in, &keys) || keys != 2 || !GetLengthPrefixed(&in, &name) ||
        !GetLengthPrefixed(&in, &value) || !GetVarint64(&in, &postings_offset) ||
        postings_offset >= data_.size()) {
      return Corrupt(offset, "postings offset table entry");
    }
    auto& values = postings_[Sv(name)];
    if (!values.empty() && values.back().value >= value) {
      return Corrupt(offset, "postings offset table order");
    }
    values.push_back(ValueOffset{value, postings_offset});
  }
  for (const auto& [name, values] : postings_) {
    if (!name.empty()) label_names_.push_back(StdSv(name));
  }
  std::sort(label_names_.begin(), label_names_.end());
  return absl::OkStatus();
}

absl::Status IndexReader::Series(uint64_t ref, Labels* labels,
                                 std::vector<ChunkMeta>* chunks) const {
  uint64_t offset = ref * kSeriesAlignment;
  if (ref == 0 || offset < series_begin_ || offset >= series_end_) {
    return absl::DataLossError(
        absl::StrFormat("index %s: series reference %d out of range", name_, ref));
  }
  std::string_view in = data_.substr(offset, series_end_ - offset);
  uint64_t len;
  // `len` comes from the file: compare without adding to it (a huge length would wrap).
  if (!GetVarint64(&in, &len) || in.size() < 4 || len > in.size() - 4) {
    return Corrupt(offset, "series entry");
  }
  std::string_view entry = in.substr(0, len);
  if (crc32c::Value(entry) != DecodeBigEndian32(in.data() + len)) {
    return Corrupt(offset, "series entry (checksum)");
  }
  uint64_t num_labels;
  if (!GetVarint64(&entry, &num_labels) || num_labels > entry.size()) {
    return Corrupt(offset, "series entry");
  }
  std::string encoded;
  for (uint64_t i = 0; i < num_labels; ++i) {
    uint64_t n, v;
    if (!GetVarint64(&entry, &n) || !GetVarint64(&entry, &v))
      return Corrupt(offset, "series labels");
    CAIRN_ASSIGN_OR_RETURN(std::string_view name, Symbol(n));
    CAIRN_ASSIGN_OR_RETURN(std::string_view value, Symbol(v));
    PutLengthPrefixed(&encoded, name);
    PutLengthPrefixed(&encoded, value);
  }
  if (!Labels::DecodeChecked(encoded, labels)) return Corrupt(offset, "series labels (order)");
  uint64_t num_chunks;
  if (!GetVarint64(&entry, &num_chunks) || num_chunks > entry.size()) {
    return Corrupt(offset, "series chunk count");
  }
  chunks->clear();
  chunks->reserve(num_chunks);
  for (uint64_t i = 0; i < num_chunks; ++i) {
    ChunkMeta c;
    uint64_t span;
    if (i == 0) {
      if (!GetSignedVarint64(&entry, &c.min_time) || !GetVarint64(&entry, &span) ||
          !GetVarint64(&entry, &c.ref)) {
        return Corrupt(offset, "series chunk metas");
      }
    } else {
      const ChunkMeta& p = chunks->back();
      uint64_t gap;
      int64_t ref_delta;
      if (!GetVarint64(&entry, &gap) || !GetVarint64(&entry, &span) ||
          !GetSignedVarint64(&entry, &ref_delta)) {
        return Corrupt(offset, "series chunk metas");
      }
      c.min_time = p.max_time + static_cast<int64_t>(gap);
      c.ref = p.ref + static_cast<uint64_t>(ref_delta);
    }
    c.max_time = c.min_time + static_cast<int64_t>(span);
    chunks->push_back(c);
  }
  return absl::OkStatus();
}

std::unique_ptr<Postings> IndexReader::PostingsFor(std::string_view name,
                                                   std::string_view value) const {
  auto it = postings_.find(Sv(name));
  if (it == postings_.end()) return EmptyPostings();
  const auto& values = it->second;
  auto v = std::lower_bound(values.begin(), values.end(), value,
                            [](const ValueOffset& a, std::string_view b) { return a.value < b; });
  if (v == values.end() || v->value != value) return EmptyPostings();
  auto body = Section(v->offset, "postings list");
  // A damaged list must fail the query, not silently shrink it: wrap the error.
  class ErrorPostings final : public Postings {
   public:
    explicit ErrorPostings(absl::Status s) : s_(std::move(s)) {}
    bool Next() override { return false; }
    bool Seek(uint64_t) override { return false; }
    uint64_t At() const override { return 0; }
    absl::Status status() const override { return s_; }

   private:
    absl::Status s_;
  };
  if (!body.ok()) return std::make_unique<ErrorPostings>(body.status());
  std::string_view in = *body;
  uint32_t n;
  if (!GetBigEndian32(&in, &n) || in.size() != static_cast<size_t>(n) * 4) {
    return std::make_unique<ErrorPostings>(Corrupt(v->offset, "postings list"));
  }
  return BigEndian32Postings(in);
}

absl::StatusOr<std::unique_ptr<Postings>> IndexReader::PostingsForMatchers(
    const std::vector<Matcher>& matchers) const {
  std::vector<std::unique_ptr<Postings>> its;
  for (const Matcher& m : matchers) {
    if (m.MatchesEmpty()) continue;
    if (m.type() == MatchType::kEqual) {
      its.push_back(PostingsFor(m.name(), m.value()));
      continue;
    }
    std::vector<std::unique_ptr<Postings>> values;
    if (!m.set_matches().empty()) {
      for (const std::string& v : m.set_matches()) values.push_back(PostingsFor(m.name(), v));
    } else {
      auto it = postings_.find(Sv(m.name()));
      if (it != postings_.end()) {
        for (const ValueOffset& v : it->second) {
          if (m.Matches(v.value)) values.push_back(PostingsFor(m.name(), v.value));
        }
      }
    }
    its.push_back(Merge(std::move(values)));
  }
  if (its.empty()) {
    return absl::InvalidArgumentError(
        "a selector needs at least one matcher that does not match the empty string");
  }
  return Intersect(std::move(its));
}

std::vector<std::string_view> IndexReader::LabelNames() const { return label_names_; }

std::vector<std::string_view> IndexReader::LabelValues(std::string_view name) const {
  std::vector<std::string_view> out;
  auto it = postings_.find(Sv(name));
  if (it == postings_.end()) return out;
  out.reserve(it->second.size());
  for (const ValueOffset& v : it->second) out.push_back(v.value);
  return out;
}

absl::Status IndexReader::Verify() const {
  Labels labels;
  std::vector<ChunkMeta> chunks;
  for (const auto& [name, values] : postings_) {
    for (const ValueOffset& v : values) {
      auto p = PostingsFor(StdSv(name), v.value);
      uint64_t prev = 0;
      while (p->Next()) {
        if (p->At() <= prev) return Corrupt(v.offset, "postings list order");
        prev = p->At();
        CAIRN_RETURN_IF_ERROR(Series(p->At(), &labels, &chunks));
        if (!name.empty() && labels.Get(StdSv(name)) != v.value) {
          return Corrupt(v.offset, "postings list (series lacks its label)");
        }
      }
      CAIRN_RETURN_IF_ERROR(p->status());
    }
  }
  return absl::OkStatus();
}

}  // namespace cairn::index
