// Evaluator core: dispatch, selectors, subqueries, unary operators and the helpers
// the other eval_*.cc files share.
#include "tsdb/promql/evaluator.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::promql::internal {

absl::Status EvalError(std::string msg) { return absl::FailedPreconditionError(msg); }

Labels DropMetricName(const Labels& ls) {
  if (!ls.Has(kMetricNameLabel)) return ls;
  return FilterLabels(ls, [](std::string_view n) { return n != kMetricNameLabel; });
}

void DropEmpty(std::vector<StepSeries>* series) {
  auto has_value = [](const StepSeries& s) {
    for (double v : s.v) {
      if (!IsAbsent(v)) return true;
    }
    return false;
  };
  series->erase(std::remove_if(series->begin(), series->end(),
                               [&](const StepSeries& s) { return !has_value(s); }),
                series->end());
}

bool ContainsSameLabelset(const std::vector<StepSeries>& series) {
  if (series.size() < 2) return false;
  absl::flat_hash_map<std::string, int> seen;
  seen.reserve(series.size());
  for (const StepSeries& s : series) {
    if (!seen.emplace(s.labels.encoded(), 0).second) return true;
  }
  return false;
}

absl::Status MergeSameLabels(std::vector<StepSeries>* series, size_t n) {
  if (series->size() < 2) return absl::OkStatus();
  absl::flat_hash_map<std::string, size_t> first;
  first.reserve(series->size());
  std::vector<StepSeries> out;
  out.reserve(series->size());
  for (StepSeries& s : *series) {
    auto [it, inserted] = first.emplace(s.labels.encoded(), out.size());
    if (inserted) {
      out.push_back(std::move(s));
      continue;
    }
    StepSeries& dst = out[it->second];
    for (size_t i = 0; i < n; ++i) {
      if (IsAbsent(s.v[i])) continue;
      if (!IsAbsent(dst.v[i])) {
        if (n == 1) return EvalError("vector cannot contain metrics with the same labelset");
        continue;
      }
      dst.v[i] = s.v[i];
      if (!s.ts.empty() && !dst.ts.empty()) dst.ts[i] = s.ts[i];
    }
  }
  *series = std::move(out);
  return absl::OkStatus();
}

absl::Status Evaluator::AddSamples(int64_t n) {
  samples_ += n;
  if (samples_ > opts_.max_samples) {
    return absl::ResourceExhaustedError(
        "query processing would load too many samples into memory in query execution");
  }
  return absl::OkStatus();
}

absl::Status Evaluator::CheckInterrupt() {
  // Reading the clock per series is cheap next to decoding its samples, but not per
  // step; every 64th call keeps the overhead negligible.
  if ((++interrupt_counter_ & 63) != 0) return absl::OkStatus();
  if (opts_.cancelled != nullptr && opts_.cancelled->load(std::memory_order_relaxed)) {
    return absl::CancelledError("query was canceled in expression evaluation");
  }
  if (absl::Now() > opts_.deadline) {
    return absl::DeadlineExceededError("query timed out in expression evaluation");
  }
  return absl::OkStatus();
}

int64_t Evaluator::RefTime(AtKind at, int64_t at_ms, int64_t offset_ms, const Grid& g,
                           size_t i) const {
  switch (at) {
    case AtKind::kNone:
      return g.T(i) - offset_ms;
    case AtKind::kTimestamp:
      return at_ms - offset_ms;
    case AtKind::kStart:
      return opts_.query_start_ms - offset_ms;
    case AtKind::kEnd:
      return opts_.query_end_ms - offset_ms;
  }
  return g.T(i) - offset_ms;
}

namespace {

// Drains `series`' samples into `out`, dropping stale markers when asked.
absl::Status LoadSamples(const storage::Series& series, std::unique_ptr<SampleIterator>* it,
                         bool keep_stale, std::vector<Sample>* out) {
  out->clear();
  *it = series.Iterator(std::move(*it));
  SampleIterator* i = it->get();
  // Decoded a batch at a time straight into `out`, then filtered in place.
  constexpr size_t kBatch = 256;
  size_t got;
  do {
    const size_t base = out->size();
    out->resize(base + kBatch);
    Sample* s = out->data() + base;
    got = i->NextBatch(s, kBatch);
    size_t kept = 0;
    for (size_t j = 0; j < got; ++j) {
      uint64_t bits = std::bit_cast<uint64_t>(s[j].v);
      if (bits == kStaleNaNBits && !keep_stale) continue;
      if (bits == kAbsentBits) s[j].v = std::bit_cast<double>(kNormalNaNBits);
      s[kept++] = s[j];
    }
    out->resize(base + kept);
  } while (got == kBatch);
  return i->status();
}

}  // namespace

