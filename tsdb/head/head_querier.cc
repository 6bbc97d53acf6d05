#include "tsdb/head/head_querier.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "tsdb/chunk/any_chunk_iterator.h"
#include "tsdb/storage/labels_order.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::head {
namespace {

// Everything one Select() result reads, owned together: the pin on the arena's files
// (closed chunks are read in place), copies of the chunks that may change or go under
// the series lock (open chunks, chunks kept on the heap), and the chunk list of every
// series. Shared by the set and the iterators it hands out, so an iterator stays
// valid after its set is gone. Immutable once Select() returns.
class SelectData {
 public:
  // Copies `bytes` into storage that lives as long as this object.
  std::string_view Copy(std::string_view bytes) {
    if (bytes.size() > left_) {
      const size_t size = std::max(kBlockSize, bytes.size());
      blocks_.push_back(std::make_unique_for_overwrite<char[]>(size));
      pos_ = blocks_.back().get();
      left_ = size;
    }
    std::memcpy(pos_, bytes.data(), bytes.size());
    std::string_view out(pos_, bytes.size());
    pos_ += bytes.size();
    left_ -= bytes.size();
    return out;
  }

  ChunkArena::Pin pin;
  struct Chunk {
    std::string_view bytes;
    ChunkEncoding encoding;
  };
  std::vector<Chunk> chunks;  // each series' chunks, in time order, back to back

 private:
  static constexpr size_t kBlockSize = 64 << 10;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* pos_ = nullptr;
  size_t left_ = 0;
};

// Iterates a series' chunks in order, yielding samples within [mint, maxt].
class ChunksIterator final : public SampleIterator {
 public:
  // Starts over on `data`'s chunks [first, first + count).
  void Reset(const std::shared_ptr<const SelectData>& data, size_t first, size_t count,
             int64_t mint, int64_t maxt) {
    if (data_ != data) data_ = data;
    next_chunk_ = first;
    end_chunk_ = first + count;
    mint_ = mint;
    maxt_ = maxt;
    started_ = valid_ = done_ = false;
    status_ = absl::OkStatus();
  }

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

  // Whole runs of the current chunk at once, clipped to [mint, maxt] afterwards.
  size_t NextBatch(Sample* out, size_t max) override {
    size_t n = 0;
    started_ = true;
    while (n < max && !done_) {
      if (!valid_ && !OpenNext()) break;
      const size_t want = max - n;
      const size_t k = it_.NextBatch(out + n, want);
      bool past_maxt;
      n += ClipBatch(out + n, k, mint_, maxt_, &past_maxt);
      if (past_maxt) {
        Finish();
        break;
      }
      if (k < want) {  // the chunk ran out, or failed
        if (!it_.status().ok()) {
          status_ = it_.status();
          Finish();
          break;
        }
        valid_ = false;
      }
    }
    return n;
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
    if (next_chunk_ >= end_chunk_) return Finish();
    const SelectData::Chunk& c = data_->chunks[next_chunk_++];
    it_.Reset(c.encoding, c.bytes);
    valid_ = true;
    return true;
  }
  bool Finish() {
    done_ = true;
    valid_ = false;
    return false;
  }

  std::shared_ptr<const SelectData> data_;
  size_t next_chunk_ = 0, end_chunk_ = 0;
  int64_t mint_ = 0, maxt_ = 0;
  AnyChunkIterator it_;
  bool started_ = false, valid_ = false, done_ = false;
  absl::Status status_;
};

// One selected series: its labels (a copy: the MemSeries may be freed by a
// truncation while the set is read) and its run of SelectData::chunks.
struct SeriesEntry {
  Labels labels;
  uint32_t first_chunk;
  uint32_t num_chunks;
};

// The Series handed out by HeadSeriesSet::At(): a view of the current entry.
class HeadSeries final : public storage::Series {
 public:
  HeadSeries(std::shared_ptr<const SelectData> data, int64_t mint, int64_t maxt)
      : data_(std::move(data)), mint_(mint), maxt_(maxt) {}
  void Set(const SeriesEntry* e) { entry_ = e; }
  const Labels& labels() const override { return entry_->labels; }
  std::unique_ptr<SampleIterator> Iterator(std::unique_ptr<SampleIterator> reuse) const override {
    // The evaluator hands back the previous series' iterator: reuse it when it is ours.
    std::unique_ptr<ChunksIterator> it;
    if (auto* c = dynamic_cast<ChunksIterator*>(reuse.get())) {
      reuse.release();
      it.reset(c);
    } else {
      it = std::make_unique<ChunksIterator>();
    }
    it->Reset(data_, entry_->first_chunk, entry_->num_chunks, mint_, maxt_);
    return it;
  }

