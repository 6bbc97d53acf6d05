// PromQL abstract syntax tree, as produced by ParseExpr (parser.h).
//
// Nodes are plain structs tagged with an ExprKind so the evaluator can switch on
// `kind` and static_cast (via As<T>()) instead of paying for dynamic_cast or a
// visitor. Every child is owned by a std::unique_ptr; the tree is immutable after
// parsing and may be read from any number of threads. Types are fixed at parse
// time (Expr::type()), and the parser's type checker guarantees the invariants
// the evaluator relies on (e.g. rate() receives a MatrixSelector or SubqueryExpr,
// BinaryExpr operands are scalars or instant vectors).
//
// Positions are byte offsets into the query text, as in Prometheus' posrange.
#ifndef CAIRN_TSDB_PROMQL_AST_H_
#define CAIRN_TSDB_PROMQL_AST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tsdb/model/matcher.h"

namespace cairn::promql {

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };

// "scalar", "vector", "matrix", "string", "none" (Prometheus' ValueType.String()).
std::string_view ValueTypeName(ValueType t);
// As in error messages: "instant vector", "range vector", else ValueTypeName.
std::string_view DocumentedTypeName(ValueType t);

enum class ExprKind {
  kNumberLiteral,
  kStringLiteral,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kParen,
  kUnary,
  kBinary,
  kAggregate,
  kCall,
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEql,
  kNeq,
  kLte,
  kLss,
  kGte,
  kGtr,  // comparisons
  kAnd,
  kOr,
  kUnless,  // set operators
};
std::string_view BinaryOpName(BinaryOp op);  // "+", "==", "and", "atan2", ...
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);

enum class AggregateOp {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};
std::string_view AggregateOpName(AggregateOp op);  // "sum", "count_values", ...
// topk, bottomk, quantile and count_values take a parameter before the vector.
bool AggregateTakesParam(AggregateOp op);

// Half-open byte range [start, end) of a node in the query text.
struct PosRange {
  int start = 0;
  int end = 0;
};

struct Function;  // functions.h

struct Expr {
  explicit Expr(ExprKind k) : kind(k) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  ValueType type() const;

  template <typename T>
  const T& As() const {
    return static_cast<const T&>(*this);
  }
  template <typename T>
  T& As() {
    return static_cast<T&>(*this);
  }

  const ExprKind kind;
  PosRange pos;
};

using ExprPtr = std::unique_ptr<Expr>;

struct NumberLiteral : Expr {
  NumberLiteral() : Expr(ExprKind::kNumberLiteral) {}
  double value = 0;
};

struct StringLiteral : Expr {
  StringLiteral() : Expr(ExprKind::kStringLiteral) {}
  std::string value;  // unquoted
};

// Where an @ modifier pins evaluation.
enum class AtKind { kNone, kTimestamp, kStart, kEnd };

struct VectorSelector : Expr {
  VectorSelector() : Expr(ExprKind::kVectorSelector) {}
  // The metric name when written outside the braces; "" otherwise.
  std::string name;
  // Every matcher to send to storage, including `__name__="<name>"` (last) when
  // `name` is set, as Prometheus does.
  std::vector<Matcher> matchers;
  int64_t offset_ms = 0;  // may be negative
  AtKind at = AtKind::kNone;
  int64_t at_ms = 0;  // valid when at == kTimestamp
};

struct MatrixSelector : Expr {
  MatrixSelector() : Expr(ExprKind::kMatrixSelector) {}
  std::unique_ptr<VectorSelector> vs;  // carries offset and @
  int64_t range_ms = 0;
};

struct SubqueryExpr : Expr {
  SubqueryExpr() : Expr(ExprKind::kSubquery) {}
  ExprPtr expr;
  int64_t range_ms = 0;
  int64_t step_ms = 0;  // 0: the engine's default evaluation interval
  int64_t offset_ms = 0;
  AtKind at = AtKind::kNone;
  int64_t at_ms = 0;
};

struct ParenExpr : Expr {
  ParenExpr() : Expr(ExprKind::kParen) {}
  ExprPtr expr;
};

struct UnaryExpr : Expr {
  UnaryExpr() : Expr(ExprKind::kUnary) {}
  bool negate = false;  // '-' (true) or '+'
  ExprPtr expr;
};

enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  bool on = false;                   // on(...) rather than ignoring(...)
  std::vector<std::string> labels;   // the on/ignoring list
  std::vector<std::string> include;  // group_left/group_right extra labels
};

struct BinaryExpr : Expr {
  BinaryExpr() : Expr(ExprKind::kBinary) {}
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  bool return_bool = false;
  // Set only when both operands are instant vectors (as in Prometheus, where
  // VectorMatching is nil otherwise). Set operators always have kManyToMany.
  bool has_matching = false;
  VectorMatching matching;
};

struct AggregateExpr : Expr {
  AggregateExpr() : Expr(ExprKind::kAggregate) {}
  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // null unless AggregateTakesParam(op)
  std::vector<std::string> grouping;
  bool without = false;
};

struct Call : Expr {
  Call() : Expr(ExprKind::kCall) {}
  const Function* func = nullptr;  // static table entry, never null after parsing
  std::vector<ExprPtr> args;
};

// Prometheus' canonical text form of `expr` (promql/parser/printer.go), e.g.
// `sum by (job) (rate(http_requests_total{code=~"5.."}[5m] offset 1h))`.
std::string ToString(const Expr& expr);

// Prometheus' model.Duration.String(): "1h30m", "5m", "1w", "0s".
std::string FormatDuration(int64_t ms);

// Go's %v of a float64 ("1", "0.5", "100000", "1e+06", "+Inf", "NaN").
std::string FormatFloat(double v);

// Go's strconv.Quote of `s`: double-quoted with Go escapes.
std::string GoQuote(std::string_view s);

}  // namespace cairn::promql

#endif  // CAIRN_TSDB_PROMQL_AST_H_
