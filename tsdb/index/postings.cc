#include "tsdb/index/postings.h"

#include <algorithm>
#include <queue>
#include <utility>

#include "tsdb/util/coding.h"

namespace cairn::index {
namespace {

class EmptyPostingsImpl final : public Postings {
 public:
  bool Next() override { return false; }
  bool Seek(uint64_t) override { return false; }
  uint64_t At() const override { return 0; }
};

// Iterates [begin, end) of a sorted vector; Seek uses a galloping-free binary search
// on the remaining suffix, which is what intersections of a short list with a long
// one need.
class VectorPostings : public Postings {
 public:
  explicit VectorPostings(const std::vector<uint64_t>* refs) : refs_(refs) {}
  bool Next() override {
    if (pos_ + 1 >= static_cast<int64_t>(refs_->size())) {
      pos_ = refs_->size();
      return false;
    }
    ++pos_;
    return true;
  }
  bool Seek(uint64_t v) override {
    if (pos_ >= static_cast<int64_t>(refs_->size())) return false;
    if (pos_ >= 0 && (*refs_)[pos_] >= v) return true;
    auto begin = refs_->begin() + std::max<int64_t>(pos_, 0);
    pos_ = std::lower_bound(begin, refs_->end(), v) - refs_->begin();
    return pos_ < static_cast<int64_t>(refs_->size());
  }
  uint64_t At() const override { return (*refs_)[pos_]; }

 private:
  const std::vector<uint64_t>* refs_;
  int64_t pos_ = -1;
};

class OwnedVectorPostings final : public Postings {
 public:
  explicit OwnedVectorPostings(std::vector<uint64_t> refs) : refs_(std::move(refs)), it_(&refs_) {}
  bool Next() override { return it_.Next(); }
  bool Seek(uint64_t v) override { return it_.Seek(v); }
  uint64_t At() const override { return it_.At(); }

