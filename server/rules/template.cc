#include "server/rules/template.h"

#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::rules {
namespace template_internal {

// One operand of a command: a literal, a variable or field chain, a function name
// (only first in a command) or a parenthesised pipeline.
struct Operand {
  enum class Kind { kString, kNumber, kVariable, kField, kFunction, kPipeline };
  Kind kind = Kind::kString;
  std::string text;                 // string value, variable name ("labels", "" for $),
                                    // or function name
  std::vector<std::string> fields;  // .a.b after a variable, or the dot's field chain
  double number = 0;
  bool is_integer = false;  // a number literal without '.', 'e' (Go's int constant)
  std::shared_ptr<Pipeline> pipeline;
};

struct Command {
  std::vector<Operand> operands;
};

struct Pipeline {
  std::vector<Command> commands;
};

struct Node {
  std::string text;                    // literal text (when pipeline is null)
  std::shared_ptr<Pipeline> pipeline;  // an action
  int line = 1;
};

}  // namespace template_internal

namespace {

using template_internal::Command;
using template_internal::Node;
using template_internal::Operand;
using template_internal::Pipeline;

// ---------------------------------------------------------------------------
// Go-compatible number formatting.

std::string GoSpecial(double v) {
  if (std::isnan(v)) return "NaN";
  return v > 0 ? "+Inf" : "-Inf";
}

// fmt.Sprintf("%.<prec>g", v). glibc's %g and Go's agree for finite values (both
// round the exact binary value half-to-even and trim trailing zeros); they differ on
// NaN/Inf spelling.
std::string GoFormatG(double v, int prec) {
  if (!std::isfinite(v)) return GoSpecial(v);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", prec, v);
  return buf;
}

}  // namespace

