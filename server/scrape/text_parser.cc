#include "server/scrape/text_parser.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"

namespace cairn::scrape {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// The length of a label set up to and including its closing '}' (`s` starts after
// the '{'): the first '}' outside a quoted value, where a backslash escapes the
// next character. npos when there is none. For a well-formed set this is where
// ParseLabels ends.
size_t LabelSetEnd(std::string_view s) {
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '}') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

void SkipBlanks(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && IsBlank((*s)[i])) ++i;
  s->remove_prefix(i);
}

bool IsMetricNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsMetricNameChar(char c) { return IsMetricNameStart(c) || (c >= '0' && c <= '9'); }
bool IsLabelNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsLabelNameChar(char c) { return IsLabelNameStart(c) || (c >= '0' && c <= '9'); }

// Takes the longest metric name prefix of *s.
std::string_view TakeMetricName(std::string_view* s) {
  if (s->empty() || !IsMetricNameStart((*s)[0])) return {};
  size_t i = 1;
  while (i < s->size() && IsMetricNameChar((*s)[i])) ++i;
  std::string_view name = s->substr(0, i);
  s->remove_prefix(i);
  return name;
}

std::string_view TakeToken(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && !IsBlank((*s)[i])) ++i;
  std::string_view tok = s->substr(0, i);
  s->remove_prefix(i);
  return tok;
}

// Replaces \\, \" (when `quote`) and \n; any other backslash stays as written, as in
// Prometheus' strings.Replacer based unescaping.
void Unescape(std::string_view in, bool quote, std::string* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\' && i + 1 < in.size()) {
      char n = in[i + 1];
      if (n == '\\' || n == 'n' || (quote && n == '"')) {
        out->push_back(n == 'n' ? '\n' : n);
        ++i;
        continue;
      }
    }
    out->push_back(c);
  }
}

bool ParseMetricType(std::string_view s, bool open_metrics, MetricType* out) {
  struct Name {
    std::string_view name;
    MetricType type;
    bool text;  // valid in the text format
    bool om;    // valid in OpenMetrics
  };
  static constexpr Name kNames[] = {
      {"counter", MetricType::kCounter, true, true},
      {"gauge", MetricType::kGauge, true, true},
      {"histogram", MetricType::kHistogram, true, true},
      {"summary", MetricType::kSummary, true, true},
      {"untyped", MetricType::kUnknown, true, false},
      {"unknown", MetricType::kUnknown, false, true},
      {"gaugehistogram", MetricType::kGaugeHistogram, false, true},
      {"info", MetricType::kInfo, false, true},
      {"stateset", MetricType::kStateset, false, true},
  };
  for (const Name& n : kNames) {
    if (n.name == s && (open_metrics ? n.om : n.text)) {
      *out = n.type;
      return true;
    }
  }
  return false;
}

}  // namespace

ExpositionFormat FormatForContentType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view media = content_type.substr(0, semi);
  while (!media.empty() && IsBlank(media.back())) media.remove_suffix(1);
  while (!media.empty() && IsBlank(media.front())) media.remove_prefix(1);
  return media == "application/openmetrics-text" ? ExpositionFormat::kOpenMetrics
                                                 : ExpositionFormat::kPrometheusText;
}

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kUnknown:
      return "unknown";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateset:
      return "stateset";
  }
  return "unknown";
}

bool ParseSampleValue(std::string_view text, double* out) {
  if (text.empty()) return false;
  bool negative = false;
  std::string_view s = text;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
    if (s.empty() || s[0] == '+' || s[0] == '-') return false;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (end != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // Go's ParseFloat returns ±Inf (with an error Prometheus treats as fatal); refuse.
    return false;
  }
  if (ec != std::errc()) return false;
  *out = negative ? -v : v;
  return true;
}

TextParser::TextParser(std::string_view page, ExpositionFormat format)
    : page_(page), format_(format), open_metrics_(format == ExpositionFormat::kOpenMetrics) {}

bool TextParser::Fail(std::string_view reason) {
  std::string_view shown = line_.substr(0, 200);
  status_ = absl::InvalidArgumentError(
      absl::StrFormat("line %d: %s: \"%s\"", line_number_, reason, shown));
  done_ = true;
  return false;
}

bool TextParser::Next() {
  while (!done_) {
    if (pos_ >= page_.size()) {
      done_ = true;
      if (open_metrics_ && !saw_eof_) {
        line_ = {};
        ++line_number_;
        return Fail("data does not end with # EOF");
      }
      return false;
    }
    size_t nl = page_.find('\n', pos_);
    size_t end = nl == std::string_view::npos ? page_.size() : nl;
    line_ = page_.substr(pos_, end - pos_);
    pos_ = nl == std::string_view::npos ? page_.size() : nl + 1;
    ++line_number_;
    scratch_.clear();
    labels_.clear();
    if (saw_eof_) return Fail("unexpected data after # EOF");
    std::string_view line = line_;
    if (open_metrics_) {
      if (line.empty()) return Fail("empty line");
    } else {
      SkipBlanks(&line);
      if (line.empty()) continue;
    }
    if (line[0] == '#') {
      if (!ParseComment(line)) return false;
      if (saw_eof_) continue;  // "# EOF" is not an entry; the next read ends the page
      return true;
    }
    return ParseSeries(line);
  }
  return false;
}

