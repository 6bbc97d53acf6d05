#include "tsdb/db.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tsdb/block/block.h"
#include "tsdb/block/block_writer.h"
#include "tsdb/block/ulid.h"
#include "tsdb/compact/block_writer_output.h"
#include "tsdb/compact/compactor.h"
#include "tsdb/compact/deletion.h"
#include "tsdb/compact/planner.h"
#include "tsdb/compact/retention.h"
#include "tsdb/compact/tombstone_querier.h"
#include "tsdb/compact/tombstones.h"
#include "tsdb/head/head.h"
#include "tsdb/model/sample.h"
#include "tsdb/storage/merge.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/util/status_macros.h"

namespace cairn {
namespace {

constexpr std::string_view kTmpForDeletionSuffix = ".tmp-for-deletion";

void LogLine(const std::string& line) { std::fprintf(stderr, "tsdb: %s\n", line.c_str()); }

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Whether every source of `inner` is among `outer`'s: `inner` is then an input that a
// finished compaction already covers.
bool SourcesCovered(const block::BlockMeta& inner, const block::BlockMeta& outer) {
  if (inner.ulid == outer.ulid || outer.level <= inner.level) return false;
  absl::flat_hash_set<std::string> have(outer.sources.begin(), outer.sources.end());
  const std::vector<std::string> self = {inner.ulid};
  for (const std::string& s : inner.sources.empty() ? self : inner.sources) {
    if (!have.contains(s)) return false;
  }
  return true;
}

}  // namespace

DB::DB(std::string dir, DbOptions opts) : dir_(std::move(dir)), opts_(opts) {}

DB::~DB() { (void)Close(); }

absl::StatusOr<std::unique_ptr<DB>> DB::Open(std::string dir, DbOptions opts) {
  CAIRN_RETURN_IF_ERROR(opts.fs->CreateDirs(dir));
  std::unique_ptr<DB> db(new DB(std::move(dir), opts));
  CAIRN_RETURN_IF_ERROR(db->LoadBlocks());
  head::HeadOptions head_opts;
  head_opts.chunk_range_ms = opts.block_range_ms;
  head_opts.chunk_dir = io::JoinPath(db->dir_, "head_chunks");
  head_opts.max_series = opts.max_head_series;
  head_opts.commit_durability = opts.wal_fsync_on_commit ? storage::CommitDurability::kFsync
                                                         : storage::CommitDurability::kOsBuffer;
  {
    absl::MutexLock l(&db->mu_);
    for (const auto& b : db->blocks_) {
      head_opts.min_valid_time = std::max(head_opts.min_valid_time, b->meta().max_time);
    }
  }
  CAIRN_ASSIGN_OR_RETURN(db->head_,
                         head::Head::Open(opts.fs, io::JoinPath(db->dir_, "wal"), head_opts));
  if (opts.background) db->background_ = std::thread([d = db.get()] { d->BackgroundLoop(); });
  return db;
}

absl::Status DB::LoadBlocks() {
  io::FileSystem* fs = opts_.fs;
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir_));
  std::vector<std::shared_ptr<block::Block>> loaded;
  absl::flat_hash_map<std::string, std::shared_ptr<const compact::TombstoneSet>> tombstones;
  uint64_t corrupt = 0;
  for (const std::string& name : names) {
    std::string path = io::JoinPath(dir_, name);
    if (!fs->IsDirectory(path)) continue;
    if (absl::EndsWith(name, Sv(compact::kTmpForCreationSuffix)) ||
        absl::EndsWith(name, Sv(kTmpForDeletionSuffix))) {
      LogLine(absl::StrFormat("removing leftover directory %s", path));
      CAIRN_RETURN_IF_ERROR(fs->RemoveAll(path));
      continue;
    }
    if (!block::IsUlid(name)) continue;
    auto b = block::Block::Open(fs, path);
    if (!b.ok()) {
      // A damaged block must not take the server down: report it, serve the rest.
      LogLine(absl::StrFormat("skipping unreadable block %s: %s", path, b.status().ToString()));
      ++corrupt;
      continue;
    }
    auto ts = compact::ReadTombstones(fs, path);
    if (!ts.ok()) {
      // Serving the block without its tombstones would bring deleted data back.
      LogLine(absl::StrFormat("skipping block %s with unreadable tombstones: %s", path,
                              ts.status().ToString()));
      ++corrupt;
      continue;
    }
    if (!ts->empty()) {
      tombstones[(*b)->meta().ulid] = std::make_shared<const compact::TombstoneSet>(std::move(*ts));
    }
    loaded.push_back(std::move(*b));
  }
  // A crash between a compaction's rename and the deletion of its inputs leaves the
  // inputs behind; their data is in the compacted block.
  std::vector<std::shared_ptr<block::Block>> keep;
  for (const auto& b : loaded) {
    bool covered = false;
    for (const auto& other : loaded) covered |= SourcesCovered(b->meta(), other->meta());
    if (covered) {
      LogLine(absl::StrFormat("removing block %s: compacted into a newer block", b->dir()));
      CAIRN_RETURN_IF_ERROR(fs->RemoveAll(b->dir()));
      continue;
    }
    keep.push_back(b);
  }
  std::sort(keep.begin(), keep.end(),
            [](const auto& a, const auto& b) { return a->meta().min_time < b->meta().min_time; });
  absl::MutexLock l(&mu_);
  blocks_ = std::move(keep);
  tombstones_ = std::move(tombstones);
  stats_.corrupt_blocks_skipped += corrupt;
  return absl::OkStatus();
}

