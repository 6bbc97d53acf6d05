// Querier: read access to stored series over a fixed time range [mint, maxt] (both
// inclusive, milliseconds). The PromQL engine sees storage only through this
// interface (DESIGN.md), so it runs the same over the head, blocks, their merge or a
// test's in-memory store.
//
// A Querier pins the data it reads (blocks cannot be deleted under it) until it is
// destroyed. Thread-safety: implementations allow concurrent Select() calls.
#ifndef CAIRN_TSDB_STORAGE_QUERIER_H_
#define CAIRN_TSDB_STORAGE_QUERIER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tsdb/model/matcher.h"
#include "tsdb/storage/series.h"

namespace cairn::storage {

class Querier {
 public:
  virtual ~Querier() = default;

  // Series matching every matcher that have samples in [mint, maxt] (narrowed to the
  // querier's range), sorted by labels; each series' iterator yields only samples in
  // that range. REQUIRES: at least one matcher that does not match "" — otherwise
  // implementations return an error (as Prometheus does for `{a=""}` alone).
  virtual std::unique_ptr<SeriesSet> Select(int64_t mint, int64_t maxt,
                                            const std::vector<Matcher>& matchers) const = 0;

  // Sorted unique label names of the series matching `matchers` (all series if empty).
  virtual absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<Matcher>& matchers) const = 0;
  // Sorted unique values of label `name` over the series matching `matchers`.
  virtual absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, const std::vector<Matcher>& matchers) const = 0;
};

// Something that opens Queriers: the DB, or a test's in-memory store.
class Queryable {
 public:
  virtual ~Queryable() = default;
  virtual absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) = 0;
};

}  // namespace cairn::storage

#endif  // CAIRN_TSDB_STORAGE_QUERIER_H_