bool TextParser::ParseComment(std::string_view line) {
  line.remove_prefix(1);  // '#'
  std::string_view rest = line;
  std::string_view keyword;
  if (open_metrics_) {
    if (rest == " EOF") {
      saw_eof_ = true;
      return true;
    }
    if (rest.size() < 6 || rest[0] != ' ' || rest[5] != ' ') {
      return Fail("invalid comment: OpenMetrics allows only HELP, TYPE, UNIT and EOF");
    }
    keyword = rest.substr(1, 4);
    rest.remove_prefix(6);
  } else {
    SkipBlanks(&rest);
    std::string_view tok = rest;
    keyword = TakeToken(&tok);
    if ((keyword != "HELP" && keyword != "TYPE") || tok.empty()) {
      // Text format: any other comment is ignored.
      entry_ = Entry::kComment;
      text_ = rest;
      return true;
    }
    rest = tok;
    SkipBlanks(&rest);
  }
  if (keyword != "HELP" && keyword != "TYPE" && keyword != "UNIT") {
    return Fail("invalid comment: OpenMetrics allows only HELP, TYPE, UNIT and EOF");
  }
  name_ = TakeMetricName(&rest);
  if (name_.empty()) return Fail(absl::StrFormat("invalid metric name in %s line", keyword));
  if (!rest.empty()) {
    if (!IsBlank(rest[0])) return Fail(absl::StrFormat("invalid metric name in %s line", keyword));
    if (open_metrics_) {
      if (rest[0] != ' ') return Fail("expected a single space");
      rest.remove_prefix(1);
    } else {
      SkipBlanks(&rest);
    }
  }
  if (keyword == "HELP") {
    entry_ = Entry::kHelp;
    Unescape(rest, /*quote=*/open_metrics_, &scratch_);
    text_ = scratch_;
    return true;
  }
  if (keyword == "UNIT") {
    entry_ = Entry::kUnit;
    text_ = rest;
    return true;
  }
  entry_ = Entry::kType;
  std::string_view type = rest;
  if (!open_metrics_) {
    while (!type.empty() && IsBlank(type.back())) type.remove_suffix(1);
  }
  if (type.empty()) return Fail("expected metric type in TYPE line");
  if (!ParseMetricType(type, open_metrics_, &type_)) return Fail("invalid metric type");
  return true;
}

bool TextParser::ParseLabelValue(std::string_view* rest, std::string_view* value) {
  // *rest starts after the opening quote.
  const std::string_view s = *rest;
  bool escaped = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      escaped = true;
      ++i;  // skip the escaped character
      continue;
    }
    if (c == '"') break;
  }
  if (i >= s.size()) return Fail("unterminated label value");
  std::string_view raw = s.substr(0, i);
  if (escaped) {
    // scratch_ was reserved for the whole line, so earlier views stay valid.
    size_t start = scratch_.size();
    Unescape(raw, /*quote=*/true, &scratch_);
    *value = std::string_view(scratch_).substr(start);
  } else {
    *value = raw;
  }
  rest->remove_prefix(i + 1);
  return true;
}

bool TextParser::ParseLabels(std::string_view* rest) {
  // *rest starts after '{'.
  std::string_view s = *rest;
  const size_t start = labels_.size();
  bool first = true;
  while (true) {
    if (!open_metrics_) SkipBlanks(&s);
    if (s.empty()) return Fail("unterminated label set");
    if (s[0] == '}') {
      if (!first && open_metrics_) return Fail("trailing comma in label set");
      s.remove_prefix(1);
      break;
    }
    size_t n = 0;
    if (!IsLabelNameStart(s[0])) return Fail("invalid label name");
    while (n < s.size() && IsLabelNameChar(s[n])) ++n;
    std::string_view lname = s.substr(0, n);
    s.remove_prefix(n);
    if (!open_metrics_) SkipBlanks(&s);
    if (s.empty() || s[0] != '=') return Fail("expected '=' after label name");
    s.remove_prefix(1);
    if (!open_metrics_) SkipBlanks(&s);
    if (s.empty() || s[0] != '"') return Fail("expected '\"' to start label value");
    s.remove_prefix(1);
    std::string_view lvalue;
    if (!ParseLabelValue(&s, &lvalue)) return false;
    if (lname == "__name__") return Fail("label name __name__ not allowed in a label set");
    for (size_t i = start; i < labels_.size(); ++i) {
      if (labels_[i].first == lname) return Fail("duplicate label name");
    }
    labels_.emplace_back(lname, lvalue);
    if (!open_metrics_) SkipBlanks(&s);
    if (s.empty()) return Fail("unterminated label set");
    if (s[0] == ',') {
      s.remove_prefix(1);
      first = false;
      continue;
    }
    if (s[0] == '}') {
      s.remove_prefix(1);
      break;
    }
    return Fail("expected ',' or '}' after label value");
  }
  *rest = s;
  return true;
}

