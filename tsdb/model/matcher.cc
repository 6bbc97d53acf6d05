#include "tsdb/model/matcher.h"

#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "tsdb/model/labels.h"
#include "tsdb/util/absl_compat.h"

namespace cairn {
namespace {

// If `re` is a plain alternation of literals (no metacharacters), returns them.
std::vector<std::string> FindSetMatches(std::string_view re) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : re) {
    if (c == '|') {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    if (std::string_view(".*+?()[]{}^$\\").find(c) != std::string_view::npos) return {};
    cur.push_back(c);
  }
  out.push_back(std::move(cur));
  return out;
}

}  // namespace

std::string_view MatchTypeToString(MatchType t) {
  switch (t) {
    case MatchType::kEqual:
      return "=";
    case MatchType::kNotEqual:
      return "!=";
    case MatchType::kRegexMatch:
      return "=~";
    case MatchType::kRegexNoMatch:
      return "!~";
  }
  return "?";
}

absl::StatusOr<Matcher> Matcher::Create(MatchType type, std::string_view name,
                                        std::string_view value) {
  Matcher m;
  m.type_ = type;
  m.name_ = std::string(name);
  m.value_ = std::string(value);
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_dot_nl(true);  // Prometheus compiles with (?s): '.' matches newlines
    auto re = std::make_shared<RE2>(absl::StrCat("^(?:", Sv(value), ")$"), opts);
    if (!re->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid regular expression \"", Sv(value), "\": ", re->error()));
    }
    m.re_ = std::move(re);
    if (type == MatchType::kRegexMatch) m.set_matches_ = FindSetMatches(value);
  }
  m.matches_empty_ = m.Matches("");
  return m;
}

bool Matcher::Matches(std::string_view v) const {
  switch (type_) {
    case MatchType::kEqual:
      return v == value_;
    case MatchType::kNotEqual:
      return v != value_;
    case MatchType::kRegexMatch:
      return RE2::FullMatch(v, *re_);
    case MatchType::kRegexNoMatch:
      return !RE2::FullMatch(v, *re_);
  }
  return false;
}

std::string Matcher::ToString() const {
  std::string out = absl::StrCat(name_, Sv(MatchTypeToString(type_)), "\"");
  for (char c : value_) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels) {
  for (const Matcher& m : matchers) {
    if (!m.Matches(labels.Get(m.name()))) return false;
  }
  return true;
}

}  // namespace cairn
