// IndexReader: reads a block index file (docs/format/index.md) from a byte range that
// the caller keeps alive (normally the mmap of the file, owned by block::Block).
//
// Open() checks the header, the table of contents and the CRCs of the symbol table and
// the postings offset table, and keeps in memory only the symbol offsets and, per
// label name, the sorted (value, postings offset) pairs, pointing into the mapped
// bytes. Series entries and postings lists are decoded on demand and their CRCs
// checked on every read, so a flipped byte yields a DataLoss error naming the file and
// offset, never wrong data or a crash.
//
// Thread-safety: immutable after Open(); all methods may be called concurrently.
#ifndef CAIRN_TSDB_INDEX_INDEX_READER_H_
#define CAIRN_TSDB_INDEX_INDEX_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tsdb/index/chunk_meta.h"
#include "tsdb/index/postings.h"
#include "tsdb/model/labels.h"
#include "tsdb/model/matcher.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::index {

class IndexReader {
 public:
  // `data` must outlive the reader; `name` is used in error messages.
  static absl::StatusOr<std::unique_ptr<IndexReader>> Open(std::string_view data, std::string name);

  // Labels and chunk metas of the series with reference `ref` (from postings).
  absl::Status Series(uint64_t ref, Labels* labels, std::vector<ChunkMeta>* chunks) const;

  // The postings list of name=value (empty if absent).
  std::unique_ptr<Postings> PostingsFor(std::string_view name, std::string_view value) const;
  // Every series, in label order.
  std::unique_ptr<Postings> AllPostings() const { return PostingsFor("", ""); }

  // Series selected by the matchers that do not match the empty string, intersected.
  // The others (which also select series lacking the label) are left to the caller
  // to check per series. Fails with InvalidArgument when every matcher matches "".
  absl::StatusOr<std::unique_ptr<Postings>> PostingsForMatchers(
      const std::vector<Matcher>& matchers) const;

  // Sorted label names (excluding the all-postings key).
  std::vector<std::string_view> LabelNames() const;
  // Sorted values of `name`.
  std::vector<std::string_view> LabelValues(std::string_view name) const;

  size_t num_symbols() const { return symbol_offsets_.size(); }
  absl::StatusOr<std::string_view> Symbol(uint64_t index) const;

  // Reads every series entry and postings list, checking CRCs and references.
  absl::Status Verify() const;

  const std::string& name() const { return name_; }

 private:
  struct ValueOffset {
    std::string_view value;
    uint64_t offset;
  };

  IndexReader(std::string_view data, std::string name) : data_(data), name_(std::move(name)) {}
  absl::Status Init();
  absl::Status ReadSymbols(uint64_t offset);
  absl::Status ReadPostingsOffsetTable(uint64_t offset);
  // Validates the CRC-framed section at `offset`, returning its body.
  absl::StatusOr<std::string_view> Section(uint64_t offset, std::string_view what) const;
  absl::Status Corrupt(uint64_t offset, std::string_view what) const;

  std::string_view data_;
  std::string name_;
  uint64_t series_begin_ = 0;
  uint64_t series_end_ = 0;  // start of the next section
  std::vector<uint32_t> symbol_offsets_;
  // name -> values sorted ascending.
  absl::flat_hash_map<absl::string_view, std::vector<ValueOffset>> postings_;
  std::vector<std::string_view> label_names_;  // sorted
};

}  // namespace cairn::index

#endif  // CAIRN_TSDB_INDEX_INDEX_READER_H_
