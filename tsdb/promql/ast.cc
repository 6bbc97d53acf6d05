#include "tsdb/promql/ast.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tsdb/promql/functions.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::promql {

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone:
      return "none";
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "vector";
    case ValueType::kMatrix:
      return "matrix";
    case ValueType::kString:
      return "string";
  }
  return "none";
}

std::string_view DocumentedTypeName(ValueType t) {
  switch (t) {
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    default:
      return ValueTypeName(t);
  }
}

std::string_view BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "^";
    case BinaryOp::kAtan2:
      return "atan2";
    case BinaryOp::kEql:
      return "==";
    case BinaryOp::kNeq:
      return "!=";
    case BinaryOp::kLte:
      return "<=";
    case BinaryOp::kLss:
      return "<";
    case BinaryOp::kGte:
      return ">=";
    case BinaryOp::kGtr:
      return ">";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kUnless:
      return "unless";
  }
  return "?";
}

bool IsComparison(BinaryOp op) { return op >= BinaryOp::kEql && op <= BinaryOp::kGtr; }
bool IsSetOperator(BinaryOp op) { return op >= BinaryOp::kAnd; }

std::string_view AggregateOpName(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
      return "sum";
    case AggregateOp::kAvg:
      return "avg";
    case AggregateOp::kCount:
      return "count";
    case AggregateOp::kMin:
      return "min";
    case AggregateOp::kMax:
      return "max";
    case AggregateOp::kGroup:
      return "group";
    case AggregateOp::kStddev:
      return "stddev";
    case AggregateOp::kStdvar:
      return "stdvar";
    case AggregateOp::kTopk:
      return "topk";
    case AggregateOp::kBottomk:
      return "bottomk";
    case AggregateOp::kCountValues:
      return "count_values";
    case AggregateOp::kQuantile:
      return "quantile";
  }
  return "?";
}

bool AggregateTakesParam(AggregateOp op) {
  return op == AggregateOp::kTopk || op == AggregateOp::kBottomk ||
         op == AggregateOp::kCountValues || op == AggregateOp::kQuantile;
}

ValueType Expr::type() const {
  switch (kind) {
    case ExprKind::kNumberLiteral:
      return ValueType::kScalar;
    case ExprKind::kStringLiteral:
      return ValueType::kString;
    case ExprKind::kVectorSelector:
      return ValueType::kVector;
    case ExprKind::kMatrixSelector:
      return ValueType::kMatrix;
    case ExprKind::kSubquery:
      return ValueType::kMatrix;
    case ExprKind::kParen:
      return As<ParenExpr>().expr->type();
    case ExprKind::kUnary:
      return As<UnaryExpr>().expr->type();
    case ExprKind::kBinary: {
      const auto& b = As<BinaryExpr>();
      if (b.lhs->type() == ValueType::kScalar && b.rhs->type() == ValueType::kScalar) {
        return ValueType::kScalar;
      }
      return ValueType::kVector;
    }
    case ExprKind::kAggregate:
      return ValueType::kVector;
    case ExprKind::kCall: {
      const auto* f = As<Call>().func;
      return f == nullptr ? ValueType::kNone : f->return_type;
    }
  }
  return ValueType::kNone;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string r;
  auto f = [&](const char* unit, int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    int64_t v = ms / mult;
    if (v > 0) {
      absl::StrAppend(&r, v, unit);
      ms -= v * mult;
    }
  };
  // Years and weeks only when exact: "90d" reads better than "12w6d".
  f("y", int64_t{1000} * 60 * 60 * 24 * 365, true);
  f("w", int64_t{1000} * 60 * 60 * 24 * 7, true);
  f("d", int64_t{1000} * 60 * 60 * 24, false);
  f("h", int64_t{1000} * 60 * 60, false);
  f("m", int64_t{1000} * 60, false);
  f("s", 1000, false);
  f("ms", 1, false);
  return r;
}

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string s(buf, res.ptr);
  // s is "[-]d[.ddd]e[+-]xx" with the shortest round-trip digits.
  bool neg = s[0] == '-';
  if (neg) s.erase(0, 1);
  size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (s[i] != '.') digits.push_back(s[i]);
  }
  std::string out = neg ? "-" : "";
  // Go's %v (strconv 'g', shortest) switches to exponent form below 1e-4 and
  // from 1e6 on, as Prometheus prints "1.234e+07".
  if (exp < -4 || exp >= 6) {
    out += digits[0];
    if (digits.size() > 1) absl::StrAppend(&out, ".", digits.substr(1));
    char eb[16];
    std::snprintf(eb, sizeof(eb), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
    return out;
  }
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out += digits;
    return out;
  }
  if (static_cast<int>(digits.size()) <= exp + 1) {
    out += digits;
    out.append(static_cast<size_t>(exp + 1 - static_cast<int>(digits.size())), '0');
    return out;
  }
  out += digits.substr(0, exp + 1);
  out += ".";
  out += digits.substr(exp + 1);
  return out;
}