absl::StatusOr<StepValue> Evaluator::EvalVectorSelector(const VectorSelector& vs, const Grid& g,
                                                        bool with_timestamps) {
  StepValue out;
  out.type = ValueType::kVector;
  if (g.n == 0) return out;
  int64_t first_ref = RefTime(vs.at, vs.at_ms, vs.offset_ms, g, 0);
  int64_t last_ref = RefTime(vs.at, vs.at_ms, vs.offset_ms, g, g.n - 1);
  std::unique_ptr<storage::SeriesSet> set =
      querier_->Select(first_ref - opts_.lookback_ms, last_ref, vs.matchers);
  std::vector<Sample> buf;
  std::unique_ptr<SampleIterator> it;
  std::vector<int64_t> refs(g.n);
  for (size_t i = 0; i < g.n; ++i) refs[i] = RefTime(vs.at, vs.at_ms, vs.offset_ms, g, i);
  while (set->Next()) {
    const storage::Series& s = set->At();
    absl::Status st = LoadSamples(s, &it, /*keep_stale=*/true, &buf);
    if (!st.ok()) return st;
    if (buf.empty()) continue;
    if (absl::Status st = AddSamples(static_cast<int64_t>(buf.size())); !st.ok()) return st;
    if (absl::Status st = CheckInterrupt(); !st.ok()) return st;
    StepSeries row;
    row.v.assign(g.n, Absent());
    if (with_timestamps) row.ts.assign(g.n, 0);
    bool any = false;
    size_t j = 0;  // first sample after the current reference time
    for (size_t i = 0; i < g.n; ++i) {
      int64_t ref = refs[i];
      while (j < buf.size() && buf[j].t <= ref) ++j;
      if (j == 0) continue;
      const Sample& smp = buf[j - 1];
      if (smp.t < ref - opts_.lookback_ms || IsStaleNaN(smp.v)) continue;
      row.v[i] = smp.v;
      if (with_timestamps) row.ts[i] = smp.t;
      any = true;
    }
    if (!any) continue;
    int64_t points = 0;
    for (double x : row.v) points += IsAbsent(x) ? 0 : 1;
    if (absl::Status st = AddSamples(points); !st.ok()) return st;
    row.labels = s.labels();
    out.series.push_back(std::move(row));
  }
  if (!set->status().ok()) return set->status();
  return out;
}

absl::StatusOr<StepValue> Evaluator::EvalSubqueryInner(const SubqueryExpr& sq, const Grid& g,
                                                       Grid* inner) {
  int64_t first_ref = RefTime(sq.at, sq.at_ms, sq.offset_ms, g, 0);
  int64_t last_ref = RefTime(sq.at, sq.at_ms, sq.offset_ms, g, g.n - 1);
  int64_t step = sq.step_ms > 0 ? sq.step_ms : opts_.default_step_ms;
  // The first timestamp at or after first_ref - range that is a multiple of the step,
  // as Prometheus aligns subquery steps to absolute time.
  int64_t lo = first_ref - sq.range_ms;
  int64_t start = step * (lo / step);
  if (start < lo) start += step;
  if (last_ref < start) {
    *inner = Grid{start, start, step, 0};
    StepValue empty;
    empty.type = sq.expr->type();
    return empty;
  }
  *inner = Grid::Make(start, last_ref, step);
  return Eval(*sq.expr, *inner);
}

