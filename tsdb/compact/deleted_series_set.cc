#include "tsdb/compact/deleted_series_set.h"

#include <utility>

namespace cairn::compact {
namespace {

class DeletedSeries final : public storage::Series {
 public:
  void Reset(const storage::Series* base, const Intervals* deleted) {
    base_ = base;
    deleted_ = deleted;
  }
  const Labels& labels() const override { return base_->labels(); }
  std::unique_ptr<SampleIterator> Iterator(std::unique_ptr<SampleIterator> reuse) const override {
    // The reused iterator may be one of our wrappers; the base cannot recycle it, so
    // it is simply dropped.
    return WithoutDeleted(base_->Iterator(), *deleted_);
  }

 private:
  const storage::Series* base_ = nullptr;
  const Intervals* deleted_ = nullptr;
};

class DeletedSeriesSet final : public storage::SeriesSet {
 public:
  DeletedSeriesSet(std::unique_ptr<storage::SeriesSet> base, DeletedByLabels deleted)
      : base_(std::move(base)), deleted_(std::move(deleted)) {}

  bool Next() override {
    if (!base_->Next()) return false;
    const storage::Series& s = base_->At();
    auto it = deleted_.find(s.labels());
    current_.Reset(&s, it == deleted_.end() ? &kNone : &it->second);
    return true;
  }
  const storage::Series& At() const override { return current_; }
  absl::Status status() const override { return base_->status(); }

 private:
  static inline const Intervals kNone{};
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
