// Evaluator: computes one PromQL expression over a grid of evaluation times in a
// single pass per AST node. Internal to the engine (engine.h is the API).
//
// Representation: every instant-vector node evaluates to a list of StepSeries —
// a label set plus one value per step of the grid, with kAbsent marking steps where
// the series has no sample. Labels are thus computed once per series rather than
// once per step, selectors read each series' samples once, and range functions slide
// a window over those samples as the steps advance (work proportional to samples,
// not steps × window). An instant query is the grid with one step.
//
// Semantics follow Prometheus 2.42's promql/engine.go (float samples only).
//
// Thread-safety: one Evaluator per query, used by one thread.
#ifndef CAIRN_TSDB_PROMQL_EVALUATOR_H_
#define CAIRN_TSDB_PROMQL_EVALUATOR_H_

#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tsdb/model/labels.h"
#include "tsdb/model/sample.h"
#include "tsdb/promql/ast.h"
#include "tsdb/promql/value.h"
#include "tsdb/storage/querier.h"
#include "tsdb/util/coding.h"

namespace cairn::promql::internal {

// A signalling NaN with a payload no arithmetic produces (operations quiet NaNs), so
// it can mark "no sample at this step" inside a dense row of doubles. Values read
// from storage with these exact bits are normalised to an ordinary NaN.
inline constexpr uint64_t kAbsentBits = 0x7ff4a05e17ab5e17ULL;
inline double Absent() { return std::bit_cast<double>(kAbsentBits); }
inline bool IsAbsent(double v) { return std::bit_cast<uint64_t>(v) == kAbsentBits; }

// Evaluation times start, start+step, ..., end (all milliseconds).
struct Grid {
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 1;
  size_t n = 1;
  int64_t T(size_t i) const { return start + static_cast<int64_t>(i) * step; }
  static Grid Make(int64_t start, int64_t end, int64_t step) {
    Grid g{start, end, step, static_cast<size_t>((end - start) / step) + 1};
    return g;
  }
};

struct StepSeries {
  Labels labels;
  std::vector<double> v;  // grid.n values, Absent() where missing
  // Sample timestamps per step; filled only for a vector selector evaluated as the
  // argument of timestamp().
  std::vector<int64_t> ts;
};

// The value of one node over the grid.
struct StepValue {
  ValueType type = ValueType::kNone;
  std::vector<double> scalar;        // kScalar: grid.n values
  std::vector<StepSeries> series;    // kVector
  std::string str;                   // kString
  std::vector<MatrixSeries> matrix;  // kMatrix (only as a query's result)
};

// The windows [ref - range, ref] a range argument (matrix selector or subquery) is
// read through, ref = (step time or @) - offset.
struct RangeWindows {
  int64_t range_ms = 0;
  std::vector<int64_t> refs;  // per step
};

// Series samples of a range argument, stale markers removed.
struct RangeArg {
  std::vector<MatrixSeries> series;
  RangeWindows windows;
};

// Called per series of a range argument; `points` is valid only during the call.
using RangeSeriesFn =
    std::function<absl::Status(const Labels& labels, const std::vector<Sample>& points)>;

struct EvalOptions {
  int64_t lookback_ms = 5 * 60 * 1000;
  int64_t max_samples = 50'000'000;
  int64_t default_step_ms = 60 * 1000;
  absl::Time deadline = absl::InfiniteFuture();
  const std::atomic<bool>* cancelled = nullptr;
  int64_t query_start_ms = 0;  // for start() in @
  int64_t query_end_ms = 0;    // for end() in @
};

class Evaluator {
 public:
  Evaluator(const storage::Querier* querier, const EvalOptions& options)
      : querier_(querier), opts_(options) {}

  absl::StatusOr<StepValue> Eval(const Expr& e, const Grid& g);
  // The raw samples of a matrix selector or subquery, for an instant query whose
  // result is a range vector.
  absl::StatusOr<RangeArg> EvalRange(const Expr& e, const Grid& g);
  // Streams the series of a range argument one at a time (no copy of the samples).
  absl::Status ForEachRangeSeries(const Expr& e, const Grid& g, RangeWindows* windows,
                                  const RangeSeriesFn& fn);

  // Limits: counts samples held for the query against max_samples.
  absl::Status AddSamples(int64_t n);
  absl::Status CheckInterrupt();

 private:
  absl::StatusOr<StepValue> EvalVectorSelector(const VectorSelector& vs, const Grid& g,
                                               bool with_timestamps);
  absl::StatusOr<StepValue> EvalSubqueryInner(const SubqueryExpr& sq, const Grid& g, Grid* inner);
  absl::StatusOr<StepValue> EvalUnary(const UnaryExpr& e, const Grid& g);
  absl::StatusOr<StepValue> EvalBinary(const BinaryExpr& e, const Grid& g);
  absl::StatusOr<StepValue> EvalAggregate(const AggregateExpr& e, const Grid& g);
  absl::StatusOr<StepValue> EvalCall(const Call& e, const Grid& g);
  absl::StatusOr<StepValue> EvalRangeFunction(const Call& e, const Grid& g, int matrix_arg);
  absl::StatusOr<StepValue> EvalCountValues(const AggregateExpr& e, const StepValue& in,
                                            const std::string& label, const Grid& g);
  absl::StatusOr<StepValue> EvalTopBottomK(const AggregateExpr& e, StepValue in,
                                           const std::vector<double>& param, const Grid& g);

  // Reference time of a selector at step i (@ and offset applied).
  int64_t RefTime(AtKind at, int64_t at_ms, int64_t offset_ms, const Grid& g, size_t i) const;

  const storage::Querier* querier_;
  EvalOptions opts_;
  int64_t samples_ = 0;
  uint32_t interrupt_counter_ = 0;
};

// Merges series with equal label sets (after an operation changed labels). When two
// of them have a value at the same step that is Prometheus' "vector cannot contain
// metrics with the same labelset": an error for a single-step grid; on a longer grid
// Prometheus silently keeps both points, Cairn the first.
absl::Status MergeSameLabels(std::vector<StepSeries>* series, size_t n);
// Whether two series share a label set (Prometheus' Matrix.ContainsSameLabelset).
bool ContainsSameLabelset(const std::vector<StepSeries>& series);
// Removes series with no value at any step.
void DropEmpty(std::vector<StepSeries>* series);
Labels DropMetricName(const Labels& ls);

// The labels of `ls` whose names satisfy `keep`, re-encoded directly (no builder, one
// allocation): used per series by grouping and matching.
template <typename Pred>
Labels FilterLabels(const Labels& ls, Pred keep) {
  std::string enc;
  enc.reserve(ls.encoded().size());
  for (const Label& l : ls) {
    if (!keep(l.name)) continue;
    PutVarint64(&enc, l.name.size());
    enc.append(l.name);
    PutVarint64(&enc, l.value.size());
    enc.append(l.value);
  }
  return Labels::FromEncoded(std::move(enc));
}

absl::Status EvalError(std::string msg);  // "execution" errors (kFailedPrecondition)

}  // namespace cairn::promql::internal

#endif  // CAIRN_TSDB_PROMQL_EVALUATOR_H_
