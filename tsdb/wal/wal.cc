#include "tsdb/wal/wal.h"

#include <zstd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tsdb/util/coding.h"
#include "tsdb/util/crc32c.h"
#include "tsdb/util/status_macros.h"
#include "tsdb/wal/wal_format.h"
#include "tsdb/wal/wal_reader.h"

namespace cairn::wal {

std::string SegmentName(int n) { return absl::StrFormat("%08d", n); }

int ParseSegmentName(const std::string& name) {
  if (name.size() != 8) return -1;
  int n = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

absl::StatusOr<std::vector<int>> ListSegments(io::FileSystem* fs, const std::string& dir) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  std::vector<int> out;
  for (const std::string& n : names) {
    int s = ParseSegmentName(n);
    if (s >= 0) out.push_back(s);
  }
  return out;  // ListDir sorts names; 8-digit names sort numerically
}

Wal::Wal(io::FileSystem* fs, std::string dir, WalOptions opts)
    : fs_(fs), dir_(std::move(dir)), opts_(opts) {}

Wal::~Wal() {
  (void)Close();
  absl::MutexLock l(&mu_);
  if (zstd_ctx_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_));
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(io::FileSystem* fs, std::string dir,
                                               WalOptions opts) {
  CAIRN_RETURN_IF_ERROR(fs->CreateDirs(dir));
  std::unique_ptr<Wal> wal(new Wal(fs, std::move(dir), opts));
  absl::MutexLock l(&wal->mu_);
  CAIRN_RETURN_IF_ERROR(wal->Repair());
  CAIRN_ASSIGN_OR_RETURN(std::vector<int> segs, ListSegments(fs, wal->dir_));
  CAIRN_RETURN_IF_ERROR(wal->StartSegment(segs.empty() ? 0 : segs.back() + 1));
  return wal;
}

absl::Status Wal::Repair() {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WalReader> r, WalReader::Open(fs_, dir_));
  while (r->Next()) {
  }
  if (r->status().ok()) return absl::OkStatus();
  if (r->status().code() != absl::StatusCode::kDataLoss) return r->status();
  const int bad = r->segment();
  const std::string path = io::JoinPath(dir_, SegmentName(bad));
  CAIRN_ASSIGN_OR_RETURN(uint64_t size, fs_->FileSize(path));
  uint64_t keep = r->good_end();
  std::fprintf(stderr,
               "wal: %s; truncating segment %s at offset %llu and dropping later segments\n",
               std::string(r->status().message()).c_str(), SegmentName(bad).c_str(),
               static_cast<unsigned long long>(keep));
  uint64_t truncated = size - keep;
  if (keep < kSegmentHeaderBytes) {
    CAIRN_RETURN_IF_ERROR(fs_->RemoveFile(path));
  } else {
    CAIRN_RETURN_IF_ERROR(fs_->Truncate(path, keep));
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<int> segs, ListSegments(fs_, dir_));
  for (int s : segs) {
    if (s <= bad) continue;
    const std::string p = io::JoinPath(dir_, SegmentName(s));
    absl::StatusOr<uint64_t> sz = fs_->FileSize(p);
    if (sz.ok()) truncated += *sz;
    CAIRN_RETURN_IF_ERROR(fs_->RemoveFile(p));
  }
  CAIRN_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  ++stats_.corruptions_repaired;
  stats_.bytes_truncated += truncated;
  return absl::OkStatus();
}

absl::Status Wal::StartSegment(int n) {
  if (file_ != nullptr) {
    if (absl::Status st = file_->Sync(); !st.ok()) {
      AbandonSegment(st);
      return st;
    }
    ++stats_.fsyncs;
    synced_seq_ = logged_seq_;  // everything logged so far is in a synced segment
    file_.reset();              // closed by the last owner (a concurrent SyncUpTo)
  }
  const std::string path = io::JoinPath(dir_, SegmentName(n));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<io::WritableFile> f, fs_->NewWritableFile(path));
  segment_ = n;
  std::string header;
  PutBigEndian32(&header, kSegmentMagic);
  header.push_back(static_cast<char>(kSegmentVersion));
  header.append(3, '\0');
  absl::Status st = f->Append(header);
  if (st.ok()) st = f->Sync();
  if (st.ok()) st = fs_->SyncDir(dir_);  // the new name must survive a crash too
  if (!st.ok()) {
    // Leave no segment without a complete header behind (readers would stop at it).
    f.reset();
    (void)fs_->RemoveFile(path);
    return st;
  }
  file_ = std::move(f);
  return absl::OkStatus();
}

void Wal::AbandonSegment(const absl::Status& cause) {
  if (logged_seq_ > synced_seq_) lost_.emplace_back(synced_seq_, logged_seq_);
  synced_seq_ = logged_seq_;
  last_failure_ = cause;
  file_.reset();  // its buffered bytes may or may not reach the disk: a torn tail
  std::fprintf(stderr, "wal: write to segment %s failed (%s); continuing in a new segment\n",
               SegmentName(segment_).c_str(), std::string(cause.message()).c_str());
}

