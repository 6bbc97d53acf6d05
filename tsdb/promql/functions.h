// The PromQL function table of Prometheus 2.42 (promql/parser/functions.go):
// each function's name, argument types, variadic rule and return type. The
// parser type-checks calls against it; the evaluator keys its implementations
// on Function::id.
//
// Thread-safety: the table is a static constant.
#ifndef CAIRN_TSDB_PROMQL_FUNCTIONS_H_
#define CAIRN_TSDB_PROMQL_FUNCTIONS_H_

#include <string_view>
#include <vector>

#include "tsdb/promql/ast.h"

namespace cairn::promql {

struct Function {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types.size() arguments. 1: the last one may be omitted.
  // -1: the last one repeats any number of times (label_join), at least
  // arg_types.size() - 1 arguments.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  int id = 0;  // index in AllFunctions()
};

// nullptr when `name` is not a PromQL function (names are case-sensitive).
const Function* LookupFunction(std::string_view name);

const std::vector<Function>& AllFunctions();

}  // namespace cairn::promql

#endif  // CAIRN_TSDB_PROMQL_FUNCTIONS_H_
