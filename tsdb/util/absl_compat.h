// Bridges std::string_view and absl::string_view.
//
// Debian 12's Abseil (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so
// absl::string_view is its own class and absl::StrCat/StrAppend/StrJoin/StrSplit do
// not accept std::string_view. Cairn's APIs use std::string_view (C++20 vocabulary);
// wrap a std::string_view in Sv() where it meets those functions:
//   absl::StrCat("segment ", Sv(name), ": ", status.message())
// absl::StrFormat("%s", std_view) works without a wrapper. Likewise absl::optional is
// not std::optional (Status::GetPayload returns absl::optional): use `auto`.
#ifndef CAIRN_TSDB_UTIL_ABSL_COMPAT_H_
#define CAIRN_TSDB_UTIL_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace cairn {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view StdSv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace cairn

#endif  // CAIRN_TSDB_UTIL_ABSL_COMPAT_H_
