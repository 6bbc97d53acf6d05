#include "tsdb/promql/lexer.h"

#include <cstdio>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/promql/ast.h"

namespace cairn::promql {
namespace {

constexpr int kEofRune = -1;

struct Keyword {
  std::string_view word;
  TokenType type;
};

// Matched case-insensitively, as Prometheus lower-cases before the lookup.
constexpr Keyword kKeywords[] = {
    {"and", TokenType::kLand},
    {"or", TokenType::kLor},
    {"unless", TokenType::kLunless},
    {"atan2", TokenType::kAtan2},
    {"sum", TokenType::kSum},
    {"avg", TokenType::kAvg},
    {"count", TokenType::kCount},
    {"min", TokenType::kMin},
    {"max", TokenType::kMax},
    {"group", TokenType::kGroup},
    {"stddev", TokenType::kStddev},
    {"stdvar", TokenType::kStdvar},
    {"topk", TokenType::kTopk},
    {"bottomk", TokenType::kBottomk},
    {"count_values", TokenType::kCountValues},
    {"quantile", TokenType::kQuantile},
    {"offset", TokenType::kOffset},
    {"by", TokenType::kBy},
    {"without", TokenType::kWithout},
    {"on", TokenType::kOn},
    {"ignoring", TokenType::kIgnoring},
    {"group_left", TokenType::kGroupLeft},
    {"group_right", TokenType::kGroupRight},
    {"bool", TokenType::kBool},
    {"start", TokenType::kStart},
    {"end", TokenType::kEnd},
    {"inf", TokenType::kNumber},
    {"nan", TokenType::kNumber},
};

bool IsSpace(int r) { return r == ' ' || r == '\t' || r == '\n' || r == '\r'; }
bool IsAlpha(int r) { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }
bool IsDigit(int r) { return r >= '0' && r <= '9'; }
bool IsAlphaNumeric(int r) { return IsAlpha(r) || IsDigit(r); }

int DigitVal(int r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;
}

std::string EncodeRune(int r) {
  std::string s;
  uint32_t c = static_cast<uint32_t>(r);
  if (c < 0x80) {
    s.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (c >> 6)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (c >> 12)));
    s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (c >> 18)));
    s.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return s;
}

// Go's %q of a rune.
std::string QuoteRune(int r) {
  switch (r) {
    case '\'':
      return "'\\''";
    case '\\':
      return "'\\\\'";
    case '\n':
      return "'\\n'";
    case '\t':
      return "'\\t'";
    case '\r':
      return "'\\r'";
    case '\a':
      return "'\\a'";
    case '\b':
      return "'\\b'";
    case '\f':
      return "'\\f'";
    case '\v':
      return "'\\v'";
    default:
      break;
  }
  if (r < 0x20 || r == 0x7F) return absl::StrFormat("'\\x%02x'", r);
  if (r == 0xFFFD) return "'�'";
  return absl::StrCat("'", EncodeRune(r), "'");
}

