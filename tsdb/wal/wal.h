// Wal: the segmented write-ahead log — framing only; what is inside a record is
// record.h's business. Records are appended to numbered segment files in one
// directory, each framed with length, CRC32C and a zstd flag (wal_format.h,
// docs/format/wal.md). Durability is explicit: Log() hands bytes to the OS, Sync()
// fsyncs them; the head calls Sync() before acknowledging a commit.
//
// Open() repairs what a crash leaves behind: the first segment with a torn or corrupt
// record is cut at the end of its last good record and every later segment is
// removed (data after a corruption cannot be trusted to be complete); this is logged
// to stderr and counted in stats(). Writing then continues in a new segment. Replay
// (replay.h) stops at the same point, so Replay-then-Open and Open-then-Replay see the
// same records.
//
// Thread-safety: all methods may be called concurrently (one internal mutex).
#ifndef CAIRN_TSDB_WAL_WAL_H_
#define CAIRN_TSDB_WAL_WAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tsdb/io/file_system.h"

namespace cairn::wal {

struct WalOptions {
  uint64_t segment_size_bytes = 128 << 20;
  bool compress = true;
};

struct WalStats {
  uint64_t records_written = 0;
  uint64_t bytes_written = 0;
  uint64_t fsyncs = 0;
  double fsync_seconds = 0;  // wall time spent in fsyncs
  uint64_t corruptions_repaired = 0;
  uint64_t bytes_truncated = 0;
};

class Wal {
 public:
  static absl::StatusOr<std::unique_ptr<Wal>> Open(io::FileSystem* fs, std::string dir,
                                                   WalOptions opts = {});
  ~Wal();

  // Appends one record (not durable until Sync()).
  absl::Status Log(std::string_view record);
  // Appends several records under one lock acquisition. If `seq` is given it
  // receives the sequence number of the last record, for SyncUpTo().
  absl::Status Log(const std::vector<std::string>& records, uint64_t* seq = nullptr);
  // Flushes and fdatasyncs the current segment.
  absl::Status Sync();
  // Group commit: returns once every record up to sequence number `seq` is durable.
  // Concurrent callers share fsyncs: one caller syncs everything logged so far while
  // the others wait, and Log() is not blocked during the fsync.
  absl::Status SyncUpTo(uint64_t seq);
  // Hands every record up to `seq` to the OS without fsyncing: it then survives a
  // crash of the process but not of the machine. Fails, like SyncUpTo, for records
  // lost to a failed write.
  absl::Status FlushUpTo(uint64_t seq);
  // Syncs and closes the current segment and starts the next one.
  absl::Status NextSegment();
  // [first, last] segment numbers present.
  absl::StatusOr<std::pair<int, int>> Segments() const;
  // Removes segments numbered below `before` (never the current one).
  absl::Status TruncateBefore(int before);
  absl::Status Close();

  const std::string& dir() const { return dir_; }
  WalStats stats() const;
  // The segment being written.
  int current_segment() const;

 private:
  Wal(io::FileSystem* fs, std::string dir, WalOptions opts);
  absl::Status Repair() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StartSegment(int n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LogLocked(std::string_view record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a failed write or sync: every record logged since the last successful
  // sync is declared lost (SyncUpTo fails for it) and the segment is abandoned; the
  // next Log starts a new one. A torn record can thus only end a segment, where
  // readers skip it.
  void AbandonSegment(const absl::Status& cause) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // kDataLoss-like error (the failure's code) when record `seq` was lost.
  absl::Status LostStatusLocked(uint64_t seq) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  io::FileSystem* const fs_;
  const std::string dir_;
  const WalOptions opts_;

  mutable absl::Mutex mu_;
  // Shared so that SyncUpTo() can fsync it outside mu_ while a rotation replaces it;
  // the file closes when its last owner lets go.
  std::shared_ptr<io::WritableFile> file_ ABSL_GUARDED_BY(mu_);
  uint64_t logged_seq_ ABSL_GUARDED_BY(mu_) = 0;  // records logged so far
  uint64_t synced_seq_ ABSL_GUARDED_BY(mu_) = 0;  // records known durable
  // Ranges (from, to] of sequence numbers lost to failed writes or syncs.
  std::vector<std::pair<uint64_t, uint64_t>> lost_ ABSL_GUARDED_BY(mu_);
  absl::Status last_failure_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex sync_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one fsync at a time
  int segment_ ABSL_GUARDED_BY(mu_) = -1;
  WalStats stats_ ABSL_GUARDED_BY(mu_);
  std::string frame_ ABSL_GUARDED_BY(mu_);         // reused framing buffer
  std::string compressed_ ABSL_GUARDED_BY(mu_);    // reused zstd output
  void* zstd_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;  // ZSTD_CCtx*, reused
};

// Segment numbers present in `dir`, sorted (non-segment files ignored).
absl::StatusOr<std::vector<int>> ListSegments(io::FileSystem* fs, const std::string& dir);

}  // namespace cairn::wal

#endif  // CAIRN_TSDB_WAL_WAL_H_
