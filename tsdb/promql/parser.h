// PromQL parser: query text to the AST of ast.h, with Prometheus 2.42's grammar,
// operator precedence, type checking and error messages.
//
//   CAIRN_ASSIGN_OR_RETURN(promql::ExprPtr expr, promql::ParseExpr("sum(rate(x[5m]))"));
//   if (expr->type() != promql::ValueType::kVector) ...
//
// Errors are kInvalidArgument with Prometheus' text, e.g.
// "1:14: parse error: unexpected <op:*>" (line:column of the offending byte,
// both 1-based). Like Prometheus, only the first error is reported.
//
// Thread-safety: all functions are pure and may run concurrently.
#ifndef CAIRN_TSDB_PROMQL_PARSER_H_
#define CAIRN_TSDB_PROMQL_PARSER_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tsdb/model/matcher.h"
#include "tsdb/promql/ast.h"

namespace cairn::promql {

absl::StatusOr<ExprPtr> ParseExpr(std::string_view input);

// A bare vector selector (`foo{a="b"}`, `{__name__=~"x.*"}`), as the HTTP API's
// match[] takes. The matchers include `__name__` when the name is given outside
// the braces. Unlike ParseExpr, `{}` is not refused here.
absl::StatusOr<std::vector<Matcher>> ParseMetricSelector(std::string_view input);

// Prometheus' model.ParseDuration: "1h30m", "5m", "1y", "500ms", "0" -> milliseconds.
// Units y w d h m s ms, in that order, each at most once.
absl::StatusOr<int64_t> ParseDuration(std::string_view s);

}  // namespace cairn::promql

#endif  // CAIRN_TSDB_PROMQL_PARSER_H_
