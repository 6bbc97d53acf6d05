#include "tsdb/promql/parser.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/promql/functions.h"
#include "tsdb/promql/lexer.h"

namespace cairn::promql {
namespace {

// Binary operator precedence, lowest first (generated_parser.y's %left lines).
int BinaryPrecedence(TokenType t) {
  switch (t) {
    case TokenType::kLor:
      return 1;
    case TokenType::kLand:
    case TokenType::kLunless:
      return 2;
    case TokenType::kEqlc:
    case TokenType::kNeq:
    case TokenType::kLte:
    case TokenType::kLss:
    case TokenType::kGte:
    case TokenType::kGtr:
      return 3;
    case TokenType::kAdd:
    case TokenType::kSub:
      return 4;
    case TokenType::kMul:
    case TokenType::kDiv:
    case TokenType::kMod:
    case TokenType::kAtan2:
      return 5;
    case TokenType::kPow:
      return 6;
    default:
      return 0;
  }
}
constexpr int kUnaryOperandPrecedence = 6;  // unary binds like '*' (%prec MUL)

BinaryOp ToBinaryOp(TokenType t) {
  switch (t) {
    case TokenType::kLor:
      return BinaryOp::kOr;
    case TokenType::kLand:
      return BinaryOp::kAnd;
    case TokenType::kLunless:
      return BinaryOp::kUnless;
    case TokenType::kEqlc:
      return BinaryOp::kEql;
    case TokenType::kNeq:
      return BinaryOp::kNeq;
    case TokenType::kLte:
      return BinaryOp::kLte;
    case TokenType::kLss:
      return BinaryOp::kLss;
    case TokenType::kGte:
      return BinaryOp::kGte;
    case TokenType::kGtr:
      return BinaryOp::kGtr;
    case TokenType::kAdd:
      return BinaryOp::kAdd;
    case TokenType::kSub:
      return BinaryOp::kSub;
    case TokenType::kMul:
      return BinaryOp::kMul;
    case TokenType::kDiv:
      return BinaryOp::kDiv;
    case TokenType::kMod:
      return BinaryOp::kMod;
    case TokenType::kAtan2:
      return BinaryOp::kAtan2;
    default:
      return BinaryOp::kPow;
  }
}

AggregateOp ToAggregateOp(TokenType t) {
  switch (t) {
    case TokenType::kAvg:
      return AggregateOp::kAvg;
    case TokenType::kBottomk:
      return AggregateOp::kBottomk;
    case TokenType::kCount:
      return AggregateOp::kCount;
    case TokenType::kCountValues:
      return AggregateOp::kCountValues;
    case TokenType::kGroup:
      return AggregateOp::kGroup;
    case TokenType::kMax:
      return AggregateOp::kMax;
    case TokenType::kMin:
      return AggregateOp::kMin;
    case TokenType::kQuantile:
      return AggregateOp::kQuantile;
    case TokenType::kStddev:
      return AggregateOp::kStddev;
    case TokenType::kStdvar:
      return AggregateOp::kStdvar;
    case TokenType::kTopk:
      return AggregateOp::kTopk;
    default:
      return AggregateOp::kSum;
  }
}

// generated_parser.y's metric_identifier: words that may name a metric.
bool CanBeMetricName(TokenType t) {
  switch (t) {
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
    case TokenType::kBy:
    case TokenType::kWithout:
    case TokenType::kOffset:
    case TokenType::kLand:
    case TokenType::kLor:
    case TokenType::kLunless:
    case TokenType::kStart:
    case TokenType::kEnd:
      return true;
    default:
      return IsAggregatorToken(t);
  }
}

// Tokens that may begin an expression.
bool CanStartExpr(TokenType t) {
  switch (t) {
    case TokenType::kNumber:
    case TokenType::kString:
    case TokenType::kLeftParen:
    case TokenType::kLeftBrace:
    case TokenType::kAdd:
    case TokenType::kSub:
      return true;
    default:
      return CanBeMetricName(t);
  }
}

// generated_parser.y's maybe_label: words that may name a label in grouping lists.
bool CanBeLabel(const Token& t) {
  switch (t.type) {
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
    case TokenType::kLand:
    case TokenType::kLor:
    case TokenType::kLunless:
    case TokenType::kAtan2:
    case TokenType::kStart:
    case TokenType::kEnd:
      break;
    default:
      if (!IsAggregatorToken(t.type) && !IsKeywordToken(t.type)) return false;
  }
  std::string_view s = t.text;
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Go's strutil.Unquote of a lexed string token (escapes already validated).
std::string Unquote(std::string_view s) {
  if (s.size() < 2) return std::string();
  char quote = s[0];
  std::string_view body = s.substr(1, s.size() - 2);
  if (quote == '`') return std::string(body);
  std::string out;
  auto append_rune = [&out](uint32_t c) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  };
  auto hex = [](char c) -> uint32_t {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out.push_back(c);
      continue;
    }
    char e = body[++i];
    switch (e) {
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int k = 0; k < n && i + 1 < body.size(); ++k) v = v * 16 + hex(body[++i]);
        if (e == 'x') {
          out.push_back(static_cast<char>(v));  // \x is a byte, not a rune
        } else {
          append_rune(v);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = e - '0';
          for (int k = 0; k < 2 && i + 1 < body.size(); ++k) v = v * 8 + (body[++i] - '0');
          out.push_back(static_cast<char>(v));
        } else {
          out.push_back(e);  // \\, \" or \'
        }
    }
  }
  return out;
}