absl::Status Evaluator::ForEachRangeSeries(const Expr& e, const Grid& g, RangeWindows* w,
                                           const RangeSeriesFn& fn) {
  const Expr* x = &e;
  while (x->kind == ExprKind::kParen) x = x->As<ParenExpr>().expr.get();
  w->refs.resize(g.n);
  if (x->kind == ExprKind::kMatrixSelector) {
    const auto& ms = x->As<MatrixSelector>();
    const VectorSelector& vs = *ms.vs;
    w->range_ms = ms.range_ms;
    for (size_t i = 0; i < g.n; ++i) w->refs[i] = RefTime(vs.at, vs.at_ms, vs.offset_ms, g, i);
    if (g.n == 0) return absl::OkStatus();
    std::unique_ptr<storage::SeriesSet> set =
        querier_->Select(w->refs.front() - ms.range_ms, w->refs.back(), vs.matchers);
    std::vector<Sample> buf;
    std::unique_ptr<SampleIterator> it;
    while (set->Next()) {
      const storage::Series& s = set->At();
      if (absl::Status st = LoadSamples(s, &it, /*keep_stale=*/false, &buf); !st.ok()) return st;
      if (buf.empty()) continue;
      if (absl::Status st = AddSamples(static_cast<int64_t>(buf.size())); !st.ok()) return st;
      if (absl::Status st = CheckInterrupt(); !st.ok()) return st;
      if (absl::Status st = fn(s.labels(), buf); !st.ok()) return st;
    }
    return set->status();
  }
  if (x->kind != ExprKind::kSubquery) {
    return absl::InternalError("range argument is neither a matrix selector nor a subquery");
  }
  const auto& sq = x->As<SubqueryExpr>();
  w->range_ms = sq.range_ms;
  for (size_t i = 0; i < g.n; ++i) w->refs[i] = RefTime(sq.at, sq.at_ms, sq.offset_ms, g, i);
  if (g.n == 0) return absl::OkStatus();
  Grid inner;
  absl::StatusOr<StepValue> v = EvalSubqueryInner(sq, g, &inner);
  if (!v.ok()) return v.status();
  std::vector<Sample> buf;
  if (v->type == ValueType::kScalar) {
    // A scalar subquery, e.g. (time())[5m:1m], is one series without labels.
    for (size_t i = 0; i < inner.n; ++i) buf.push_back({inner.T(i), v->scalar[i]});
    if (buf.empty()) return absl::OkStatus();
    return fn(Labels(), buf);
  }
  for (StepSeries& s : v->series) {
    buf.clear();
    for (size_t i = 0; i < inner.n; ++i) {
      if (!IsAbsent(s.v[i])) buf.push_back({inner.T(i), s.v[i]});
    }
    if (buf.empty()) continue;
    if (absl::Status st = fn(s.labels, buf); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<RangeArg> Evaluator::EvalRange(const Expr& e, const Grid& g) {
  RangeArg out;
  absl::Status st = ForEachRangeSeries(e, g, &out.windows,
                                       [&](const Labels& ls, const std::vector<Sample>& points) {
                                         out.series.push_back(MatrixSeries{ls, points});
                                         return absl::OkStatus();
                                       });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<StepValue> Evaluator::EvalUnary(const UnaryExpr& e, const Grid& g) {
  absl::StatusOr<StepValue> v = Eval(*e.expr, g);
  if (!v.ok() || !e.negate) return v;
  if (v->type == ValueType::kScalar) {
    for (double& x : v->scalar) x = -x;
    return v;
  }
  for (StepSeries& s : v->series) {
    s.labels = DropMetricName(s.labels);
    for (double& x : s.v) {
      if (!IsAbsent(x)) x = -x;
    }
  }
  if (ContainsSameLabelset(v->series)) {
    return EvalError("vector cannot contain metrics with the same labelset");
  }
  return v;
}

absl::StatusOr<StepValue> Evaluator::Eval(const Expr& e, const Grid& g) {
  if (absl::Status st = CheckInterrupt(); !st.ok()) return st;
  switch (e.kind) {
    case ExprKind::kNumberLiteral: {
      StepValue v;
      v.type = ValueType::kScalar;
      v.scalar.assign(g.n, e.As<NumberLiteral>().value);
      return v;
    }
    case ExprKind::kStringLiteral: {
      StepValue v;
      v.type = ValueType::kString;
      v.str = e.As<StringLiteral>().value;
      return v;
    }
    case ExprKind::kParen:
      return Eval(*e.As<ParenExpr>().expr, g);
    case ExprKind::kVectorSelector:
      return EvalVectorSelector(e.As<VectorSelector>(), g, false);
    case ExprKind::kUnary:
      return EvalUnary(e.As<UnaryExpr>(), g);
    case ExprKind::kBinary:
      return EvalBinary(e.As<BinaryExpr>(), g);
    case ExprKind::kAggregate:
      return EvalAggregate(e.As<AggregateExpr>(), g);
    case ExprKind::kCall:
      return EvalCall(e.As<Call>(), g);
    case ExprKind::kMatrixSelector:
    case ExprKind::kSubquery:
      break;
  }
  return absl::InternalError(absl::StrCat("cannot evaluate a range vector here: ", ToString(e)));
}

}  // namespace cairn::promql::internal
