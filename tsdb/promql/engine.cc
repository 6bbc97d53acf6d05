#include "tsdb/promql/engine.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tsdb/promql/evaluator.h"
#include "tsdb/promql/parser.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::promql {
namespace {

using internal::Grid;

int64_t ToMs(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

// The time span [*mint, *maxt] that evaluating `e` over evaluation times
// [start, end] reads from storage (Prometheus' FindMinMaxTime).
struct SpanWalker {
  int64_t lookback_ms;
  int64_t query_start, query_end;
  int64_t mint = std::numeric_limits<int64_t>::max();
  int64_t maxt = std::numeric_limits<int64_t>::min();

  void Refs(AtKind at, int64_t at_ms, int64_t offset, int64_t start, int64_t end, int64_t* lo,
            int64_t* hi) const {
    switch (at) {
      case AtKind::kNone:
        break;
      case AtKind::kTimestamp:
        *lo = *hi = at_ms - offset;
        return;
      case AtKind::kStart:
        *lo = *hi = query_start - offset;
        return;
      case AtKind::kEnd:
        *lo = *hi = query_end - offset;
        return;
    }
    *lo = start - offset;
    *hi = end - offset;
  }
  void Add(int64_t lo, int64_t hi) {
    mint = std::min(mint, lo);
    maxt = std::max(maxt, hi);
  }
  void Walk(const Expr& e, int64_t start, int64_t end) {
    int64_t lo = start, hi = end;
    switch (e.kind) {
      case ExprKind::kVectorSelector: {
        const auto& vs = e.As<VectorSelector>();
        Refs(vs.at, vs.at_ms, vs.offset_ms, start, end, &lo, &hi);
        Add(lo - lookback_ms, hi);
        return;
      }
      case ExprKind::kMatrixSelector: {
        const auto& ms = e.As<MatrixSelector>();
        Refs(ms.vs->at, ms.vs->at_ms, ms.vs->offset_ms, start, end, &lo, &hi);
        Add(lo - ms.range_ms, hi);
        return;
      }
      case ExprKind::kSubquery: {
        const auto& sq = e.As<SubqueryExpr>();
        Refs(sq.at, sq.at_ms, sq.offset_ms, start, end, &lo, &hi);
        Walk(*sq.expr, lo - sq.range_ms, hi);
        return;
      }
      case ExprKind::kParen:
        Walk(*e.As<ParenExpr>().expr, start, end);
        return;
      case ExprKind::kUnary:
        Walk(*e.As<UnaryExpr>().expr, start, end);
        return;
      case ExprKind::kBinary:
        Walk(*e.As<BinaryExpr>().lhs, start, end);
        Walk(*e.As<BinaryExpr>().rhs, start, end);
        return;
      case ExprKind::kAggregate:
        if (e.As<AggregateExpr>().param) Walk(*e.As<AggregateExpr>().param, start, end);
        Walk(*e.As<AggregateExpr>().expr, start, end);
        return;
      case ExprKind::kCall:
        for (const ExprPtr& a : e.As<Call>().args) Walk(*a, start, end);
        return;
      case ExprKind::kNumberLiteral:
      case ExprKind::kStringLiteral:
        return;
    }
  }
};

}  // namespace

std::string_view ErrorType(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "bad_data";
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnimplemented:
      return "execution";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kCancelled:
      return "canceled";
    default:
      return "internal";
  }
}

Engine::Engine(EngineOptions options) : options_(std::move(options)) {}

absl::StatusOr<Value> Engine::InstantQuery(storage::Queryable& queryable, std::string_view query,
                                           int64_t time_ms, const QueryControl& control) {
  return Exec(queryable, query, time_ms, time_ms, 1, /*instant=*/true, control);
}

absl::StatusOr<Value> Engine::RangeQuery(storage::Queryable& queryable, std::string_view query,
                                         int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                         const QueryControl& control) {
  if (step_ms <= 0) {
    return absl::InvalidArgumentError(
        "zero or negative query resolution step widths are not accepted. Try a positive "
        "integer");
  }
  if (end_ms < start_ms) {
    return absl::InvalidArgumentError("end timestamp must not be before start time");
  }
  return Exec(queryable, query, start_ms, end_ms, step_ms, /*instant=*/false, control);
}

EngineLimitHits Engine::limit_hits() const {
  EngineLimitHits h;
  h.max_samples = max_samples_hits_.load(std::memory_order_relaxed);
  h.timeout = timeout_hits_.load(std::memory_order_relaxed);
  h.queue_timeout = queue_timeout_hits_.load(std::memory_order_relaxed);
  return h;
}

absl::StatusOr<Value> Engine::Exec(storage::Queryable& queryable, std::string_view query,
                                   int64_t start_ms, int64_t end_ms, int64_t step_ms, bool instant,
                                   const QueryControl& control) {
  bool queue_timeout = false;
  absl::StatusOr<Value> v =
      ExecUncounted(queryable, query, start_ms, end_ms, step_ms, instant, control, &queue_timeout);
  if (queue_timeout) {
    queue_timeout_hits_.fetch_add(1, std::memory_order_relaxed);
  } else if (v.status().code() == absl::StatusCode::kDeadlineExceeded) {
    timeout_hits_.fetch_add(1, std::memory_order_relaxed);
  } else if (v.status().code() == absl::StatusCode::kResourceExhausted) {
    max_samples_hits_.fetch_add(1, std::memory_order_relaxed);
  }
  return v;
}

