// HeadAppender: the storage::Appender of a Head. Append() validates a sample against
// its series' newest committed sample and the head's lower bound and queues it;
// Commit() re-checks each queued sample under its series' lock (another appender may
// have committed to the same series meanwhile), applies it, and counts refusals.
//
// Allocation: the pending vector is kept across batches, and a known ref skips the
// label lookup, so steady-state appends to existing series allocate nothing.
// Thread-safety: one thread per appender (storage::Appender).
#ifndef CAIRN_TSDB_HEAD_HEAD_APPENDER_H_
#define CAIRN_TSDB_HEAD_HEAD_APPENDER_H_

#include <cstdint>
#include <vector>

#include "tsdb/head/head.h"
#include "tsdb/head/mem_series.h"
#include "tsdb/storage/appender.h"
#include "tsdb/wal/record.h"

namespace cairn::head {

class HeadAppender final : public storage::Appender {
 public:
  explicit HeadAppender(Head* head);
  ~HeadAppender() override;

  absl::StatusOr<storage::SeriesRef> Append(storage::SeriesRef ref, const Labels& labels,
                                            int64_t t_ms, double value) override;
  absl::Status Commit() override;
  void Rollback() override;
  void SetCommitDurability(storage::CommitDurability d) override { durability_ = d; }

 private:
  struct Pending {
    MemSeries* series;
    int64_t t;
    double v;
  };
  absl::Status ValidateLabels(const Labels& labels) const;

  // The batch and its WAL encoding. Reused across batches, and handed from one
  // appender to the next on the same thread (a remote-write request makes an
  // appender each), so steady ingestion does not regrow them from empty.
  struct Buffers {
    std::vector<Pending> pending;
    std::vector<wal::SeriesRecord> series_recs;
    std::vector<wal::SampleRecord> sample_recs;
    std::vector<std::string> records;
  };

  static Buffers* ThreadCache();

  Head* const head_;
  storage::CommitDurability durability_;
  Buffers b_;
};

}  // namespace cairn::head

#endif  // CAIRN_TSDB_HEAD_HEAD_APPENDER_H_