 private:
  std::shared_ptr<const SelectData> data_;
  const int64_t mint_, maxt_;
  const SeriesEntry* entry_ = nullptr;
};

class HeadSeriesSet final : public storage::SeriesSet {
 public:
  HeadSeriesSet(std::shared_ptr<const SelectData> data, std::vector<SeriesEntry> series,
                int64_t mint, int64_t maxt)
      : series_(std::move(series)), current_(std::move(data), mint, maxt) {}
  bool Next() override {
    if (pos_ >= series_.size()) return false;
    current_.Set(&series_[pos_++]);
    return true;
  }
  const storage::Series& At() const override { return current_; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  std::vector<SeriesEntry> series_;
  HeadSeries current_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<storage::Querier>> Head::NewQuerier(int64_t mint, int64_t maxt) {
  return std::unique_ptr<storage::Querier>(new HeadQuerier(this, mint, maxt));
}

absl::StatusOr<std::vector<MemSeries*>> HeadQuerier::MatchingSeries(
    const std::vector<Matcher>& matchers) const {
  std::vector<MemSeries*> out;
  auto refs = head_->SelectRefs(matchers);
  if (!refs.ok()) return refs.status();
  // The postings resolved every matcher that does not match "" exactly; the others
  // (absent label or empty value allowed) are checked per series.
  std::vector<const Matcher*> recheck;
  for (const Matcher& m : matchers) {
    if (m.MatchesEmpty()) recheck.push_back(&m);
  }
  out.reserve(refs->size());
  for (uint64_t ref : *refs) {
    MemSeries* s = head_->series_.GetByRef(ref);
    if (s == nullptr) continue;
    bool ok = true;
    for (const Matcher* m : recheck) {
      if (!m->Matches(s->labels().Get(m->name()))) {
        ok = false;
        break;
      }
    }
    if (ok) out.push_back(s);
  }
  return out;
}

std::unique_ptr<storage::SeriesSet> HeadQuerier::Select(
    int64_t mint, int64_t maxt, const std::vector<Matcher>& matchers) const {
  mint = std::max(mint, mint_);
  maxt = std::min(maxt, maxt_);
  if (matchers.empty()) {
    return storage::EmptySeriesSet(absl::InvalidArgumentError(
        "head: a selector needs at least one matcher that does not match the empty string"));
  }
  auto data = std::make_shared<SelectData>();
  std::vector<SeriesEntry> result;
  {
    // Keeps the matched MemSeries alive and the arena's files mapped (head.h).
    absl::ReaderMutexLock reclaim(&head_->reclaim_mu_);
    auto matched = MatchingSeries(matchers);
    if (!matched.ok()) return storage::EmptySeriesSet(matched.status());
    // Each hit's labels are copied (and keyed for sorting) while the series is in cache.
    std::vector<SeriesEntry> hits;
    hits.reserve(matched->size());
    data->chunks.reserve(matched->size());
    storage::LabelsSorter sorter;
    if (!matched->empty()) {
      sorter.Reserve(matched->size(), (*matched)[0]->labels().encoded().size() + 8);
    }
    const std::vector<MemSeries*>& ms = *matched;
    for (size_t i = 0; i < ms.size(); ++i) {
      // The loop is bound by cache misses on series scattered over the heap: fetch
      // the series a few steps ahead, and their labels (immutable) a bit later.
      if (i + 8 < ms.size()) __builtin_prefetch(ms[i + 8]);
      if (i + 4 < ms.size()) __builtin_prefetch(ms[i + 4]->labels().encoded().data());
      MemSeries* s = ms[i];
      const size_t first = data->chunks.size();
      {
        absl::MutexLock l(&s->mu());
        s->ForEachChunk(mint, maxt,
                        [&](std::string_view bytes, ChunkEncoding encoding, bool in_arena) {
                          data->chunks.push_back({in_arena ? bytes : data->Copy(bytes), encoding});
                        });
      }
      const size_t n = data->chunks.size() - first;
      if (n == 0) continue;
      hits.push_back(
          SeriesEntry{s->labels(), static_cast<uint32_t>(first), static_cast<uint32_t>(n)});
      sorter.Add(hits.back().labels);
    }
    // Postings are in ref order; the contract is label order.
    const std::vector<uint32_t> order = sorter.Order();
    result.reserve(hits.size());
    for (uint32_t i : order) result.push_back(std::move(hits[i]));
    // Every arena chunk seen above is in a file the arena still holds: releasing one
    // needs reclaim_mu_ exclusively.
    if (head_->arena_ != nullptr) data->pin = head_->arena_->PinFiles();
  }
  return std::make_unique<HeadSeriesSet>(std::move(data), std::move(result), mint, maxt);
}

namespace {

std::vector<std::string> SortedStrings(const absl::flat_hash_set<std::string_view>& set) {
  std::vector<std::string> out(set.begin(), set.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> HeadQuerier::LabelNames(
    const std::vector<Matcher>& matchers) const {
  if (matchers.empty()) {
    // Every name with a postings list (lists left empty are erased), as Prometheus
    // answers from its index: no walk over the series.
    std::vector<std::string> out;
    absl::MutexLock l(&head_->postings_mu_);
    out.reserve(head_->postings_.size());
    for (const auto& [name, values] : head_->postings_) {
      if (!name.empty()) out.emplace_back(name);  // "" holds the all-series list
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  absl::ReaderMutexLock reclaim(&head_->reclaim_mu_);  // the series' labels stay alive
  auto matched = MatchingSeries(matchers);
  if (!matched.ok()) return matched.status();
  absl::flat_hash_set<std::string_view> names;
  for (MemSeries* s : *matched) {
    for (const Label& l : s->labels()) names.insert(l.name);
  }
  return SortedStrings(names);
}

absl::StatusOr<std::vector<std::string>> HeadQuerier::LabelValues(
    std::string_view name, const std::vector<Matcher>& matchers) const {
  if (name.empty()) return std::vector<std::string>();  // no label has an empty name
  if (matchers.empty()) {
    std::vector<std::string> out;
    absl::MutexLock l(&head_->postings_mu_);
    auto it = head_->postings_.find(Sv(name));
    if (it == head_->postings_.end()) return out;
    out.reserve(it->second.size());
    for (const auto& [value, refs] : it->second) out.emplace_back(value);
    std::sort(out.begin(), out.end());
    return out;
  }
  absl::ReaderMutexLock reclaim(&head_->reclaim_mu_);  // the series' labels stay alive
  auto matched = MatchingSeries(matchers);
  if (!matched.ok()) return matched.status();
  absl::flat_hash_set<std::string_view> values;
  for (MemSeries* s : *matched) {
    std::string_view v = s->labels().Get(name);
    if (!v.empty()) values.insert(v);
  }
  return SortedStrings(values);
}

}  // namespace cairn::head
