// Query results: what Engine::InstantQuery / RangeQuery return, in the four shapes of
// Prometheus' promql.Value — a scalar, a string, an instant vector (one sample per
// series at the evaluation time) or a matrix (a list of points per series).
//
// A Value owns all its data (labels are copied out of storage), so it outlives the
// Querier it was computed from. Thread-safety: plain data, no internal locking.
#ifndef CAIRN_TSDB_PROMQL_VALUE_H_
#define CAIRN_TSDB_PROMQL_VALUE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tsdb/model/labels.h"
#include "tsdb/model/sample.h"
#include "tsdb/promql/ast.h"

namespace cairn::promql {

// One element of an instant vector.
struct VectorSample {
  Labels labels;
  int64_t t = 0;  // milliseconds; the evaluation time
  double v = 0;
};

// One series of a matrix: points in increasing time order.
struct MatrixSeries {
  Labels labels;
  std::vector<Sample> points;
};

struct Value {
  // kScalar, kString, kVector or kMatrix.
  ValueType type = ValueType::kNone;
  Sample scalar{0, 0};               // kScalar
  int64_t string_t = 0;              // kString: the evaluation time
  std::string string_value;          // kString
  std::vector<VectorSample> vector;  // kVector, in evaluation order (sorted by sort())
  std::vector<MatrixSeries> matrix;  // kMatrix, sorted by labels for range queries

  // Prometheus' String() of a value, for tests and debugging, e.g.
  // "{__name__=\"up\"} => 1 @[1000]" per vector element.
  std::string DebugString() const;
};

}  // namespace cairn::promql

#endif  // CAIRN_TSDB_PROMQL_VALUE_H_