std::vector<std::shared_ptr<block::Block>> DB::BlocksSnapshot() const {
  absl::MutexLock l(&mu_);
  return blocks_;
}

std::shared_ptr<const compact::TombstoneSet> DB::TombstonesOf(const std::string& ulid) const {
  absl::MutexLock l(&mu_);
  auto it = tombstones_.find(ulid);
  return it == tombstones_.end() ? nullptr : it->second;
}

std::unique_ptr<storage::Appender> DB::NewAppender() { return head_->NewAppender(); }

absl::StatusOr<std::unique_ptr<storage::Querier>> DB::NewQuerier(int64_t mint, int64_t maxt) {
  std::vector<std::shared_ptr<block::Block>> blocks;
  std::vector<std::shared_ptr<const compact::TombstoneSet>> tombstones;
  {
    absl::MutexLock l(&mu_);
    for (const auto& b : blocks_) {
      if (b->meta().max_time <= mint || b->meta().min_time > maxt) continue;
      blocks.push_back(b);
      auto it = tombstones_.find(b->meta().ulid);
      tombstones.push_back(it == tombstones_.end() ? nullptr : it->second);
    }
  }
  std::vector<std::unique_ptr<storage::Querier>> qs;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (tombstones[i] == nullptr) {
      qs.push_back(blocks[i]->NewQuerier(mint, maxt));
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<storage::Querier> q,
                           compact::NewTombstoneQuerier(blocks[i], *tombstones[i], mint, maxt));
    qs.push_back(std::move(q));
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<storage::Querier> hq, head_->NewQuerier(mint, maxt));
  qs.push_back(std::move(hq));
  if (qs.size() == 1) return std::move(qs[0]);
  return storage::MergeQueriers(std::move(qs));
}

absl::Status DB::Maintain() {
  absl::MutexLock l(&maintain_mu_);
  if (head_ == nullptr) return absl::OkStatus();
  // Bounds how long scraped samples (CommitDurability::kOsBuffer) wait for an fsync.
  CAIRN_RETURN_IF_ERROR(head_->SyncWal());
  CAIRN_RETURN_IF_ERROR(CutHead());
  CAIRN_RETURN_IF_ERROR(CompactBlocks());
  return ApplyRetention();
}

