#include "tsdb/block/block_writer.h"

#include "absl/strings/str_format.h"
#include "tsdb/chunk/any_chunk_iterator.h"
#include "tsdb/chunk/packed_chunk.h"
#include "tsdb/chunk/xor_chunk.h"
#include "tsdb/util/status_macros.h"

namespace cairn::block {

absl::StatusOr<std::unique_ptr<BlockWriter>> BlockWriter::Create(io::FileSystem* fs,
                                                                 std::string dir,
                                                                 BlockWriterOptions options) {
  CAIRN_RETURN_IF_ERROR(fs->CreateDirs(dir));
  std::unique_ptr<BlockWriter> w(new BlockWriter(fs, std::move(dir), options));
  CAIRN_ASSIGN_OR_RETURN(w->chunks_, ChunkWriter::Create(fs, w->dir_ + "/chunks"));
  CAIRN_ASSIGN_OR_RETURN(w->index_, index::IndexWriter::Create(fs, w->dir_ + "/index"));
  return w;
}

absl::Status BlockWriter::AddSeries(const Labels& labels, absl::Span<const EncodedChunk> chunks) {
  return AddChunks(labels, chunks, /*may_repack=*/true);
}

absl::Status BlockWriter::AddChunks(const Labels& labels, absl::Span<const EncodedChunk> chunks,
                                    bool may_repack) {
  if (chunks.empty()) return absl::OkStatus();
  metas_.clear();
  for (const EncodedChunk& c : chunks) {
    CAIRN_ASSIGN_OR_RETURN(uint64_t ref, WriteChunk(c, may_repack));
    metas_.push_back(index::ChunkMeta{c.min_time, c.max_time, ref});
    num_samples_ += c.num_samples;
  }
  CAIRN_RETURN_IF_ERROR(index_->AddSeries(labels, metas_));
  ++num_series_;
  num_chunks_ += chunks.size();
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> BlockWriter::WriteChunk(const EncodedChunk& c, bool may_repack) {
  const bool to_packed = may_repack && options_.packed_chunks && c.encoding == ChunkEncoding::kXor;
  // Prometheus-compatible blocks hold XOR chunks only: packed ones (the head packs its
  // closed chunks) are re-encoded.
  const bool to_xor = !options_.packed_chunks && c.encoding == ChunkEncoding::kPacked;
  if (!to_packed && !to_xor) return chunks_->Write(c.encoding, c.bytes);
  scratch_samples_.resize(c.num_samples);
  AnyChunkIterator it;
  it.Reset(c.encoding, c.bytes);
  const size_t n = it.NextBatch(scratch_samples_.data(), scratch_samples_.size());
  CAIRN_RETURN_IF_ERROR(it.status());
  if (n != c.num_samples) {
    return absl::DataLossError(absl::StrFormat("chunk [%d, %d] holds %d samples, not %d",
                                               c.min_time, c.max_time, n, c.num_samples));
  }
  if (to_xor) {
    XorChunkEncoder enc;
    for (const Sample& s : scratch_samples_) enc.Append(s.t, s.v);
    return chunks_->Write(ChunkEncoding::kXor, enc.bytes());
  }
  std::optional<std::string> packed = EncodePackedChunk(scratch_samples_);
  if (packed.has_value() && packed->size() < c.bytes.size()) {
    return chunks_->Write(ChunkEncoding::kPacked, *packed);
  }
  return chunks_->Write(c.encoding, c.bytes);
}

absl::Status BlockWriter::AddSeriesSamples(const Labels& labels,
                                           absl::Span<const std::vector<Sample>> chunks) {
  std::vector<XorChunkEncoder> encoders(chunks.size());
  std::vector<std::string> packed(chunks.size());
  std::vector<EncodedChunk> encoded;
  encoded.reserve(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].empty()) continue;
    for (const Sample& s : chunks[i]) encoders[i].Append(s.t, s.v);
    EncodedChunk c{encoders[i].min_time(), encoders[i].max_time(), encoders[i].num_samples(),
                   encoders[i].bytes()};
    if (options_.packed_chunks) {
      std::optional<std::string> p = EncodePackedChunk(chunks[i]);
      if (p.has_value() && p->size() < c.bytes.size()) {
        packed[i] = std::move(*p);
        c.bytes = packed[i];
        c.encoding = ChunkEncoding::kPacked;
      }
    }
    encoded.push_back(c);
  }
  return AddChunks(labels, encoded, /*may_repack=*/false);
}

absl::Status BlockWriter::Finish(BlockMeta meta) {
  CAIRN_RETURN_IF_ERROR(chunks_->Finish());
  CAIRN_RETURN_IF_ERROR(index_->Finish());
  meta.num_series = num_series_;
  meta.num_chunks = num_chunks_;
  meta.num_samples = num_samples_;
  CAIRN_RETURN_IF_ERROR(WriteBlockMeta(fs_, dir_, meta));
  return fs_->SyncDir(dir_);
}

absl::Status CommitBlockDir(io::FileSystem* fs, const std::string& tmp_dir,
                            const std::string& final_dir) {
  CAIRN_RETURN_IF_ERROR(fs->Rename(tmp_dir, final_dir));
  size_t slash = final_dir.find_last_of('/');
  return fs->SyncDir(slash == std::string::npos ? "." : final_dir.substr(0, slash));
}

}  // namespace cairn::block
