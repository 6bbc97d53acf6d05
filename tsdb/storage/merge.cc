#include "tsdb/storage/merge.h"

#include <algorithm>

#include "tsdb/util/status_macros.h"

namespace cairn::storage {
namespace {

class MergedSampleIterator final : public SampleIterator {
 public:
  explicit MergedSampleIterator(std::vector<std::unique_ptr<SampleIterator>> its)
      : its_(std::move(its)), state_(its_.size(), State::kUnstarted) {}

  // Starts over on `its`, keeping this object and its buffers.
  void Reset(std::vector<std::unique_ptr<SampleIterator>> its) {
    its_ = std::move(its);
    state_.assign(its_.size(), State::kUnstarted);
    has_current_ = false;
  }
  // Hands back the iterators merged (for their owners to recycle); leaves none.
  std::vector<std::unique_ptr<SampleIterator>> TakeIterators() {
    std::vector<std::unique_ptr<SampleIterator>> out = std::move(its_);
    its_.clear();
    state_.clear();
    has_current_ = false;
    return out;
  }

  bool Next() override {
    for (size_t i = 0; i < its_.size(); ++i) {
      // Advance the unstarted ones and every one sitting on the current timestamp,
      // which drops duplicates of the sample just returned.
      if (state_[i] == State::kUnstarted ||
          (state_[i] == State::kValid && has_current_ && its_[i]->t() == t_)) {
        state_[i] = its_[i]->Next() ? State::kValid : State::kDone;
      }
    }
    return Pick();
  }

  bool Seek(int64_t t) override {
    if (has_current_ && t_ >= t) return true;
    for (size_t i = 0; i < its_.size(); ++i) {
      if (state_[i] != State::kDone) state_[i] = its_[i]->Seek(t) ? State::kValid : State::kDone;
    }
    return Pick();
  }

  // Merges sample by sample while several sources have samples left; once only one
  // has (typically the head, after the blocks before it ran out), hands out its
  // batches directly.
  size_t NextBatch(Sample* out, size_t max) override {
    size_t n = 0;
    while (n < max) {
      int live = -1, count = 0;
      for (size_t i = 0; i < its_.size(); ++i) {
        if (state_[i] != State::kDone) {
          ++count;
          live = static_cast<int>(i);
        }
      }
      if (count == 1 && state_[live] == State::kValid) {
        SampleIterator* it = its_[live].get();
        // It sits on the sample just returned, or on one not returned yet.
        if (!has_current_ || it->t() != t_) out[n++] = Sample{it->t(), it->v()};
        const size_t want = max - n;
        const size_t k = want > 0 ? it->NextBatch(out + n, want) : 0;
        n += k;
        if (k < want) state_[live] = State::kDone;
        if (n > 0) {
          has_current_ = true;
          t_ = out[n - 1].t;
          v_ = out[n - 1].v;
        }
        if (k < want) break;
        continue;
      }
      if (!Next()) break;
      out[n++] = Sample{t_, v_};
    }
    return n;
  }

