#include "tsdb/util/status_macros.h"

#include "absl/strings/str_cat.h"
#include "tsdb/util/absl_compat.h"

namespace cairn {

absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(Sv(context), ": ", status.message()));
}

}  // namespace cairn