absl::StatusOr<std::string> DB::WriteHeadBlockTo(const std::string& parent_dir, int64_t mint,
                                                 int64_t maxt, bool tight) {
  io::FileSystem* fs = opts_.fs;
  const std::string ulid = block::NewUlid(absl::ToUnixMillis(absl::Now()));
  const std::string tmp =
      io::JoinPath(parent_dir, absl::StrCat(ulid, Sv(compact::kTmpForCreationSuffix)));
  const std::string final_dir = io::JoinPath(parent_dir, ulid);
  auto written = [&]() -> absl::StatusOr<std::string> {
    CAIRN_ASSIGN_OR_RETURN(auto w, block::BlockWriter::Create(fs, tmp, BlockOptions()));
    std::vector<block::EncodedChunk> chunks;
    int64_t chunks_min = INT64_MAX, chunks_max = INT64_MIN;
    CAIRN_RETURN_IF_ERROR(head_->ForEachSeriesChunks(
        mint, maxt, [&](const Labels& labels, const std::vector<head::ChunkView>& views) {
          chunks.clear();
          for (const head::ChunkView& v : views) {
            chunks.push_back(
                block::EncodedChunk{v.min_time, v.max_time, v.num_samples, v.bytes, v.encoding});
            chunks_min = std::min(chunks_min, v.min_time);
            chunks_max = std::max(chunks_max, v.max_time);
          }
          return w->AddSeries(labels, chunks);
        }));
    if (w->num_series() == 0) {
      w.reset();
      CAIRN_RETURN_IF_ERROR(fs->RemoveAll(tmp));
      return std::string();
    }
    block::BlockMeta meta;
    meta.ulid = ulid;
    meta.min_time = tight ? chunks_min : mint;
    meta.max_time = tight ? chunks_max + 1 : maxt;  // exclusive
    meta.level = 1;
    meta.sources = {ulid};
    CAIRN_RETURN_IF_ERROR(w->Finish(meta));
    CAIRN_RETURN_IF_ERROR(block::CommitBlockDir(fs, tmp, final_dir));
    return final_dir;
  }();
  if (!written.ok()) {
    fs->RemoveAll(tmp).IgnoreError();
    return Annotate(written.status(), absl::StrFormat("writing head block [%d, %d)", mint, maxt));
  }
  return written;
}

absl::Status DB::WriteHeadBlock(int64_t mint, int64_t maxt) {
  CAIRN_ASSIGN_OR_RETURN(std::string dir, WriteHeadBlockTo(dir_, mint, maxt, /*tight=*/false));
  if (dir.empty()) return absl::OkStatus();
  CAIRN_ASSIGN_OR_RETURN(auto b, block::Block::Open(opts_.fs, dir));
  LogLine(absl::StrFormat("wrote block %s [%d, %d): %d series, %d samples", b->meta().ulid, mint,
                          maxt, b->meta().num_series, b->meta().num_samples));
  absl::MutexLock l(&mu_);
  blocks_.push_back(std::move(b));
  std::sort(blocks_.begin(), blocks_.end(),
            [](const auto& a, const auto& b) { return a->meta().min_time < b->meta().min_time; });
  return absl::OkStatus();
}

absl::Status DB::CutHead() {
  const int64_t range = opts_.block_range_ms;
  for (;;) {
    int64_t hmin = head_->min_time(), hmax = head_->max_time();
    if (hmin == INT64_MAX || hmax == INT64_MIN || hmax - hmin <= range / 2 * 3) break;
    int64_t mint = FloorDiv(hmin, range) * range;
    int64_t maxt = mint + range;
    // Nothing older than maxt may land in the head once it has been read into the block.
    head_->FenceAppendsBefore(maxt);
    CAIRN_RETURN_IF_ERROR(WriteHeadBlock(mint, maxt));
    CAIRN_RETURN_IF_ERROR(head_->Truncate(maxt));
    if (head_->min_time() <= hmin) break;  // no progress: do not spin
  }
  return absl::OkStatus();
}

block::BlockWriterOptions DB::BlockOptions() const {
  return block::BlockWriterOptions{.packed_chunks = !opts_.prometheus_compatible_blocks};
}

