#include "tsdb/storage/append_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::storage {
namespace {
constexpr std::string_view kPayloadUrl = "cairn.dev/reject_reason";
}  // namespace

std::string_view RejectReasonName(RejectReason r) {
  switch (r) {
    case RejectReason::kOutOfOrder:
      return "out_of_order";
    case RejectReason::kDuplicate:
      return "duplicate";
    case RejectReason::kTooOld:
      return "too_old";
    case RejectReason::kInvalidLabels:
      return "invalid_labels";
    case RejectReason::kLimit:
      return "limit";
  }
  return "unknown";
}

absl::Status RejectedSampleError(RejectReason reason, const Labels& labels, int64_t t_ms,
                                 std::string_view detail) {
  std::string msg;
  switch (reason) {
    case RejectReason::kOutOfOrder:
      msg = "out of order sample";
      break;
    case RejectReason::kDuplicate:
      msg = "duplicate sample for timestamp";
      break;
    case RejectReason::kTooOld:
      msg = "out of bounds";
      break;
    case RejectReason::kInvalidLabels:
      msg = "invalid labels";
      break;
    case RejectReason::kLimit:
      msg = "limit reached";
      break;
  }
  absl::StrAppend(&msg, " for series ", labels.ToString(), " at timestamp ", t_ms);
  if (!detail.empty()) absl::StrAppend(&msg, ": ", Sv(detail));
  absl::StatusCode code = absl::StatusCode::kOutOfRange;
  if (reason == RejectReason::kInvalidLabels) code = absl::StatusCode::kInvalidArgument;
  if (reason == RejectReason::kLimit) code = absl::StatusCode::kResourceExhausted;
  absl::Status status(code, msg);
  status.SetPayload(Sv(kPayloadUrl), absl::Cord(std::string(1, static_cast<char>(reason))));
  return status;
}

std::optional<RejectReason> GetRejectReason(const absl::Status& status) {
  auto payload = status.GetPayload(Sv(kPayloadUrl));
  if (!payload.has_value() || payload->size() != 1) return std::nullopt;
  int r = static_cast<unsigned char>(std::string(*payload)[0]);
  if (r >= kRejectReasonCount) return std::nullopt;
  return static_cast<RejectReason>(r);
}

}  // namespace cairn::storage
