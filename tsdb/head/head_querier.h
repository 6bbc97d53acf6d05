// HeadQuerier: a storage::Querier over a Head for a fixed [mint, maxt].
//
// Select() resolves matchers through the head's postings, then, under each series'
// lock, collects the chunks overlapping the range: closed chunks in the arena by
// reference (immutable; the result pins the arena's files so truncation cannot unmap
// them), a copy of the open chunk and of chunks kept on the heap. All of one result's
// copies and chunk lists share one allocation-light SelectData, so iteration takes no
// locks and is unaffected by later appends or truncation. Series come sorted by labels
// (storage::LabelsSortOrder).
// Thread-safety: concurrent Select/LabelNames/LabelValues calls are safe.
#ifndef CAIRN_TSDB_HEAD_HEAD_QUERIER_H_
#define CAIRN_TSDB_HEAD_HEAD_QUERIER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tsdb/head/head.h"
#include "tsdb/storage/querier.h"

namespace cairn::head {

class HeadQuerier final : public storage::Querier {
 public:
  HeadQuerier(Head* head, int64_t mint, int64_t maxt) : head_(head), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<storage::SeriesSet> Select(int64_t mint, int64_t maxt,
                                             const std::vector<Matcher>& matchers) const override;
  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<Matcher>& matchers) const override;
  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, const std::vector<Matcher>& matchers) const override;

 private:
  // Series matching all matchers (an error unless one of them does not match "").
  // The pointers are valid while the caller holds head_->reclaim_mu_ (shared).
  absl::StatusOr<std::vector<MemSeries*>> MatchingSeries(const std::vector<Matcher>& matchers) const
      ABSL_SHARED_LOCKS_REQUIRED(head_->reclaim_mu_);

  Head* const head_;
  const int64_t mint_;
  const int64_t maxt_;
};

}  // namespace cairn::head

#endif  // CAIRN_TSDB_HEAD_HEAD_QUERIER_H_