int64_t DB::MaxBlockRange() const {
  if (opts_.max_block_range_ms > 0) return opts_.max_block_range_ms;
  int64_t r = 31LL * 24 * 3600 * 1000;
  if (opts_.retention_ms > 0) r = std::min(r, opts_.retention_ms / 10);
  return std::max(r, opts_.block_range_ms);
}

absl::Status DB::CompactBlocks() {
  compact::PlannerOptions popts;
  popts.block_range_ms = opts_.block_range_ms;
  popts.max_block_range_ms = MaxBlockRange();
  for (int round = 0; round < 16; ++round) {
    std::vector<compact::PlannerBlock> pbs;
    {
      absl::MutexLock l(&mu_);
      for (const auto& b : blocks_) {
        const auto& m = b->meta();
        auto ts = tombstones_.find(m.ulid);
        const uint64_t num_tombstones = ts == tombstones_.end() ? 0 : ts->second->num_intervals();
        pbs.push_back(compact::PlannerBlock{m.ulid, m.min_time, m.max_time, m.level,
                                            b->size_bytes(), m.num_series, num_tombstones,
                                            failed_compactions_.contains(m.ulid)});
      }
    }
    // A one-block plan rewrites a block without its deleted samples.
    std::vector<std::string> plan = compact::Plan(pbs, popts);
    if (plan.empty()) return absl::OkStatus();
    CAIRN_RETURN_IF_ERROR(CompactPlan(plan));
  }
  return absl::OkStatus();
}

absl::Status DB::CompactPlan(const std::vector<std::string>& plan) {
  compact::BlockWriterOutputFactory factory(opts_.fs, BlockOptions());
  std::vector<std::shared_ptr<block::Block>> blocks = BlocksSnapshot();
  std::vector<compact::CompactionInput> inputs;
  for (const std::string& id : plan) {
    for (const auto& b : blocks) {
      if (b->meta().ulid != id) continue;
      const auto& m = b->meta();
      compact::DeletedByLabels deleted;
      if (auto ts = TombstonesOf(id); ts != nullptr) {
        CAIRN_ASSIGN_OR_RETURN(deleted,
                               compact::ResolveTombstones(*b, *ts, kMinTimeMs, kMaxTimeMs));
      }
      inputs.push_back(compact::CompactionInput{
          compact::InputMeta{m.ulid, m.min_time, m.max_time, m.level, m.sources}, b->AllSeries(),
          std::move(deleted)});
    }
  }
  auto start = absl::Now();
  auto result = compact::Compact(opts_.fs, dir_, block::NewUlid(absl::ToUnixMillis(start)),
                                 std::move(inputs), &factory);
  if (!result.ok()) {
    absl::MutexLock l(&mu_);
    ++stats_.compaction_failures;
    for (const std::string& id : plan) failed_compactions_.insert(id);
    return result.status();
  }
  std::shared_ptr<block::Block> nb;
  if (result->has_value()) {
    CAIRN_ASSIGN_OR_RETURN(nb, block::Block::Open(opts_.fs, (*result)->dir));
    LogLine(absl::StrFormat("compacted %d blocks into %s [%d, %d) in %s", plan.size(),
                            nb->meta().ulid, nb->meta().min_time, nb->meta().max_time,
                            absl::FormatDuration(absl::Now() - start)));
  } else {
    LogLine(absl::StrFormat("compacted %d blocks: every sample was deleted", plan.size()));
  }
  {
    absl::MutexLock l(&mu_);
    ++stats_.compactions;
    stats_.last_compaction_seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (nb != nullptr) blocks_.push_back(nb);
  }
  return DeleteBlocks(plan);
}