// Go's strconv.ParseInt(s, 0, 64) then ParseFloat(s, 64), as parser.number().
bool ParseNumber(std::string_view s, double* out, bool* range_error) {
  *range_error = false;
  std::string str(s);
  bool hex = str.size() > 1 && str[0] == '0' && (str[1] == 'x' || str[1] == 'X');
  if (hex || (str.size() > 1 && str[0] == '0' && str.find_first_of(".eEpP") == std::string::npos)) {
    const char* p = str.c_str();
    int base = 8;
    if (str[1] == 'x' || str[1] == 'X') {
      base = 16;
      p += 2;
    } else if (str[1] == 'o' || str[1] == 'O') {
      p += 2;
    } else if (str[1] == 'b' || str[1] == 'B') {
      base = 2;
      p += 2;
    }
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(p, &end, base);
    if (*p != '\0' && *end == '\0' && errno == 0) {
      *out = static_cast<double>(v);
      return true;
    }
    if (base == 16) return false;
  }
  std::string lower;
  for (char c : str)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "inf" || lower == "+inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  auto res = std::from_chars(str.data(), str.data() + str.size(), *out);
  if (res.ec == std::errc::result_out_of_range && res.ptr == str.data() + str.size()) {
    // Go returns ±Inf with an error on overflow, and 0 without one on underflow.
    *out = std::strtod(str.c_str(), nullptr);
    if (std::isinf(*out)) {
      *range_error = true;
      return false;
    }
    return true;
  }
  return res.ec == std::errc() && res.ptr == str.data() + str.size();
}

// parser.number()'s error text for a NUMBER token that does not parse.
std::string NumberError(std::string_view text, bool range_error) {
  return absl::StrFormat("error parsing number: strconv.ParseFloat: parsing %s: %s", GoQuote(text),
                         range_error ? "value out of range" : "invalid syntax");
}

class Parser {
 public:
  explicit Parser(std::string_view input) : input_(input), tokens_(Lex(input)) {}

  absl::StatusOr<ExprPtr> ParseQuery() {
    if (tokens_[0].type == TokenType::kEOF) {
      AddError(0, "no expression found in input");
      return error_;
    }
    ExprPtr e = ParseBinary(1);
    if (e != nullptr) {
      const Token* t = Peek();
      if (t != nullptr && t->type != TokenType::kEOF) Unexpected(*t, "", "");
    }
    if (!error_.ok()) return error_;
    Check(*e);
    if (!error_.ok()) return error_;
    return e;
  }

  absl::StatusOr<std::vector<Matcher>> ParseSelectorOnly() {
    const Token* t = Peek();
    ExprPtr e;
    if (t != nullptr) {
      if (t->type == TokenType::kLeftBrace || CanBeMetricName(t->type)) {
        e = ParseVectorSelector();
      } else {
        Unexpected(*t, "", "");
      }
    }
    if (e != nullptr) {
      const Token* end = Peek();
      if (end != nullptr && end->type != TokenType::kEOF) Unexpected(*end, "", "");
    }
    if (!error_.ok()) return error_;
    return std::move(e->As<VectorSelector>().matchers);
  }

 private:
  // --- tokens and errors ---

