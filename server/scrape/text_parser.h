// TextParser: reads a scraped page in the Prometheus text format 0.0.4 or OpenMetrics
// 1.0 text, one entry (series sample, TYPE, HELP, UNIT, comment) per Next() call.
// Histograms and summaries come out as their plain series (_bucket, _sum, _count,
// quantiles), as Prometheus 2.42 ingests them.
//
// Allocation-light: names, label names and the series identity are views into the
// page; label values are views into the page too, except those with escapes, which
// are unescaped into a scratch buffer reused across lines. All views are valid until
// the next call to Next(). The scrape loop keys its series cache on series(), the raw
// bytes "name{labels}" as exposed, so a known series costs no label building at all.
//
// Errors are sticky: Next() returns false at the end of the page or at the first
// malformed line; status() then tells which (kInvalidArgument naming the line number
// and the reason). OpenMetrics pages must end with "# EOF".
//
// Not thread-safe; one parser per page.
#ifndef CAIRN_SERVER_SCRAPE_TEXT_PARSER_H_
#define CAIRN_SERVER_SCRAPE_TEXT_PARSER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace cairn::scrape {

enum class ExpositionFormat { kPrometheusText, kOpenMetrics };

// The format a response's Content-Type names; the text format for anything else,
// as Prometheus does.
ExpositionFormat FormatForContentType(std::string_view content_type);

enum class MetricType {
  kUnknown,  // OpenMetrics "unknown", text format "untyped" or no TYPE line
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateset,
};
std::string_view MetricTypeName(MetricType type);

class TextParser {
 public:
  enum class Entry { kSeries, kType, kHelp, kUnit, kComment };

  TextParser(std::string_view page, ExpositionFormat format);

  // Advances to the next entry. False at the end of the page or on an error.
  bool Next();
  // OK after a clean end; the first error otherwise.
  const absl::Status& status() const { return status_; }

  Entry entry() const { return entry_; }

  // kSeries, kType, kHelp, kUnit: the metric (family) name.
  std::string_view metric_name() const { return name_; }
  // kSeries: the raw identity "name{a=\"b\"}" as exposed (stable across scrapes of an
  // unchanged page; differently spelt identical series differ, which is harmless).
  std::string_view series() const { return series_; }
  // kSeries: label pairs in exposed order (not sorted, never containing __name__).
  // With lazy labels, valid only after LoadLabels() returned true.
  const std::vector<std::pair<std::string_view, std::string_view>>& labels() const {
    return labels_;
  }

  // Lazy label sets, for callers that cache by series() (the scrape loop): Next()
  // then only finds where a series' label set ends, and LoadLabels() parses it on
  // demand. A label set never loaded is never checked, which is sound for such a
  // cache: a series() equal to one loaded before parses the same. Set before the
  // first Next().
  void set_lazy_labels(bool lazy) { lazy_labels_ = lazy; }
  // Parses the current series' label set into labels() (lazy mode; a no-op
  // otherwise). False on a malformed one: status() says why and Next() returns
  // false from then on.
  bool LoadLabels();
  double value() const { return value_; }
  bool has_timestamp() const { return has_timestamp_; }
  int64_t timestamp_ms() const { return timestamp_ms_; }

  // kType: the declared type.
  MetricType type() const { return type_; }
  // kHelp: the unescaped help text; kUnit: the unit; kComment: the comment text.
  std::string_view text() const { return text_; }

  // 1-based number of the line of the current entry.
  int line_number() const { return line_number_; }

 private:
  bool Fail(std::string_view reason);
  bool ParseComment(std::string_view line);
  bool ParseSeries(std::string_view line);
  bool ParseLabels(std::string_view* rest);
  bool ParseLabelValue(std::string_view* rest, std::string_view* value);
  bool ParseValueAndTimestamp(std::string_view rest);

  const std::string_view page_;
  const ExpositionFormat format_;
  const bool open_metrics_;
  bool lazy_labels_ = false;
  size_t pos_ = 0;
  int line_number_ = 0;
  bool done_ = false;
  bool saw_eof_ = false;
  absl::Status status_;

  std::string_view line_;
  Entry entry_ = Entry::kComment;
  std::string_view name_;
  std::string_view series_;
  std::vector<std::pair<std::string_view, std::string_view>> labels_;
  std::string_view label_set_;  // lazy mode: the current series' label set after '{'
  bool labels_loaded_ = true;   // lazy mode: labels_ holds label_set_'s labels
  std::string scratch_;         // unescaped label values / help text of the current line
  double value_ = 0;
  bool has_timestamp_ = false;
  int64_t timestamp_ms_ = 0;
  MetricType type_ = MetricType::kUnknown;
  std::string_view text_;
};

// Parses a sample value as Prometheus does (Go's strconv.ParseFloat): decimal and
// exponent forms, "NaN", "+Inf", "-Inf", "Inf" in any case, a leading '+'.
bool ParseSampleValue(std::string_view text, double* out);

}  // namespace cairn::scrape

#endif  // CAIRN_SERVER_SCRAPE_TEXT_PARSER_H_
