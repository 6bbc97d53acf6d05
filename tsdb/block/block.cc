#include "tsdb/block/block.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "tsdb/chunk/any_chunk_iterator.h"
#include "tsdb/model/sample.h"
#include "tsdb/util/status_macros.h"

namespace cairn::block {
namespace {

// Iterates the samples of a series' chunks that fall in [mint, maxt]. Chunks are
// looked up (and CRC-checked) only when the iteration reaches them.
class BlockSeriesIterator final : public SampleIterator {
 public:
  BlockSeriesIterator(const ChunkReader* chunks, std::vector<index::ChunkMeta> metas, int64_t mint,
                      int64_t maxt)
      : chunks_(chunks), metas_(std::move(metas)), mint_(mint), maxt_(maxt) {}

  bool Next() override {
    if (done_) return false;
    for (;;) {
      if (open_ && it_.Next()) {
        if (it_.t() > maxt_) return Stop();
        if (it_.t() >= mint_) {
          has_sample_ = true;
          return true;
        }
        continue;
      }
      if (open_ && !it_.status().ok()) return Fail(it_.status());
      if (!OpenNextChunk()) return false;
    }
  }

  bool Seek(int64_t t) override {
    if (done_) return false;
    t = std::max(t, mint_);
    if (has_sample_ && it_.t() >= t) return true;
    if (open_ && open_max_time_ < t) open_ = false;
    if (!open_) {
      while (next_ < metas_.size() && metas_[next_].max_time < t) ++next_;
    }
    for (;;) {
      if (open_ && it_.Seek(t)) {
        if (it_.t() > maxt_) return Stop();
        has_sample_ = true;
        return true;
      }
      if (open_ && !it_.status().ok()) return Fail(it_.status());
      open_ = false;
      if (!OpenNextChunk()) return false;
    }
  }

  // Whole runs of the open chunk at once, clipped to [mint, maxt] afterwards.
  size_t NextBatch(Sample* out, size_t max) override {
    size_t n = 0;
    while (n < max && !done_) {
      if (!open_ && !OpenNextChunk()) break;
      const size_t want = max - n;
      const size_t k = it_.NextBatch(out + n, want);
      bool past_maxt;
      const size_t kept = ClipBatch(out + n, k, mint_, maxt_, &past_maxt);
      if (kept > 0) has_sample_ = true;
      n += kept;
      if (past_maxt) {
        Stop();
        break;
      }
      if (k < want) {  // the chunk ran out, or failed
        if (!it_.status().ok()) {
          Fail(it_.status());
          break;
        }
        open_ = false;
      }
    }
    return n;
  }

  int64_t t() const override { return it_.t(); }
  double v() const override { return it_.v(); }
  absl::Status status() const override { return status_; }

 private:
  bool Stop() {
    done_ = true;
    has_sample_ = false;
    return false;
  }
  bool Fail(absl::Status s) {
    status_ = std::move(s);
    return Stop();
  }
  bool OpenNextChunk() {
    while (next_ < metas_.size() && metas_[next_].max_time < mint_) ++next_;
    if (next_ >= metas_.size() || metas_[next_].min_time > maxt_) return Stop();
    ChunkEncoding enc;
    auto data = chunks_->Chunk(metas_[next_].ref, &enc);
    if (!data.ok()) return Fail(data.status());
    it_.Reset(enc, *data);
    open_ = true;
    open_max_time_ = metas_[next_].max_time;
    ++next_;
    return true;
  }

  const ChunkReader* chunks_;
  std::vector<index::ChunkMeta> metas_;
  const int64_t mint_, maxt_;
  size_t next_ = 0;  // next chunk to open
  AnyChunkIterator it_;
  int64_t open_max_time_ = 0;
  bool open_ = false;
  bool has_sample_ = false;  // t()/v() are valid
  bool done_ = false;
  absl::Status status_;
};

class BlockSeries final : public storage::Series {
 public:
  const Labels& labels() const override { return labels_; }
  std::unique_ptr<SampleIterator> Iterator(std::unique_ptr<SampleIterator>) const override {
    return std::make_unique<BlockSeriesIterator>(chunks_, metas_, mint_, maxt_);
  }

  const ChunkReader* chunks_ = nullptr;
  Labels labels_;
  std::vector<index::ChunkMeta> metas_;
  int64_t mint_ = 0, maxt_ = 0;
};

class BlockSeriesSet final : public storage::SeriesSet {
 public:
  BlockSeriesSet(std::shared_ptr<const Block> block, std::unique_ptr<index::Postings> postings,
                 std::vector<Matcher> matchers, int64_t mint, int64_t maxt)
      : block_(std::move(block)), postings_(std::move(postings)), matchers_(std::move(matchers)) {
    series_.chunks_ = &block_->chunks();
    series_.mint_ = mint;
    series_.maxt_ = maxt;
  }