  // The next token, or nullptr after reporting a lexer error at it.
  const Token* Peek() {
    const Token& t = tokens_[idx_];
    if (t.type == TokenType::kError) {
      AddError(t.pos, t.error);
      return nullptr;
    }
    return &t;
  }
  const Token& PeekAt(size_t ahead) const {
    size_t i = std::min(idx_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& Consume() { return tokens_[idx_ < tokens_.size() - 1 ? idx_++ : idx_]; }

  // Records the first error only, as Prometheus reports only its first.
  void AddError(int pos, std::string_view msg) {
    if (!error_.ok()) return;
    int line = 1;
    int last_break = -1;
    for (int i = 0; i < pos && i < static_cast<int>(input_.size()); ++i) {
      if (input_[i] == '\n') {
        last_break = i;
        ++line;
      }
    }
    error_ = absl::InvalidArgumentError(
        absl::StrFormat("%d:%d: parse error: %s", line, pos - last_break, msg));
  }

  // generated_parser.y's unexpected(context, expected). Always returns nullptr.
  std::nullptr_t Unexpected(const Token& t, std::string_view context, std::string_view expected) {
    std::string msg = "unexpected " + DescribeToken(t);
    // Prometheus' yacc error recovery unwinds to the innermost aggregation,
    // whose error rule names it.
    if (context.empty() && aggregation_depth_ > 0) context = "aggregation";
    if (!context.empty())
      absl::StrAppend(&msg, " in ", absl::string_view(context.data(), context.size()));
    if (!expected.empty())
      absl::StrAppend(&msg, ", expected ", absl::string_view(expected.data(), expected.size()));
    AddError(t.pos, msg);
    return nullptr;
  }

  // Consumes a token of type `want` or reports it as unexpected.
  bool Expect(TokenType want, std::string_view context, std::string_view expected) {
    const Token* t = Peek();
    if (t == nullptr) return false;
    if (t->type != want) {
      Unexpected(*t, context, expected);
      return false;
    }
    Consume();
    return true;
  }

  // --- expressions ---

  // Every nested expression (parentheses, call and aggregation arguments, unary and
  // right-associative operands, subquery bodies) is parsed through here, so this
  // bounds the parser's recursion, and with it the AST's depth that evaluation and
  // destruction recurse over: a query of 100k '(' must not overflow the stack.
  ExprPtr ParseBinary(int min_prec) {
    if (depth_ >= kMaxNestingDepth) {
      const Token* t = Peek();
      if (t != nullptr) {
        AddError(t->pos,
                 absl::StrFormat("expression nested more than %d levels deep", kMaxNestingDepth));
      }
      return nullptr;
    }
    ++depth_;
    ExprPtr e = ParseBinaryAtDepth(min_prec);
    --depth_;
    return e;
  }

  ExprPtr ParseBinaryAtDepth(int min_prec) {
    ExprPtr lhs = ParseUnary();
    if (lhs == nullptr) return nullptr;
    for (;;) {
      const Token* t = Peek();
      if (t == nullptr) return nullptr;
      int prec = BinaryPrecedence(t->type);
      if (prec == 0 || prec < min_prec) return lhs;
      TokenType op = Consume().type;
      auto bin = std::make_unique<BinaryExpr>();
      bin->op = ToBinaryOp(op);
      if (!ParseBinaryModifiers(bin.get())) return nullptr;
      // '^' is right-associative; the others are left-associative.
      ExprPtr rhs = ParseBinary(op == TokenType::kPow ? prec : prec + 1);
      if (rhs == nullptr) return nullptr;
      bin->pos = {lhs->pos.start, rhs->pos.end};
      bin->lhs = std::move(lhs);
      bin->rhs = std::move(rhs);
      lhs = std::move(bin);
    }
  }

  bool ParseBinaryModifiers(BinaryExpr* bin) {
    const Token* t = Peek();
    if (t == nullptr) return false;
    if (t->type == TokenType::kBool) {
      bin->return_bool = true;
      Consume();
      if ((t = Peek()) == nullptr) return false;
    }
    if (t->type != TokenType::kOn && t->type != TokenType::kIgnoring) return true;
    bin->matching.on = t->type == TokenType::kOn;
    Consume();
    if (!ParseGroupingLabels(&bin->matching.labels)) return false;
    if ((t = Peek()) == nullptr) return false;
    if (t->type == TokenType::kGroupLeft || t->type == TokenType::kGroupRight) {
      bin->matching.card =
          t->type == TokenType::kGroupLeft ? Cardinality::kManyToOne : Cardinality::kOneToMany;
      Consume();
      if ((t = Peek()) == nullptr) return false;
      if (t->type == TokenType::kLeftParen && !ParseGroupingLabels(&bin->matching.include)) {
        return false;
      }
    }
    return true;
  }

  bool ParseGroupingLabels(std::vector<std::string>* out) {
    if (!Expect(TokenType::kLeftParen, "grouping opts", "\"(\"")) return false;
    for (;;) {
      const Token* t = Peek();
      if (t == nullptr) return false;
      if (t->type == TokenType::kRightParen) {
        Consume();
        return true;
      }
      if (!CanBeLabel(*t)) {
        Unexpected(*t, "grouping opts", "label");
        return false;
      }
      out->emplace_back(Consume().text);
      if ((t = Peek()) == nullptr) return false;
      if (t->type == TokenType::kComma) {
        Consume();
      } else if (t->type != TokenType::kRightParen) {
        Unexpected(*t, "grouping opts", "\",\" or \")\"");
        return false;
      }
    }
  }

  ExprPtr ParseUnary() {
    const Token* t = Peek();
    if (t == nullptr) return nullptr;
    if (t->type != TokenType::kAdd && t->type != TokenType::kSub) return ParsePostfix();
    const Token& op = Consume();
    ExprPtr operand = ParseBinary(kUnaryOperandPrecedence);
    if (operand == nullptr) return nullptr;
    bool negate = op.type == TokenType::kSub;
    // Prometheus folds a sign into a number literal right away.
    if (operand->kind == ExprKind::kNumberLiteral) {
      auto& n = operand->As<NumberLiteral>();
      if (negate) n.value = -n.value;
      n.pos.start = op.pos;
      return operand;
    }
    auto u = std::make_unique<UnaryExpr>();
    u->negate = negate;
    u->pos = {op.pos, operand->pos.end};
    u->expr = std::move(operand);
    return u;
  }

  ExprPtr ParsePostfix() {
    ExprPtr e = ParsePrimary();
    while (e != nullptr) {
      const Token* t = Peek();
      if (t == nullptr) return nullptr;
      if (t->type == TokenType::kLeftBracket) {
        e = ParseRangeOrSubquery(std::move(e));
      } else if (t->type == TokenType::kOffset) {
        e = ParseOffset(std::move(e));
      } else if (t->type == TokenType::kAt) {
        e = ParseAt(std::move(e));
      } else {
        break;
      }
    }
    return e;
  }

  bool ParseDurationToken(const Token& t, int64_t* ms) {
    absl::StatusOr<int64_t> d = ParseDuration(t.text);
    if (!d.ok()) {
      AddError(t.pos, std::string(d.status().message()));
      return true;  // not fatal in Prometheus: parsing goes on
    }
    if (*d == 0) {
      AddError(t.pos, "duration must be greater than 0");
      return true;
    }
    *ms = *d;
    return true;
  }

  ExprPtr ParseRangeOrSubquery(ExprPtr e) {
    const Token& lb = Consume();
    const Token* t = Peek();
    if (t == nullptr) return nullptr;
    if (t->type != TokenType::kDuration) return Unexpected(*t, "subquery selector", "duration");
    int64_t range_ms = 0;
    ParseDurationToken(Consume(), &range_ms);
    if ((t = Peek()) == nullptr) return nullptr;
    if (t->type == TokenType::kRightBracket) {
      const Token& rb = Consume();
      const char* err = nullptr;
      if (e->kind != ExprKind::kVectorSelector) {
        err = "ranges only allowed for vector selectors";
      } else if (e->As<VectorSelector>().offset_ms != 0) {
        err = "no offset modifiers allowed before range";
      } else if (e->As<VectorSelector>().at == AtKind::kTimestamp) {
        // 2.42 only refuses a timestamp here; `foo @ start() [5m]` is accepted.
        err = "no @ modifiers allowed before range";
      }
      if (err != nullptr) {
        AddError(lb.pos, err);
        return e;  // keep going like Prometheus; the first error wins anyway
      }
      auto m = std::make_unique<MatrixSelector>();
      m->pos = {e->pos.start, rb.end()};
      m->range_ms = range_ms;
      m->vs.reset(static_cast<VectorSelector*>(e.release()));
      return m;
    }
    if (t->type != TokenType::kColon) {
      return Unexpected(*t, "subquery or range", "\":\" or \"]\"");
    }
    Consume();
    if ((t = Peek()) == nullptr) return nullptr;
    int64_t step_ms = 0;
    if (t->type == TokenType::kDuration) {
      ParseDurationToken(Consume(), &step_ms);
      if ((t = Peek()) == nullptr) return nullptr;
      if (t->type != TokenType::kRightBracket) return Unexpected(*t, "subquery selector", "\"]\"");
    } else if (t->type != TokenType::kRightBracket) {
      return Unexpected(*t, "subquery selector", "duration or \"]\"");
    }
    const Token& rb = Consume();
    auto s = std::make_unique<SubqueryExpr>();
    s->pos = {e->pos.start, rb.end()};
    s->range_ms = range_ms;
    s->step_ms = step_ms;
    s->expr = std::move(e);
    return s;
  }

  // Where offset and @ land for `e`, or nullptr (after an error) when `e` takes neither.
  struct ModifierTarget {
    int64_t* offset_ms = nullptr;
    AtKind* at = nullptr;
    int64_t* at_ms = nullptr;
  };
  ModifierTarget TargetOf(Expr& e) {
    switch (e.kind) {
      case ExprKind::kVectorSelector: {
        auto& vs = e.As<VectorSelector>();
        return {&vs.offset_ms, &vs.at, &vs.at_ms};
      }
      case ExprKind::kMatrixSelector: {
        auto& vs = *e.As<MatrixSelector>().vs;
        return {&vs.offset_ms, &vs.at, &vs.at_ms};
      }
      case ExprKind::kSubquery: {
        auto& s = e.As<SubqueryExpr>();
        return {&s.offset_ms, &s.at, &s.at_ms};
      }
      default:
        return {};
    }
  }

  ExprPtr ParseOffset(ExprPtr e) {
    Consume();
    const Token* t = Peek();
    if (t == nullptr) return nullptr;
    bool negative = false;
    if (t->type == TokenType::kSub) {
      negative = true;
      Consume();
      if ((t = Peek()) == nullptr) return nullptr;
    }
    if (t->type != TokenType::kDuration) return Unexpected(*t, "offset", "duration");
    const Token& d = Consume();
    int64_t ms = 0;
    ParseDurationToken(d, &ms);
    if (negative) ms = -ms;
    ModifierTarget target = TargetOf(*e);
    if (target.offset_ms == nullptr) {
      AddError(e->pos.start,
               "offset modifier must be preceded by an instant vector selector or range vector "
               "selector or a subquery");
      return e;
    }
    if (*target.offset_ms != 0) {
      AddError(e->pos.start, "offset may not be set multiple times");
      return e;
    }
    *target.offset_ms = ms;
    e->pos.end = d.end();
    return e;
  }

  ExprPtr ParseAt(ExprPtr e) {
    Consume();
    const Token* t = Peek();
    if (t == nullptr) return nullptr;
    AtKind kind = AtKind::kTimestamp;
    double ts = 0;
    int end = 0;
    if (t->type == TokenType::kStart || t->type == TokenType::kEnd) {
      kind = t->type == TokenType::kStart ? AtKind::kStart : AtKind::kEnd;
      Consume();
      if (!Expect(TokenType::kLeftParen, "@", "timestamp")) return nullptr;
      t = Peek();
      if (t == nullptr) return nullptr;
      if (t->type != TokenType::kRightParen) return Unexpected(*t, "@", "timestamp");
      end = Consume().end();
    } else {
      bool negative = false;
      if (t->type == TokenType::kAdd || t->type == TokenType::kSub) {
        negative = t->type == TokenType::kSub;
        Consume();
        if ((t = Peek()) == nullptr) return nullptr;
      }
      if (t->type != TokenType::kNumber) return Unexpected(*t, "@", "timestamp");
      const Token& num = Consume();
      bool range_error = false;
      if (!ParseNumber(num.text, &ts, &range_error)) {
        AddError(num.pos, NumberError(num.text, range_error));
      }
      if (negative) ts = -ts;
      end = num.end();
    }
    // Prometheus checks the bounds before the target.
    if (kind == AtKind::kTimestamp &&
        (std::isinf(ts) || std::isnan(ts) ||
         ts >= static_cast<double>(std::numeric_limits<int64_t>::max()) ||
         ts <= static_cast<double>(std::numeric_limits<int64_t>::min()))) {
      // Go's %f spells non-finite values "+Inf", "-Inf", "NaN".
      std::string shown = std::isfinite(ts) ? absl::StrFormat("%f", ts) : FormatFloat(ts);
      AddError(e->pos.start, "timestamp out of bounds for @ modifier: " + shown);
    }
    ModifierTarget target = TargetOf(*e);
    if (target.at == nullptr) {
      AddError(e->pos.start,
               "@ modifier must be preceded by an instant vector selector or range vector "
               "selector or a subquery");
      return e;
    }
    if (*target.at != AtKind::kNone) {
      AddError(e->pos.start, "@ <timestamp> may not be set multiple times");
      return e;
    }
    *target.at = kind;
    if (kind == AtKind::kTimestamp && std::isfinite(ts)) {
      // Clamped: a cast of an out-of-range double is undefined behaviour.
      double ms = std::round(ts * 1000.0);
      constexpr double kMax = 9.2233720368547748e18;  // largest double below 2^63
      *target.at_ms = ms >= kMax    ? std::numeric_limits<int64_t>::max()
                      : ms <= -kMax ? std::numeric_limits<int64_t>::min()
                                    : static_cast<int64_t>(ms);
    }
    e->pos.end = end;
    return e;
  }

  ExprPtr ParsePrimary() {
    const Token* tp = Peek();
    if (tp == nullptr) return nullptr;
    const Token& t = *tp;
    switch (t.type) {
      case TokenType::kNumber: {
        Consume();
        auto n = std::make_unique<NumberLiteral>();
        n->pos = {t.pos, t.end()};
        bool range_error = false;
        if (!ParseNumber(t.text, &n->value, &range_error)) {
          AddError(t.pos, NumberError(t.text, range_error));
        }
        return n;
      }
      case TokenType::kString: {
        Consume();
        auto s = std::make_unique<StringLiteral>();
        s->pos = {t.pos, t.end()};
        s->value = Unquote(t.text);
        return s;
      }
      case TokenType::kLeftParen: {
        Consume();
        ExprPtr inner = ParseBinary(1);
        if (inner == nullptr) return nullptr;
        const Token* close = Peek();
        if (close == nullptr) return nullptr;
        if (close->type != TokenType::kRightParen) return Unexpected(*close, "", "");
        auto p = std::make_unique<ParenExpr>();
        p->pos = {t.pos, Consume().end()};
        p->expr = std::move(inner);
        return p;
      }
      case TokenType::kLeftBrace:
        return ParseVectorSelector();
      case TokenType::kIdentifier:
        if (PeekAt(1).type == TokenType::kLeftParen) return ParseCall();
        return ParseVectorSelector();
      default:
        break;
    }
    if (IsAggregatorToken(t.type)) {
      TokenType next = PeekAt(1).type;
      if (next == TokenType::kLeftParen || next == TokenType::kBy || next == TokenType::kWithout) {
        return ParseAggregate();
      }
    }
    if (CanBeMetricName(t.type)) return ParseVectorSelector();
    return Unexpected(t, "", "");
  }

  // Parses `( args )`; false after an error.
  bool ParseCallBody(std::vector<ExprPtr>* args, int* end) {
    Consume();  // '('
    const Token* t = Peek();
    if (t == nullptr) return false;
    if (t->type != TokenType::kRightParen) {
      for (;;) {
        ExprPtr arg = ParseBinary(1);
        if (arg == nullptr) return false;
        args->push_back(std::move(arg));
        if ((t = Peek()) == nullptr) return false;
        if (t->type == TokenType::kComma) {
          const Token& comma = Consume();
          const Token* next = Peek();
          if (next == nullptr) return false;
          if (!CanStartExpr(next->type)) {
            AddError(comma.pos, "trailing commas not allowed in function call args");
            return false;
          }
          continue;
        }
        if (t->type != TokenType::kRightParen) {
          Unexpected(*t, "", "");
          return false;
        }
        break;
      }
    }
    *end = Consume().end();
    return true;
  }

  ExprPtr ParseCall() {
    const Token& name = Consume();
    auto c = std::make_unique<Call>();
    c->func = LookupFunction(name.text);
    int end = 0;
    if (!ParseCallBody(&c->args, &end)) return nullptr;
    c->pos = {name.pos, end};
    // Reported once the call is complete, as Prometheus' grammar does on reduce.
    if (c->func == nullptr) {
      AddError(name.pos, absl::StrFormat("unknown function with name %s", GoQuote(name.text)));
      return nullptr;
    }
    return c;
  }

  bool ParseAggregateModifier(AggregateExpr* a) {
    a->without = Consume().type == TokenType::kWithout;
    return ParseGroupingLabels(&a->grouping);
  }

  ExprPtr ParseAggregate() {
    const Token& op = Consume();
    auto a = std::make_unique<AggregateExpr>();
    a->op = ToAggregateOp(op.type);
    bool has_modifier = false;
    const Token* t = Peek();
    if (t == nullptr) return nullptr;
    if (t->type == TokenType::kBy || t->type == TokenType::kWithout) {
      if (!ParseAggregateModifier(a.get())) return nullptr;
      has_modifier = true;
      if ((t = Peek()) == nullptr) return nullptr;
    }
    if (t->type != TokenType::kLeftParen) return Unexpected(*t, "aggregation", "");
    std::vector<ExprPtr> args;
    int end = 0;
    ++aggregation_depth_;
    bool body_ok = ParseCallBody(&args, &end);
    --aggregation_depth_;
    if (!body_ok) return nullptr;
    if (!has_modifier) {
      if ((t = Peek()) == nullptr) return nullptr;
      if (t->type == TokenType::kBy || t->type == TokenType::kWithout) {
        if (!ParseAggregateModifier(a.get())) return nullptr;
        end = tokens_[idx_ - 1].end();
      }
    }
    a->pos = {op.pos, end};
    if (args.empty()) {
      AddError(op.pos, "no arguments for aggregate expression provided");
      return nullptr;
    }
    size_t want = AggregateTakesParam(a->op) ? 2 : 1;
    if (args.size() != want) {
      AddError(op.pos,
               absl::StrFormat("wrong number of arguments for aggregate expression provided, "
                               "expected %d, got %d",
                               want, args.size()));
      return nullptr;
    }
    if (want == 2) a->param = std::move(args[0]);
    a->expr = std::move(args[want - 1]);
    return a;
  }

  ExprPtr ParseVectorSelector() {
    auto vs = std::make_unique<VectorSelector>();
    const Token* t = Peek();
    if (t == nullptr) return nullptr;
    vs->pos = {t->pos, t->end()};
    if (t->type != TokenType::kLeftBrace) {
      vs->name = std::string(Consume().text);
      if ((t = Peek()) == nullptr) return nullptr;
    }
    if (t->type == TokenType::kLeftBrace) {
      Consume();
      if (!ParseLabelMatchers(vs.get())) return nullptr;
    }
    if (!vs->name.empty()) {
      absl::StatusOr<Matcher> m = Matcher::Create(MatchType::kEqual, "__name__", vs->name);
      if (!m.ok()) return nullptr;
      vs->matchers.push_back(*std::move(m));
    }
    return vs;
  }

  bool ParseLabelMatchers(VectorSelector* vs) {
    for (;;) {
      const Token* t = Peek();
      if (t == nullptr) return false;
      if (t->type == TokenType::kRightBrace) {
        vs->pos.end = Consume().end();
        return true;
      }
      if (t->type != TokenType::kIdentifier) {
        Unexpected(*t, "label matching", "identifier or \"}\"");
        return false;
      }
      const Token& label = Consume();
      if ((t = Peek()) == nullptr) return false;
      MatchType type;
      switch (t->type) {
        case TokenType::kEql:
          type = MatchType::kEqual;
          break;
        case TokenType::kNeq:
          type = MatchType::kNotEqual;
          break;
        case TokenType::kEqlRegex:
          type = MatchType::kRegexMatch;
          break;
        case TokenType::kNeqRegex:
          type = MatchType::kRegexNoMatch;
          break;
        default:
          Unexpected(*t, "label matching", "label matching operator");
          return false;
      }
      Consume();
      if ((t = Peek()) == nullptr) return false;
      if (t->type != TokenType::kString) {
        Unexpected(*t, "label matching", "string");
        return false;
      }
      const Token& value = Consume();
      absl::StatusOr<Matcher> m = Matcher::Create(type, label.text, Unquote(value.text));
      if (!m.ok()) {
        AddError(label.pos, std::string(m.status().message()));
      } else {
        vs->matchers.push_back(*std::move(m));
      }
      if ((t = Peek()) == nullptr) return false;
      if (t->type == TokenType::kComma) {
        Consume();
      } else if (t->type != TokenType::kRightBrace) {
        Unexpected(*t, "label matching", "\",\" or \"}\"");
        return false;
      }
    }
  }

  // --- type checking (parse.go checkAST) ---

  void ExpectType(Expr& e, ValueType want, std::string_view context) {
    ValueType got = Check(e);
    if (got != want) {
      AddError(e.pos.start,
               absl::StrFormat("expected type %s in %s, got %s", DocumentedTypeName(want), context,
                               DocumentedTypeName(got)));
    }
  }

  // Start of the operator between a binary expression's operands.
  int OperatorPos(const BinaryExpr& b) const {
    int p = b.lhs->pos.end;
    while (p < static_cast<int>(input_.size()) &&
           (input_[p] == ' ' || input_[p] == '\t' || input_[p] == '\n' || input_[p] == '\r')) {
      ++p;
    }
    return p;
  }

  // Mutates only BinaryExpr matching (set operators become many-to-many, and
  // matching is dropped unless both sides are instant vectors).
  ValueType Check(Expr& node) {
    ValueType typ = node.type();
    switch (node.kind) {
      case ExprKind::kAggregate: {
        const auto& a = node.As<AggregateExpr>();
        ExpectType(*a.expr, ValueType::kVector, "aggregation expression");
        if (a.op == AggregateOp::kTopk || a.op == AggregateOp::kBottomk ||
            a.op == AggregateOp::kQuantile) {
          ExpectType(*a.param, ValueType::kScalar, "aggregation parameter");
        }
        if (a.op == AggregateOp::kCountValues) {
          ExpectType(*a.param, ValueType::kString, "aggregation parameter");
        }
        break;
      }
      case ExprKind::kBinary: {
        auto& b = node.As<BinaryExpr>();
        ValueType lt = Check(*b.lhs);
        ValueType rt = Check(*b.rhs);
        if (b.return_bool && !IsComparison(b.op)) {
          AddError(OperatorPos(b), "bool modifier can only be used on comparison operators");
        }
        if (IsComparison(b.op) && !b.return_bool && lt == ValueType::kScalar &&
            rt == ValueType::kScalar) {
          AddError(OperatorPos(b), "comparisons between scalars must use BOOL modifier");
        }
        if (IsSetOperator(b.op) && b.matching.card == Cardinality::kOneToOne) {
          b.matching.card = Cardinality::kManyToMany;
        }
        if (b.matching.on) {
          for (const auto& l1 : b.matching.labels) {
            for (const auto& l2 : b.matching.include) {
              if (l1 == l2) {
                AddError(OperatorPos(b),
                         absl::StrFormat("label %s must not occur in ON and GROUP clause at once",
                                         GoQuote(l1)));
              }
            }
          }
        }
        if (lt != ValueType::kScalar && lt != ValueType::kVector) {
          AddError(b.lhs->pos.start,
                   "binary expression must contain only scalar and instant vector types");
        }
        if (rt != ValueType::kScalar && rt != ValueType::kVector) {
          AddError(b.rhs->pos.start,
                   "binary expression must contain only scalar and instant vector types");
        }
        if (lt != ValueType::kVector || rt != ValueType::kVector) {
          if (!b.matching.labels.empty()) {
            AddError(b.pos.start, "vector matching only allowed between instant vectors");
          }
          b.has_matching = false;
          b.matching = VectorMatching();
        } else {
          b.has_matching = true;
          if (IsSetOperator(b.op)) {
            if (b.matching.card == Cardinality::kOneToMany ||
                b.matching.card == Cardinality::kManyToOne) {
              AddError(b.pos.start, absl::StrFormat("no grouping allowed for \"%s\" operation",
                                                    BinaryOpName(b.op)));
            }
            if (b.matching.card != Cardinality::kManyToMany) {
              AddError(b.pos.start, "set operations must always be many-to-many");
            }
          }
        }
        if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOperator(b.op)) {
          AddError(b.pos.start,
                   absl::StrFormat("set operator \"%s\" not allowed in binary scalar expression",
                                   BinaryOpName(b.op)));
        }
        break;
      }
      case ExprKind::kCall: {
        const auto& c = node.As<Call>();
        const Function& f = *c.func;
        int nargs = static_cast<int>(f.arg_types.size());
        int got = static_cast<int>(c.args.size());
        if (f.variadic == 0) {
          if (nargs != got) {
            AddError(c.pos.start, absl::StrFormat("expected %d argument(s) in call to %s, got %d",
                                                  nargs, GoQuote(f.name), got));
          }
        } else {
          int na = nargs - 1;
          if (na > got) {
            AddError(c.pos.start,
                     absl::StrFormat("expected at least %d argument(s) in call to %s, got %d", na,
                                     GoQuote(f.name), got));
          } else if (f.variadic > 0 && na + f.variadic < got) {
            AddError(c.pos.start,
                     absl::StrFormat("expected at most %d argument(s) in call to %s, got %d",
                                     na + f.variadic, GoQuote(f.name), got));
          }
        }
        for (int i = 0; i < got; ++i) {
          int ti = i;
          if (i >= nargs) {
            if (f.variadic == 0) break;
            ti = nargs - 1;
          }
          ValueType t = Check(*c.args[i]);
          if (t != f.arg_types[ti]) {
            AddError(c.args[i]->pos.start,
                     absl::StrFormat("expected type %s in call to function %s, got %s",
                                     DocumentedTypeName(f.arg_types[ti]), GoQuote(f.name),
                                     DocumentedTypeName(t)));
          }
        }
        break;
      }
      case ExprKind::kParen:
        Check(*node.As<ParenExpr>().expr);
        break;
      case ExprKind::kUnary: {
        ValueType t = Check(*node.As<UnaryExpr>().expr);
        if (t != ValueType::kScalar && t != ValueType::kVector) {
          AddError(node.pos.start,
                   absl::StrFormat("unary expression only allowed on expressions of type scalar or "
                                   "instant vector, got %s",
                                   GoQuote(DocumentedTypeName(t))));
        }
        break;
      }
      case ExprKind::kSubquery: {
        ValueType t = Check(*node.As<SubqueryExpr>().expr);
        if (t != ValueType::kVector) {
          AddError(node.pos.start,
                   absl::StrFormat("subquery is only allowed on instant vector, got %s instead",
                                   ValueTypeName(t)));
        }
        break;
      }
      case ExprKind::kMatrixSelector:
        Check(*node.As<MatrixSelector>().vs);
        break;
      case ExprKind::kVectorSelector: {
        const auto& vs = node.As<VectorSelector>();
        bool not_empty = false;
        for (const Matcher& m : vs.matchers) {
          if (!m.MatchesEmpty()) {
            not_empty = true;
            break;
          }
        }
        if (!not_empty) {
          AddError(node.pos.start, "vector selector must contain at least one non-empty matcher");
        }
        if (!vs.name.empty()) {
          for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
            if (vs.matchers[i].name() == "__name__") {
              AddError(node.pos.start,
                       absl::StrFormat("metric name must not be set twice: %s or %s",
                                       GoQuote(vs.name), GoQuote(vs.matchers[i].value())));
            }
          }
        }
        break;
      }
      case ExprKind::kNumberLiteral:
      case ExprKind::kStringLiteral:
        break;
    }
    return typ;
  }