// Go's %#U of a rune.
std::string FormatUnicode(int r) {
  if (r < 0x20 || r == 0x7F) return absl::StrFormat("U+%04X", r);
  return absl::StrFormat("U+%04X '%s'", r, EncodeRune(r));
}

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  std::vector<Token> Run() {
    while (!done_) {
      if (in_braces_) {
        LexInsideBraces();
      } else {
        LexStatements();
      }
    }
    return std::move(tokens_);
  }

 private:
  int Next() {
    if (pos_ >= input_.size()) {
      last_width_ = 0;
      return kEofRune;
    }
    unsigned char c = input_[pos_];
    int width = 1;
    int r = c;
    if (c >= 0x80) {
      int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (n == 1 || pos_ + n > input_.size()) {
        r = 0xFFFD;
      } else {
        r = c & (0x3F >> (n - 1));
        for (int k = 1; k < n; ++k) r = (r << 6) | (input_[pos_ + k] & 0x3F);
        width = n;
      }
    }
    last_width_ = width;
    pos_ += width;
    return r;
  }
  void Backup() { pos_ -= last_width_; }
  int Peek() {
    int r = Next();
    Backup();
    return r;
  }
  bool Accept(std::string_view valid) {
    int r = Next();
    if (r != kEofRune && r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos) {
      return true;
    }
    Backup();
    return false;
  }
  void AcceptRun(std::string_view valid) {
    while (Accept(valid)) {
    }
  }
  void Emit(TokenType t) {
    Token tok;
    tok.type = t;
    tok.pos = static_cast<int>(start_);
    tok.text = input_.substr(start_, pos_ - start_);
    tokens_.push_back(std::move(tok));
    start_ = pos_;
  }
  void Ignore() { start_ = pos_; }
  void Errorf(std::string msg) {
    Token tok;
    tok.type = TokenType::kError;
    tok.pos = static_cast<int>(start_);
    tok.error = std::move(msg);
    tokens_.push_back(std::move(tok));
    done_ = true;
  }

  // Scans a number; false when it runs into a letter (a duration, or junk).
  bool ScanNumber() {
    std::string_view digits = "0123456789";
    if (Accept("0") && Accept("xX")) digits = "0123456789abcdefABCDEF";
    AcceptRun(digits);
    if (Accept(".")) AcceptRun(digits);
    if (Accept("eE")) {
      Accept("+-");
      AcceptRun("0123456789");
    }
    return !IsAlphaNumeric(Peek());
  }

  // Unit validity beyond this loose shape ("1h1h", "1ys") is checked by
  // ParseDuration, as in Prometheus.
  bool AcceptRemainingDuration() {
    if (!Accept("smhdwy")) return false;
    Accept("s");
    while (Accept("0123456789")) {
      AcceptRun("0123456789");
      if (!Accept("smhdw")) return false;
      Accept("s");
    }
    return !IsAlphaNumeric(Next());
  }

  void LexNumberOrDuration() {
    if (ScanNumber()) {
      Emit(TokenType::kNumber);
      return;
    }
    if (AcceptRemainingDuration()) {
      Backup();
      Emit(TokenType::kDuration);
      return;
    }
    Errorf(absl::StrFormat("bad number or duration syntax: %s",
                           GoQuote(input_.substr(start_, pos_ - start_))));
  }

  void LexDuration() {
    if (ScanNumber()) {
      Errorf("missing unit character in duration");
      return;
    }
    if (!AcceptRemainingDuration()) {
      Errorf(absl::StrFormat("bad duration syntax: %s",
                             GoQuote(input_.substr(start_, pos_ - start_))));
      return;
    }
    Backup();
    Emit(TokenType::kDuration);
  }

  bool LexEscape(int quote) {
    int ch = Next();
    int n = 0;
    uint32_t base = 0, max = 0;
    switch (ch) {
      case 'a':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
      case '\\':
        return true;
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
        n = 3, base = 8, max = 255;
        break;
      case 'x':
        ch = Next();
        n = 2, base = 16, max = 255;
        break;
      case 'u':
        ch = Next();
        n = 4, base = 16, max = 0x10FFFF;
        break;
      case 'U':
        ch = Next();
        n = 8, base = 16, max = 0x10FFFF;
        break;
      case kEofRune:
        Errorf("escape sequence not terminated");
        return false;
      default:
        if (ch == quote) return true;
        Errorf(absl::StrCat("unknown escape sequence ", FormatUnicode(ch)));
        return false;
    }
    uint32_t x = 0;
    while (n > 0) {
      uint32_t d = ch == kEofRune ? 16 : static_cast<uint32_t>(DigitVal(ch));
      if (d >= base) {
        if (ch == kEofRune) {
          Errorf("escape sequence not terminated");
          return false;
        }
        Errorf(absl::StrCat("illegal character ", FormatUnicode(ch), " in escape sequence"));
        return false;
      }
      x = x * base + d;
      --n;
      if (n > 0) ch = Next();
    }
    if (x > max || (x >= 0xD800 && x < 0xE000)) {
      Errorf("escape sequence is an invalid Unicode code point");
      return false;
    }
    return true;
  }

  void LexString(int quote) {
    for (;;) {
      int r = Next();
      if (r == '\\') {
        if (!LexEscape(quote)) return;
      } else if (r == kEofRune || r == '\n') {
        Errorf("unterminated quoted string");
        return;
      } else if (r == quote) {
        break;
      }
    }
    Emit(TokenType::kString);
  }

  void LexRawString() {
    for (;;) {
      int r = Next();
      if (r == kEofRune) {
        Errorf("unterminated raw string");
        return;
      }
      if (r == '`') break;
    }
    Emit(TokenType::kString);
  }

  void SkipSpaces() {
    while (IsSpace(Peek())) Next();
    Ignore();
  }

  void LexKeywordOrIdentifier() {
    for (;;) {
      int r = Next();
      if (!(IsAlphaNumeric(r) || r == ':')) {
        Backup();
        break;
      }
    }
    std::string_view word = input_.substr(start_, pos_ - start_);
    std::string lower = absl::AsciiStrToLower(Sv(word));
    for (const Keyword& k : kKeywords) {
      if (k.word == lower) {
        Emit(k.type);
        return;
      }
    }
    Emit(word.find(':') == std::string_view::npos ? TokenType::kIdentifier
                                                  : TokenType::kMetricIdentifier);
  }

  static absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

  void LexStatements() {
    int r = Next();
    if (r == kEofRune) {
      if (paren_depth_ != 0) {
        Errorf("unclosed left parenthesis");
      } else if (bracket_open_) {
        Errorf("unclosed left bracket");
      } else {
        Emit(TokenType::kEOF);
        done_ = true;
      }
      return;
    }
    if (r == '#') {
      while (Peek() != '\n' && Peek() != kEofRune) Next();
      Ignore();
      return;
    }
    if (IsSpace(r)) {
      SkipSpaces();
      return;
    }
    switch (r) {
      case ',':
        Emit(TokenType::kComma);
        return;
      case '*':
        Emit(TokenType::kMul);
        return;
      case '/':
        Emit(TokenType::kDiv);
        return;
      case '%':
        Emit(TokenType::kMod);
        return;
      case '+':
        Emit(TokenType::kAdd);
        return;
      case '-':
        Emit(TokenType::kSub);
        return;
      case '^':
        Emit(TokenType::kPow);
        return;
      case '@':
        Emit(TokenType::kAt);
        return;
      case '=': {
        int t = Peek();
        if (t == '=') {
          Next();
          Emit(TokenType::kEqlc);
        } else if (t == '~') {
          Errorf(absl::StrCat("unexpected character after '=': ", QuoteRune(t)));
        } else {
          Emit(TokenType::kEql);
        }
        return;
      }
      case '!': {
        int t = Next();
        if (t == '=') {
          Emit(TokenType::kNeq);
        } else {
          Errorf(absl::StrCat("unexpected character after '!': ", QuoteRune(t)));
        }
        return;
      }
      case '<':
        if (Peek() == '=') {
          Next();
          Emit(TokenType::kLte);
        } else {
          Emit(TokenType::kLss);
        }
        return;
      case '>':
        if (Peek() == '=') {
          Next();
          Emit(TokenType::kGte);
        } else {
          Emit(TokenType::kGtr);
        }
        return;
      case '"':
      case '\'':
        LexString(r);
        return;
      case '`':
        LexRawString();
        return;
      case '(':
        Emit(TokenType::kLeftParen);
        ++paren_depth_;
        return;
      case ')':
        Emit(TokenType::kRightParen);
        if (--paren_depth_ < 0) {
          // Prometheus reports this at the lexer's position after the paren,
          // replacing the paren token.
          tokens_.pop_back();
          Errorf(absl::StrCat("unexpected right parenthesis ", QuoteRune(r)));
        }
        return;
      case '{':
        Emit(TokenType::kLeftBrace);
        in_braces_ = true;
        return;
      case '[':
        if (bracket_open_) {
          Errorf(absl::StrCat("unexpected left bracket ", QuoteRune(r)));
          return;
        }
        got_colon_ = false;
        Emit(TokenType::kLeftBracket);
        SkipSpaces();
        bracket_open_ = true;
        LexDuration();
        return;
      case ']':
        if (!bracket_open_) {
          Errorf(absl::StrCat("unexpected right bracket ", QuoteRune(r)));
          return;
        }
        got_colon_ = false;
        bracket_open_ = false;
        Emit(TokenType::kRightBracket);
        return;
      case ':':
        break;
      default:
        break;
    }
    // Inside brackets Prometheus' lexer takes any letter for the subquery colon
    // ("foo[5m:x]" fails with "unexpected colon 'x'").
    if (r == ':' || IsAlpha(r)) {
      if (!bracket_open_) {
        Backup();
        LexKeywordOrIdentifier();
        return;
      }
      if (got_colon_) {
        Errorf(absl::StrCat("unexpected colon ", QuoteRune(r)));
        return;
      }
      Emit(TokenType::kColon);
      got_colon_ = true;
      return;
    }
    if (IsDigit(r) || (r == '.' && IsDigit(Peek()))) {
      Backup();
      LexNumberOrDuration();
      return;
    }
    Errorf(absl::StrCat("unexpected character: ", QuoteRune(r)));
  }

  void LexInsideBraces() {
    int r = Next();
    if (r == kEofRune) {
      Errorf("unexpected end of input inside braces");
      return;
    }
    if (IsSpace(r)) {
      SkipSpaces();
      return;
    }
    if (r == '#') {
      while (Peek() != '\n' && Peek() != kEofRune) Next();
      Ignore();
      return;
    }
    if (IsAlpha(r)) {
      for (;;) {
        int c = Next();
        if (!IsAlphaNumeric(c)) {
          Backup();
          break;
        }
      }
      Emit(TokenType::kIdentifier);
      return;
    }
    switch (r) {
      case ',':
        Emit(TokenType::kComma);
        return;
      case '"':
      case '\'':
        LexString(r);
        return;
      case '`':
        LexRawString();
        return;
      case '=':
        if (Next() == '~') {
          Emit(TokenType::kEqlRegex);
          return;
        }
        Backup();
        Emit(TokenType::kEql);
        return;
      case '!': {
        int nr = Next();
        if (nr == '~') {
          Emit(TokenType::kNeqRegex);
        } else if (nr == '=') {
          Emit(TokenType::kNeq);
        } else {
          Errorf(absl::StrCat("unexpected character after '!' inside braces: ", QuoteRune(nr)));
        }
        return;
      }
      case '{':
        Errorf(absl::StrCat("unexpected left brace ", QuoteRune(r)));
        return;
      case '}':
        Emit(TokenType::kRightBrace);
        in_braces_ = false;
        return;
      default:
        Errorf(absl::StrCat("unexpected character inside braces: ", QuoteRune(r)));
        return;
    }
  }

  std::string_view input_;
  size_t start_ = 0;
  size_t pos_ = 0;
  int last_width_ = 0;
  int paren_depth_ = 0;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool in_braces_ = false;
  bool done_ = false;
  std::vector<Token> tokens_;
};

}  // namespace

