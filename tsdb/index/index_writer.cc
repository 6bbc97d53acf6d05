#include "tsdb/index/index_writer.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "tsdb/index/index_format.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/util/coding.h"
#include "tsdb/util/crc32c.h"
#include "tsdb/util/status_macros.h"

namespace cairn::index {
namespace {

// Appends a section body framed as: len <4b> | body | CRC32C(body) <4b>.
void PutCrcSection(std::string* dst, std::string_view body) {
  PutBigEndian32(dst, static_cast<uint32_t>(body.size()));
  dst->append(body);
  PutBigEndian32(dst, crc32c::Value(body));
}

using LabelPair = std::pair<std::string_view, std::string_view>;

}  // namespace

absl::StatusOr<std::unique_ptr<IndexWriter>> IndexWriter::Create(io::FileSystem* fs,
                                                                 const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(auto file, fs->NewWritableFile(path));
  return std::unique_ptr<IndexWriter>(new IndexWriter(std::move(file), path));
}

absl::Status IndexWriter::AddSeries(const Labels& labels, absl::Span<const ChunkMeta> chunks) {
  if (finished_) return absl::FailedPreconditionError("index writer: already finished");
  if (!series_.empty() && !(series_.back().labels < labels)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("index %s: series %s added out of order (after %s)", path_,
                        labels.ToString(), series_.back().labels.ToString()));
  }
  if (chunks.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("index %s: series %s has no chunks", path_, labels.ToString()));
  }
  size_t begin = chunks_.size();
  chunks_.insert(chunks_.end(), chunks.begin(), chunks.end());
  series_.push_back(BufferedSeries{labels, begin, chunks_.size()});
  return absl::OkStatus();
}

absl::Status IndexWriter::Write(std::string_view data) {
  CAIRN_RETURN_IF_ERROR(file_->Append(data));
  offset_ += data.size();
  return absl::OkStatus();
}