namespace {

// Decodes one UTF-8 rune at s[i]; returns its length, or 0 when invalid.
int DecodeRune(std::string_view s, size_t i, uint32_t* r) {
  unsigned char c = s[i];
  if (c < 0x80) {
    *r = c;
    return 1;
  }
  int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
  uint32_t v = c & (0x3F >> (n - 1));
  for (int k = 1; k < n; ++k) {
    unsigned char cc = s[i + k];
    if ((cc & 0xC0) != 0x80) return 0;
    v = (v << 6) | (cc & 0x3F);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
      (v >= 0xD800 && v < 0xE000)) {
    return 0;
  }
  *r = v;
  return n;
}

// An approximation of Go's unicode.IsPrint for runes >= 0x80: the non-ASCII
// spaces, format characters, private-use areas and noncharacters are escaped.
// Unassigned code points are not tracked (Go escapes those too).
bool IsGoPrintable(uint32_t r) {
  if (r < 0x80) return true;  // ASCII controls are escaped before this is asked
  if (r < 0xA0 || r == 0xAD) return false;
  if (r == 0xA0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) ||
      (r >= 0x205F && r <= 0x206F) || r == 0x3000) {
    return false;
  }
  if ((r >= 0xD800 && r <= 0xF8FF) || r == 0xFEFF || (r >= 0xFFF0 && r <= 0xFFFB) ||
      (r & 0xFFFE) == 0xFFFE || (r >= 0xFDD0 && r <= 0xFDEF) || r >= 0xE0000) {
    return false;
  }
  return true;
}

}  // namespace

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    uint32_t r = 0;
    int n = DecodeRune(s, i, &r);
    if (n == 0) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(s[i]));
      out += buf;
      ++i;
      continue;
    }
    switch (r) {
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      default:
        if (r < 0x20 || r == 0x7F) {
          std::snprintf(buf, sizeof(buf), "\\x%02x", r);
          out += buf;
        } else if (!IsGoPrintable(r)) {
          std::snprintf(buf, sizeof(buf), r > 0xFFFF ? "\\U%08x" : "\\u%04x", r);
          out += buf;
        } else {
          out.append(s.substr(i, n));
        }
    }
    i += n;
  }
  out += "\"";
  return out;
}

namespace {

std::string AtString(AtKind at, int64_t at_ms) {
  switch (at) {
    case AtKind::kNone:
      return "";
    case AtKind::kStart:
      return " @ start()";
    case AtKind::kEnd:
      return " @ end()";
    case AtKind::kTimestamp: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), " @ %.3f", static_cast<double>(at_ms) / 1000.0);
      return buf;
    }
  }
  return "";
}

std::string OffsetString(int64_t offset_ms) {
  if (offset_ms > 0) return absl::StrCat(" offset ", FormatDuration(offset_ms));
  if (offset_ms < 0) return absl::StrCat(" offset -", FormatDuration(-offset_ms));
  return "";
}

