#include "tsdb/wal/wal_reader.h"

#include <zstd.h>

#include "absl/strings/str_cat.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/util/coding.h"
#include "tsdb/util/crc32c.h"
#include "tsdb/util/status_macros.h"
#include "tsdb/wal/wal.h"
#include "tsdb/wal/wal_format.h"

namespace cairn::wal {

WalReader::WalReader(io::FileSystem* fs, std::string dir, std::vector<int> segments)
    : fs_(fs), dir_(std::move(dir)), segments_(std::move(segments)) {}

WalReader::~WalReader() {
  if (zstd_dctx_ != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(zstd_dctx_));
}

absl::StatusOr<std::unique_ptr<WalReader>> WalReader::Open(io::FileSystem* fs,
                                                           const std::string& dir,
                                                           int first_segment, int last_segment) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<int> all, ListSegments(fs, dir));
  std::vector<int> segs;
  for (int s : all) {
    if (first_segment >= 0 && s < first_segment) continue;
    if (last_segment >= 0 && s > last_segment) continue;
    segs.push_back(s);
  }
  return std::unique_ptr<WalReader>(new WalReader(fs, dir, std::move(segs)));
}

bool WalReader::Corrupt(std::string_view what) {
  status_ = absl::DataLossError(absl::StrCat("wal segment ", SegmentName(segments_[index_]),
                                             " offset ", record_offset_, ": ", Sv(what)));
  return false;
}

bool WalReader::OpenSegment() {
  const std::string path = io::JoinPath(dir_, SegmentName(segments_[index_]));
  absl::StatusOr<std::unique_ptr<io::MappedFile>> f = fs_->MapFile(path);
  if (!f.ok()) {
    status_ = f.status();
    return false;
  }
  file_ = std::move(*f);
  data_ = file_->data();
  record_offset_ = 0;
  good_end_ = 0;
  if (data_.size() < kSegmentHeaderBytes) return Corrupt("segment header truncated");
  if (DecodeBigEndian32(data_.data()) != kSegmentMagic) return Corrupt("bad segment magic");
  if (static_cast<uint8_t>(data_[4]) != kSegmentVersion) {
    return Corrupt(absl::StrCat("unsupported segment version ", static_cast<uint8_t>(data_[4])));
  }
  pos_ = good_end_ = kSegmentHeaderBytes;
  return true;
}

bool WalReader::Next() {
  if (!status_.ok()) return false;
  for (;;) {
    if (!opened_) {
      if (index_ >= segments_.size()) return false;
      if (!OpenSegment()) return false;
      opened_ = true;
    }
    if (pos_ == data_.size()) {
      opened_ = false;
      file_.reset();
      ++index_;
      continue;
    }
    record_offset_ = pos_;
    // A record running past the end of a segment that is not the last one was cut
    // by a failed write (e.g. a full disk); the writer then moved to a new segment
    // and never acknowledged it, so skip to the next segment (docs/format/wal.md).
    const bool later_segments = index_ + 1 < segments_.size();
    if (data_.size() - pos_ < kRecordHeaderBytes) {
      if (later_segments) {
        pos_ = data_.size();
        continue;
      }
      return Corrupt("torn record header");
    }
    const char* h = data_.data() + pos_;
    const uint8_t flags = static_cast<uint8_t>(h[0]);
    const uint32_t len = DecodeBigEndian32(h + 1);
    const uint32_t crc = DecodeBigEndian32(h + 5);
    if ((flags & ~kFlagZstd) != 0) return Corrupt("unknown record flags");
    if (len > kMaxRecordBytes) return Corrupt("record length out of range");
    if (data_.size() - pos_ - kRecordHeaderBytes < len) {
      if (later_segments) {
        pos_ = data_.size();
        continue;
      }
      return Corrupt("torn record");
    }
    std::string_view payload(h + kRecordHeaderBytes, len);
    uint32_t actual = crc32c::Extend(crc32c::Value(h, 5), payload.data(), payload.size());
    if (actual != crc) return Corrupt("record checksum mismatch");
    if (flags & kFlagZstd) {
      unsigned long long size = ZSTD_getFrameContentSize(payload.data(), payload.size());
      if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
          size > kMaxRecordBytes) {
        return Corrupt("bad zstd frame header");
      }
      if (zstd_dctx_ == nullptr) zstd_dctx_ = ZSTD_createDCtx();
      decompressed_.resize(size);
      size_t n = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(zstd_dctx_), decompressed_.data(),
                                     decompressed_.size(), payload.data(), payload.size());
      if (ZSTD_isError(n) || n != size) return Corrupt("zstd decompression failed");
      record_ = decompressed_;
    } else {
      record_ = payload;
    }
    pos_ += kRecordHeaderBytes + len;
    good_end_ = pos_;
    return true;
  }
}

}  // namespace cairn::wal
