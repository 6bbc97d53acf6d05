// Test helpers: series and series sets backed by plain vectors of samples.
#ifndef CAIRN_TESTS_TSDB_STORAGE_LIST_SERIES_H_
#define CAIRN_TESTS_TSDB_STORAGE_LIST_SERIES_H_

#include <memory>
#include <vector>

#include "tsdb/model/sample.h"
#include "tsdb/storage/series.h"

namespace cairn::storage::testing {

class ListSampleIterator final : public SampleIterator {
 public:
  explicit ListSampleIterator(const std::vector<Sample>* samples) : samples_(samples) {}
  bool Next() override { return ++i_ < samples_->size(); }
  bool Seek(int64_t t) override {
    if (i_ == static_cast<size_t>(-1)) i_ = 0;
    while (i_ < samples_->size() && (*samples_)[i_].t < t) ++i_;
    return i_ < samples_->size();
  }
  int64_t t() const override { return (*samples_)[i_].t; }
  double v() const override { return (*samples_)[i_].v; }

 private:
  const std::vector<Sample>* samples_;
  size_t i_ = static_cast<size_t>(-1);
};

struct ListSeries final : public Series {
  ListSeries(Labels l, std::vector<Sample> s) : ls(std::move(l)), samples(std::move(s)) {}
  const Labels& labels() const override { return ls; }
  std::unique_ptr<SampleIterator> Iterator(std::unique_ptr<SampleIterator>) const override {
    return std::make_unique<ListSampleIterator>(&samples);
  }
  Labels ls;
  std::vector<Sample> samples;
};

// REQUIRES: series sorted by labels.
class ListSeriesSet final : public SeriesSet {
 public:
  explicit ListSeriesSet(std::vector<ListSeries> series) : series_(std::move(series)) {}
  bool Next() override { return ++i_ < series_.size(); }
  const Series& At() const override { return series_[i_]; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  std::vector<ListSeries> series_;
  size_t i_ = static_cast<size_t>(-1);
};

inline std::vector<Sample> Drain(SampleIterator* it) {
  std::vector<Sample> out;
  while (it->Next()) out.push_back({it->t(), it->v()});
  return out;
}

}  // namespace cairn::storage::testing

#endif  // CAIRN_TESTS_TSDB_STORAGE_LIST_SERIES_H_
