#include "tsdb/head/head.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tsdb/head/head_appender.h"
#include "tsdb/head/head_querier.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/util/status_macros.h"
#include "tsdb/wal/checkpoint.h"
#include "tsdb/wal/record.h"
#include "tsdb/wal/replay.h"

namespace cairn::head {

Head::Head(io::FileSystem* fs, std::string wal_dir, HeadOptions options)
    : fs_(fs), wal_dir_(std::move(wal_dir)), options_(options), series_(options.num_stripes) {
  min_valid_time_.store(options.min_valid_time, std::memory_order_relaxed);
}

Head::~Head() = default;

absl::StatusOr<std::unique_ptr<Head>> Head::Open(io::FileSystem* fs, std::string wal_dir,
                                                 HeadOptions options) {
  if (options.chunk_range_ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("head: chunk_range_ms must be positive, got ", options.chunk_range_ms));
  }
  std::unique_ptr<Head> head(new Head(fs, std::move(wal_dir), options));
  if (!options.chunk_dir.empty()) {
    auto arena = ChunkArena::Open(options.chunk_dir, options.chunk_file_size);
    if (!arena.ok()) return arena.status();
    head->arena_ = std::move(*arena);
  }
  if (!head->wal_dir_.empty()) {
    absl::Status st = head->Replay();
    if (!st.ok()) {
      return absl::Status(st.code(),
                          absl::StrCat("head: replaying WAL ", head->wal_dir_, ": ", st.message()));
    }
    auto w = wal::Wal::Open(fs, head->wal_dir_, options.wal_options);
    if (!w.ok()) return w.status();
    absl::MutexLock l(&head->wal_mu_);
    head->wal_ = std::move(*w);
  }
  return head;
}

absl::Status Head::Replay() {
  int64_t appended = 0, chunks = 0;
  int64_t mint = INT64_MAX, maxt = INT64_MIN;
  wal::ReplayHandler h;
  h.on_series = [&](std::vector<wal::SeriesRecord>& recs) {
    for (wal::SeriesRecord& r : recs) {
      auto [s, created] = series_.GetOrCreate(r.labels, r.ref);
      s->logged = true;
      if (created) IndexSeries(*s);
    }
    return absl::OkStatus();
  };
  h.on_samples = [&](std::vector<wal::SampleRecord>& recs) {
    for (const wal::SampleRecord& r : recs) {
      MemSeries* s = series_.GetByRef(r.ref);
      if (s == nullptr) continue;  // series record lost with a torn tail
      // Older samples are already in a block (logged before the head was truncated).
      if (r.t < options_.min_valid_time) continue;
      absl::MutexLock l(&s->mu());
      if (s->Check(r.t, r.v) != AppendCheck::kOk) continue;
      bool was_empty = s->open_chunk().num_samples() == 0;
      if (s->Append(r.t, r.v, options_.chunk_range_ms, arena_.get()) || was_empty) ++chunks;
      ++appended;
      mint = std::min(mint, r.t);
      maxt = std::max(maxt, r.t);
    }
    return absl::OkStatus();
  };
  h.on_tombstones = [&](std::vector<wal::TombstoneRecord>& recs) {
    // In log order: a deletion hides the samples replayed before it, not those after.
    for (const wal::TombstoneRecord& r : recs) {
      MemSeries* s = series_.GetByRef(r.ref);
      if (s == nullptr) continue;
      for (const wal::Interval& iv : r.intervals) chunks += DeleteFromSeries(s, iv.mint, iv.maxt);
    }
    return absl::OkStatus();
  };
  auto stats = wal::Replay(fs_, wal_dir_, h);
  if (!stats.ok()) return stats.status();
  samples_appended_.fetch_add(appended, std::memory_order_relaxed);
  num_chunks_.fetch_add(chunks, std::memory_order_relaxed);
  if (appended > 0) UpdateTimeRange(mint, maxt);
  return absl::OkStatus();
}

int Head::DeleteFromSeries(MemSeries* s, int64_t mint_ms, int64_t maxt_ms) {
  absl::MutexLock l(&s->mu());
  return s->DeleteRange(mint_ms, maxt_ms, arena_.get());
}

