#include "tsdb/storage/series.h"

namespace cairn::storage {
namespace {

class EmptySet final : public SeriesSet {
 public:
  explicit EmptySet(absl::Status status) : status_(std::move(status)) {}
  bool Next() override { return false; }
  const Series& At() const override { __builtin_unreachable(); }
  absl::Status status() const override { return status_; }

 private:
  absl::Status status_;
};

}  // namespace

std::unique_ptr<SeriesSet> EmptySeriesSet(absl::Status status) {
  return std::make_unique<EmptySet>(std::move(status));
}

}  // namespace cairn::storage
