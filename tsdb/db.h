// DB: Cairn's storage engine as one object. It opens a data directory, owns the
// in-memory head (with its WAL in dir/wal) and the immutable blocks (one dir/<ULID>
// directory each), cuts the head into blocks, compacts them, enforces retention, and
// builds merged queriers over head + blocks.
//
//   auto db = DB::Open("data", DbOptions{});
//   auto app = (*db)->NewAppender();
//   app->Append(0, labels, t, v); app->Commit();
//   auto q = (*db)->NewQuerier(mint, maxt);
//
// Directory layout: docs/format/block.md. Thread-safety: every public method may be
// called concurrently. A background thread (unless DbOptions::background is false)
// calls Maintain() every DbOptions::maintenance_interval_ms.
#ifndef CAIRN_TSDB_DB_H_
#define CAIRN_TSDB_DB_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "tsdb/io/file_system.h"
#include "tsdb/model/matcher.h"
#include "tsdb/storage/appender.h"
#include "tsdb/storage/querier.h"

namespace cairn {

namespace head {
class Head;
}
namespace compact {
class TombstoneSet;
}
namespace block {
class Block;
struct BlockWriterOptions;
}  // namespace block

struct DbOptions {
  io::FileSystem* fs = io::FileSystem::Default();
  // Width of a freshly cut block; the head is cut when it spans 1.5x this.
  int64_t block_range_ms = 2 * 3600 * 1000;
  // Compacted blocks grow 3x per level up to this width (Prometheus: 10% of
  // retention, at most 31 days).
  int64_t max_block_range_ms = 0;  // 0: min(retention / 10, 31d)
  int64_t retention_ms = 15LL * 24 * 3600 * 1000;
  int64_t retention_bytes = 0;  // 0: no size bound
  bool background = true;
  int64_t maintenance_interval_ms = 60 * 1000;
  // Commits fsync the WAL before they return (power-loss durability) instead of
  // handing it to the kernel (kill -9 durability), storage/appender.h.
  bool wal_fsync_on_commit = false;
  // How often the background thread fsyncs what commits left in the kernel's cache.
  int64_t wal_sync_interval_ms = 1000;
  // Write every block chunk in Prometheus' XOR encoding, so Prometheus' tools can
  // read the blocks; otherwise chunks are packed where smaller (docs/format/chunks.md).
  bool prometheus_compatible_blocks = false;
  // Most series the head may hold (HeadOptions::max_series); 0: no limit.
  size_t max_head_series = 0;
};

struct DbStats {
  uint64_t blocks = 0;
  uint64_t blocks_bytes = 0;
  uint64_t head_series = 0;
  uint64_t head_chunks = 0;
  // Samples refused because they would have created a series beyond max_head_series.
  uint64_t head_series_limit_rejections = 0;
  int64_t head_min_time_ms = 0;
  int64_t head_max_time_ms = 0;
  uint64_t compactions = 0;
  uint64_t compaction_failures = 0;
  uint64_t blocks_deleted_by_retention = 0;
  uint64_t corrupt_blocks_skipped = 0;
  uint64_t maintenance_failures = 0;
  double last_compaction_seconds = 0;
  uint64_t wal_fsyncs = 0;
  double wal_fsync_seconds = 0;
  uint64_t wal_bytes_written = 0;
  uint64_t wal_corruptions_repaired = 0;
};

class DB final : public storage::Appendable, public storage::Queryable {
 public:
  static absl::StatusOr<std::unique_ptr<DB>> Open(std::string dir, DbOptions opts);
  ~DB() override;