absl::StatusOr<Value> Engine::ExecUncounted(storage::Queryable& queryable, std::string_view query,
                                            int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                            bool instant, const QueryControl& control,
                                            bool* queue_timeout) {
  absl::StatusOr<ExprPtr> parsed = ParseExpr(query);
  if (!parsed.ok()) return parsed.status();
  const Expr& expr = **parsed;
  const ValueType type = expr.type();
  if (!instant && type != ValueType::kScalar && type != ValueType::kVector) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid expression type \"", Sv(DocumentedTypeName(type)),
                     "\" for range query, must be Scalar or instant Vector"));
  }

  const absl::Duration timeout = std::min(options_.timeout, control.timeout);
  const absl::Time deadline = absl::Now() + timeout;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto until = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
    if (!slot_freed_.wait_until(lock, until,
                                [&] { return running_ < options_.max_concurrent_queries; })) {
      *queue_timeout = true;
      // Prometheus' message, word for word (clients match on it).
      return absl::DeadlineExceededError("query timed out in query queue");
    }
    ++running_;
  }
  struct Release {
    Engine* e;
    ~Release() {
      {
        std::lock_guard<std::mutex> lock(e->mu_);
        --e->running_;
      }
      e->slot_freed_.notify_one();
    }
  } release{this};

  SpanWalker span{ToMs(options_.lookback_delta), start_ms, end_ms};
  span.Walk(expr, start_ms, end_ms);
  if (span.mint > span.maxt) {
    span.mint = start_ms;
    span.maxt = end_ms;
  }
  absl::StatusOr<std::unique_ptr<storage::Querier>> querier =
      queryable.NewQuerier(span.mint, span.maxt);
  if (!querier.ok()) return querier.status();

  internal::EvalOptions eo;
  eo.lookback_ms = ToMs(options_.lookback_delta);
  eo.max_samples = options_.max_samples;
  eo.default_step_ms = std::max<int64_t>(1, ToMs(options_.default_subquery_step));
  eo.deadline = deadline;
  eo.cancelled = control.cancelled;
  eo.query_start_ms = start_ms;
  eo.query_end_ms = end_ms;
  internal::Evaluator ev(querier->get(), eo);
  const Grid grid = Grid::Make(start_ms, end_ms, step_ms);

  Value out;
  if (type == ValueType::kMatrix) {
    absl::StatusOr<internal::RangeArg> r = ev.EvalRange(expr, grid);
    if (!r.ok()) return r.status();
    out.type = ValueType::kMatrix;
    const int64_t ref = r->windows.refs[0];
    for (MatrixSeries& s : r->series) {
      auto& p = s.points;
      p.erase(std::remove_if(
                  p.begin(), p.end(),
                  [&](const Sample& x) { return x.t < ref - r->windows.range_ms || x.t > ref; }),
              p.end());
      if (!p.empty()) out.matrix.push_back(std::move(s));
    }
    return out;
  }
  absl::StatusOr<internal::StepValue> v = ev.Eval(expr, grid);
  if (!v.ok()) return v.status();
  switch (type) {
    case ValueType::kString:
      out.type = ValueType::kString;
      out.string_t = start_ms;
      out.string_value = std::move(v->str);
      return out;
    case ValueType::kScalar:
      if (instant) {
        out.type = ValueType::kScalar;
        out.scalar = Sample{start_ms, v->scalar[0]};
        return out;
      }
      out.type = ValueType::kMatrix;
      out.matrix.emplace_back();
      for (size_t i = 0; i < grid.n; ++i) {
        out.matrix.back().points.push_back({grid.T(i), v->scalar[i]});
      }
      return out;
    default:
      break;
  }
  if (instant) {
    out.type = ValueType::kVector;
    out.vector.reserve(v->series.size());
    for (internal::StepSeries& s : v->series) {
      if (internal::IsAbsent(s.v[0])) continue;
      out.vector.push_back(VectorSample{std::move(s.labels), start_ms, s.v[0]});
    }
    return out;
  }
  out.type = ValueType::kMatrix;
  int64_t points = 0;
  for (internal::StepSeries& s : v->series) {
    MatrixSeries ms;
    ms.labels = std::move(s.labels);
    size_t present = 0;
    for (double x : s.v) present += internal::IsAbsent(x) ? 0 : 1;
    ms.points.reserve(present);
    for (size_t i = 0; i < grid.n; ++i) {
      if (!internal::IsAbsent(s.v[i])) ms.points.push_back({grid.T(i), s.v[i]});
    }
    if (ms.points.empty()) continue;
    points += static_cast<int64_t>(ms.points.size());
    out.matrix.push_back(std::move(ms));
  }
  if (absl::Status st = ev.AddSamples(points); !st.ok()) return st;
  std::sort(out.matrix.begin(), out.matrix.end(),
            [](const MatrixSeries& a, const MatrixSeries& b) { return a.labels < b.labels; });
  return out;
}

}  // namespace cairn::promql
