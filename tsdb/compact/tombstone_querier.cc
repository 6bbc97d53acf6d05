#include "tsdb/compact/tombstone_querier.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tsdb/util/status_macros.h"

namespace cairn::compact {
namespace {

// Yields the series of `base` with deleted samples hidden, skipping tombstoned series
// with nothing left. Only tombstoned series are probed (one iterator each); the rest
// pass through untouched.
class TombstonedSeriesSet final : public storage::SeriesSet {
 public:
  TombstonedSeriesSet(std::unique_ptr<storage::SeriesSet> base,
                      std::shared_ptr<const DeletedByLabels> deleted)
      : base_(std::move(base)), deleted_(std::move(deleted)) {}

  bool Next() override {
    while (base_->Next()) {
      const storage::Series& s = base_->At();
      auto it = deleted_->find(s.labels());
      if (it == deleted_->end()) {
        series_.Reset(&s, nullptr);
        return true;
      }
      series_.Reset(&s, &it->second);
      std::unique_ptr<SampleIterator> probe = series_.Iterator(nullptr);
      if (probe->Next()) return true;
      if (!probe->status().ok()) {
        status_ = Annotate(probe->status(), absl::StrCat("series ", s.labels().ToString()));
        return false;
      }
    }
    return false;
  }
  const storage::Series& At() const override { return series_; }
  absl::Status status() const override {
    if (!status_.ok()) return status_;
    return base_->status();
  }

 private:
  std::unique_ptr<storage::SeriesSet> base_;
  std::shared_ptr<const DeletedByLabels> deleted_;
  DeletedSeries series_;
  absl::Status status_;
};

class TombstoneQuerier final : public storage::Querier {
 public:
  TombstoneQuerier(std::unique_ptr<storage::Querier> base,
                   std::shared_ptr<const DeletedByLabels> deleted)
      : base_(std::move(base)), deleted_(std::move(deleted)) {}

  std::unique_ptr<storage::SeriesSet> Select(int64_t mint, int64_t maxt,
                                             const std::vector<Matcher>& matchers) const override {
    return std::make_unique<TombstonedSeriesSet>(base_->Select(mint, maxt, matchers), deleted_);
  }
  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<Matcher>& matchers) const override {
    return base_->LabelNames(matchers);
  }
  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, const std::vector<Matcher>& matchers) const override {
    return base_->LabelValues(name, matchers);
  }

 private:
  std::unique_ptr<storage::Querier> base_;
  // Shared by the series sets, which may outlive this querier's Select() call.
  std::shared_ptr<const DeletedByLabels> deleted_;
};

}  // namespace

absl::StatusOr<DeletedByLabels> ResolveTombstones(const block::Block& block,
                                                  const TombstoneSet& tombstones, int64_t mint_ms,
                                                  int64_t maxt_ms) {
  DeletedByLabels out;
  Labels labels;
  std::vector<index::ChunkMeta> chunks;
  for (const auto& [ref, intervals] : tombstones.entries()) {
    const bool overlaps = std::any_of(intervals.begin(), intervals.end(), [&](const Interval& iv) {
      return iv.mint_ms <= maxt_ms && iv.maxt_ms >= mint_ms;
    });
    if (!overlaps) continue;
    absl::Status s = block.index().Series(ref, &labels, &chunks);
    if (!s.ok()) {
      return Annotate(s, absl::StrCat("block ", block.meta().ulid, ": tombstone for series ", ref));
    }
    out.emplace(labels, intervals);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<storage::Querier>> NewTombstoneQuerier(
    std::shared_ptr<const block::Block> block, const TombstoneSet& tombstones, int64_t mint_ms,
    int64_t maxt_ms) {
  std::unique_ptr<storage::Querier> base = block->NewQuerier(mint_ms, maxt_ms);
  if (tombstones.empty()) return base;
  CAIRN_ASSIGN_OR_RETURN(DeletedByLabels deleted,
                         ResolveTombstones(*block, tombstones, mint_ms, maxt_ms));
  if (deleted.empty()) return base;
  return std::unique_ptr<storage::Querier>(std::make_unique<TombstoneQuerier>(
      std::move(base), std::make_shared<const DeletedByLabels>(std::move(deleted))));
}

}  // namespace cairn::compact