absl::Status DB::DeleteBlocks(const std::vector<std::string>& ulids) {
  std::vector<std::shared_ptr<block::Block>> doomed;
  {
    absl::MutexLock l(&mu_);
    std::vector<std::shared_ptr<block::Block>> keep;
    for (auto& b : blocks_) {
      if (std::find(ulids.begin(), ulids.end(), b->meta().ulid) != ulids.end()) {
        tombstones_.erase(b->meta().ulid);
        doomed.push_back(b);
      } else {
        keep.push_back(b);
      }
    }
    std::sort(keep.begin(), keep.end(),
              [](const auto& a, const auto& b) { return a->meta().min_time < b->meta().min_time; });
    blocks_ = std::move(keep);
  }
  for (const auto& b : doomed) {
    std::string tmp = absl::StrCat(b->dir(), Sv(kTmpForDeletionSuffix));
    CAIRN_RETURN_IF_ERROR(opts_.fs->Rename(b->dir(), tmp));
    CAIRN_RETURN_IF_ERROR(opts_.fs->RemoveAll(tmp));
  }
  return opts_.fs->SyncDir(dir_);
}

absl::Status DB::ApplyRetention() {
  std::vector<compact::RetentionBlock> rbs;
  for (const auto& b : BlocksSnapshot()) {
    rbs.push_back(compact::RetentionBlock{b->meta().ulid, b->meta().min_time, b->meta().max_time,
                                          b->size_bytes()});
  }
  compact::RetentionOptions ropts;
  ropts.retention_ms = opts_.retention_ms;
  ropts.retention_bytes = opts_.retention_bytes;
  std::vector<std::string> doomed = compact::BlocksBeyondRetention(rbs, ropts, 0);
  if (doomed.empty()) return absl::OkStatus();
  for (const std::string& id : doomed) LogLine(absl::StrFormat("retention: deleting block %s", id));
  {
    absl::MutexLock l(&mu_);
    stats_.blocks_deleted_by_retention += doomed.size();
  }
  return DeleteBlocks(doomed);
}

absl::Status DB::Delete(int64_t mint_ms, int64_t maxt_ms, const std::vector<Matcher>& matchers) {
  if (matchers.empty()) return absl::InvalidArgumentError("delete: no matchers");
  absl::MutexLock l(&maintain_mu_);
  if (head_ == nullptr) return absl::FailedPreconditionError("delete: the database is closed");
  if (mint_ms > maxt_ms) return absl::OkStatus();
  for (const auto& b : BlocksSnapshot()) {
    const block::BlockMeta& m = b->meta();
    if (m.min_time > maxt_ms || m.max_time <= mint_ms) continue;
    // Intervals are clamped to the block (max_time is exclusive): an open-ended API
    // deletion then records the block's own range, not the whole of time.
    const int64_t lo = std::max(mint_ms, m.min_time);
    const int64_t hi = std::min(maxt_ms, m.max_time - 1);
    CAIRN_ASSIGN_OR_RETURN(std::vector<uint64_t> refs,
                           compact::BlockSeriesToDelete(*b, matchers, lo, hi));
    if (refs.empty()) continue;
    absl::StatusOr<compact::TombstoneSet> ts =
        compact::RecordDeletion(opts_.fs, b->dir(), refs, lo, hi);
    if (!ts.ok()) return Annotate(ts.status(), absl::StrCat("delete: block ", m.ulid));
    LogLine(
        absl::StrFormat("block %s: %d series deleted in [%d, %d]", m.ulid, refs.size(), lo, hi));
    absl::MutexLock ml(&mu_);
    tombstones_[m.ulid] = std::make_shared<const compact::TombstoneSet>(std::move(*ts));
  }
  return Annotate(head_->Delete(mint_ms, maxt_ms, matchers), "delete");
}

absl::Status DB::CleanTombstones() {
  absl::MutexLock l(&maintain_mu_);
  if (head_ == nullptr) {
    return absl::FailedPreconditionError("clean tombstones: the database is closed");
  }
  std::vector<std::string> dirty;
  {
    absl::MutexLock ml(&mu_);
    for (const auto& b : blocks_) {
      if (tombstones_.contains(b->meta().ulid)) dirty.push_back(b->meta().ulid);
    }
  }
  for (const std::string& ulid : dirty) {
    CAIRN_RETURN_IF_ERROR(Annotate(CompactPlan({ulid}), "clean tombstones"));
  }
  return absl::OkStatus();
}

