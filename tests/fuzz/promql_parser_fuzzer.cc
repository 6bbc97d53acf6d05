// Fuzz target: the PromQL parser and printer. Any input must parse or fail with a
// status; a parsed expression must print, and the printed form must parse again.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tsdb/promql/ast.h"
#include "tsdb/promql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto expr = cairn::promql::ParseExpr(in);
  if (expr.ok()) {
    std::string printed = cairn::promql::ToString(**expr);
    auto again = cairn::promql::ParseExpr(printed);
    if (!again.ok()) std::abort();  // the printer produced something unparsable
  }
  (void)cairn::promql::ParseMetricSelector(in);
  (void)cairn::promql::ParseDuration(in);
  return 0;
}
