// Test helper: an in-memory storage::Queryable — series kept in a sorted map, samples
// in plain vectors — for running the PromQL engine without a DB.
//
// Not thread-safe for writes; Add() must not race with queries.
#ifndef CAIRN_TESTS_TSDB_PROMQL_MEMORY_STORAGE_H_
#define CAIRN_TESTS_TSDB_PROMQL_MEMORY_STORAGE_H_

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tsdb/model/labels.h"
#include "tsdb/model/matcher.h"
#include "tsdb/model/sample.h"
#include "tsdb/storage/querier.h"

namespace cairn::promql::testing {

class MemoryStorage final : public storage::Queryable {
 public:
  // Adds a sample, replacing one at the same timestamp.
  void Add(const Labels& labels, int64_t t, double v) {
    std::vector<Sample>& s = series_[labels];
    if (s.empty() || s.back().t < t) {
      s.push_back({t, v});
      return;
    }
    auto it = std::lower_bound(s.begin(), s.end(), t,
                               [](const Sample& a, int64_t ts) { return a.t < ts; });
    if (it != s.end() && it->t == t) {
      it->v = v;
    } else {
      s.insert(it, {t, v});
    }
  }
  void Clear() { series_.clear(); }
  size_t num_series() const { return series_.size(); }

  absl::StatusOr<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint,
                                                               int64_t maxt) override {
    ++queriers_opened_;
    last_mint_ = mint;
    last_maxt_ = maxt;
    return std::unique_ptr<storage::Querier>(new MemQuerier(this, mint, maxt));
  }

  int queriers_opened() const { return queriers_opened_; }
  int64_t last_mint() const { return last_mint_; }
  int64_t last_maxt() const { return last_maxt_; }

 private:
  class VecIterator final : public SampleIterator {
   public:
    explicit VecIterator(std::vector<Sample> s) : s_(std::move(s)) {}
    bool Next() override { return ++i_ < s_.size(); }
    bool Seek(int64_t t) override {
      if (i_ == static_cast<size_t>(-1)) i_ = 0;
      while (i_ < s_.size() && s_[i_].t < t) ++i_;
      return i_ < s_.size();
    }
    int64_t t() const override { return s_[i_].t; }
    double v() const override { return s_[i_].v; }

   private:
    std::vector<Sample> s_;
    size_t i_ = static_cast<size_t>(-1);
  };

  struct VecSeries final : public storage::Series {
    Labels ls;
    std::vector<Sample> samples;
    const Labels& labels() const override { return ls; }
    std::unique_ptr<SampleIterator> Iterator(std::unique_ptr<SampleIterator>) const override {
      return std::make_unique<VecIterator>(samples);
    }
  };

  class VecSet final : public storage::SeriesSet {
   public:
    explicit VecSet(std::vector<VecSeries> s) : s_(std::move(s)) {}
    bool Next() override { return ++i_ < s_.size(); }
    const storage::Series& At() const override { return s_[i_]; }
    absl::Status status() const override { return absl::OkStatus(); }

   private:
    std::vector<VecSeries> s_;
    size_t i_ = static_cast<size_t>(-1);
  };

  class MemQuerier final : public storage::Querier {
   public:
    MemQuerier(const MemoryStorage* st, int64_t mint, int64_t maxt)
        : st_(st), mint_(mint), maxt_(maxt) {}
    std::unique_ptr<storage::SeriesSet> Select(
        int64_t mint, int64_t maxt, const std::vector<Matcher>& matchers) const override {
      mint = std::max(mint, mint_);
      maxt = std::min(maxt, maxt_);
      std::vector<VecSeries> out;
      for (const auto& [ls, samples] : st_->series_) {
        if (!MatchesAll(matchers, ls)) continue;
        VecSeries s;
        s.ls = ls;
        for (const Sample& x : samples) {
          if (x.t >= mint && x.t <= maxt) s.samples.push_back(x);
        }
        if (!s.samples.empty()) out.push_back(std::move(s));
      }
      return std::make_unique<VecSet>(std::move(out));
    }
    absl::StatusOr<std::vector<std::string>> LabelNames(
        const std::vector<Matcher>& matchers) const override {
      std::set<std::string> names;
      for (const auto& [ls, samples] : st_->series_) {
        if (!MatchesAll(matchers, ls)) continue;
        for (const Label& l : ls) names.emplace(l.name);
      }
      return std::vector<std::string>(names.begin(), names.end());
    }
    absl::StatusOr<std::vector<std::string>> LabelValues(
        std::string_view name, const std::vector<Matcher>& matchers) const override {
      std::set<std::string> values;
      for (const auto& [ls, samples] : st_->series_) {
        if (!MatchesAll(matchers, ls) || !ls.Has(name)) continue;
        values.emplace(ls.Get(name));
      }
      return std::vector<std::string>(values.begin(), values.end());
    }

   private:
    const MemoryStorage* st_;
    int64_t mint_, maxt_;
  };

  std::map<Labels, std::vector<Sample>> series_;
  int queriers_opened_ = 0;
  int64_t last_mint_ = 0, last_maxt_ = 0;
};

}  // namespace cairn::promql::testing

#endif  // CAIRN_TESTS_TSDB_PROMQL_MEMORY_STORAGE_H_