absl::Status IndexWriter::Finish() {
  if (finished_) return absl::FailedPreconditionError("index writer: already finished");
  finished_ = true;

  // Symbols: every label name and value, sorted; series refer to them by position.
  std::vector<std::string_view> symbols;
  {
    absl::flat_hash_map<std::string_view, bool> seen;
    for (const auto& s : series_) {
      for (const Label& l : s.labels) {
        if (seen.emplace(l.name, true).second) symbols.push_back(l.name);
        if (seen.emplace(l.value, true).second) symbols.push_back(l.value);
      }
    }
    std::sort(symbols.begin(), symbols.end());
  }
  absl::flat_hash_map<std::string_view, uint32_t> symbol_index;
  symbol_index.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) symbol_index[symbols[i]] = static_cast<uint32_t>(i);

  uint64_t toc[6] = {0, 0, 0, 0, 0, 0};
  std::string buf;
  PutBigEndian32(&buf, kIndexMagic);
  buf.push_back(static_cast<char>(kIndexVersion2));

  // Symbol table.
  toc[0] = buf.size();
  {
    std::string body;
    PutBigEndian32(&body, static_cast<uint32_t>(symbols.size()));
    for (std::string_view s : symbols) PutLengthPrefixed(&body, s);
    PutCrcSection(&buf, body);
  }
  CAIRN_RETURN_IF_ERROR(Write(buf));
  buf.clear();

  // Series, each 16-byte aligned; postings collected on the way.
  absl::flat_hash_map<LabelPair, std::vector<uint32_t>> postings;
  std::vector<uint32_t> all_postings;
  all_postings.reserve(series_.size());
  {
    uint64_t pad = (kSeriesAlignment - offset_ % kSeriesAlignment) % kSeriesAlignment;
    buf.append(pad, '\0');
  }
  toc[1] = offset_ + buf.size();
  std::string entry;
  for (const auto& s : series_) {
    uint64_t pos = offset_ + buf.size();
    uint64_t pad = (kSeriesAlignment - pos % kSeriesAlignment) % kSeriesAlignment;
    buf.append(pad, '\0');
    pos += pad;
    uint64_t ref = pos / kSeriesAlignment;
    if (ref > UINT32_MAX) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("index %s: series section exceeds 64 GiB", path_));
    }
    entry.clear();
    PutVarint64(&entry, s.labels.size());
    for (const Label& l : s.labels) {
      PutVarint64(&entry, symbol_index[l.name]);
      PutVarint64(&entry, symbol_index[l.value]);
      postings[LabelPair(l.name, l.value)].push_back(static_cast<uint32_t>(ref));
    }
    all_postings.push_back(static_cast<uint32_t>(ref));
    PutVarint64(&entry, s.chunks_end - s.chunks_begin);
    const ChunkMeta* prev = nullptr;
    for (size_t i = s.chunks_begin; i < s.chunks_end; ++i) {
      const ChunkMeta& c = chunks_[i];
      if (prev == nullptr) {
        PutSignedVarint64(&entry, c.min_time);
      } else {
        PutVarint64(&entry, static_cast<uint64_t>(c.min_time - prev->max_time));
      }
      PutVarint64(&entry, static_cast<uint64_t>(c.max_time - c.min_time));
      if (prev == nullptr) {
        PutVarint64(&entry, c.ref);
      } else {
        PutSignedVarint64(&entry, static_cast<int64_t>(c.ref - prev->ref));
      }
      prev = &c;
    }
    PutVarint64(&buf, entry.size());
    buf.append(entry);
    PutBigEndian32(&buf, crc32c::Value(entry));
    if (buf.size() > (1 << 20)) {
      CAIRN_RETURN_IF_ERROR(Write(buf));
      buf.clear();
    }
  }
  CAIRN_RETURN_IF_ERROR(Write(buf));
  buf.clear();

  // No per-name label indices (version 2 readers use the postings offset table);
  // the section is empty and its offset is where it would start.
  toc[2] = offset_;

  // Postings lists, the all-series list (key "", "") first, then by name and value.
  std::vector<std::pair<LabelPair, const std::vector<uint32_t>*>> keys;
  keys.reserve(postings.size() + 1);
  keys.push_back({LabelPair("", ""), &all_postings});
  for (const auto& [k, list] : postings) keys.push_back({k, &list});
  std::sort(keys.begin() + 1, keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  toc[4] = offset_;
  std::vector<uint64_t> postings_offsets;
  postings_offsets.reserve(keys.size());
  std::string body;
  for (const auto& [key, list] : keys) {
    postings_offsets.push_back(offset_ + buf.size());
    body.clear();
    PutBigEndian32(&body, static_cast<uint32_t>(list->size()));
    for (uint32_t r : *list) PutBigEndian32(&body, r);
    PutCrcSection(&buf, body);
    if (buf.size() > (1 << 20)) {
      CAIRN_RETURN_IF_ERROR(Write(buf));
      buf.clear();
    }
  }
  CAIRN_RETURN_IF_ERROR(Write(buf));
  buf.clear();

  // Label offset table (legacy, empty).
  toc[3] = offset_;
  body.clear();
  PutBigEndian32(&body, 0);
  PutCrcSection(&buf, body);

  // Postings offset table.
  toc[5] = offset_ + buf.size();
  body.clear();
  PutBigEndian32(&body, static_cast<uint32_t>(keys.size()));
  for (size_t i = 0; i < keys.size(); ++i) {
    PutVarint64(&body, 2);
    PutLengthPrefixed(&body, keys[i].first.first);
    PutLengthPrefixed(&body, keys[i].first.second);
    PutVarint64(&body, postings_offsets[i]);
  }
  PutCrcSection(&buf, body);

  // Table of contents.
  std::string toc_bytes;
  for (uint64_t o : toc) PutBigEndian64(&toc_bytes, o);
  PutBigEndian32(&toc_bytes, crc32c::Value(toc_bytes));
  buf.append(toc_bytes);
  CAIRN_RETURN_IF_ERROR(Write(buf));

  CAIRN_RETURN_IF_ERROR(file_->Sync());
  CAIRN_RETURN_IF_ERROR(file_->Close());
  series_.clear();
  chunks_.clear();
  return absl::OkStatus();
}

}  // namespace cairn::index
