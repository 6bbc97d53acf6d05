// Appender: a batch of samples across series, made durable and visible together by
// Commit() (WAL first, then head) or dropped by Rollback() (DESIGN.md).
//
// Append() checks each sample as it comes: a sample older than the newest one of its
// series, a second sample at the same timestamp with a different value, or one older
// than the head allows is refused with an error that names the series and the reason
// (see append_error.h); the rest of the batch is unaffected. An identical duplicate
// (same timestamp, same value bits) is accepted and ignored, as in Prometheus.
//
// Thread-safety: an Appender is used by one thread; many Appenders may be open at once.
#ifndef CAIRN_TSDB_STORAGE_APPENDER_H_
#define CAIRN_TSDB_STORAGE_APPENDER_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tsdb/model/labels.h"

namespace cairn::storage {

// Opaque handle of a series inside one storage, valid for the life of that storage
// object; 0 means "unknown". Passing the ref returned by an earlier Append skips the
// label lookup (the scrape loop caches it per exposed series).
using SeriesRef = uint64_t;

// How far Commit() must take a batch before it returns.
//   kFsync: the batch survives power loss (fsynced, shared with concurrent commits).
//     The server uses it for every commit with --storage.tsdb.wal-fsync-on-commit.
//   kOsBuffer: the batch is written to the WAL file (handed to the kernel) before
//     Commit() returns, so it survives a crash of the process (kill -9: the durability
//     contract of DESIGN.md) but a machine crash only after the next fsync (the DB
//     syncs the WAL every DbOptions::wal_sync_interval_ms, default 1 s, and at each
//     segment cut). The server's default: an fsync per remote-write request cost more
//     CPU than the rest of the write path together. Prometheus is weaker still: it
//     buffers WAL pages in user space, so a kill -9 can lose acknowledged samples.
enum class CommitDurability { kFsync, kOsBuffer };

class Appender {
 public:
  virtual ~Appender() = default;

  // Adds one sample. `ref` may be 0 or a ref from an earlier Append to this storage;
  // `labels` must then still be the series' labels (they are used when ref is stale).
  // Returns the series' ref, or an error for this sample only.
  virtual absl::StatusOr<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t_ms,
                                           double value) = 0;
  // Makes every accepted sample durable and visible. After Commit() or Rollback()
  // the appender may be reused for a new batch.
  virtual absl::Status Commit() = 0;
  virtual void Rollback() = 0;
  // Applies to the following Commit() calls. Storages without a log ignore it.
  virtual void SetCommitDurability(CommitDurability /*durability*/) {}
};

class Appendable {
 public:
  virtual ~Appendable() = default;
  virtual std::unique_ptr<Appender> NewAppender() = 0;
};

}  // namespace cairn::storage

#endif  // CAIRN_TSDB_STORAGE_APPENDER_H_
