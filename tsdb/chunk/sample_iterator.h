// SampleIterator: the forward iterator over one series' samples, in increasing
// timestamp order, that every layer hands up — chunk decoders, head and block series,
// merged series, and finally the PromQL engine.
//
// Protocol: a fresh iterator is positioned before the first sample. Next() advances;
// Seek(t) advances to the first sample with timestamp >= t (never moves backwards: if
// the current sample already qualifies it stays). Both return false at the end or on
// an error; status() then tells which (a sticky error read once, STYLE.md #5).
// t()/v() are valid only after a call returned true.
//
// NextBatch(out, max) is `max` calls of Next() at once: it stores each sample in out[]
// and returns how many; fewer than `max` only at the end or on an error (t()/v() are
// then invalid, as after a Next() that returned false); after a full batch t()/v()
// are its last sample. Decoders override it with a loop that keeps their state in
// registers and skips the per-sample virtual calls; the default just calls Next().
//
// Thread-safety: none; one iterator per thread.
#ifndef CAIRN_TSDB_CHUNK_SAMPLE_ITERATOR_H_
#define CAIRN_TSDB_CHUNK_SAMPLE_ITERATOR_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "tsdb/model/sample.h"

namespace cairn {

class SampleIterator {
 public:
  virtual ~SampleIterator() = default;
  virtual bool Next() = 0;
  virtual bool Seek(int64_t t) = 0;
  virtual int64_t t() const = 0;
  virtual double v() const = 0;
  virtual absl::Status status() const { return absl::OkStatus(); }
  virtual size_t NextBatch(Sample* out, size_t max) {
    size_t n = 0;
    while (n < max && Next()) out[n++] = Sample{t(), v()};
    return n;
  }
};

// For iterators over a chunk range: keeps the samples of out[0, k) (sorted by time)
// that fall in [mint, maxt], moved to the front, and returns how many; sets
// *past_maxt when one was after maxt (the iteration is then over).
inline size_t ClipBatch(Sample* out, size_t k, int64_t mint, int64_t maxt, bool* past_maxt) {
  size_t begin = 0, end = k;
  while (begin < end && out[begin].t < mint) ++begin;
  while (end > begin && out[end - 1].t > maxt) --end;
  *past_maxt = end < k;
  for (size_t i = begin; i < end && begin > 0; ++i) out[i - begin] = out[i];
  return end - begin;
}

// An iterator over nothing; optionally carrying an error.
class EmptySampleIterator final : public SampleIterator {
 public:
  EmptySampleIterator() = default;
  explicit EmptySampleIterator(absl::Status status) : status_(std::move(status)) {}
  bool Next() override { return false; }
  bool Seek(int64_t) override { return false; }
  int64_t t() const override { return 0; }
  double v() const override { return 0; }
  absl::Status status() const override { return status_; }

 private:
  absl::Status status_;
};

}  // namespace cairn

#endif  // CAIRN_TSDB_CHUNK_SAMPLE_ITERATOR_H_
