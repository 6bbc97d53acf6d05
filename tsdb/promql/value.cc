#include "tsdb/promql/value.h"

#include "absl/strings/str_cat.h"

namespace cairn::promql {

std::string Value::DebugString() const {
  std::string out;
  switch (type) {
    case ValueType::kScalar:
      return absl::StrCat("scalar: ", FormatFloat(scalar.v), " @[", scalar.t, "]");
    case ValueType::kString:
      return absl::StrCat("string: ", string_value, " @[", string_t, "]");
    case ValueType::kVector:
      for (const VectorSample& s : vector) {
        absl::StrAppend(&out, s.labels.ToString(), " => ", FormatFloat(s.v), " @[", s.t, "]\n");
      }
      return out;
    case ValueType::kMatrix:
      for (const MatrixSeries& s : matrix) {
        absl::StrAppend(&out, s.labels.ToString(), " =>\n");
        for (const Sample& p : s.points) {
          absl::StrAppend(&out, FormatFloat(p.v), " @[", p.t, "]\n");
        }
      }
      return out;
    default:
      return "none";
  }
}

}  // namespace cairn::promql
