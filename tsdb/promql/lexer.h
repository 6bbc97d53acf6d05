// PromQL lexer: turns a query into tokens the way Prometheus 2.42's
// promql/parser/lex.go does, including its error texts ("unclosed left
// parenthesis", "bad duration syntax: \"5x\"", ...). Comments are dropped.
// A lexing error ends the stream with one kError token whose `text` is the message.
//
// Thread-safety: Lex() is a pure function.
#ifndef CAIRN_TSDB_PROMQL_LEXER_H_
#define CAIRN_TSDB_PROMQL_LEXER_H_

#include <string>
#include <string_view>
#include <vector>

namespace cairn::promql {

enum class TokenType {
  kEOF,
  kError,
  kIdentifier,
  kMetricIdentifier,
  kNumber,
  kString,
  kDuration,
  // Punctuation.
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kEql,
  kColon,
  // Operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,
  kNeq,
  kLte,
  kLss,
  kGte,
  kGtr,
  kEqlRegex,
  kNeqRegex,
  kAt,
  kAtan2,
  kLand,
  kLor,
  kLunless,
  // Aggregators.
  kAvg,
  kBottomk,
  kCount,
  kCountValues,
  kGroup,
  kMax,
  kMin,
  kQuantile,
  kStddev,
  kStdvar,
  kSum,
  kTopk,
  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,
  // @ preprocessors.
  kStart,
  kEnd,
};

bool IsAggregatorToken(TokenType t);
bool IsKeywordToken(TokenType t);
bool IsOperatorToken(TokenType t);

struct Token {
  TokenType type = TokenType::kEOF;
  int pos = 0;            // byte offset of the first character
  std::string_view text;  // the source text; empty for kError
  std::string error;      // owns the message of a kError token

  int end() const { return pos + static_cast<int>(text.size()); }
};

// How Prometheus names a token in "unexpected ..." errors: `<op:*>`,
// `identifier "foo"`, `end of input`, `"("`, `<aggr:sum>`, `<by>`.
std::string DescribeToken(const Token& t);

std::vector<Token> Lex(std::string_view input);

}  // namespace cairn::promql

#endif  // CAIRN_TSDB_PROMQL_LEXER_H_
