// Block: an immutable on-disk block opened for reading (docs/format/block.md): its
// meta.json, the mmapped index and chunk segments. Queriers over a block hold a
// shared_ptr to it, so the DB can drop a block (retention, compaction) while queries
// still read it; the files are unmapped when the last user lets go.
//
// Open() checks meta.json, the index header/TOC/symbols/postings table and the chunk
// segment headers; series entries, postings and chunks are CRC-checked as they are
// read, and Verify() reads everything, for `cairnctl inspect` and tests.
//
// Thread-safety: immutable; all methods may be called concurrently.
#ifndef CAIRN_TSDB_BLOCK_BLOCK_H_
#define CAIRN_TSDB_BLOCK_BLOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tsdb/block/block_meta.h"
#include "tsdb/block/chunk_file.h"
#include "tsdb/index/index_reader.h"
#include "tsdb/io/file_system.h"
#include "tsdb/storage/querier.h"

namespace cairn::block {

class Block : public std::enable_shared_from_this<Block> {
 public:
  static absl::StatusOr<std::shared_ptr<Block>> Open(io::FileSystem* fs, std::string dir);

  const BlockMeta& meta() const { return meta_; }
  const std::string& dir() const { return dir_; }
  // Index + chunk bytes.
  uint64_t size_bytes() const { return index_file_->data().size() + chunks_->size_bytes(); }

  // A querier over [mint, maxt] ∩ the block's range. Keeps the block alive.
  std::unique_ptr<storage::Querier> NewQuerier(int64_t mint, int64_t maxt) const;
  // Every series with every sample, in label order (for compaction).
  std::unique_ptr<storage::SeriesSet> AllSeries() const;

  // Reads every series, postings list and chunk, checking checksums and decoding.
  absl::Status Verify() const;

  const index::IndexReader& index() const { return *index_; }
  const ChunkReader& chunks() const { return *chunks_; }

 private:
  Block() = default;

  std::string dir_;
  BlockMeta meta_;
  std::unique_ptr<io::MappedFile> index_file_;
  std::unique_ptr<index::IndexReader> index_;
  std::unique_ptr<ChunkReader> chunks_;
};

}  // namespace cairn::block

#endif  // CAIRN_TSDB_BLOCK_BLOCK_H_