absl::Status Head::Delete(int64_t mint_ms, int64_t maxt_ms, const std::vector<Matcher>& matchers) {
  if (matchers.empty()) {
    return absl::InvalidArgumentError("head: delete needs at least one matcher");
  }
  if (mint_ms > maxt_ms) return absl::OkStatus();
  std::vector<MemSeries*> candidates;
  bool all_match_empty = std::all_of(matchers.begin(), matchers.end(),
                                     [](const Matcher& m) { return m.MatchesEmpty(); });
  if (all_match_empty) {
    series_.ForEach([&](MemSeries& s) { candidates.push_back(&s); });
  } else {
    CAIRN_ASSIGN_OR_RETURN(std::vector<uint64_t> refs, SelectRefs(matchers));
    for (uint64_t ref : refs) {
      if (MemSeries* s = series_.GetByRef(ref)) candidates.push_back(s);
    }
  }
  std::vector<MemSeries*> hit;
  for (MemSeries* s : candidates) {
    if (!MatchesAll(matchers, s->labels())) continue;
    absl::MutexLock l(&s->mu());
    if (s->empty() || s->min_time() > maxt_ms || s->max_time() < mint_ms) continue;
    hit.push_back(s);
  }
  if (hit.empty()) return absl::OkStatus();
  {
    absl::ReleasableMutexLock wl(&wal_mu_);
    if (wal_ != nullptr) {
      std::vector<wal::TombstoneRecord> recs;
      recs.reserve(hit.size());
      // A series with samples has been logged (its samples were), so replay knows it.
      for (MemSeries* s : hit) recs.push_back({s->ref(), {{mint_ms, maxt_ms}}});
      std::vector<std::string> records(1);
      wal::EncodeTombstones(recs, &records[0]);
      uint64_t seq = 0;
      wal::Wal* wal = wal_.get();
      absl::Status st = wal->Log(records, &seq);
      wl.Release();
      if (st.ok()) st = wal->SyncUpTo(seq);
      if (!st.ok()) {
        return absl::Status(
            st.code(),
            absl::StrCat("head delete: WAL write failed, nothing deleted: ", st.message()));
      }
    }
  }
  int64_t delta = 0;
  for (MemSeries* s : hit) delta += DeleteFromSeries(s, mint_ms, maxt_ms);
  num_chunks_.fetch_add(delta, std::memory_order_relaxed);
  return absl::OkStatus();
}

void Head::UpdateTimeRange(int64_t mint, int64_t maxt) {
  int64_t cur = min_time_.load(std::memory_order_relaxed);
  while (mint < cur && !min_time_.compare_exchange_weak(cur, mint)) {
  }
  cur = max_time_.load(std::memory_order_relaxed);
  while (maxt > cur && !max_time_.compare_exchange_weak(cur, maxt)) {
  }
}

void Head::IndexSeries(const MemSeries& s) {
  absl::MutexLock l(&postings_mu_);
  auto add = [&](std::string_view name, std::string_view value) {
    std::vector<uint64_t>& refs = postings_[Sv(name)][Sv(value)];
    // Refs arrive almost in order; insert keeps the list sorted for intersection.
    auto pos = std::lower_bound(refs.begin(), refs.end(), s.ref());
    refs.insert(pos, s.ref());
  };
  for (const Label& l : s.labels()) add(l.name, l.value);
  add("", "");  // all-series postings
}

absl::StatusOr<std::vector<uint64_t>> Head::SelectRefs(const std::vector<Matcher>& matchers) const {
  std::vector<uint64_t> result;
  bool have = false;
  std::vector<uint64_t> scratch;
  absl::MutexLock l(&postings_mu_);
  for (const Matcher& m : matchers) {
    if (m.MatchesEmpty()) continue;  // checked per series below
    std::vector<uint64_t> refs;
    auto it = postings_.find(Sv(m.name()));
    if (it != postings_.end()) {
      if (m.type() == MatchType::kEqual) {
        auto v = it->second.find(Sv(m.value()));
        if (v != it->second.end()) refs = v->second;
      } else {
        for (const auto& [value, list] : it->second) {
          if (!m.Matches(StdSv(value))) continue;
          scratch.clear();
          std::set_union(refs.begin(), refs.end(), list.begin(), list.end(),
                         std::back_inserter(scratch));
          refs.swap(scratch);
        }
      }
    }
    if (!have) {
      result = std::move(refs);
      have = true;
    } else {
      scratch.clear();
      std::set_intersection(result.begin(), result.end(), refs.begin(), refs.end(),
                            std::back_inserter(scratch));
      result.swap(scratch);
    }
    if (result.empty()) break;
  }
  if (!have) {
    return absl::InvalidArgumentError(
        "head: a selector needs at least one matcher that does not match the empty string");
  }
  return result;
}

void Head::FenceAppendsBefore(int64_t t) {
  int64_t cur = min_valid_time_.load(std::memory_order_relaxed);
  while (t > cur && !min_valid_time_.compare_exchange_weak(cur, t)) {
  }
  absl::MutexLock fence(&commit_fence_);
}