absl::Status DB::Snapshot(const std::string& dir, bool with_head) {
  absl::MutexLock l(&maintain_mu_);
  if (head_ == nullptr) return absl::FailedPreconditionError("snapshot: the database is closed");
  io::FileSystem* fs = opts_.fs;
  CAIRN_RETURN_IF_ERROR(fs->CreateDirs(dir));
  // Every file of a block lies in its directory or one level below (chunks/).
  std::function<absl::Status(const std::string&, const std::string&)> link_tree =
      [&](const std::string& from, const std::string& to) -> absl::Status {
    CAIRN_RETURN_IF_ERROR(fs->CreateDirs(to));
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(from));
    for (const std::string& n : names) {
      const std::string src = io::JoinPath(from, n), dst = io::JoinPath(to, n);
      CAIRN_RETURN_IF_ERROR(fs->IsDirectory(src) ? link_tree(src, dst) : fs->Link(src, dst));
    }
    return fs->SyncDir(to);
  };
  for (const auto& b : BlocksSnapshot()) {
    CAIRN_RETURN_IF_ERROR(
        Annotate(link_tree(b->dir(), io::JoinPath(dir, b->meta().ulid)), "snapshot"));
  }
  if (with_head) {
    CAIRN_RETURN_IF_ERROR(WriteHeadBlockTo(dir, kMinTimeMs, kMaxTimeMs, /*tight=*/true).status());
  }
  return fs->SyncDir(dir);
}

void DB::BackgroundLoop() {
  // Wakes every WAL sync interval; maintenance (which also syncs) runs when due.
  const int64_t tick_ms = opts_.wal_sync_interval_ms > 0
                              ? std::min(opts_.wal_sync_interval_ms, opts_.maintenance_interval_ms)
                              : opts_.maintenance_interval_ms;
  absl::Time next_maintenance = absl::Now() + absl::Milliseconds(opts_.maintenance_interval_ms);
  while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(tick_ms))) {
    absl::Status s;
    const char* what = "maintenance";
    if (absl::Now() >= next_maintenance) {
      s = Maintain();
      next_maintenance = absl::Now() + absl::Milliseconds(opts_.maintenance_interval_ms);
    } else {
      what = "WAL sync";
      absl::MutexLock l(&maintain_mu_);
      if (head_ != nullptr) s = head_->SyncWal();
    }
    if (!s.ok()) {
      LogLine(absl::StrCat("background ", what, " failed: ", s.ToString()));
      absl::MutexLock l(&mu_);
      ++stats_.maintenance_failures;
    }
  }
}

absl::Status DB::Close() {
  if (closed_.exchange(true)) return absl::OkStatus();
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (background_.joinable()) background_.join();
  absl::MutexLock l(&maintain_mu_);
  head_.reset();  // closes the WAL
  return absl::OkStatus();
}

DbStats DB::stats() const {
  DbStats s;
  {
    absl::MutexLock l(&mu_);
    s = stats_;
    s.blocks = blocks_.size();
    s.blocks_bytes = 0;
    for (const auto& b : blocks_) s.blocks_bytes += b->size_bytes();
  }
  if (head_ != nullptr) {
    s.head_series = head_->num_series();
    s.head_chunks = static_cast<uint64_t>(head_->num_chunks());
    s.head_series_limit_rejections =
        static_cast<uint64_t>(head_->rejected(storage::RejectReason::kLimit));
    s.head_min_time_ms = head_->min_time();
    s.head_max_time_ms = head_->max_time();
    const wal::WalStats w = head_->wal_stats();
    s.wal_fsyncs = w.fsyncs;
    s.wal_fsync_seconds = w.fsync_seconds;
    s.wal_bytes_written = w.bytes_written;
    s.wal_corruptions_repaired = w.corruptions_repaired;
  }
  return s;
}

}  // namespace cairn
