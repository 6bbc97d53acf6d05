// IndexWriter: writes a block's index file (docs/format/index.md). Series are added in
// strictly increasing label order with their chunk metas; Finish() computes the
// symbol table, writes symbols, series, postings, the postings offset table and the
// table of contents, and fsyncs the file.
//
// The writer buffers the series (labels and chunk metas, compactly encoded) until
// Finish() because the symbol table, which holds every label string, precedes them in
// the file. Memory is therefore proportional to the series section, which is small
// next to the chunk data it indexes.
//
// Thread-safety: single-threaded use.
#ifndef CAIRN_TSDB_INDEX_INDEX_WRITER_H_
#define CAIRN_TSDB_INDEX_INDEX_WRITER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tsdb/index/chunk_meta.h"
#include "tsdb/io/file_system.h"
#include "tsdb/model/labels.h"

namespace cairn::index {

class IndexWriter {
 public:
  static absl::StatusOr<std::unique_ptr<IndexWriter>> Create(io::FileSystem* fs,
                                                             const std::string& path);

  // REQUIRES: labels sort after every series added before; at least one chunk, in
  // time order.
  absl::Status AddSeries(const Labels& labels, absl::Span<const ChunkMeta> chunks);
  // Writes the file and syncs it. Call once.
  absl::Status Finish();

  size_t num_series() const { return series_.size(); }

 private:
  struct BufferedSeries {
    Labels labels;
    size_t chunks_begin;  // into chunks_
    size_t chunks_end;
  };

  IndexWriter(std::unique_ptr<io::WritableFile> file, std::string path)
      : file_(std::move(file)), path_(std::move(path)) {}
  absl::Status Write(std::string_view data);

  std::unique_ptr<io::WritableFile> file_;
  const std::string path_;
  uint64_t offset_ = 0;
  std::vector<BufferedSeries> series_;
  std::vector<ChunkMeta> chunks_;
  bool finished_ = false;
};

}  // namespace cairn::index

#endif  // CAIRN_TSDB_INDEX_INDEX_WRITER_H_