  std::string_view input_;
  std::vector<Token> tokens_;
  size_t idx_ = 0;
  int aggregation_depth_ = 0;  // aggregation bodies being parsed
  // Far beyond any real query (dashboards nest a few levels), far below what the
  // stack holds (also under the sanitizers' larger frames).
  static constexpr int kMaxNestingDepth = 256;
  int depth_ = 0;  // ParseBinary calls active
  absl::Status error_;
};

}  // namespace

absl::StatusOr<ExprPtr> ParseExpr(std::string_view input) { return Parser(input).ParseQuery(); }

absl::StatusOr<std::vector<Matcher>> ParseMetricSelector(std::string_view input) {
  return Parser(input).ParseSelectorOnly();
}

absl::StatusOr<int64_t> ParseDuration(std::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return absl::InvalidArgumentError("empty duration string");
  static constexpr struct {
    std::string_view unit;
    int64_t ms;
  } kUnits[] = {{"y", int64_t{1000} * 60 * 60 * 24 * 365},
                {"w", int64_t{1000} * 60 * 60 * 24 * 7},
                {"d", int64_t{1000} * 60 * 60 * 24},
                {"h", int64_t{1000} * 60 * 60},
                {"m", int64_t{1000} * 60},
                {"s", 1000},
                {"ms", 1}};
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrFormat("not a valid duration string: %s", GoQuote(s)));
  };
  size_t i = 0;
  size_t next_unit = 0;
  __int128 total = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i) return invalid();
    size_t k = j;
    while (k < s.size() && !(s[k] >= '0' && s[k] <= '9')) ++k;
    std::string_view unit = s.substr(j, k - j);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].unit != unit) ++u;
    if (u == std::size(kUnits)) return invalid();
    next_unit = u + 1;
    __int128 v = 0;
    for (size_t d = i; d < j; ++d) {
      v = v * 10 + (s[d] - '0');
      if (v > std::numeric_limits<int64_t>::max())
        return absl::InvalidArgumentError("duration out of range");
    }
    total += v * kUnits[u].ms;
    // Go keeps durations in int64 nanoseconds: about 292 years at most.
    if (total > std::numeric_limits<int64_t>::max() / 1000000)
      return absl::InvalidArgumentError("duration out of range");
    i = k;
  }
  return static_cast<int64_t>(total);
}

}  // namespace cairn::promql