  std::unique_ptr<storage::Appender> NewAppender() override;
  absl::StatusOr<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  // One round of background work: cut the head into blocks while it spans more than
  // 1.5x the block range, compact blocks, apply retention. Safe to call any time.
  absl::Status Maintain();
  // Deletes the samples with mint_ms <= t <= maxt_ms of the series matching all of
  // `matchers` (Prometheus' DB.Delete): in the head at once (logged to the WAL first),
  // in each overlapping block through its tombstones file, which queries apply at once
  // and compaction (or CleanTombstones) applies to the data. Serialised with
  // maintenance, so a compaction never loses a deletion made while it ran.
  // REQUIRES: at least one matcher.
  absl::Status Delete(int64_t mint_ms, int64_t maxt_ms, const std::vector<Matcher>& matchers);
  // Rewrites every block that has tombstones without the deleted samples (a block
  // left empty is removed), so the data leaves the disk and the tombstones go.
  absl::Status CleanTombstones();
  // Writes a consistent copy of the database under `dir` (created if missing): every
  // block hard-linked (blocks never change in place, so a link is a copy), and with
  // `with_head` the head written as one more block. The copy opens as a DB.
  absl::Status Snapshot(const std::string& dir, bool with_head);

  // Stops background work and closes the head and its WAL. Idempotent.
  absl::Status Close();

  DbStats stats() const;
  const std::string& dir() const { return dir_; }
  head::Head* head() const { return head_.get(); }

 private:
  DB(std::string dir, DbOptions opts);
  absl::Status LoadBlocks();
  // Writes the head's [mint, maxt) into a new level-1 block and adds it.
  absl::Status WriteHeadBlock(int64_t mint, int64_t maxt);
  // Writes the head chunks wholly within [mint, maxt) as a block under `parent_dir`;
  // returns its directory, or "" when there was nothing to write. With `tight`, the
  // block's range is that of the chunks written rather than [mint, maxt).
  absl::StatusOr<std::string> WriteHeadBlockTo(const std::string& parent_dir, int64_t mint,
                                               int64_t maxt, bool tight);
  // Compacts the blocks `plan` names (one block: rewritten without its deleted data)
  // into one, swaps it in and deletes the inputs. REQUIRES: maintain_mu_ held.
  absl::Status CompactPlan(const std::vector<std::string>& plan);
  absl::Status CutHead();
  absl::Status CompactBlocks();
  absl::Status ApplyRetention();
  // Drops blocks from the list and deletes their directories (renamed to
  // *.tmp-for-deletion first, so a crash mid-delete never leaves a half block under
  // its ULID). Open queriers keep reading the unlinked, still-mapped files.
  absl::Status DeleteBlocks(const std::vector<std::string>& ulids);
  std::vector<std::shared_ptr<block::Block>> BlocksSnapshot() const;
  // The tombstones of block `ulid`; null when it has none.
  std::shared_ptr<const compact::TombstoneSet> TombstonesOf(const std::string& ulid) const;
  int64_t MaxBlockRange() const;
  block::BlockWriterOptions BlockOptions() const;
  void BackgroundLoop();

  const std::string dir_;
  const DbOptions opts_;
  std::unique_ptr<head::Head> head_;

  mutable absl::Mutex mu_;
  // Sorted by min time; queriers hold shared_ptrs so a block deleted by retention or
  // replaced by compaction stays readable until its last querier is gone.
  std::vector<std::shared_ptr<block::Block>> blocks_ ABSL_GUARDED_BY(mu_);
  // Tombstones of the blocks that have any, by ULID. Replaced (never changed in
  // place) by Delete, so queriers may keep the set they took.
  absl::flat_hash_map<std::string, std::shared_ptr<const compact::TombstoneSet>> tombstones_
      ABSL_GUARDED_BY(mu_);
  DbStats stats_ ABSL_GUARDED_BY(mu_);
  // Blocks whose compaction failed are not planned again until restart.
  absl::flat_hash_set<std::string> failed_compactions_ ABSL_GUARDED_BY(mu_);
  // Serialises Maintain(), Delete(), CleanTombstones() and Snapshot().
  absl::Mutex maintain_mu_;

  absl::Notification stop_;
  std::thread background_;
  std::atomic<bool> closed_{false};
};

}  // namespace cairn

#endif  // CAIRN_TSDB_DB_H_
