// Status propagation macros used across the tsdb modules.
//
//   CAIRN_RETURN_IF_ERROR(file->Sync());
//   CAIRN_ASSIGN_OR_RETURN(auto reader, Reader::Open(path));
//
// Both evaluate their argument exactly once.
#ifndef CAIRN_TSDB_UTIL_STATUS_MACROS_H_
#define CAIRN_TSDB_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <string_view>

#define CAIRN_RETURN_IF_ERROR(expr)                                    \
  do {                                                                 \
    ::absl::Status cairn_status_ = (expr);                             \
    if (ABSL_PREDICT_FALSE(!cairn_status_.ok())) return cairn_status_; \
  } while (0)

#define CAIRN_STATUS_CONCAT_INNER_(a, b) a##b
#define CAIRN_STATUS_CONCAT_(a, b) CAIRN_STATUS_CONCAT_INNER_(a, b)

#define CAIRN_ASSIGN_OR_RETURN(lhs, rexpr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL_(CAIRN_STATUS_CONCAT_(cairn_statusor_, __LINE__), lhs, rexpr)

#define CAIRN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)                     \
  auto statusor = (rexpr);                                                     \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

namespace cairn {

// Returns `status` with `context + ": "` prepended to its message, keeping the code.
// Used to add the object a failure concerns at each layer
// ("wal segment 000012 offset 65536: record checksum mismatch").
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace cairn

#endif  // CAIRN_TSDB_UTIL_STATUS_MACROS_H_
