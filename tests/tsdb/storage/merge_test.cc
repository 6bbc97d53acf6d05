#include "tsdb/storage/merge.h"

#include <algorithm>
#include <random>

#include "gtest/gtest.h"
#include "tests/tsdb/storage/list_series.h"
#include "tsdb/storage/append_error.h"

namespace cairn::storage {
namespace {

using testing::Drain;
using testing::ListSeries;
using testing::ListSeriesSet;

std::unique_ptr<SampleIterator> It(const std::vector<Sample>* s) {
  return std::make_unique<testing::ListSampleIterator>(s);
}

TEST(MergeTest, SampleIteratorsInterleaveAndDropDuplicates) {
  std::vector<Sample> a = {{1, 1}, {3, 3}, {5, 5}};
  std::vector<Sample> b = {{2, 20}, {3, 30}, {6, 60}};
  std::vector<std::unique_ptr<SampleIterator>> its;
  its.push_back(It(&a));
  its.push_back(It(&b));
  auto merged = MergeSampleIterators(std::move(its));
  std::vector<Sample> want = {{1, 1}, {2, 20}, {3, 3}, {5, 5}, {6, 60}};
  EXPECT_EQ(Drain(merged.get()), want);
}

// NextBatch over merged sources (overlapping, adjacent as block then head, with
// duplicate timestamps), also after a Next() or two, gives what Next() gives.
TEST(MergeTest, NextBatchAgreesWithNext) {
  std::mt19937_64 rng(5);
  for (int iter = 0; iter < 500; ++iter) {
    std::vector<std::vector<Sample>> parts(2 + rng() % 3);
    int64_t base = 0;
    for (auto& p : parts) {
      const bool adjacent = rng() % 2 == 0;
      int64_t t = adjacent ? base : static_cast<int64_t>(rng() % 20);
      const int n = static_cast<int>(rng() % 40);
      for (int i = 0; i < n; ++i) {
        t += 1 + static_cast<int64_t>(rng() % 3);
        p.push_back({t, static_cast<double>(rng() % 100)});
      }
      base = std::max(base, t);
    }
    auto merged = [&] {
      std::vector<std::unique_ptr<SampleIterator>> its;
      for (const auto& p : parts) its.push_back(It(&p));
      return MergeSampleIterators(std::move(its));
    };
    const std::vector<Sample> want = Drain(merged().get());
    const size_t skip = rng() % 3;  // Next() calls before the batches
    for (size_t batch : {1, 3, 16, 1000}) {
      auto m = merged();
      std::vector<Sample> got, buf(batch);
      for (size_t i = 0; i < skip && m->Next(); ++i) got.push_back({m->t(), m->v()});
      if (got.size() == skip) {
        size_t k;
        do {
          k = m->NextBatch(buf.data(), batch);
          got.insert(got.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(k));
          if (k == batch) {
            ASSERT_EQ(m->t(), buf[k - 1].t);
          }
        } while (k == batch);
      }
      ASSERT_EQ(got, want) << "iteration " << iter << " batch " << batch;
    }
  }
}

TEST(MergeTest, SeekThenNext) {
  std::vector<Sample> a = {{1, 1}, {4, 4}, {9, 9}};
  std::vector<Sample> b = {{2, 2}, {5, 5}};
  std::vector<std::unique_ptr<SampleIterator>> its;
  its.push_back(It(&a));
  its.push_back(It(&b));
  auto m = MergeSampleIterators(std::move(its));
  ASSERT_TRUE(m->Seek(3));
  EXPECT_EQ(m->t(), 4);
  ASSERT_TRUE(m->Seek(2));  // never backwards
  EXPECT_EQ(m->t(), 4);
  ASSERT_TRUE(m->Next());
  EXPECT_EQ(m->t(), 5);
  ASSERT_TRUE(m->Next());
  EXPECT_EQ(m->t(), 9);
  EXPECT_FALSE(m->Next());
  EXPECT_FALSE(m->Seek(100));
}

TEST(MergeTest, SeriesSetsMergeSortedAndCombineEqualLabels) {
  std::vector<ListSeries> s1, s2;
  s1.emplace_back(Labels{{"a", "1"}}, std::vector<Sample>{{1, 1}});
  s1.emplace_back(Labels{{"a", "3"}}, std::vector<Sample>{{1, 3}});
  s2.emplace_back(Labels{{"a", "2"}}, std::vector<Sample>{{1, 2}});
  s2.emplace_back(Labels{{"a", "3"}}, std::vector<Sample>{{2, 33}});
  std::vector<std::unique_ptr<SeriesSet>> sets;
  sets.push_back(std::make_unique<ListSeriesSet>(std::move(s1)));
  sets.push_back(std::make_unique<ListSeriesSet>(std::move(s2)));
  auto m = MergeSeriesSets(std::move(sets));
  std::vector<std::string> names;
  std::vector<std::vector<Sample>> samples;
  while (m->Next()) {
    names.push_back(m->At().labels().ToString());
    auto it = m->At().Iterator();
    samples.push_back(Drain(it.get()));
  }
  ASSERT_TRUE(m->status().ok());
  EXPECT_EQ(names, (std::vector<std::string>{"{a=\"1\"}", "{a=\"2\"}", "{a=\"3\"}"}));
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[2], (std::vector<Sample>{{1, 3}, {2, 33}}));
}

// A series whose iterators count how often they were recycled through `reuse`.
struct RecyclingSeries final : public Series {
  RecyclingSeries(Labels l, std::vector<Sample> s, int* recycled)
      : ls(std::move(l)), samples(std::move(s)), recycled(recycled) {}
  const Labels& labels() const override { return ls; }
  std::unique_ptr<SampleIterator> Iterator(std::unique_ptr<SampleIterator> reuse) const override {
    if (dynamic_cast<testing::ListSampleIterator*>(reuse.get()) != nullptr) ++*recycled;
    return std::make_unique<testing::ListSampleIterator>(&samples);
  }
  Labels ls;
  std::vector<Sample> samples;
  int* recycled;
};

class RecyclingSet final : public SeriesSet {
 public:
  explicit RecyclingSet(std::vector<RecyclingSeries> s) : series_(std::move(s)) {}
  bool Next() override { return ++i_ < series_.size(); }
  const Series& At() const override { return series_[i_]; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  std::vector<RecyclingSeries> series_;
  size_t i_ = static_cast<size_t>(-1);
};

// The evaluator hands each series the previous one's iterator; merged series pass
// it (or the iterators inside a merged one) on to their parts, and still yield the
// right samples whether a series has one part or several.
TEST(MergeTest, IteratorReusePassesThroughToParts) {
  int recycled = 0;
  Labels a{{"s", "a"}}, b{{"s", "b"}}, c{{"s", "c"}}, d{{"s", "d"}};
  std::vector<RecyclingSeries> s1, s2;
  s1.emplace_back(a, std::vector<Sample>{{1, 1}}, &recycled);
  s1.emplace_back(b, std::vector<Sample>{{1, 10}, {3, 30}}, &recycled);
  s2.emplace_back(b, std::vector<Sample>{{2, 20}, {3, 30}}, &recycled);
  s2.emplace_back(c, std::vector<Sample>{{5, 5}}, &recycled);
  s1.emplace_back(d, std::vector<Sample>{{7, 7}}, &recycled);
  std::vector<std::unique_ptr<SeriesSet>> sets;
  sets.push_back(std::make_unique<RecyclingSet>(std::move(s1)));
  sets.push_back(std::make_unique<RecyclingSet>(std::move(s2)));
  auto merged = MergeSeriesSets(std::move(sets));
  std::vector<std::vector<Sample>> got;
  std::unique_ptr<SampleIterator> it;
  while (merged->Next()) {
    it = merged->At().Iterator(std::move(it));
    got.push_back(Drain(it.get()));
  }
  std::vector<std::vector<Sample>> want = {
      {{1, 1}}, {{1, 10}, {2, 20}, {3, 30}}, {{5, 5}}, {{7, 7}}};
  EXPECT_EQ(got, want);
  // b (two parts) gets a's iterator for its first part; c gets one of b's; d gets c's.
  EXPECT_EQ(recycled, 3);
}

TEST(AppendErrorTest, ReasonSurvivesInStatus) {
  Labels ls = {{"__name__", "up"}};
  absl::Status s = RejectedSampleError(RejectReason::kDuplicate, ls, 42, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(GetRejectReason(s), RejectReason::kDuplicate);
  EXPECT_NE(s.message().find("up"), absl::string_view::npos);
  EXPECT_NE(s.message().find("42"), absl::string_view::npos);
  EXPECT_FALSE(GetRejectReason(absl::InternalError("x")).has_value());
}

}  // namespace
}  // namespace cairn::storage
