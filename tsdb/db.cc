#include "tsdb/db.h"

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "tsdb/head/head.h"
#include "tsdb/storage/merge.h"
#include "tsdb/util/status_macros.h"

namespace cairn {

DB::DB(std::string dir, DbOptions opts) : dir_(std::move(dir)), opts_(opts) {}

DB::~DB() { (void)Close(); }

absl::StatusOr<std::unique_ptr<DB>> DB::Open(std::string dir, DbOptions opts) {
  CAIRN_RETURN_IF_ERROR(opts.fs->CreateDirs(dir));
  std::unique_ptr<DB> db(new DB(std::move(dir), opts));
  CAIRN_RETURN_IF_ERROR(db->LoadBlocks());
  head::HeadOptions head_opts;
  head_opts.chunk_range_ms = opts.block_range_ms;
  CAIRN_ASSIGN_OR_RETURN(db->head_,
                         head::Head::Open(opts.fs, io::JoinPath(db->dir_, "wal"), head_opts));
  if (opts.background) db->background_ = std::thread([d = db.get()] { d->BackgroundLoop(); });
  return db;
}

absl::Status DB::LoadBlocks() {
  // Blocks land with tsdb/block; until then the DB is the head alone.
  return absl::OkStatus();
}

std::unique_ptr<storage::Appender> DB::NewAppender() { return head_->NewAppender(); }

absl::StatusOr<std::unique_ptr<storage::Querier>> DB::NewQuerier(int64_t mint, int64_t maxt) {
  std::vector<std::unique_ptr<storage::Querier>> qs;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<storage::Querier> hq, head_->NewQuerier(mint, maxt));
  qs.push_back(std::move(hq));
  if (qs.size() == 1) return std::move(qs[0]);
  return storage::MergeQueriers(std::move(qs));
}

absl::Status DB::Maintain() {
  absl::MutexLock l(&maintain_mu_);
  CAIRN_RETURN_IF_ERROR(CutHead());
  return ApplyRetention();
}

absl::Status DB::CutHead() { return absl::OkStatus(); }

absl::Status DB::ApplyRetention() { return absl::OkStatus(); }

void DB::BackgroundLoop() {
  while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(opts_.maintenance_interval_ms))) {
    if (absl::Status s = Maintain(); !s.ok()) {
      std::fprintf(stderr, "tsdb: background maintenance failed: %s\n",
                   std::string(s.message()).c_str());
      absl::MutexLock l(&mu_);
      ++stats_.compaction_failures;
    }
  }
}

absl::Status DB::Close() {
  if (closed_.exchange(true)) return absl::OkStatus();
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (background_.joinable()) background_.join();
  head_.reset();  // closes the WAL
  return absl::OkStatus();
}

DbStats DB::stats() const {
  DbStats s;
  {
    absl::MutexLock l(&mu_);
    s = stats_;
    s.blocks = blocks_.size();
  }
  if (head_ != nullptr) {
    s.head_series = head_->num_series();
    s.head_chunks = static_cast<uint64_t>(head_->num_chunks());
    s.head_min_time_ms = head_->min_time();
    s.head_max_time_ms = head_->max_time();
  }
  return s;
}

}  // namespace cairn
