#include "tsdb/head/head.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tsdb/head/head_appender.h"
#include "tsdb/head/head_querier.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::head {

Head::Head(io::FileSystem* fs, std::string wal_dir, HeadOptions options)
    : fs_(fs), wal_dir_(std::move(wal_dir)), options_(options), series_(options.num_stripes) {}

Head::~Head() = default;

absl::StatusOr<std::unique_ptr<Head>> Head::Open(io::FileSystem* fs, std::string wal_dir,
                                                 HeadOptions options) {
  if (options.chunk_range_ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("head: chunk_range_ms must be positive, got ", options.chunk_range_ms));
  }
  if (!wal_dir.empty()) {
    return absl::UnimplementedError(
        absl::StrCat("head: WAL directory ", wal_dir, " given but the WAL is not wired in yet"));
  }
  return std::unique_ptr<Head>(new Head(fs, std::move(wal_dir), options));
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

absl::Status Head::Truncate(int64_t min_time_ms) {
  int64_t cur = min_valid_time_.load(std::memory_order_relaxed);
  while (min_time_ms > cur && !min_valid_time_.compare_exchange_weak(cur, min_time_ms)) {
  }
  int64_t dropped_chunks = 0;
  int64_t new_min = INT64_MAX;
  std::vector<uint64_t> removed = series_.RemoveIf([&](MemSeries& s) {
    dropped_chunks += s.TruncateBefore(min_time_ms);
    if (s.empty()) return true;
    new_min = std::min(new_min, s.min_time());
    return false;
  });
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
  return absl::OkStatus();
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
        views.push_back(ChunkView{c.min_time, c.max_time, c.num_samples, c.bytes()});
      }
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