bool IsAggregatorToken(TokenType t) { return t >= TokenType::kAvg && t <= TokenType::kTopk; }
bool IsKeywordToken(TokenType t) { return t >= TokenType::kBool && t <= TokenType::kWithout; }
bool IsOperatorToken(TokenType t) { return t >= TokenType::kAdd && t <= TokenType::kLunless; }

std::string DescribeToken(const Token& t) {
  std::string_view v = t.text;
  switch (t.type) {
    case TokenType::kEOF:
      return "end of input";
    case TokenType::kError:
      return t.error;
    default:
      break;
  }
  // Go's Item.String().
  std::string s;
  if (t.type == TokenType::kIdentifier || t.type == TokenType::kMetricIdentifier) {
    s = GoQuote(v);
  } else if (IsKeywordToken(t.type)) {
    s = absl::StrCat("<", absl::string_view(v.data(), v.size()), ">");
  } else if (IsOperatorToken(t.type)) {
    s = absl::StrCat("<op:", absl::string_view(v.data(), v.size()), ">");
  } else if (IsAggregatorToken(t.type)) {
    s = absl::StrCat("<aggr:", absl::string_view(v.data(), v.size()), ">");
  } else if (v.size() > 10) {
    // %.10q: the first ten runes, quoted.
    size_t i = 0;
    for (int runes = 0; runes < 10 && i < v.size(); ++runes) {
      ++i;
      while (i < v.size() && (static_cast<unsigned char>(v[i]) & 0xC0) == 0x80) ++i;
    }
    s = GoQuote(v.substr(0, i)) + "...";
  } else {
    s = GoQuote(v);
  }
  // Go's Item.desc(): tokens with a fixed spelling stand alone, others get a kind.
  switch (t.type) {
    case TokenType::kIdentifier:
      return "identifier " + s;
    case TokenType::kMetricIdentifier:
      return "metric identifier " + s;
    case TokenType::kString:
      return "string " + s;
    case TokenType::kNumber:
      // "inf"/"nan" are keywords mapped to numbers; Prometheus still describes
      // them as numbers.
      return "number " + s;
    case TokenType::kDuration:
      return "duration " + s;
    case TokenType::kAt:
      // Prometheus 2.42 has no spelling for '@' in its token table, so it falls
      // back to the generated token number (57385 in 2.42's yacc output).
      return "\"<Item 57385>\" " + s;
    default:
      return s;
  }
}

std::vector<Token> Lex(std::string_view input) { return Lexer(input).Run(); }

}  // namespace cairn::promql