  bool Next() override {
    while (status_.ok() && postings_->Next()) {
      absl::Status s = block_->index().Series(postings_->At(), &series_.labels_, &series_.metas_);
      if (!s.ok()) {
        status_ = s;
        return false;
      }
      if (!MatchesAll(matchers_, series_.labels_)) continue;
      auto& m = series_.metas_;
      m.erase(std::remove_if(m.begin(), m.end(),
                             [&](const index::ChunkMeta& c) {
                               return c.max_time < series_.mint_ || c.min_time > series_.maxt_;
                             }),
              m.end());
      if (!m.empty()) return true;
    }
    if (status_.ok()) status_ = postings_->status();
    return false;
  }
  const storage::Series& At() const override { return series_; }
  absl::Status status() const override { return status_; }

 private:
  std::shared_ptr<const Block> block_;
  std::unique_ptr<index::Postings> postings_;
  std::vector<Matcher> matchers_;
  BlockSeries series_;
  absl::Status status_;
};

class BlockQuerier final : public storage::Querier {
 public:
  BlockQuerier(std::shared_ptr<const Block> block, int64_t mint, int64_t maxt)
      : block_(std::move(block)), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<storage::SeriesSet> Select(int64_t mint, int64_t maxt,
                                             const std::vector<Matcher>& matchers) const override {
    mint = std::max(mint, mint_);
    maxt = std::min(maxt, maxt_);
    auto postings = block_->index().PostingsForMatchers(matchers);
    if (!postings.ok()) {
      return storage::EmptySeriesSet(Annotate(postings.status(), "block " + block_->meta().ulid));
    }
    if (mint > maxt) return storage::EmptySeriesSet();
    return std::make_unique<BlockSeriesSet>(block_, std::move(*postings), matchers, mint, maxt);
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<Matcher>& matchers) const override {
    if (matchers.empty()) {
      auto names = block_->index().LabelNames();
      return std::vector<std::string>(names.begin(), names.end());
    }
    return FromSeries(matchers, [](const Labels& l, std::vector<std::string>* out) {
      for (const Label& x : l) out->emplace_back(x.name);
    });
  }

  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, const std::vector<Matcher>& matchers) const override {
    if (matchers.empty()) {
      auto values = block_->index().LabelValues(name);
      return std::vector<std::string>(values.begin(), values.end());
    }
    return FromSeries(matchers, [name](const Labels& l, std::vector<std::string>* out) {
      std::string_view v = l.Get(name);
      if (!v.empty()) out->emplace_back(v);
    });
  }

 private:
  template <typename Fn>
  absl::StatusOr<std::vector<std::string>> FromSeries(const std::vector<Matcher>& matchers,
                                                      Fn fn) const {
    auto set = Select(mint_, maxt_, matchers);
    std::vector<std::string> out;
    while (set->Next()) fn(set->At().labels(), &out);
    CAIRN_RETURN_IF_ERROR(set->status());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  std::shared_ptr<const Block> block_;
  const int64_t mint_, maxt_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<Block>> Block::Open(io::FileSystem* fs, std::string dir) {
  std::shared_ptr<Block> b(new Block());
  b->dir_ = std::move(dir);
  CAIRN_ASSIGN_OR_RETURN(b->meta_, ReadBlockMeta(fs, b->dir_));
  CAIRN_ASSIGN_OR_RETURN(b->index_file_, fs->MapFile(b->dir_ + "/index"));
  CAIRN_ASSIGN_OR_RETURN(b->index_,
                         index::IndexReader::Open(b->index_file_->data(), b->dir_ + "/index"));
  CAIRN_ASSIGN_OR_RETURN(b->chunks_, ChunkReader::Open(fs, b->dir_ + "/chunks"));
  return b;
}

std::unique_ptr<storage::Querier> Block::NewQuerier(int64_t mint, int64_t maxt) const {
  // meta.max_time is exclusive; queriers take inclusive bounds.
  return std::make_unique<BlockQuerier>(shared_from_this(), std::max(mint, meta_.min_time),
                                        std::min(maxt, meta_.max_time - 1));
}

std::unique_ptr<storage::SeriesSet> Block::AllSeries() const {
  return std::make_unique<BlockSeriesSet>(shared_from_this(), index_->AllPostings(),
                                          std::vector<Matcher>{}, kMinTimeMs, kMaxTimeMs);
}

absl::Status Block::Verify() const {
  CAIRN_RETURN_IF_ERROR(index_->Verify());
  auto all = AllSeries();
  uint64_t series = 0, samples = 0;
  while (all->Next()) {
    ++series;
    auto it = all->At().Iterator();
    int64_t prev = 0;
    bool first = true;
    while (it->Next()) {
      if (!first && it->t() <= prev) {
        return absl::DataLossError(absl::StrFormat("block %s: series %s has unordered samples",
                                                   dir_, all->At().labels().ToString()));
      }
      prev = it->t();
      first = false;
      ++samples;
    }
    CAIRN_RETURN_IF_ERROR(Annotate(it->status(), "series " + all->At().labels().ToString()));
  }
  CAIRN_RETURN_IF_ERROR(all->status());
  if (series != meta_.num_series || samples != meta_.num_samples) {
    return absl::DataLossError(
        absl::StrFormat("block %s: meta.json says %d series / %d samples, the files hold %d / %d",
                        dir_, meta_.num_series, meta_.num_samples, series, samples));
  }
  return absl::OkStatus();
}

}  // namespace cairn::block
