// Matcher: one label matcher of a selector — `name op "value"` with op one of
// =, !=, =~, !~. Regular expressions use RE2 (the same syntax and linear-time
// guarantee as Prometheus' Go regexp) and are fully anchored, as in Prometheus.
// A label that is absent has the value "" for matching, so `{a=""}` selects series
// without `a` and `{a=~".*"}` matches every series.
//
// Thread-safety: immutable after Create(); copies share the compiled regex.
#ifndef CAIRN_TSDB_MODEL_MATCHER_H_
#define CAIRN_TSDB_MODEL_MATCHER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}

namespace cairn {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

std::string_view MatchTypeToString(MatchType t);  // "=", "!=", "=~", "!~"

class Matcher {
 public:
  // Fails with kInvalidArgument when a regex does not compile (the message names it).
  static absl::StatusOr<Matcher> Create(MatchType type, std::string_view name,
                                        std::string_view value);

  bool Matches(std::string_view value) const;
  // Whether the matcher selects series that lack the label (i.e. it matches "").
  bool MatchesEmpty() const { return matches_empty_; }

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // For =~ whose regex is a plain alternation of literals ("a|b|c"): those literals,
  // so indexes can look them up instead of scanning every value. Empty otherwise.
  const std::vector<std::string>& set_matches() const { return set_matches_; }

  // Prometheus' rendering: job=~"api|web".
  std::string ToString() const;

 private:
  Matcher() = default;

  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;
  std::vector<std::string> set_matches_;
  bool matches_empty_ = false;
};

// True when every matcher accepts `labels`' value for its name ("" when absent).
class Labels;
bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels);

}  // namespace cairn

#endif  // CAIRN_TSDB_MODEL_MATCHER_H_