std::string FormatGoFloat(double v) {
  if (!std::isfinite(v)) return GoSpecial(v);
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  // Shortest round-trip digits; strconv's 'g' with precision -1 switches to the
  // exponent form when the decimal exponent is < -4 or >= 6 (eprec = 6 for shortest).
  char sci[64];
  auto r = std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific);
  std::string s(sci, r.ptr);
  size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  if (exp < -4 || exp >= 6) return s;  // to_chars writes at least two exponent digits, as Go
  char fix[400];
  r = std::to_chars(fix, fix + sizeof(fix), v, std::chars_format::fixed);
  return std::string(fix, r.ptr);
}

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return GoFormatG(v, 4);
  static const char* kBig[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
  static const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  std::string prefix;
  if (std::abs(v) >= 1) {
    for (const char* p : kBig) {
      if (std::abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return GoFormatG(v, 4) + prefix;
  }
  for (const char* p : kSmall) {
    if (std::abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoFormatG(v, 4) + prefix;
}

std::string Humanize1024(double v) {
  if (std::abs(v) <= 1 || std::isnan(v) || std::isinf(v)) return GoFormatG(v, 4);
  static const char* kPrefixes[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
  std::string prefix;
  for (const char* p : kPrefixes) {
    if (std::abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return GoFormatG(v, 4) + prefix;
}

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return GoFormatG(v, 4);
  if (v == 0) return GoFormatG(v, 4) + "s";
  if (std::abs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    // Go's int64(v) saturates differently on overflow; clamp to stay defined.
    int64_t duration = v >= 9.2e18 ? INT64_MAX : static_cast<int64_t>(v);
    int64_t seconds = duration % 60;
    int64_t minutes = (duration / 60) % 60;
    int64_t hours = (duration / 60 / 60) % 24;
    int64_t days = duration / 60 / 60 / 24;
    if (days != 0) {
      return absl::StrFormat("%s%dd %dh %dm %ds", sign, days, hours, minutes, seconds);
    }
    if (hours != 0) return absl::StrFormat("%s%dh %dm %ds", sign, hours, minutes, seconds);
    if (minutes != 0) return absl::StrFormat("%s%dm %ds", sign, minutes, seconds);
    return sign + GoFormatG(v, 4) + "s";
  }
  static const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  std::string prefix;
  for (const char* p : kSmall) {
    if (std::abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoFormatG(v, 4) + prefix + "s";
}

std::string HumanizePercentage(double v) { return GoFormatG(v * 100, 4) + "%"; }

std::string HumanizeTimestamp(double v) {
  if (std::isnan(v) || std::isinf(v)) return GoFormatG(v, 4);
  double ns = v * 1e9;
  if (ns > 9.2e18 || ns < -9.2e18) {
    return absl::StrCat("<cannot represent ", FormatGoFloat(v), " as a timestamp>");
  }
  // model.TimeFromUnixNano keeps milliseconds.
  int64_t ms = static_cast<int64_t>(ns) / 1000000;
  int64_t secs = ms / 1000;
  int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  time_t tt = static_cast<time_t>(secs);
  struct tm tm_utc;
  gmtime_r(&tt, &tm_utc);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm_utc);
  std::string out = buf;
  if (frac != 0) {
    std::string f = absl::StrFormat(".%03d", frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + " +0000 UTC";
}

namespace {

// ---------------------------------------------------------------------------
// Parsing.

// Prometheus' template functions that Cairn does not implement: they are refused at
// load time rather than reported as undefined, so the message says what to change.
constexpr std::string_view kUnsupportedFunctions[] = {"query",
                                                      "first",
                                                      "label",
                                                      "value",
                                                      "strvalue",
                                                      "args",
                                                      "sortByLabel",
                                                      "graphLink",
                                                      "tableLink",
                                                      "pathPrefix",
                                                      "parseDuration",
                                                      "toTime",
                                                      "and",
                                                      "or",
                                                      "not",
                                                      "eq",
                                                      "ne",
                                                      "lt",
                                                      "le",
                                                      "gt",
                                                      "ge",
                                                      "html",
                                                      "js",
                                                      "urlquery",
                                                      "slice",
                                                      "call",
                                                      "println"};
constexpr std::string_view kFunctions[] = {"humanize",
                                           "humanize1024",
                                           "humanizeDuration",
                                           "humanizePercentage",
                                           "humanizeTimestamp",
                                           "printf",
                                           "print",
                                           "toUpper",
                                           "toLower",
                                           "title",
                                           "reReplaceAll",
                                           "match",
                                           "safeHtml",
                                           "index",
                                           "len",
                                           "externalURL"};
constexpr std::string_view kKeywords[] = {"if",    "else",     "end",      "range",
                                          "with",  "define",   "template", "block",
                                          "break", "continue", "nil"};

template <size_t N>
bool OneOf(std::string_view s, const std::string_view (&list)[N]) {
  for (std::string_view x : list) {
    if (x == s) return true;
  }
  return false;
}

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Parses the inside of one {{ }} action.
class ActionParser {
 public:
  ActionParser(std::string_view name, int line, std::string_view text)
      : name_(name), line_(line), s_(text) {}

  absl::StatusOr<std::shared_ptr<Pipeline>> ParseAction() {
    SkipSpace();
    // Control keywords and declarations are refused up front with a clear message.
    size_t p = pos_;
    while (p < s_.size() && IsIdentChar(s_[p])) ++p;
    std::string_view word = s_.substr(pos_, p - pos_);
    if (OneOf(word, kKeywords)) {
      return Error(absl::StrFormat(
          "unsupported template action \"%s\": Cairn supports expressions, pipes and "
          "functions, not control structures",
          word));
    }
    if (pos_ < s_.size() && s_[pos_] == '$') {
      size_t q = pos_ + 1;
      while (q < s_.size() && IsIdentChar(s_[q])) ++q;
      size_t r = q;
      while (r < s_.size() && (s_[r] == ' ' || s_[r] == '\t')) ++r;
      if (s_.substr(r, 2) == ":=" || (r < s_.size() && s_[r] == '=' && s_.substr(r, 2) != "==")) {
        return Error(absl::StrFormat("unsupported variable declaration of %s",
                                     std::string(s_.substr(pos_, q - pos_))));
      }
    }
    auto pipe = ParsePipeline();
    if (!pipe.ok()) return pipe.status();
    SkipSpace();
    if (pos_ != s_.size()) {
      return Error(absl::StrFormat("unexpected \"%c\" in operand", s_[pos_]));
    }
    return pipe;
  }

 private:
  absl::Status Error(std::string_view msg) const {
    return absl::InvalidArgumentError(absl::StrFormat("template: %s:%d: %s", name_, line_, msg));
  }

  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      if (s_[pos_] == '\n') ++line_;
      ++pos_;
    }
  }

  absl::StatusOr<std::shared_ptr<Pipeline>> ParsePipeline() {
    auto pipe = std::make_shared<Pipeline>();
    while (true) {
      Command cmd;
      while (true) {
        SkipSpace();
        if (pos_ >= s_.size() || s_[pos_] == '|' || s_[pos_] == ')') break;
        auto op = ParseOperand(cmd.operands.empty());
        if (!op.ok()) return op.status();
        cmd.operands.push_back(std::move(*op));
      }
      if (cmd.operands.empty()) return Error("missing value for command");
      if (cmd.operands[0].kind != Operand::Kind::kFunction && cmd.operands.size() > 1) {
        return Error("can't give argument to non-function " + Describe(cmd.operands[0]));
      }
      if (!pipe->commands.empty() && cmd.operands[0].kind != Operand::Kind::kFunction) {
        return Error("non executable command in pipeline stage " +
                     std::to_string(pipe->commands.size() + 1));
      }
      pipe->commands.push_back(std::move(cmd));
      if (pos_ < s_.size() && s_[pos_] == '|') {
        ++pos_;
        continue;
      }
      return pipe;
    }
  }

  static std::string Describe(const Operand& op) {
    switch (op.kind) {
      case Operand::Kind::kVariable:
        return "$" + op.text;
      case Operand::Kind::kString:
        return "\"" + op.text + "\"";
      default:
        return "operand";
    }
  }

  absl::Status ParseFields(std::vector<std::string>* fields) {
    while (pos_ < s_.size() && s_[pos_] == '.') {
      size_t start = ++pos_;
      while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
      if (pos_ == start) return Error("bad field syntax");
      fields->emplace_back(s_.substr(start, pos_ - start));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Operand> ParseOperand(bool first) {
    Operand op;
    char c = s_[pos_];
    if (c == '"' || c == '`') return ParseString();
    if (c == '(') {
      ++pos_;
      auto pipe = ParsePipeline();
      if (!pipe.ok()) return pipe.status();
      if (pos_ >= s_.size() || s_[pos_] != ')') return Error("unclosed left paren");
      ++pos_;
      op.kind = Operand::Kind::kPipeline;
      op.pipeline = *pipe;
      return op;
    }
    if (c == '$') {
      size_t start = ++pos_;
      while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
      op.kind = Operand::Kind::kVariable;
      op.text = std::string(s_.substr(start, pos_ - start));
      if (op.text != "" && op.text != "labels" && op.text != "value" &&
          op.text != "externalLabels" && op.text != "externalURL") {
        return Error(absl::StrFormat("undefined variable \"$%s\"", op.text));
      }
      if (absl::Status st = ParseFields(&op.fields); !st.ok()) return st;
      return op;
    }
    if (c == '.') {
      op.kind = Operand::Kind::kField;
      if (pos_ + 1 >= s_.size() || !IsIdentChar(s_[pos_ + 1])) {
        ++pos_;  // the dot itself
        return op;
      }
      if (absl::Status st = ParseFields(&op.fields); !st.ok()) return st;
      return op;
    }
    if ((c >= '0' && c <= '9') || c == '-' || c == '+') {
      size_t start = pos_;
      ++pos_;
      while (pos_ < s_.size() && (IsIdentChar(s_[pos_]) || s_[pos_] == '.' ||
                                  ((s_[pos_] == '-' || s_[pos_] == '+') &&
                                   (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E')))) {
        ++pos_;
      }
      std::string num(s_.substr(start, pos_ - start));
      char* end = nullptr;
      op.number = std::strtod(num.c_str(), &end);
      if (end == nullptr || *end != '\0' || num == "-" || num == "+") {
        return Error(absl::StrFormat("bad number syntax: \"%s\"", num));
      }
      op.is_integer = num.find_first_of(".eEpP") == std::string::npos || num.rfind("0x", 0) == 0 ||
                      num.rfind("0X", 0) == 0;
      op.kind = Operand::Kind::kNumber;
      return op;
    }
    if (IsIdentChar(c)) {
      size_t start = pos_;
      while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
      std::string word(s_.substr(start, pos_ - start));
      if (word == "true" || word == "false") {
        return Error(absl::StrFormat("unsupported boolean constant %s", word));
      }
      if (OneOf(word, kKeywords)) {
        return Error(absl::StrFormat("unexpected <%s> in command", word));
      }
      if (OneOf(word, kUnsupportedFunctions)) {
        return Error(absl::StrFormat("function \"%s\" is not supported by Cairn", word));
      }
      if (!OneOf(word, kFunctions)) {
        return Error(absl::StrFormat("function \"%s\" not defined", word));
      }
      (void)first;
      op.kind = Operand::Kind::kFunction;
      op.text = word;
      return op;
    }
    return Error(absl::StrFormat("unexpected \"%c\" in operand", c));
  }

  absl::StatusOr<Operand> ParseString() {
    Operand op;
    op.kind = Operand::Kind::kString;
    char quote = s_[pos_++];
    while (pos_ < s_.size() && s_[pos_] != quote) {
      char c = s_[pos_++];
      if (quote == '"' && c == '\\') {
        if (pos_ >= s_.size()) break;
        char e = s_[pos_++];
        switch (e) {
          case 'n':
            op.text.push_back('\n');
            break;
          case 't':
            op.text.push_back('\t');
            break;
          case 'r':
            op.text.push_back('\r');
            break;
          case '\\':
          case '"':
            op.text.push_back(e);
            break;
          default:
            return Error(absl::StrFormat("unsupported escape \\%c in quoted string", e));
        }
        continue;
      }
      if (quote == '"' && c == '\n') return Error("unterminated quoted string");
      op.text.push_back(c);
    }
    if (pos_ >= s_.size()) return Error("unterminated quoted string");
    ++pos_;
    return op;
  }

  std::string name_;
  int line_;
  std::string_view s_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Execution.

// A value during execution: Go's dynamic types as far as templates here need them.
struct Value {
  enum class Kind { kInvalid, kFloat, kInt, kString, kLabels };
  Kind kind = Kind::kInvalid;
  double f = 0;
  int64_t i = 0;
  std::string s;
  const Labels* labels = nullptr;
};

std::string GoTypeName(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kFloat:
      return "float64";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kLabels:
      return "map[string]string";
    case Value::Kind::kInvalid:
      break;
  }
  return "<nil>";
}

// fmt's %v of a value.
std::string Print(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kFloat:
      return FormatGoFloat(v.f);
    case Value::Kind::kInt:
      return std::to_string(v.i);
    case Value::Kind::kString:
      return v.s;
    case Value::Kind::kLabels: {
      std::string out = "map[";
      bool first = true;
      for (const Label& l : *v.labels) {
        if (!first) out.push_back(' ');
        first = false;
        absl::StrAppend(&out, Sv(l.name), ":", Sv(l.value));
      }
      return out + "]";
    }
    case Value::Kind::kInvalid:
      break;
  }
  return "<no value>";
}

// Prometheus' convertToFloat.
absl::StatusOr<double> ToFloat(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kFloat:
      return v.f;
    case Value::Kind::kInt:
      return static_cast<double>(v.i);
    case Value::Kind::kString: {
      std::string s = v.s;
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (s.empty() || end == nullptr || *end != '\0' || absl::StrContains(s, "0x") ||
          absl::StrContains(s, "0X")) {
        if (s == "+Inf" || s == "Inf" || s == "inf") return INFINITY;
        if (s == "-Inf") return -INFINITY;
        if (s == "NaN") return NAN;
        return absl::InvalidArgumentError(
            absl::StrFormat("strconv.ParseFloat: parsing \"%s\": invalid syntax", s));
      }
      return d;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("can't convert %s to float", GoTypeName(v)));
  }
}

// A subset of Go's fmt.Sprintf: verbs v s d f F e E g G q x X %, flags - + 0 space #,
// width and precision. Mismatches print as Go does (%!d(float64=1.5)).
std::string GoSprintf(std::string_view format, const std::vector<Value>& args) {
  std::string out;
  size_t arg = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    size_t start = i++;
    std::string flags;
    while (i < format.size() && std::string_view("-+# 0").find(format[i]) != std::string::npos) {
      flags.push_back(format[i++]);
    }
    std::string width, prec;
    bool has_prec = false;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9') width.push_back(format[i++]);
    if (i < format.size() && format[i] == '.') {
      has_prec = true;
      ++i;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') prec.push_back(format[i++]);
      if (prec.empty()) prec = "0";
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    // Go refuses widths and precisions above 1e6; so do we, which also bounds the
    // output a rule file can ask for.
    if (width.size() > 7 || (!width.empty() && std::atoi(width.c_str()) > 1000000)) {
      out += "%!(BADWIDTH)";
      width.clear();
    }
    if (prec.size() > 7 || (!prec.empty() && std::atoi(prec.c_str()) > 1000000)) {
      out += "%!(BADPREC)";
      prec.clear();
      has_prec = false;
    }
    char verb = format[i];
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (arg >= args.size()) {
      absl::StrAppend(&out, "%!", std::string(1, verb), "(MISSING)");
      continue;
    }
    const Value& v = args[arg++];
    std::string spec = absl::StrCat("%", flags, width, has_prec ? "." + prec : "");
    auto bad = [&] {
      absl::StrAppend(&out, "%!", std::string(1, verb), "(", GoTypeName(v), "=", Print(v), ")");
    };
    // snprintf with a format built from the checked flags/width/precision above.
    auto c_format = [&](const std::string& fmt, auto arg) {
      int n = std::snprintf(nullptr, 0, fmt.c_str(), arg);
      if (n <= 0) return;
      std::string tmp(static_cast<size_t>(n) + 1, '\0');
      std::snprintf(tmp.data(), tmp.size(), fmt.c_str(), arg);
      tmp.resize(static_cast<size_t>(n));
      out += tmp;
    };
    auto pad = [&](std::string s) {
      // Width for strings and Go-special floats: pad with spaces (left or right).
      size_t w = width.empty() ? 0 : static_cast<size_t>(std::atoi(width.c_str()));
      if (s.size() < w) {
        if (flags.find('-') != std::string::npos) {
          s.append(w - s.size(), ' ');
        } else {
          s.insert(0, w - s.size(), ' ');
        }
      }
      out += s;
    };
    switch (verb) {
      case 'v':
      case 's':
        if (verb == 's' && v.kind != Value::Kind::kString && v.kind != Value::Kind::kLabels) {
          bad();
          break;
        }
        {
          std::string s = Print(v);
          if (has_prec) s = s.substr(0, std::atoi(prec.c_str()));
          pad(s);
        }
        break;
      case 'q':
        if (v.kind != Value::Kind::kString) {
          bad();
          break;
        }
        pad("\"" + v.s + "\"");
        break;
      case 'd':
      case 'x':
      case 'X':
        if (v.kind == Value::Kind::kInt) {
          c_format(spec + "ll" + verb, static_cast<long long>(v.i));
        } else if (v.kind == Value::Kind::kString && verb != 'd') {
          std::string hex;
          for (unsigned char ch : v.s) {
            hex += verb == 'x' ? absl::StrFormat("%02x", ch) : absl::StrFormat("%02X", ch);
          }
          pad(hex);
        } else {
          bad();
        }
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        double d = 0;
        if (v.kind == Value::Kind::kFloat) {
          d = v.f;
        } else {
          bad();
          break;
        }
        if (!std::isfinite(d)) {
          std::string s = GoSpecial(d);
          if (std::isnan(d) && flags.find('+') != std::string::npos) s = "+NaN";
          if (std::isinf(d) && d > 0 && flags.find('+') == std::string::npos &&
              flags.find(' ') == std::string::npos) {
            s = "+Inf";
          }
          pad(s);
          break;
        }
        if ((verb == 'g' || verb == 'G') && !has_prec) {
          // Go's %g without precision is the shortest representation, not C's 6 digits.
          std::string s = FormatGoFloat(d);
          if (verb == 'G') s = absl::AsciiStrToUpper(s);
          if (flags.find('+') != std::string::npos && d >= 0) s = "+" + s;
          pad(s);
          break;
        }
        if ((verb == 'e' || verb == 'E') && !has_prec) {
          // Go: %e defaults to 6 digits, as C.
        }
        c_format(spec + (verb == 'F' ? 'f' : verb), d);
        break;
      }
      default:
        absl::StrAppend(&out, "%!", std::string(1, verb), "(", GoTypeName(v), "=", Print(v), ")");
    }
    (void)start;
  }
  if (arg < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = arg; k < args.size(); ++k) {
      if (k > arg) out += ", ";
      absl::StrAppend(&out, GoTypeName(args[k]), "=", Print(args[k]));
    }
    out += ")";
  }
  return out;
}

// strings.Title: upper-cases the first letter of each word (ASCII).
std::string Title(std::string_view s) {
  std::string out(s);
  bool prev_letter = false;
  for (char& c : out) {
    bool letter = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                  static_cast<unsigned char>(c) >= 0x80;
    if (letter && !prev_letter) c = absl::ascii_toupper(static_cast<unsigned char>(c));
    prev_letter = letter;
  }
  return out;
}

class Executor {
 public:
  Executor(std::string_view name, const TemplateData& data) : name_(name), data_(data) {}

  absl::StatusOr<Value> Run(const Pipeline& pipe, int line) {
    Value final;
    bool has_final = false;
    for (const Command& cmd : pipe.commands) {
      auto v = RunCommand(cmd, has_final ? &final : nullptr, line);
      if (!v.ok()) return v.status();
      final = std::move(*v);
      has_final = true;
    }
    return final;
  }

 private:
  absl::Status Error(int line, std::string_view msg) const {
    return absl::InvalidArgumentError(
        absl::StrFormat("template: %s:%d: executing \"%s\": %s", name_, line, name_, msg));
  }

  Value Root(std::string_view var) const {
    Value v;
    if (var == "labels" || var == "Labels") {
      v.kind = Value::Kind::kLabels;
      v.labels = data_.labels != nullptr ? data_.labels : &empty_;
    } else if (var == "externalLabels" || var == "ExternalLabels") {
      v.kind = Value::Kind::kLabels;
      v.labels = data_.external_labels != nullptr ? data_.external_labels : &empty_;
    } else if (var == "value" || var == "Value") {
      v.kind = Value::Kind::kFloat;
      v.f = data_.value;
    } else if (var == "externalURL" || var == "ExternalURL") {
      v.kind = Value::Kind::kString;
      v.s = std::string(data_.external_url);
    }
    return v;
  }

  absl::StatusOr<Value> Fields(Value v, const std::vector<std::string>& fields, size_t from,
                               int line) const {
    for (size_t i = from; i < fields.size(); ++i) {
      if (v.kind != Value::Kind::kLabels) {
        if (v.kind == Value::Kind::kInvalid) {
          return Error(line, absl::StrFormat("nil pointer evaluating interface {}.%s", fields[i]));
        }
        return Error(
            line, absl::StrFormat("can't evaluate field %s in type %s", fields[i], GoTypeName(v)));
      }
      // Prometheus runs templates with missingkey=zero: a missing label is "".
      const Labels* ls = v.labels;
      v = Value();
      v.kind = Value::Kind::kString;
      v.s = std::string(ls->Get(fields[i]));
    }
    return v;
  }

  absl::StatusOr<Value> Eval(const Operand& op, int line) {
    switch (op.kind) {
      case Operand::Kind::kString: {
        Value v;
        v.kind = Value::Kind::kString;
        v.s = op.text;
        return v;
      }
      case Operand::Kind::kNumber: {
        Value v;
        if (op.is_integer && std::abs(op.number) < 9e18) {
          v.kind = Value::Kind::kInt;
          v.i = static_cast<int64_t>(op.number);
        } else {
          v.kind = Value::Kind::kFloat;
          v.f = op.number;
        }
        return v;
      }
      case Operand::Kind::kVariable:
        if (op.text.empty()) {
          // $ is the dot: the template data.
          if (op.fields.empty()) {
            return Error(line, "printing the template data is not supported");
          }
          Value root = Root(op.fields[0]);
          if (root.kind == Value::Kind::kInvalid) {
            return Error(line, absl::StrFormat("can't evaluate field %s in type "
                                               "*template.tmplData",
                                               op.fields[0]));
          }
          return Fields(root, op.fields, 1, line);
        }
        return Fields(Root(op.text), op.fields, 0, line);
      case Operand::Kind::kField: {
        if (op.fields.empty()) return Error(line, "printing the template data is not supported");
        Value root = Root(op.fields[0]);
        if (root.kind == Value::Kind::kInvalid) {
          return Error(line, absl::StrFormat("can't evaluate field %s in type struct { Labels "
                                             "map[string]string; ExternalLabels map[string]string; "
                                             "ExternalURL string; Value interface {} }",
                                             op.fields[0]));
        }
        return Fields(root, op.fields, 1, line);
      }
      case Operand::Kind::kPipeline:
        return Run(*op.pipeline, line);
      case Operand::Kind::kFunction:
        return Error(line, absl::StrFormat("can't use function %s as a value", op.text));
    }
    return Value();
  }

  absl::StatusOr<Value> RunCommand(const Command& cmd, const Value* piped, int line) {
    const Operand& head = cmd.operands[0];
    if (head.kind != Operand::Kind::kFunction) return Eval(head, line);
    std::vector<Value> args;
    for (size_t i = 1; i < cmd.operands.size(); ++i) {
      auto v = Eval(cmd.operands[i], line);
      if (!v.ok()) return v.status();
      args.push_back(std::move(*v));
    }
    if (piped != nullptr) args.push_back(*piped);
    return Call(head.text, args, line);
  }

  absl::StatusOr<Value> Call(const std::string& fn, const std::vector<Value>& args, int line) {
    auto want = [&](size_t n) -> absl::Status {
      if (args.size() == n) return absl::OkStatus();
      return Error(
          line, absl::StrFormat("wrong number of args for %s: want %d got %d", fn, n, args.size()));
    };
    auto str_result = [](std::string s) {
      Value v;
      v.kind = Value::Kind::kString;
      v.s = std::move(s);
      return v;
    };
    auto string_arg = [&](size_t i) -> absl::StatusOr<std::string> {
      if (args[i].kind == Value::Kind::kString) return args[i].s;
      if (args[i].kind == Value::Kind::kInvalid) {
        return Error(line, absl::StrFormat("error calling %s: invalid value; expected string", fn));
      }
      return Error(line, absl::StrFormat("wrong type for value; expected string; got %s",
                                         GoTypeName(args[i])));
    };
    if (fn == "humanize" || fn == "humanize1024" || fn == "humanizeDuration" ||
        fn == "humanizePercentage" || fn == "humanizeTimestamp") {
      if (absl::Status st = want(1); !st.ok()) return st;
      absl::StatusOr<double> f = ToFloat(args[0]);
      if (!f.ok()) {
        return Error(line, absl::StrFormat("error calling %s: %s", fn, f.status().message()));
      }
      if (fn == "humanize") return str_result(Humanize(*f));
      if (fn == "humanize1024") return str_result(Humanize1024(*f));
      if (fn == "humanizeDuration") return str_result(HumanizeDuration(*f));
      if (fn == "humanizePercentage") return str_result(HumanizePercentage(*f));
      return str_result(HumanizeTimestamp(*f));
    }
    if (fn == "printf") {
      if (args.empty())
        return Error(line, "wrong number of args for printf: want at least 1 got 0");
      auto format = string_arg(0);
      if (!format.ok()) return format.status();
      return str_result(GoSprintf(*format, std::vector<Value>(args.begin() + 1, args.end())));
    }
    if (fn == "print") {
      // fmt.Sprint: spaces between operands when neither is a string.
      std::string out;
      for (size_t i = 0; i < args.size(); ++i) {
        if (i > 0 && args[i].kind != Value::Kind::kString &&
            args[i - 1].kind != Value::Kind::kString) {
          out.push_back(' ');
        }
        out += Print(args[i]);
      }
      return str_result(std::move(out));
    }
    if (fn == "toUpper" || fn == "toLower" || fn == "title" || fn == "safeHtml") {
      if (absl::Status st = want(1); !st.ok()) return st;
      auto s = string_arg(0);
      if (!s.ok()) return s.status();
      if (fn == "toUpper") return str_result(absl::AsciiStrToUpper(*s));
      if (fn == "toLower") return str_result(absl::AsciiStrToLower(*s));
      if (fn == "title") return str_result(Title(*s));
      return str_result(*s);
    }
    if (fn == "externalURL") {
      if (absl::Status st = want(0); !st.ok()) return st;
      return str_result(std::string(data_.external_url));
    }
    if (fn == "reReplaceAll" || fn == "match") {
      if (absl::Status st = want(fn == "match" ? 2 : 3); !st.ok()) return st;
      std::vector<std::string> s;
      for (size_t i = 0; i < args.size(); ++i) {
        auto a = string_arg(i);
        if (!a.ok()) return a.status();
        s.push_back(*a);
      }
      if (fn == "match") {
        RE2 re(s[0], RE2::Quiet);
        if (!re.ok()) {
          return Error(
              line, absl::StrFormat("error calling match: error parsing regexp: %s", re.error()));
        }
        Value v;
        v.kind = Value::Kind::kString;
        v.s = RE2::PartialMatch(s[1], re) ? "true" : "false";
        return v;
      }
      // Prometheus anchors the pattern: regexp.MustCompile("^(?:" + pattern + ")$").
      RE2 re("^(?:" + s[0] + ")$", RE2::Quiet);
      if (!re.ok()) {
        return Error(line, absl::StrFormat("error calling reReplaceAll: error parsing regexp: %s",
                                           re.error()));
      }
      std::string text = s[2];
      // Go's $1 / ${1} become RE2's \1.
      std::string rewrite;
      for (size_t i = 0; i < s[1].size(); ++i) {
        char c = s[1][i];
        if (c == '$' && i + 1 < s[1].size()) {
          size_t j = i + 1;
          bool braces = s[1][j] == '{';
          if (braces) ++j;
          size_t k = j;
          while (k < s[1].size() && s[1][k] >= '0' && s[1][k] <= '9') ++k;
          if (k > j && (!braces || (k < s[1].size() && s[1][k] == '}'))) {
            absl::StrAppend(&rewrite, "\\", s[1].substr(j, k - j));
            i = braces ? k : k - 1;
            continue;
          }
        }
        if (c == '\\') rewrite.push_back('\\');
        rewrite.push_back(c);
      }
      RE2::GlobalReplace(&text, re, rewrite);
      return str_result(std::move(text));
    }
    if (fn == "index") {
      if (absl::Status st = want(2); !st.ok()) return st;
      if (args[0].kind != Value::Kind::kLabels) {
        return Error(line, absl::StrFormat("error calling index: can't index item of type %s",
                                           GoTypeName(args[0])));
      }
      auto key = string_arg(1);
      if (!key.ok()) return key.status();
      // index returns the zero value for a missing key.
      return str_result(std::string(args[0].labels->Get(*key)));
    }
    if (fn == "len") {
      if (absl::Status st = want(1); !st.ok()) return st;
      Value v;
      v.kind = Value::Kind::kInt;
      if (args[0].kind == Value::Kind::kString) {
        v.i = static_cast<int64_t>(args[0].s.size());
      } else if (args[0].kind == Value::Kind::kLabels) {
        v.i = static_cast<int64_t>(args[0].labels->size());
      } else {
        return Error(line,
                     absl::StrFormat("error calling len: len of type %s", GoTypeName(args[0])));
      }
      return v;
    }
    return Error(line, absl::StrFormat("function \"%s\" not defined", fn));
  }

  std::string name_;
  const TemplateData& data_;
  const Labels empty_;
};

}  // namespace

absl::StatusOr<Template> Template::Parse(std::string_view name, std::string_view text) {
  auto nodes = std::make_shared<std::vector<Node>>();
  int line = 1;
  size_t pos = 0;
  bool trim_next = false;  // the previous action ended with " -}}"
  while (pos <= text.size()) {
    size_t open = text.find("{{", pos);
    std::string_view literal =
        text.substr(pos, open == std::string_view::npos ? text.npos : open - pos);
    std::string lit(literal);
    if (trim_next) {
      size_t k = lit.find_first_not_of(" \t\r\n");
      lit = k == std::string::npos ? "" : lit.substr(k);
    }
    size_t body = open + 2;
    bool trim_left = open != std::string_view::npos && text.substr(body, 2) == "- ";
    bool trim_left_tab =
        open != std::string_view::npos && body + 1 < text.size() && text[body] == '-' &&
        (text[body + 1] == '\t' || text[body + 1] == '\n' || text[body + 1] == '\r');
    if (trim_left || trim_left_tab) {
      size_t k = lit.find_last_not_of(" \t\r\n");
      lit = k == std::string::npos ? "" : lit.substr(0, k + 1);
    }
    if (!lit.empty()) nodes->push_back(Node{lit, nullptr, line});
    for (char c : literal) line += c == '\n';
    if (open == std::string_view::npos) break;
    if (trim_left || trim_left_tab) body += 2;
    // Comments: {{/* ... */}}, possibly with trim markers.
    if (text.substr(body, 2) == "/*") {
      size_t end = text.find("*/", body + 2);
      if (end == std::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrFormat("template: %s:%d: unclosed comment", name, line));
      }
      size_t after = end + 2;
      trim_next = false;
      if (text.substr(after, 3) == " -}") {
        trim_next = true;
        after += 2;
      }
      if (text.substr(after, 2) != "}}") {
        return absl::InvalidArgumentError(
            absl::StrFormat("template: %s:%d: comment ends before closing delimiter", name, line));
      }
      for (char c : text.substr(body, after - body)) line += c == '\n';
      pos = after + 2;
      continue;
    }
    // The action ends at the first "}}" outside a quoted string.
    size_t i = body;
    char quote = 0;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (quote != 0) {
        if (c == '\\' && quote == '"') {
          ++i;
        } else if (c == quote) {
          quote = 0;
        }
        continue;
      }
      if (c == '"' || c == '`') {
        quote = c;
      } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
        break;
      }
    }
    if (i >= text.size()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("template: %s:%d: unclosed action", name, line));
    }
    size_t end = i;
    trim_next = false;
    if (end >= body + 2 && text[end - 1] == '-' &&
        (text[end - 2] == ' ' || text[end - 2] == '\t' || text[end - 2] == '\n')) {
      trim_next = true;
      end -= 1;
    }
    std::string_view action = text.substr(body, end - body);
    ActionParser parser(name, line, action);
    auto pipe = parser.ParseAction();
    if (!pipe.ok()) return pipe.status();
    nodes->push_back(Node{"", *pipe, line});
    for (char c : text.substr(body, i - body)) line += c == '\n';
    pos = i + 2;
  }
  Template t;
  t.name_ = std::string(name);
  t.nodes_ = std::move(nodes);
  return t;
}

bool Template::is_plain_text() const {
  for (const Node& n : *nodes_) {
    if (n.pipeline != nullptr) return false;
  }
  return true;
}

absl::StatusOr<std::string> Template::Execute(const TemplateData& data) const {
  std::string out;
  Executor exec(name_, data);
  for (const Node& n : *nodes_) {
    if (n.pipeline == nullptr) {
      out += n.text;
      continue;
    }
    absl::StatusOr<Value> v = exec.Run(*n.pipeline, n.line);
    if (!v.ok()) return v.status();
    out += Print(*v);
  }
  return out;
}

std::string ExpandTemplate(std::string_view name, std::string_view text, const TemplateData& data) {
  absl::StatusOr<Template> t = Template::Parse(name, text);
  absl::StatusOr<std::string> out =
      t.ok() ? t->Execute(data) : absl::StatusOr<std::string>(t.status());
  if (!out.ok()) return absl::StrCat("<error expanding template: ", out.status().message(), ">");
  return *out;
}

}  // namespace cairn::rules
