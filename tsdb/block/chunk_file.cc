#include "tsdb/block/chunk_file.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "tsdb/util/coding.h"
#include "tsdb/util/crc32c.h"
#include "tsdb/util/status_macros.h"

namespace cairn::block {

std::string ChunkSegmentName(uint32_t seq) { return absl::StrFormat("%06d", seq + 1); }

absl::StatusOr<std::unique_ptr<ChunkWriter>> ChunkWriter::Create(io::FileSystem* fs,
                                                                 std::string dir,
                                                                 uint64_t max_segment_size) {
  CAIRN_RETURN_IF_ERROR(fs->CreateDirs(dir));
  return std::unique_ptr<ChunkWriter>(new ChunkWriter(fs, std::move(dir), max_segment_size));
}

ChunkWriter::~ChunkWriter() {
  if (file_ != nullptr) file_->Close().IgnoreError();
}

absl::Status ChunkWriter::FinishSegment() {
  if (file_ == nullptr) return absl::OkStatus();
  CAIRN_RETURN_IF_ERROR(file_->Sync());
  CAIRN_RETURN_IF_ERROR(file_->Close());
  file_.reset();
  ++seq_;
  return absl::OkStatus();
}

absl::Status ChunkWriter::CutSegment() {
  CAIRN_RETURN_IF_ERROR(FinishSegment());
  CAIRN_ASSIGN_OR_RETURN(file_, fs_->NewWritableFile(dir_ + "/" + ChunkSegmentName(seq_)));
  std::string header;
  PutBigEndian32(&header, kChunksMagic);
  header.push_back(static_cast<char>(kChunksVersion));
  header.append(3, '\0');
  CAIRN_RETURN_IF_ERROR(file_->Append(header));
  offset_ = header.size();
  total_bytes_ += header.size();
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ChunkWriter::Write(ChunkEncoding encoding, std::string_view data) {
  buf_.clear();
  PutVarint64(&buf_, data.size());
  size_t crc_from = buf_.size();
  buf_.push_back(static_cast<char>(encoding));
  buf_.append(data);
  PutBigEndian32(&buf_, crc32c::Value(std::string_view(buf_).substr(crc_from)));
  if (buf_.size() + kChunksHeaderSize > max_segment_size_) {
    return absl::InvalidArgumentError(
        absl::StrFormat("chunk of %d bytes exceeds the segment size", data.size()));
  }
  if (file_ == nullptr || offset_ + buf_.size() > max_segment_size_) {
    CAIRN_RETURN_IF_ERROR(CutSegment());
  }
  uint64_t ref = (static_cast<uint64_t>(seq_) << 32) | offset_;
  CAIRN_RETURN_IF_ERROR(file_->Append(buf_));
  offset_ += buf_.size();
  total_bytes_ += buf_.size();
  return ref;
}

absl::Status ChunkWriter::Finish() {
  CAIRN_RETURN_IF_ERROR(FinishSegment());
  return fs_->SyncDir(dir_);
}

absl::StatusOr<std::unique_ptr<ChunkReader>> ChunkReader::Open(io::FileSystem* fs,
                                                               const std::string& dir) {
  auto r = std::make_unique<ChunkReader>();
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  std::sort(names.begin(), names.end());
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != ChunkSegmentName(static_cast<uint32_t>(i))) {
      return absl::DataLossError(absl::StrFormat("chunks %s: unexpected file %s (want %s)", dir,
                                                 names[i], ChunkSegmentName(i)));
    }
    std::string path = dir + "/" + names[i];
    CAIRN_ASSIGN_OR_RETURN(auto f, fs->MapFile(path));
    std::string_view d = f->data();
    if (d.size() < kChunksHeaderSize || DecodeBigEndian32(d.data()) != kChunksMagic ||
        static_cast<uint8_t>(d[4]) != kChunksVersion) {
      return absl::DataLossError(absl::StrFormat("chunks %s: bad segment header", path));
    }
    r->size_bytes_ += d.size();
    r->segments_.push_back(std::move(f));
  }
  return r;
}

absl::StatusOr<std::string_view> ChunkReader::Chunk(uint64_t ref, ChunkEncoding* encoding) const {
  uint64_t seq = ref >> 32, offset = ref & 0xffffffffu;
  if (seq >= segments_.size()) {
    return absl::DataLossError(absl::StrFormat("chunk reference %d: no segment %d", ref, seq + 1));
  }
  std::string_view d = segments_[seq]->data();
  auto corrupt = [&](std::string_view what) {
    return absl::DataLossError(
        absl::StrFormat("chunks %s: %s at offset %d", segments_[seq]->path(), what, offset));
  };
  if (offset < kChunksHeaderSize || offset >= d.size()) return corrupt("reference out of range");
  std::string_view in = d.substr(offset);
  uint64_t len;
  if (!GetVarint64(&in, &len) || in.size() < 5 || len > in.size() - 5) {
    return corrupt("truncated chunk");
  }
  std::string_view enc_and_data = in.substr(0, 1 + len);
  if (crc32c::Value(enc_and_data) != DecodeBigEndian32(in.data() + 1 + len)) {
    return corrupt("chunk checksum mismatch");
  }
  uint8_t enc = static_cast<uint8_t>(enc_and_data[0]);
  if (enc != static_cast<uint8_t>(ChunkEncoding::kXor) &&
      enc != static_cast<uint8_t>(ChunkEncoding::kPacked)) {
    return corrupt("unknown chunk encoding");
  }
  if (encoding != nullptr) *encoding = static_cast<ChunkEncoding>(enc_and_data[0]);
  return enc_and_data.substr(1);
}

}  // namespace cairn::block
