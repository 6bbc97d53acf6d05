#include "tsdb/head/head_querier.h"

#include <algorithm>
#include <set>

#include "tsdb/chunk/xor_chunk.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::head {
namespace {

// Iterates copied chunks in order, yielding samples within [mint, maxt].
class ChunksIterator final : public SampleIterator {
 public:
  ChunksIterator(std::shared_ptr<const std::vector<std::string>> chunks, int64_t mint, int64_t maxt)
      : chunks_(std::move(chunks)), mint_(mint), maxt_(maxt) {}

  bool Next() override {
    if (done_) return false;
    if (!started_) {
      started_ = true;
      return Seek(mint_);
    }
    return Advance();
  }

  bool Seek(int64_t t) override {
    if (done_) return false;
    if (started_ && valid_ && it_.t() >= t) return true;
    started_ = true;
    t = std::max(t, mint_);
    for (;;) {
      if (!valid_) {
        if (!OpenNext()) return false;
      }
      if (it_.Seek(t)) {
        if (it_.t() > maxt_) return Finish();
        valid_ = true;
        return true;
      }
      if (!it_.status().ok()) {
        status_ = it_.status();
        return Finish();
      }
      valid_ = false;
    }
  }

  int64_t t() const override { return it_.t(); }
  double v() const override { return it_.v(); }
  absl::Status status() const override { return status_; }

 private:
  bool Advance() {
    for (;;) {
      if (valid_ && it_.Next()) {
        if (it_.t() > maxt_) return Finish();
        return true;
      }
      if (valid_ && !it_.status().ok()) {
        status_ = it_.status();
        return Finish();
      }
      if (!OpenNext()) return false;
      valid_ = true;
      if (it_.Seek(mint_)) {
        if (it_.t() > maxt_) return Finish();
        return true;
      }
      valid_ = false;
    }
  }
  bool OpenNext() {
    if (next_chunk_ >= chunks_->size()) return Finish();
    it_.Reset((*chunks_)[next_chunk_++]);
    valid_ = true;
    return true;
  }
  bool Finish() {
    done_ = true;
    valid_ = false;
    return false;
  }

  std::shared_ptr<const std::vector<std::string>> chunks_;
  const int64_t mint_, maxt_;
  size_t next_chunk_ = 0;
  XorChunkIterator it_;
  bool started_ = false, valid_ = false, done_ = false;
  absl::Status status_;
};

class HeadSeries final : public storage::Series {
 public:
  HeadSeries(Labels labels, std::shared_ptr<const std::vector<std::string>> chunks, int64_t mint,
             int64_t maxt)
      : labels_(std::move(labels)), chunks_(std::move(chunks)), mint_(mint), maxt_(maxt) {}
  const Labels& labels() const override { return labels_; }
  std::unique_ptr<SampleIterator> Iterator(std::unique_ptr<SampleIterator>) const override {
    return std::make_unique<ChunksIterator>(chunks_, mint_, maxt_);
  }

 private:
  Labels labels_;
  std::shared_ptr<const std::vector<std::string>> chunks_;
  int64_t mint_, maxt_;
};

class HeadSeriesSet final : public storage::SeriesSet {
 public:
  explicit HeadSeriesSet(std::vector<std::unique_ptr<HeadSeries>> series)
      : series_(std::move(series)) {}
  bool Next() override {
    if (pos_ >= series_.size()) return false;
    ++pos_;
    return true;
  }
  const storage::Series& At() const override { return *series_[pos_ - 1]; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  std::vector<std::unique_ptr<HeadSeries>> series_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<storage::Querier>> Head::NewQuerier(int64_t mint, int64_t maxt) {
  return std::unique_ptr<storage::Querier>(new HeadQuerier(this, mint, maxt));
}

absl::StatusOr<std::vector<MemSeries*>> HeadQuerier::MatchingSeries(
    const std::vector<Matcher>& matchers) const {
  std::vector<MemSeries*> out;
  if (matchers.empty()) {
    head_->series_.ForEach([&](MemSeries& s) { out.push_back(&s); });
    return out;
  }
  auto refs = head_->SelectRefs(matchers);
  if (!refs.ok()) return refs.status();
  out.reserve(refs->size());
  for (uint64_t ref : *refs) {
    MemSeries* s = head_->series_.GetByRef(ref);
    if (s != nullptr && MatchesAll(matchers, s->labels())) out.push_back(s);
  }
  return out;
}

std::unique_ptr<storage::SeriesSet> HeadQuerier::Select(
    int64_t mint, int64_t maxt, const std::vector<Matcher>& matchers) const {
  mint = std::max(mint, mint_);
  maxt = std::min(maxt, maxt_);
  auto matched = MatchingSeries(matchers);
  if (!matched.ok()) return storage::EmptySeriesSet(matched.status());
  if (matchers.empty()) {
    return storage::EmptySeriesSet(absl::InvalidArgumentError(
        "head: a selector needs at least one matcher that does not match the empty string"));
  }
  std::vector<std::unique_ptr<HeadSeries>> result;
  for (MemSeries* s : *matched) {
    auto chunks = std::make_shared<std::vector<std::string>>();
    {
      absl::MutexLock l(&s->mu());
      s->SnapshotChunks(mint, maxt, chunks.get());
    }
    if (chunks->empty()) continue;
    result.push_back(std::make_unique<HeadSeries>(s->labels(), std::move(chunks), mint, maxt));
  }
  std::sort(result.begin(), result.end(),
            [](const auto& a, const auto& b) { return a->labels() < b->labels(); });
  return std::make_unique<HeadSeriesSet>(std::move(result));
}

absl::StatusOr<std::vector<std::string>> HeadQuerier::LabelNames(
    const std::vector<Matcher>& matchers) const {
  auto matched = MatchingSeries(matchers);
  if (!matched.ok()) return matched.status();
  std::set<std::string_view> names;
  for (MemSeries* s : *matched) {
    for (const Label& l : s->labels()) names.insert(l.name);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

absl::StatusOr<std::vector<std::string>> HeadQuerier::LabelValues(
    std::string_view name, const std::vector<Matcher>& matchers) const {
  auto matched = MatchingSeries(matchers);
  if (!matched.ok()) return matched.status();
  std::set<std::string_view> values;
  for (MemSeries* s : *matched) {
    std::string_view v = s->labels().Get(name);
    if (!v.empty()) values.insert(v);
  }
  return std::vector<std::string>(values.begin(), values.end());
}

}  // namespace cairn::head
