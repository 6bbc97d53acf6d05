// BlockWriterOutputFactory: the compactor's BlockOutput backed by the real block
// format (block::BlockWriter), so compaction writes blocks the DB and Prometheus'
// tools can open.
#ifndef CAIRN_TSDB_COMPACT_BLOCK_WRITER_OUTPUT_H_
#define CAIRN_TSDB_COMPACT_BLOCK_WRITER_OUTPUT_H_

#include "tsdb/block/block_meta.h"
#include "tsdb/block/block_writer.h"
#include "tsdb/compact/compactor.h"
#include "tsdb/io/file_system.h"

namespace cairn::compact {

class BlockWriterOutputFactory final : public BlockOutputFactory {
 public:
  BlockWriterOutputFactory(io::FileSystem* fs, block::BlockWriterOptions options)
      : fs_(fs), options_(options) {}
  absl::StatusOr<std::unique_ptr<BlockOutput>> Create(const std::string& dir) override;

 private:
  io::FileSystem* const fs_;
  const block::BlockWriterOptions options_;
};

// The block meta.json contents for a compaction result.
block::BlockMeta ToBlockMeta(const std::string& ulid, const CompactionMeta& meta);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_BLOCK_WRITER_OUTPUT_H_