bool TextParser::LoadLabels() {
  if (labels_loaded_) return true;
  labels_loaded_ = true;
  std::string_view rest = label_set_;
  return ParseLabels(&rest);
}

bool TextParser::ParseSeries(std::string_view line) {
  entry_ = Entry::kSeries;
  scratch_.reserve(line.size());
  std::string_view rest = line;
  name_ = TakeMetricName(&rest);
  if (name_.empty()) return Fail("invalid metric name");
  if (!open_metrics_) {
    // The text format tolerates blanks between the name and the label set.
    std::string_view after = rest;
    SkipBlanks(&after);
    if (!after.empty() && after[0] == '{') rest = after;
  }
  labels_loaded_ = true;
  if (!rest.empty() && rest[0] == '{') {
    rest.remove_prefix(1);
    size_t end;
    if (lazy_labels_ && (end = LabelSetEnd(rest)) != std::string_view::npos) {
      label_set_ = rest;
      labels_loaded_ = false;
      rest.remove_prefix(end);
    } else if (!ParseLabels(&rest)) {
      return false;  // (lazy: no end found, so the full parse fails, naming why)
    }
  }
  series_ = line.substr(0, static_cast<size_t>(rest.data() - line.data()));
  while (!series_.empty() && IsBlank(series_.back())) series_.remove_suffix(1);
  return ParseValueAndTimestamp(rest);
}

bool TextParser::ParseValueAndTimestamp(std::string_view rest) {
  if (rest.empty()) return Fail("expected value after metric");
  if (!IsBlank(rest[0])) return Fail("expected a space before the value");
  if (open_metrics_) {
    if (rest[0] != ' ') return Fail("expected a single space");
    rest.remove_prefix(1);
  } else {
    SkipBlanks(&rest);
  }
  std::string_view value = TakeToken(&rest);
  if (value.empty()) return Fail("expected value after metric");
  if (!ParseSampleValue(value, &value_)) return Fail("invalid sample value");
  has_timestamp_ = false;
  if (!open_metrics_) {
    SkipBlanks(&rest);
    if (rest.empty()) return true;
    std::string_view ts = TakeToken(&rest);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), v);
    if (ec != std::errc() || end != ts.data() + ts.size()) return Fail("invalid timestamp");
    SkipBlanks(&rest);
    if (!rest.empty()) return Fail("unexpected text after timestamp");
    has_timestamp_ = true;
    timestamp_ms_ = v;
    return true;
  }
  // OpenMetrics: [" " timestamp] [" # " exemplar]
  if (rest.empty()) return true;
  if (rest[0] != ' ' || rest.size() < 2) return Fail("expected a single space");
  rest.remove_prefix(1);
  if (rest[0] != '#') {
    std::string_view ts = TakeToken(&rest);
    double seconds = 0;
    if (!ParseSampleValue(ts, &seconds) || std::isnan(seconds) || std::isinf(seconds)) {
      return Fail("invalid timestamp");
    }
    if (std::abs(seconds) > 9.2e15) return Fail("invalid timestamp");
    has_timestamp_ = true;
    timestamp_ms_ = static_cast<int64_t>(seconds * 1000);
    if (rest.empty()) return true;
    if (rest[0] != ' ' || rest.size() < 2 || rest[1] != '#') {
      return Fail("unexpected text after timestamp");
    }
    rest.remove_prefix(1);
  }
  // Exemplar: "# {labels} value [timestamp]". Checked for syntax and dropped.
  if (rest.size() < 3 || rest.substr(0, 3) != "# {") return Fail("invalid exemplar");
  rest.remove_prefix(3);
  size_t keep = labels_.size();
  if (!ParseLabels(&rest)) return false;
  labels_.resize(keep);
  if (rest.empty() || rest[0] != ' ') return Fail("expected value after exemplar labels");
  rest.remove_prefix(1);
  double ev = 0;
  if (!ParseSampleValue(TakeToken(&rest), &ev)) return Fail("invalid exemplar value");
  if (!rest.empty()) {
    if (rest[0] != ' ') return Fail("invalid exemplar timestamp");
    rest.remove_prefix(1);
    double ets = 0;
    if (!ParseSampleValue(TakeToken(&rest), &ets) || std::isnan(ets) || std::isinf(ets)) {
      return Fail("invalid exemplar timestamp");
    }
    if (!rest.empty()) return Fail("unexpected text after exemplar");
  }
  return true;
}

}  // namespace cairn::scrape
