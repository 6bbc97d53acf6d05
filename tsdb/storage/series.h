// Series and SeriesSet: what a Querier returns — series with their labels and a way
// to iterate their samples, delivered sorted by labels (Labels::Compare).
//
// Lifetime: the Series returned by SeriesSet::At() is valid until the next Next()
// call; its labels must be copied to be kept. Iterators it creates may outlive it
// but not the Querier that produced the set.
// Thread-safety: none; a SeriesSet is consumed by one thread.
#ifndef CAIRN_TSDB_STORAGE_SERIES_H_
#define CAIRN_TSDB_STORAGE_SERIES_H_

#include <memory>

#include "absl/status/status.h"
#include "tsdb/chunk/sample_iterator.h"
#include "tsdb/model/labels.h"

namespace cairn::storage {

class Series {
 public:
  virtual ~Series() = default;
  virtual const Labels& labels() const = 0;
  // A fresh iterator over the series' samples inside the Select() time range.
  // `reuse` may be an iterator from an earlier call to recycle its buffers; pass null
  // when there is none.
  virtual std::unique_ptr<SampleIterator> Iterator(
      std::unique_ptr<SampleIterator> reuse = nullptr) const = 0;
};

class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  // Advances to the next series; false at the end or on error (see status()).
  virtual bool Next() = 0;
  // REQUIRES: the last Next() returned true.
  virtual const Series& At() const = 0;
  virtual absl::Status status() const = 0;
};

// A set with no series, optionally carrying an error.
std::unique_ptr<SeriesSet> EmptySeriesSet(absl::Status status = absl::OkStatus());

}  // namespace cairn::storage

#endif  // CAIRN_TSDB_STORAGE_SERIES_H_