int64_t Head::AppendableMinValidTime() const {
  int64_t bound = min_valid_time();
  int64_t max = max_time();
  if (max != INT64_MIN) bound = std::max(bound, max - options_.chunk_range_ms / 2);
  return bound;
}

wal::WalStats Head::wal_stats() const {
  absl::MutexLock l(&wal_mu_);
  return wal_ == nullptr ? wal::WalStats{} : wal_->stats();
}

absl::Status Head::SyncWal() {
  wal::Wal* wal;
  {
    absl::MutexLock l(&wal_mu_);
    wal = wal_.get();  // owned by the head until it is destroyed
  }
  return wal == nullptr ? absl::OkStatus() : wal->Sync();
}

absl::Status Head::Truncate(int64_t min_time_ms) {
  FenceAppendsBefore(min_time_ms);
  int64_t dropped_chunks = 0;
  int64_t new_min = INT64_MAX;
  std::vector<uint64_t> removed;
  {
    absl::WriterMutexLock reclaim(&reclaim_mu_);
    removed = series_.RemoveIf([&](MemSeries& s) {
      dropped_chunks += s.TruncateBefore(min_time_ms);
      if (s.empty()) return true;
      new_min = std::min(new_min, s.min_time());
      return false;
    });
    // Every chunk ending before min_time_ms is gone now, so are the files holding them
    // (once the queries pinning them finish).
    if (arena_ != nullptr) arena_->ReleaseBefore(min_time_ms);
  }
  num_chunks_.fetch_sub(dropped_chunks, std::memory_order_relaxed);
  if (!removed.empty()) {
    std::sort(removed.begin(), removed.end());
    absl::MutexLock l(&postings_mu_);
    std::vector<uint64_t> scratch;
    for (auto n = postings_.begin(); n != postings_.end();) {
      for (auto v = n->second.begin(); v != n->second.end();) {
        scratch.clear();
        std::set_difference(v->second.begin(), v->second.end(), removed.begin(), removed.end(),
                            std::back_inserter(scratch));
        if (scratch.empty()) {
          n->second.erase(v++);
        } else {
          v->second.assign(scratch.begin(), scratch.end());
          ++v;
        }
      }
      if (n->second.empty()) {
        postings_.erase(n++);
      } else {
        ++n;
      }
    }
  }
  min_time_.store(new_min, std::memory_order_relaxed);
  if (series_.size() == 0) max_time_.store(INT64_MIN, std::memory_order_relaxed);

  absl::MutexLock l(&wal_mu_);
  if (wal_ == nullptr) return absl::OkStatus();
  // Checkpoint every segment before the current one; new commits go to the next one.
  CAIRN_RETURN_IF_ERROR(wal_->NextSegment());
  int last = wal_->current_segment() - 1;
  CAIRN_RETURN_IF_ERROR(wal::Checkpoint(
      fs_, wal_dir_, last, [this](uint64_t ref) { return series_.GetByRef(ref) != nullptr; },
      min_time_ms));
  return wal_->TruncateBefore(last + 1);
}

absl::Status Head::ForEachSeriesChunks(
    int64_t mint, int64_t maxt,
    const std::function<absl::Status(const Labels&, const std::vector<ChunkView>&)>& fn) {
  std::vector<MemSeries*> all;
  all.reserve(series_.size());
  series_.ForEach([&](MemSeries& s) { all.push_back(&s); });
  std::sort(all.begin(), all.end(),
            [](const MemSeries* a, const MemSeries* b) { return a->labels() < b->labels(); });
  std::vector<ChunkView> views;
  for (MemSeries* s : all) {
    views.clear();
    absl::MutexLock l(&s->mu());
    for (const ClosedChunk& c : s->closed_chunks()) {
      if (c.min_time >= mint && c.max_time < maxt) {
        views.push_back(ChunkView{c.min_time, c.max_time, c.num_samples, c.bytes(), c.encoding});
      }
    }
    const XorChunkEncoder& open = s->open_chunk();
    if (open.num_samples() > 0 && open.min_time() >= mint && open.max_time() < maxt) {
      views.push_back(ChunkView{open.min_time(), open.max_time(), open.num_samples(), open.bytes(),
                                ChunkEncoding::kXor});
    }
    if (views.empty()) continue;
    absl::Status st = fn(s->labels(), views);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

size_t Head::SeriesHeapBytes() const {
  size_t n = 0;
  series_.ForEach([&](MemSeries& s) {
    absl::MutexLock l(&s.mu());
    n += s.HeapBytes();
  });
  return n;
}

}  // namespace cairn::head