  int64_t t() const override { return t_; }
  double v() const override { return v_; }
  absl::Status status() const override {
    for (const auto& it : its_) {
      if (absl::Status s = it->status(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  enum class State : uint8_t { kUnstarted, kValid, kDone };

  bool Pick() {
    int best = -1;
    for (size_t i = 0; i < its_.size(); ++i) {
      if (state_[i] != State::kValid) continue;
      if (best < 0 || its_[i]->t() < its_[best]->t()) best = static_cast<int>(i);
    }
    has_current_ = best >= 0;
    if (!has_current_) return false;
    t_ = its_[best]->t();
    v_ = its_[best]->v();
    return true;
  }

  std::vector<std::unique_ptr<SampleIterator>> its_;
  std::vector<State> state_;
  bool has_current_ = false;
  int64_t t_ = 0;
  double v_ = 0;
};

// A series assembled from the same-labelled series of several sets.
class MergedSeries final : public Series {
 public:
  const Labels& labels() const override { return labels_; }
  // Passes `reuse` on to the parts, so their iterators are recycled as the caller
  // intends (a head or block iterator per part; a merged one around several).
  std::unique_ptr<SampleIterator> Iterator(std::unique_ptr<SampleIterator> reuse) const override {
    auto* merged = dynamic_cast<MergedSampleIterator*>(reuse.get());
    if (parts_.size() == 1) {
      if (merged == nullptr) return parts_[0]->Iterator(std::move(reuse));
      std::vector<std::unique_ptr<SampleIterator>> old = merged->TakeIterators();
      return parts_[0]->Iterator(old.empty() ? nullptr : std::move(old[0]));
    }
    std::vector<std::unique_ptr<SampleIterator>> old;
    if (merged != nullptr) {
      old = merged->TakeIterators();
    } else if (reuse != nullptr) {
      old.push_back(std::move(reuse));  // a part's iterator from a one-part series
    }
    std::vector<std::unique_ptr<SampleIterator>> its;
    its.reserve(parts_.size());
    for (size_t i = 0; i < parts_.size(); ++i) {
      its.push_back(parts_[i]->Iterator(i < old.size() ? std::move(old[i]) : nullptr));
    }
    if (merged != nullptr) {
      merged->Reset(std::move(its));
      return reuse;
    }
    return MergeSampleIterators(std::move(its));
  }

  Labels labels_;
  std::vector<const Series*> parts_;  // owned by the sets; valid until their Next()
};

class MergedSeriesSet final : public SeriesSet {
 public:
  explicit MergedSeriesSet(std::vector<std::unique_ptr<SeriesSet>> sets)
      : sets_(std::move(sets)), has_(sets_.size(), false) {}

  bool Next() override {
    if (!started_) {
      started_ = true;
      for (size_t i = 0; i < sets_.size(); ++i) has_[i] = sets_[i]->Next();
    } else {
      for (size_t i : current_) has_[i] = sets_[i]->Next();
    }
    current_.clear();
    const Labels* min = nullptr;
    for (size_t i = 0; i < sets_.size(); ++i) {
      if (!has_[i]) continue;
      const Labels& ls = sets_[i]->At().labels();
      int c = min == nullptr ? -1 : Labels::Compare(ls, *min);
      if (c < 0) {
        min = &ls;
        current_.clear();
      }
      if (c <= 0) current_.push_back(i);
    }
    if (current_.empty()) return false;
    series_.labels_ = *min;
    series_.parts_.clear();
    for (size_t i : current_) series_.parts_.push_back(&sets_[i]->At());
    return true;
  }

  const Series& At() const override { return series_; }

  absl::Status status() const override {
    for (const auto& s : sets_) {
      if (absl::Status st = s->status(); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<SeriesSet>> sets_;
  std::vector<bool> has_;
  std::vector<size_t> current_;
  bool started_ = false;
  MergedSeries series_;
};

std::vector<std::string> SortedUnion(std::vector<std::vector<std::string>> lists) {
  std::vector<std::string> out;
  for (auto& l : lists) {
    std::vector<std::string> merged;
    merged.reserve(out.size() + l.size());
    std::set_union(std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()),
                   std::make_move_iterator(l.begin()), std::make_move_iterator(l.end()),
                   std::back_inserter(merged));
    out = std::move(merged);
  }
  return out;
}

class MergedQuerier final : public Querier {
 public:
  explicit MergedQuerier(std::vector<std::unique_ptr<Querier>> qs) : qs_(std::move(qs)) {}

  std::unique_ptr<SeriesSet> Select(int64_t mint, int64_t maxt,
                                    const std::vector<Matcher>& matchers) const override {
    std::vector<std::unique_ptr<SeriesSet>> sets;
    sets.reserve(qs_.size());
    for (const auto& q : qs_) sets.push_back(q->Select(mint, maxt, matchers));
    if (sets.size() == 1) return std::move(sets[0]);
    return MergeSeriesSets(std::move(sets));
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<Matcher>& matchers) const override {
    std::vector<std::vector<std::string>> lists;
    for (const auto& q : qs_) {
      CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> l, q->LabelNames(matchers));
      lists.push_back(std::move(l));
    }
    return SortedUnion(std::move(lists));
  }

  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, const std::vector<Matcher>& matchers) const override {
    std::vector<std::vector<std::string>> lists;
    for (const auto& q : qs_) {
      CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> l, q->LabelValues(name, matchers));
      lists.push_back(std::move(l));
    }
    return SortedUnion(std::move(lists));
  }

 private:
  std::vector<std::unique_ptr<Querier>> qs_;
};

}  // namespace

std::unique_ptr<SeriesSet> MergeSeriesSets(std::vector<std::unique_ptr<SeriesSet>> sets) {
  return std::make_unique<MergedSeriesSet>(std::move(sets));
}

std::unique_ptr<SampleIterator> MergeSampleIterators(
    std::vector<std::unique_ptr<SampleIterator>> its) {
  if (its.size() == 1) return std::move(its[0]);
  return std::make_unique<MergedSampleIterator>(std::move(its));
}

std::unique_ptr<Querier> MergeQueriers(std::vector<std::unique_ptr<Querier>> queriers) {
  return std::make_unique<MergedQuerier>(std::move(queriers));
}

}  // namespace cairn::storage