 private:
  std::vector<uint64_t> refs_;
  VectorPostings it_;
};

class BigEndian32PostingsImpl final : public Postings {
 public:
  explicit BigEndian32PostingsImpl(std::string_view data)
      : data_(data), n_(static_cast<int64_t>(data.size() / 4)) {}
  bool Next() override {
    if (pos_ + 1 >= n_) {
      pos_ = n_;
      return false;
    }
    ++pos_;
    return true;
  }
  bool Seek(uint64_t v) override {
    if (pos_ >= n_) return false;
    if (pos_ >= 0 && Get(pos_) >= v) return true;
    int64_t lo = std::max<int64_t>(pos_, 0), hi = n_;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (Get(mid) < v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    pos_ = lo;
    return pos_ < n_;
  }
  uint64_t At() const override { return Get(pos_); }

 private:
  uint64_t Get(int64_t i) const { return DecodeBigEndian32(data_.data() + 4 * i); }
  std::string_view data_;
  int64_t n_;
  int64_t pos_ = -1;
};

absl::Status FirstError(const std::vector<std::unique_ptr<Postings>>& its) {
  for (const auto& p : its) {
    absl::Status s = p->status();
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// Leapfrog intersection: every iterator is sought to the largest current element
// until all agree.
class IntersectPostings final : public Postings {
 public:
  explicit IntersectPostings(std::vector<std::unique_ptr<Postings>> its) : its_(std::move(its)) {}
  bool Next() override {
    if (done_) return false;
    if (!its_[0]->Next()) return Finish();
    return Align(its_[0]->At());
  }
  bool Seek(uint64_t v) override {
    if (done_) return false;
    if (started_ && cur_ >= v) return true;
    if (!its_[0]->Seek(v)) return Finish();
    return Align(its_[0]->At());
  }
  uint64_t At() const override { return cur_; }
  absl::Status status() const override { return FirstError(its_); }

 private:
  bool Finish() {
    done_ = true;
    return false;
  }
  bool Align(uint64_t target) {
    started_ = true;
    for (;;) {
      bool agreed = true;
      for (auto& it : its_) {
        if (!it->Seek(target)) return Finish();
        if (it->At() != target) {
          target = it->At();
          agreed = false;
          break;
        }
      }
      if (agreed) {
        cur_ = target;
        return true;
      }
    }
  }

  std::vector<std::unique_ptr<Postings>> its_;
  uint64_t cur_ = 0;
  bool started_ = false;
  bool done_ = false;
};

// K-way union through a min-heap of the iterators' current elements.
class MergePostings final : public Postings {
 public:
  explicit MergePostings(std::vector<std::unique_ptr<Postings>> its) : its_(std::move(its)) {}
  bool Next() override {
    if (!initialized_) {
      initialized_ = true;
      for (size_t i = 0; i < its_.size(); ++i) {
        if (its_[i]->Next()) heap_.push({its_[i]->At(), i});
      }
      return Pop();
    }
    return Pop();
  }
  bool Seek(uint64_t v) override {
    if (!initialized_) {
      initialized_ = true;
      for (size_t i = 0; i < its_.size(); ++i) {
        if (its_[i]->Seek(v)) heap_.push({its_[i]->At(), i});
      }
      return Pop();
    }
    if (!have_) return false;
    if (cur_ >= v) return true;
    // Iterators in the heap sit on their next unreturned element; move those behind v.
    std::vector<Entry> entries;
    while (!heap_.empty()) {
      entries.push_back(heap_.top());
      heap_.pop();
    }
    for (const auto& [value, i] : entries) {
      if (value >= v) {
        heap_.push({value, i});
      } else if (its_[i]->Seek(v)) {
        heap_.push({its_[i]->At(), i});
      }
    }
    return Pop();
  }
  uint64_t At() const override { return cur_; }
  absl::Status status() const override { return FirstError(its_); }

 private:
  bool Pop() {
    if (heap_.empty()) {
      have_ = false;
      return false;
    }
    cur_ = heap_.top().first;
    while (!heap_.empty() && heap_.top().first == cur_) {
      size_t i = heap_.top().second;
      heap_.pop();
      if (its_[i]->Next()) heap_.push({its_[i]->At(), i});
    }
    have_ = true;
    return true;
  }

  using Entry = std::pair<uint64_t, size_t>;
  std::vector<std::unique_ptr<Postings>> its_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  uint64_t cur_ = 0;
  bool initialized_ = false;
  bool have_ = false;
};

class WithoutPostings final : public Postings {
 public:
  WithoutPostings(std::unique_ptr<Postings> full, std::unique_ptr<Postings> drop)
      : full_(std::move(full)), drop_(std::move(drop)) {}
  bool Next() override {
    if (!full_->Next()) return false;
    return Skip();
  }
  bool Seek(uint64_t v) override {
    if (!full_->Seek(v)) return false;
    return Skip();
  }
  uint64_t At() const override { return full_->At(); }
  absl::Status status() const override {
    absl::Status s = full_->status();
    return s.ok() ? drop_->status() : s;
  }

 private:
  // Advances full_ past elements present in drop_.
  bool Skip() {
    for (;;) {
      uint64_t v = full_->At();
      if (drop_live_) {
        if (!drop_started_ || drop_->At() < v) {
          drop_started_ = true;
          drop_live_ = drop_->Seek(v);
        }
      }
      if (!drop_live_ || drop_->At() != v) return true;
      if (!full_->Next()) return false;
    }
  }

  std::unique_ptr<Postings> full_;
  std::unique_ptr<Postings> drop_;
  bool drop_started_ = false;
  bool drop_live_ = true;
};

}  // namespace

std::unique_ptr<Postings> EmptyPostings() { return std::make_unique<EmptyPostingsImpl>(); }

std::unique_ptr<Postings> ListPostings(const std::vector<uint64_t>* refs) {
  return std::make_unique<VectorPostings>(refs);
}

std::unique_ptr<Postings> OwnedListPostings(std::vector<uint64_t> refs) {
  return std::make_unique<OwnedVectorPostings>(std::move(refs));
}

std::unique_ptr<Postings> BigEndian32Postings(std::string_view data) {
  return std::make_unique<BigEndian32PostingsImpl>(data);
}

std::unique_ptr<Postings> Intersect(std::vector<std::unique_ptr<Postings>> its) {
  if (its.empty()) return EmptyPostings();
  if (its.size() == 1) return std::move(its[0]);
  return std::make_unique<IntersectPostings>(std::move(its));
}

std::unique_ptr<Postings> Merge(std::vector<std::unique_ptr<Postings>> its) {
  if (its.empty()) return EmptyPostings();
  if (its.size() == 1) return std::move(its[0]);
  return std::make_unique<MergePostings>(std::move(its));
}

std::unique_ptr<Postings> Without(std::unique_ptr<Postings> full, std::unique_ptr<Postings> drop) {
  return std::make_unique<WithoutPostings>(std::move(full), std::move(drop));
}

absl::StatusOr<std::vector<uint64_t>> ExpandPostings(Postings* p) {
  std::vector<uint64_t> out;
  while (p->Next()) out.push_back(p->At());
  absl::Status s = p->status();
  if (!s.ok()) return s;
  return out;
}

}  // namespace cairn::index
