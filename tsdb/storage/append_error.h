// The reasons a sample is refused, carried inside the absl::Status an Appender
// returns so that callers (remote write, scrape) can count them per reason and answer
// as Prometheus does, without parsing messages.
#ifndef CAIRN_TSDB_STORAGE_APPEND_ERROR_H_
#define CAIRN_TSDB_STORAGE_APPEND_ERROR_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "tsdb/model/labels.h"

namespace cairn::storage {

enum class RejectReason {
  kOutOfOrder,     // older than the newest sample of its series
  kDuplicate,      // same timestamp as the newest sample, different value
  kTooOld,         // older than the head's lower bound (already cut into blocks)
  kInvalidLabels,  // bad label name, duplicate name, empty metric name, ...
  kLimit,          // a configured limit (e.g. series count) is reached
};

inline constexpr int kRejectReasonCount = 5;

// "out_of_order", "duplicate", "too_old", "invalid_labels", "limit" — the label
// values used in metrics.
std::string_view RejectReasonName(RejectReason r);

// A kOutOfRange (kInvalidArgument for labels, kResourceExhausted for limits) status
// whose message names the series and the reason, with the reason attached.
absl::Status RejectedSampleError(RejectReason reason, const Labels& labels, int64_t t_ms,
                                 std::string_view detail);

// The reason attached by RejectedSampleError, if any.
std::optional<RejectReason> GetRejectReason(const absl::Status& status);

}  // namespace cairn::storage

#endif  // CAIRN_TSDB_STORAGE_APPEND_ERROR_H_