absl::Status Wal::LogLocked(std::string_view record) {
  if (closed_) return absl::FailedPreconditionError(absl::StrCat("wal ", dir_, " is closed"));
  if (file_ == nullptr) {
    // The previous segment was abandoned after a failure; retry in a fresh one.
    CAIRN_RETURN_IF_ERROR(StartSegment(segment_ + 1));
  }
  if (record.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "wal record of %d bytes exceeds the %d-byte limit", record.size(), kMaxRecordBytes));
  }
  uint8_t flags = 0;
  std::string_view payload = record;
  if (opts_.compress && record.size() >= kCompressMinBytes) {
    if (zstd_ctx_ == nullptr) zstd_ctx_ = ZSTD_createCCtx();
    compressed_.resize(ZSTD_compressBound(record.size()));
    size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_), compressed_.data(),
                                 compressed_.size(), record.data(), record.size(), 1);
    if (!ZSTD_isError(n) && n < record.size()) {
      payload = std::string_view(compressed_.data(), n);
      flags = kFlagZstd;
    }
  }
  if (file_->Size() + kRecordHeaderBytes + payload.size() > opts_.segment_size_bytes &&
      file_->Size() > kSegmentHeaderBytes) {
    // Records never span segments. `payload` views record or compressed_, which
    // StartSegment leaves alone.
    CAIRN_RETURN_IF_ERROR(StartSegment(segment_ + 1));
  }
  frame_.clear();
  frame_.push_back(static_cast<char>(flags));
  PutBigEndian32(&frame_, static_cast<uint32_t>(payload.size()));
  const uint32_t crc =
      crc32c::Extend(crc32c::Value(frame_.data(), 5), payload.data(), payload.size());
  PutBigEndian32(&frame_, crc);
  frame_.append(payload);
  if (absl::Status st = file_->Append(frame_); !st.ok()) {
    AbandonSegment(st);
    return st;
  }
  ++logged_seq_;
  ++stats_.records_written;
  stats_.bytes_written += frame_.size();
  return absl::OkStatus();
}

absl::Status Wal::Log(std::string_view record) {
  absl::MutexLock l(&mu_);
  return LogLocked(record);
}

absl::Status Wal::Log(const std::vector<std::string>& records, uint64_t* seq) {
  absl::MutexLock l(&mu_);
  for (const std::string& r : records) CAIRN_RETURN_IF_ERROR(LogLocked(r));
  if (seq != nullptr) *seq = logged_seq_;
  return absl::OkStatus();
}

absl::Status Wal::LostStatusLocked(uint64_t seq) const {
  for (const auto& [from, to] : lost_) {
    if (seq > from && seq <= to) {
      return absl::Status(
          last_failure_.code(),
          absl::StrCat("wal ", dir_, ": record lost to a failed write: ", last_failure_.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status Wal::FlushUpTo(uint64_t seq) {
  absl::MutexLock l(&mu_);
  CAIRN_RETURN_IF_ERROR(LostStatusLocked(seq));
  if (synced_seq_ >= seq) return absl::OkStatus();
  if (closed_ || file_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("wal ", dir_, " is closed"));
  }
  if (absl::Status st = file_->Flush(); !st.ok()) {
    AbandonSegment(st);
    return st;
  }
  return absl::OkStatus();
}

absl::Status Wal::SyncUpTo(uint64_t seq) {
  absl::MutexLock sl(&sync_mu_);
  std::shared_ptr<io::WritableFile> file;
  uint64_t target;
  {
    absl::MutexLock l(&mu_);
    CAIRN_RETURN_IF_ERROR(LostStatusLocked(seq));
    if (synced_seq_ >= seq) return absl::OkStatus();  // an earlier fsync covered it
    if (closed_ || file_ == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("wal ", dir_, " is closed"));
    }
    // Hand buffered bytes to the OS under mu_; the fsync itself runs without it.
    if (absl::Status st = file_->Flush(); !st.ok()) {
      AbandonSegment(st);
      return st;
    }
    file = file_;
    target = logged_seq_;
  }
  const absl::Time start = absl::Now();
  absl::Status st = file->DataSync();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::MutexLock l(&mu_);
  if (!st.ok()) {
    if (file_ == file) AbandonSegment(st);
    return st;
  }
  ++stats_.fsyncs;
  stats_.fsync_seconds += seconds;
  synced_seq_ = std::max(synced_seq_, target);
  return absl::OkStatus();
}

absl::Status Wal::Sync() {
  uint64_t seq;
  {
    absl::MutexLock l(&mu_);
    seq = logged_seq_;
  }
  return SyncUpTo(seq);
}

absl::Status Wal::NextSegment() {
  absl::MutexLock l(&mu_);
  if (closed_) return absl::FailedPreconditionError(absl::StrCat("wal ", dir_, " is closed"));
  return StartSegment(segment_ + 1);
}

absl::StatusOr<std::pair<int, int>> Wal::Segments() const {
  CAIRN_ASSIGN_OR_RETURN(std::vector<int> segs, ListSegments(fs_, dir_));
  if (segs.empty()) return absl::NotFoundError(absl::StrCat("wal ", dir_, " has no segments"));
  return std::make_pair(segs.front(), segs.back());
}

absl::Status Wal::TruncateBefore(int before) {
  absl::MutexLock l(&mu_);
  CAIRN_ASSIGN_OR_RETURN(std::vector<int> segs, ListSegments(fs_, dir_));
  for (int s : segs) {
    if (s >= before || s >= segment_) break;
    CAIRN_RETURN_IF_ERROR(fs_->RemoveFile(io::JoinPath(dir_, SegmentName(s))));
  }
  return absl::OkStatus();
}

absl::Status Wal::Close() {
  absl::MutexLock sl(&sync_mu_);
  absl::MutexLock l(&mu_);
  closed_ = true;
  if (file_ == nullptr) return absl::OkStatus();
  absl::Status s = file_->Sync();
  absl::Status c = file_->Close();
  file_.reset();
  return s.ok() ? c : s;
}

WalStats Wal::stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

int Wal::current_segment() const {
  absl::MutexLock l(&mu_);
  return segment_;
}

}  // namespace cairn::wal
