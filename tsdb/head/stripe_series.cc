#include "tsdb/head/stripe_series.h"

namespace cairn::head {

StripeSeries::StripeSeries(size_t num_stripes)
    : mask_(std::bit_ceil(num_stripes) - 1),
      hash_stripes_(new HashStripe[mask_ + 1]),
      ref_stripes_(new RefStripe[mask_ + 1]) {}

MemSeries* StripeSeries::GetByRef(uint64_t ref) const {
  RefStripe& s = ref_stripe(ref);
  absl::MutexLock l(&s.mu);
  auto it = s.series.find(ref);
  return it == s.series.end() ? nullptr : it->second.get();
}

MemSeries* StripeSeries::GetByLabels(const Labels& labels) const {
  const uint64_t h = labels.Hash();  // also the set's hash of these labels
  HashStripe& s = hash_stripe(h);
  absl::MutexLock l(&s.mu);
  auto it = s.series.find(labels, h);
  return it == s.series.end() ? nullptr : *it;
}

std::pair<MemSeries*, bool> StripeSeries::GetOrCreate(const Labels& labels, uint64_t ref) {
  const uint64_t h = labels.Hash();
  HashStripe& hs = hash_stripe(h);
  absl::MutexLock l(&hs.mu);
  auto it = hs.series.find(labels, h);
  if (it != hs.series.end()) return {*it, false};
  if (ref == 0) {
    ref = next_ref_.fetch_add(1, std::memory_order_relaxed);
  } else {
    // Replay hands refs from the WAL; later refs must not collide with them.
    uint64_t next = next_ref_.load(std::memory_order_relaxed);
    while (next <= ref && !next_ref_.compare_exchange_weak(next, ref + 1)) {
    }
  }
  auto owned = std::make_unique<MemSeries>(ref, labels);
  MemSeries* s = owned.get();
  {
    RefStripe& rs = ref_stripe(ref);
    absl::MutexLock rl(&rs.mu);
    rs.series.emplace(ref, std::move(owned));
  }
  hs.series.insert(s);
  size_.fetch_add(1, std::memory_order_relaxed);
  return {s, true};
}

std::vector<uint64_t> StripeSeries::RemoveIf(const std::function<bool(MemSeries&)>& pred) {
  std::vector<uint64_t> removed;
  for (size_t i = 0; i <= mask_; ++i) {
    HashStripe& hs = hash_stripes_[i];
    absl::MutexLock l(&hs.mu);
    for (auto it = hs.series.begin(); it != hs.series.end();) {
      MemSeries* s = *it;
      bool drop;
      {
        absl::MutexLock sl(&s->mu());
        drop = pred(*s);
      }
      if (!drop) {
        ++it;
        continue;
      }
      hs.series.erase(it++);
      uint64_t ref = s->ref();
      RefStripe& rs = ref_stripe(ref);
      absl::MutexLock rl(&rs.mu);
      rs.series.erase(ref);  // frees s
      removed.push_back(ref);
      size_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  return removed;
}

void StripeSeries::ForEach(const std::function<void(MemSeries&)>& fn) const {
  for (size_t i = 0; i <= mask_; ++i) {
    RefStripe& rs = ref_stripes_[i];
    absl::MutexLock l(&rs.mu);
    for (auto& [ref, s] : rs.series) fn(*s);
  }
}

}  // namespace cairn::head
