#include "tsdb/compact/block_writer_output.h"

#include "tsdb/block/block_writer.h"
#include "tsdb/util/status_macros.h"

namespace cairn::compact {
namespace {

class BlockWriterOutput final : public BlockOutput {
 public:
  explicit BlockWriterOutput(std::unique_ptr<block::BlockWriter> w) : w_(std::move(w)) {}

  absl::Status AddSeries(const Labels& labels,
                         absl::Span<const std::vector<Sample>> chunks) override {
    return w_->AddSeriesSamples(labels, chunks);
  }

  absl::Status Finish(const std::string& ulid, const CompactionMeta& meta,
                      const CompactionStats&) override {
    return w_->Finish(ToBlockMeta(ulid, meta));
  }

 private:
  std::unique_ptr<block::BlockWriter> w_;
};

}  // namespace

block::BlockMeta ToBlockMeta(const std::string& ulid, const CompactionMeta& meta) {
  block::BlockMeta m;
  m.ulid = ulid;
  m.min_time = meta.min_time_ms;
  m.max_time = meta.max_time_ms;
  m.level = meta.level;
  m.sources = meta.sources;
  return m;
}

absl::StatusOr<std::unique_ptr<BlockOutput>> BlockWriterOutputFactory::Create(
    const std::string& dir) {
  CAIRN_ASSIGN_OR_RETURN(auto w, block::BlockWriter::Create(fs_, dir, options_));
  return std::make_unique<BlockWriterOutput>(std::move(w));
}

}  // namespace cairn::compact
