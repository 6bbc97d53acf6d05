// StripeSeries: the head's series map, looked up by labels (on a scrape or remote
// write with no cached ref) and by ref (the fast path), split into lock stripes so
// appenders on different series rarely contend.
//
// Ownership: owns every MemSeries; pointers it hands out stay valid until Remove()
// drops the series (only Head::Truncate does, while no appender holds such a pointer
// across it — see head.h).
// Thread-safety: all methods may run concurrently. Lock order: hash stripe, then ref
// stripe, then a series' own mutex.
#ifndef CAIRN_TSDB_HEAD_STRIPE_SERIES_H_
#define CAIRN_TSDB_HEAD_STRIPE_SERIES_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "tsdb/head/mem_series.h"
#include "tsdb/model/labels.h"

namespace cairn::head {

class StripeSeries {
 public:
  static constexpr size_t kDefaultStripes = 16384;
  explicit StripeSeries(size_t num_stripes = kDefaultStripes);
  StripeSeries(const StripeSeries&) = delete;
  StripeSeries& operator=(const StripeSeries&) = delete;

  MemSeries* GetByRef(uint64_t ref) const;
  MemSeries* GetByLabels(const Labels& labels) const;
  // The series with these labels, created (with the next ref, or `ref` if non-zero,
  // as WAL replay needs) when absent. `.second` says whether it was created.
  std::pair<MemSeries*, bool> GetOrCreate(const Labels& labels, uint64_t ref = 0);

  // Removes the series for which `pred` returns true (called under the series' lock)
  // and returns their refs. Used by truncation.
  std::vector<uint64_t> RemoveIf(const std::function<bool(MemSeries&)>& pred);

  // Calls fn for every series (no order). fn must not call back into this map.
  void ForEach(const std::function<void(MemSeries&)>& fn) const;

  // How many label sets the lookups and inserts on this thread have compared: about
  // one per lookup of a present series when the hash does its job (a test checks it;
  // a thread-local count costs nothing measurable).
  static uint64_t LabelComparisonsOnThisThread() { return label_comparisons_on_thread; }

  size_t size() const { return size_.load(std::memory_order_relaxed); }
  uint64_t last_ref() const { return next_ref_.load(std::memory_order_relaxed) - 1; }

 private:
  // Heterogeneous lookup of MemSeries* by Labels, so the set stores no key copy.
  struct SeriesHash {
    using is_transparent = void;
    size_t operator()(const MemSeries* s) const { return s->labels().Hash(); }
    size_t operator()(const Labels& l) const { return l.Hash(); }
  };
  struct SeriesEq {
    using is_transparent = void;
    static const Labels& L(const MemSeries* s) { return s->labels(); }
    static const Labels& L(const Labels& l) { return l; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      ++label_comparisons_on_thread;
      return L(a) == L(b);
    }
  };
  struct HashStripe {
    mutable absl::Mutex mu;
    absl::flat_hash_set<MemSeries*, SeriesHash, SeriesEq> series ABSL_GUARDED_BY(mu);
  };
  struct RefStripe {
    mutable absl::Mutex mu;
    absl::flat_hash_map<uint64_t, std::unique_ptr<MemSeries>> series ABSL_GUARDED_BY(mu);
  };

  // From the hash's upper half: the set inside takes its 7-bit control tags from the
  // lowest bits, so a stripe chosen by them held series whose tags were all equal and
  // every lookup compared the labels of every series in the probed group.
  HashStripe& hash_stripe(uint64_t h) const { return hash_stripes_[(h >> 32) & mask_]; }
  RefStripe& ref_stripe(uint64_t ref) const { return ref_stripes_[ref & mask_]; }

  static inline thread_local uint64_t label_comparisons_on_thread = 0;

  const size_t mask_;
  std::unique_ptr<HashStripe[]> hash_stripes_;
  std::unique_ptr<RefStripe[]> ref_stripes_;
  std::atomic<uint64_t> next_ref_{1};
  std::atomic<size_t> size_{0};
};

}  // namespace cairn::head

#endif  // CAIRN_TSDB_HEAD_STRIPE_SERIES_H_