std::string SelectorString(const VectorSelector& vs, bool with_modifiers) {
  std::vector<std::string> parts;
  for (const Matcher& m : vs.matchers) {
    if (m.name() == "__name__" && m.type() == MatchType::kEqual && m.value() == vs.name) continue;
    parts.push_back(absl::StrCat(m.name(), Sv(MatchTypeToString(m.type())), GoQuote(m.value())));
  }
  std::string mods;
  if (with_modifiers) mods = AtString(vs.at, vs.at_ms) + OffsetString(vs.offset_ms);
  if (parts.empty()) return vs.name + mods;
  std::sort(parts.begin(), parts.end());
  return absl::StrCat(vs.name, "{", absl::StrJoin(parts, ","), "}", mods);
}

}  // namespace

std::string ToString(const Expr& expr) {
  switch (expr.kind) {
    case ExprKind::kNumberLiteral:
      return FormatFloat(expr.As<NumberLiteral>().value);
    case ExprKind::kStringLiteral:
      return GoQuote(expr.As<StringLiteral>().value);
    case ExprKind::kVectorSelector:
      return SelectorString(expr.As<VectorSelector>(), true);
    case ExprKind::kMatrixSelector: {
      const auto& m = expr.As<MatrixSelector>();
      return absl::StrCat(SelectorString(*m.vs, false), "[", FormatDuration(m.range_ms), "]",
                          AtString(m.vs->at, m.vs->at_ms), OffsetString(m.vs->offset_ms));
    }
    case ExprKind::kSubquery: {
      const auto& s = expr.As<SubqueryExpr>();
      return absl::StrCat(ToString(*s.expr), "[", FormatDuration(s.range_ms), ":",
                          s.step_ms == 0 ? "" : FormatDuration(s.step_ms), "]",
                          AtString(s.at, s.at_ms), OffsetString(s.offset_ms));
    }
    case ExprKind::kParen:
      return absl::StrCat("(", ToString(*expr.As<ParenExpr>().expr), ")");
    case ExprKind::kUnary: {
      const auto& u = expr.As<UnaryExpr>();
      return absl::StrCat(u.negate ? "-" : "+", ToString(*u.expr));
    }
    case ExprKind::kBinary: {
      const auto& b = expr.As<BinaryExpr>();
      std::string matching;
      if (b.has_matching && (!b.matching.labels.empty() || b.matching.on)) {
        matching = absl::StrCat(b.matching.on ? " on (" : " ignoring (",
                                absl::StrJoin(b.matching.labels, ", "), ")");
        if (b.matching.card == Cardinality::kManyToOne ||
            b.matching.card == Cardinality::kOneToMany) {
          absl::StrAppend(
              &matching,
              b.matching.card == Cardinality::kManyToOne ? " group_left (" : " group_right (",
              absl::StrJoin(b.matching.include, ", "), ")");
        }
      }
      return absl::StrCat(ToString(*b.lhs), " ", Sv(BinaryOpName(b.op)),
                          b.return_bool ? " bool" : "", matching, " ", ToString(*b.rhs));
    }
    case ExprKind::kAggregate: {
      const auto& a = expr.As<AggregateExpr>();
      std::string s(AggregateOpName(a.op));
      if (a.without) {
        absl::StrAppend(&s, " without (", absl::StrJoin(a.grouping, ", "), ") ");
      } else if (!a.grouping.empty()) {
        absl::StrAppend(&s, " by (", absl::StrJoin(a.grouping, ", "), ") ");
      }
      s += "(";
      if (a.param != nullptr) absl::StrAppend(&s, ToString(*a.param), ", ");
      absl::StrAppend(&s, ToString(*a.expr), ")");
      return s;
    }
    case ExprKind::kCall: {
      const auto& c = expr.As<Call>();
      std::vector<std::string> args;
      for (const auto& a : c.args) args.push_back(ToString(*a));
      return absl::StrCat(Sv(c.func->name), "(", absl::StrJoin(args, ", "), ")");
    }
  }
  return "";
}

}  // namespace cairn::promql
