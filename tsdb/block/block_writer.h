// BlockWriter: writes one block into a directory: chunk segments as series arrive (in
// label order), then on Finish() the index, meta.json last, everything fsynced. The
// caller creates the block under a temporary name and renames it into place once
// Finish() succeeded (CommitBlockDir), so a crash never leaves a half block under a
// ULID name.
//
// Thread-safety: single-threaded use.
#ifndef CAIRN_TSDB_BLOCK_BLOCK_WRITER_H_
#define CAIRN_TSDB_BLOCK_BLOCK_WRITER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tsdb/block/block_meta.h"
#include "tsdb/block/chunk_file.h"
#include "tsdb/index/index_writer.h"
#include "tsdb/io/file_system.h"
#include "tsdb/model/labels.h"
#include "tsdb/model/sample.h"

namespace cairn::block {

// An already encoded chunk.
struct EncodedChunk {
  int64_t min_time;
  int64_t max_time;
  uint16_t num_samples;
  std::string_view bytes;
  ChunkEncoding encoding = ChunkEncoding::kXor;
};

struct BlockWriterOptions {
  // Re-encode chunks as packed decimal chunks (chunk/packed_chunk.h) where that is
  // smaller. Off: every chunk stays XOR, readable by Prometheus' tools.
  bool packed_chunks = true;
};

class BlockWriter {
 public:
  // Creates `dir` (which must not exist or be empty) and starts writing into it.
  static absl::StatusOr<std::unique_ptr<BlockWriter>> Create(io::FileSystem* fs, std::string dir,
                                                             BlockWriterOptions options = {});

  // Series strictly in label order; a series with no chunks is skipped.
  absl::Status AddSeries(const Labels& labels, absl::Span<const EncodedChunk> chunks);
  // Encodes each element (1..120 samples in time order) as one XOR chunk.
  absl::Status AddSeriesSamples(const Labels& labels, absl::Span<const std::vector<Sample>> chunks);

  // Fills meta's stats from what was written and writes index and meta.json.
  absl::Status Finish(BlockMeta meta);

  uint64_t num_series() const { return num_series_; }
  uint64_t num_samples() const { return num_samples_; }

 private:
  BlockWriter(io::FileSystem* fs, std::string dir, BlockWriterOptions options)
      : fs_(fs), dir_(std::move(dir)), options_(options) {}
  absl::Status AddChunks(const Labels& labels, absl::Span<const EncodedChunk> chunks,
                         bool may_repack);
  // Writes one chunk; with `may_repack`, an XOR chunk is written packed instead when
  // that is enabled and smaller.
  absl::StatusOr<uint64_t> WriteChunk(const EncodedChunk& c, bool may_repack);

  io::FileSystem* const fs_;
  const std::string dir_;
  const BlockWriterOptions options_;
  std::vector<Sample> scratch_samples_;
  std::unique_ptr<ChunkWriter> chunks_;
  std::unique_ptr<index::IndexWriter> index_;
  std::vector<index::ChunkMeta> metas_;  // scratch
  uint64_t num_series_ = 0;
  uint64_t num_chunks_ = 0;
  uint64_t num_samples_ = 0;
};

// Makes the finished block at `tmp_dir` visible as `final_dir`: rename, then fsync the
// parent directory.
absl::Status CommitBlockDir(io::FileSystem* fs, const std::string& tmp_dir,
                            const std::string& final_dir);

}  // namespace cairn::block

#endif  // CAIRN_TSDB_BLOCK_BLOCK_WRITER_H_
