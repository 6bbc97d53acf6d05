#include "tsdb/compact/deleted_series_set.h"

#include <utility>

namespace cairn::compact {

std::unique_ptr<SampleIterator> DeletedSeries::Iterator(
    std::unique_ptr<SampleIterator> reuse) const {
  if (deleted_ == nullptr) return base_->Iterator(std::move(reuse));
  // A reused iterator may be one of our wrappers, which the base cannot recycle: it is
  // dropped.
  return WithoutDeleted(base_->Iterator(), *deleted_);
}

namespace {

class DeletedSeriesSet final : public storage::SeriesSet {
 public:
  DeletedSeriesSet(std::unique_ptr<storage::SeriesSet> base, DeletedByLabels deleted)
      : base_(std::move(base)), deleted_(std::move(deleted)) {}

  bool Next() override {
    if (!base_->Next()) return false;
    const storage::Series& s = base_->At();
    auto it = deleted_.find(s.labels());
    current_.Reset(&s, it == deleted_.end() ? nullptr : &it->second);
    return true;
  }
  const storage::Series& At() const override { return current_; }
  absl::Status status() const override { return base_->status(); }

 private:
  std::unique_ptr<storage::SeriesSet> base_;
  DeletedByLabels deleted_;
  DeletedSeries current_;
};

}  // namespace

std::unique_ptr<storage::SeriesSet> WithoutDeletedSeries(std::unique_ptr<storage::SeriesSet> base,
                                                         DeletedByLabels deleted) {
  if (deleted.empty()) return base;
  return std::make_unique<DeletedSeriesSet>(std::move(base), std::move(deleted));
}

}  // namespace cairn::compact
