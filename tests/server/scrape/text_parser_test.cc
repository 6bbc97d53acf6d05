// Text format 0.0.4 and OpenMetrics 1.0 parsing. Inputs follow the exposition
// format docs (prometheus.io/docs/instrumenting/exposition_formats) and the
// OpenMetrics 1.0 spec; expected values are written out by hand.
#include "server/scrape/text_parser.h"

#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tsdb/model/sample.h"

namespace cairn::scrape {
namespace {

using ::testing::HasSubstr;

struct Got {
  std::string name;
  std::string series;
  std::vector<std::pair<std::string, std::string>> labels;
  double value;
  bool has_ts;
  int64_t ts;
};

// With `lazy`, label sets are parsed by LoadLabels() (every one: nothing cached).
std::vector<Got> Series(std::string_view page, ExpositionFormat f, absl::Status* st = nullptr,
                        bool lazy = false) {
  TextParser p(page, f);
  p.set_lazy_labels(lazy);
  std::vector<Got> out;
  while (p.Next()) {
    if (p.entry() != TextParser::Entry::kSeries) continue;
    if (lazy && !p.LoadLabels()) break;
    Got g{std::string(p.metric_name()),
          std::string(p.series()),
          {},
          p.value(),
          p.has_timestamp(),
          p.timestamp_ms()};
    for (const auto& [n, v] : p.labels()) g.labels.emplace_back(n, v);
    out.push_back(std::move(g));
  }
  if (st != nullptr) {
    *st = p.status();
  } else {
    EXPECT_TRUE(p.status().ok()) << p.status();
  }
  return out;
}

constexpr auto kText = ExpositionFormat::kPrometheusText;
constexpr auto kOM = ExpositionFormat::kOpenMetrics;

TEST(TextParserTest, DocumentationExample) {
  // The example page of the exposition format documentation.
  const char* page = R"(# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01",} 3102
rpc_duration_seconds_count 2693
)";
  auto s = Series(page, kText);
  ASSERT_EQ(s.size(), 11u);
  EXPECT_EQ(s[0].name, "http_requests_total");
  EXPECT_EQ(s[0].series, "http_requests_total{method=\"post\",code=\"200\"}");
  EXPECT_EQ(s[0].labels, (std::vector<std::pair<std::string, std::string>>{{"method", "post"},
                                                                           {"code", "200"}}));
  EXPECT_EQ(s[0].value, 1027);
  EXPECT_TRUE(s[0].has_ts);
  EXPECT_EQ(s[0].ts, 1395066363000);
  EXPECT_EQ(s[1].value, 3);
  EXPECT_EQ(s[2].labels[0].second, "C:\\DIR\\FILE.TXT");
  EXPECT_EQ(s[2].labels[1].second, "Cannot find file:\n\"FILE.TXT\"");
  EXPECT_EQ(s[2].value, 1.458255915e9);
  EXPECT_FALSE(s[3].has_ts);
  EXPECT_EQ(s[3].series, "metric_without_timestamp_and_labels");
  EXPECT_EQ(s[3].value, 12.47);
  EXPECT_TRUE(std::isinf(s[4].value) && s[4].value > 0);
  EXPECT_EQ(s[4].ts, -3982045);
  EXPECT_EQ(s[6].labels[0].second, "+Inf");
  EXPECT_EQ(s[9].labels[0].second, "0.01");  // trailing comma accepted
  EXPECT_EQ(s[10].name, "rpc_duration_seconds_count");
  EXPECT_EQ(s[8].name, "http_request_duration_seconds_count");
}

TEST(TextParserTest, MetadataEntries) {
  TextParser p("# HELP a Some \\\\ help\\nmore\n# TYPE a gauge\n# random comment\na 1\n", kText);
  ASSERT_TRUE(p.Next());
  EXPECT_EQ(p.entry(), TextParser::Entry::kHelp);
  EXPECT_EQ(p.metric_name(), "a");
  EXPECT_EQ(p.text(), "Some \\ help\nmore");
  ASSERT_TRUE(p.Next());
  EXPECT_EQ(p.entry(), TextParser::Entry::kType);
  EXPECT_EQ(p.type(), MetricType::kGauge);
  ASSERT_TRUE(p.Next());
  EXPECT_EQ(p.entry(), TextParser::Entry::kComment);
  ASSERT_TRUE(p.Next());
  EXPECT_EQ(p.entry(), TextParser::Entry::kSeries);
  EXPECT_EQ(p.line_number(), 4);
  EXPECT_FALSE(p.Next());
  EXPECT_TRUE(p.status().ok());
}

TEST(TextParserTest, SpecialValues) {
  absl::Status st;
  auto ok = Series("a NaN\nb -Inf\nc inf\nd +1.5e-3\ne .5\nf 1E3\n", kText, &st);
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_EQ(ok.size(), 6u);
  EXPECT_TRUE(std::isnan(ok[0].value));
  EXPECT_TRUE(std::isinf(ok[1].value) && ok[1].value < 0);
  EXPECT_TRUE(std::isinf(ok[2].value) && ok[2].value > 0);
  EXPECT_DOUBLE_EQ(ok[3].value, 0.0015);
  EXPECT_DOUBLE_EQ(ok[4].value, 0.5);
  EXPECT_DOUBLE_EQ(ok[5].value, 1000);
}

TEST(TextParserTest, EmptyPageAndBlankLines) {
  EXPECT_TRUE(Series("", kText).empty());
  auto s = Series("\n  \n\ta 1\n\n", kText);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "a");
}

TEST(TextParserTest, NoTrailingNewline) {
  auto s = Series("a{x=\"y\"} 2 17", kText);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].ts, 17);
}

TEST(TextParserTest, ColonsInNames) {
  auto s = Series("job:rate5m{a=\"b\"} 1\n", kText);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "job:rate5m");
}

struct ErrorCase {
  ExpositionFormat format;
  const char* page;
  const char* reason;
  int line;
};

class TextParserErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(TextParserErrorTest, ReportsLineAndReason) {
  const ErrorCase& c = GetParam();
  absl::Status st;
  Series(c.page, c.format, &st);
  ASSERT_FALSE(st.ok()) << c.page;
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr(c.reason)) << c.page;
  EXPECT_THAT(std::string(st.message()), HasSubstr("line " + std::to_string(c.line) + ":"));
}

TEST_P(TextParserErrorTest, LazyLabelsReportTheSame) {
  const ErrorCase& c = GetParam();
  absl::Status st;
  Series(c.page, c.format, &st, /*lazy=*/true);
  ASSERT_FALSE(st.ok()) << c.page;
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr(c.reason)) << c.page;
  EXPECT_THAT(std::string(st.message()), HasSubstr("line " + std::to_string(c.line) + ":"));
}

TEST(TextParserTest, LazyLabelsParseTheSame) {
  const char* page =
      "a{x=\"}\\\"}\",y=\"\\\\\"} 1\n"  // a{x="}\"}",y="\\"} 1: quotes and escapes
      "b { x = \"1\" , } 2 3\n"         // text-format blanks, trailing comma
      "c 4\n";
  std::vector<Got> eager = Series(page, kText);
  std::vector<Got> lazy = Series(page, kText, nullptr, /*lazy=*/true);
  ASSERT_EQ(eager.size(), 3u);
  ASSERT_EQ(lazy.size(), 3u);
  EXPECT_EQ(eager[0].series, "a{x=\"}\\\"}\",y=\"\\\\\"}");
  EXPECT_EQ(eager[0].labels,
            (std::vector<std::pair<std::string, std::string>>{{"x", "}\"}"}, {"y", "\\"}}));
  for (size_t i = 0; i < eager.size(); ++i) {
    EXPECT_EQ(lazy[i].series, eager[i].series);
    EXPECT_EQ(lazy[i].labels, eager[i].labels);
    EXPECT_EQ(lazy[i].value, eager[i].value);
    EXPECT_EQ(lazy[i].ts, eager[i].ts);
  }
}

TEST(TextParserTest, LazyLabelsNotLoadedAreNotChecked) {
  // What lets the scrape loop skip label parsing for cached series: Next() accepts
  // the line, LoadLabels() finds the fault and ends the page.
  TextParser p("a{b=c} 1\nd 2\n", kText);
  p.set_lazy_labels(true);
  ASSERT_TRUE(p.Next());
  EXPECT_EQ(p.series(), "a{b=c}");
  EXPECT_FALSE(p.LoadLabels());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("expected '\"' to start label value"));
  EXPECT_FALSE(p.Next());
}

INSTANTIATE_TEST_SUITE_P(
    Text, TextParserErrorTest,
    ::testing::Values(
        ErrorCase{kText, "a 1\n0abc 1\n", "invalid metric name", 2},
        ErrorCase{kText, "a{0b=\"c\"} 1\n", "invalid label name", 1},
        ErrorCase{kText, "a{b \"c\"} 1\n", "expected '=' after label name", 1},
        ErrorCase{kText, "a{b=c} 1\n", "expected '\"' to start label value", 1},
        ErrorCase{kText, "a{b=\"c} 1\n", "unterminated label value", 1},
        ErrorCase{kText, "a{b=\"c\"", "unterminated label set", 1},
        ErrorCase{kText, "a{b=\"c\" d=\"e\"} 1\n", "expected ',' or '}' after label value", 1},
        ErrorCase{kText, "a{b=\"c\",b=\"d\"} 1\n", "duplicate label name", 1},
        ErrorCase{kText, "a{__name__=\"x\"} 1\n", "label name __name__ not allowed", 1},
        ErrorCase{kText, "a\n", "expected value after metric", 1},
        ErrorCase{kText, "a{}x 1\n", "expected a space before the value", 1},
        ErrorCase{kText, "a 1x\n", "invalid sample value", 1},
        ErrorCase{kText, "a +-1\n", "invalid sample value", 1},
        ErrorCase{kText, "a 1e999\n", "invalid sample value", 1},
        ErrorCase{kText, "a 1 12.5\n", "invalid timestamp", 1},
        ErrorCase{kText, "a 1 99999999999999999999\n", "invalid timestamp", 1},
        ErrorCase{kText, "a 1 2 3\n", "unexpected text after timestamp", 1},
        ErrorCase{kText, "# HELP 0a x\n", "invalid metric name in HELP line", 1},
        ErrorCase{kText, "# TYPE a-b gauge\n", "invalid metric name in TYPE line", 1},
        ErrorCase{kText, "# TYPE a\n", "expected metric type in TYPE line", 1},
        ErrorCase{kText, "# TYPE a gaugehistogram\n", "invalid metric type", 1},
        ErrorCase{kText, "# TYPE a unknown\n", "invalid metric type", 1}));

INSTANTIATE_TEST_SUITE_P(
    OpenMetrics, TextParserErrorTest,
    ::testing::Values(
        ErrorCase{kOM, "a 1\n", "data does not end with # EOF", 2},
        ErrorCase{kOM, "a 1\n# EOF\nb 1\n", "unexpected data after # EOF", 3},
        ErrorCase{kOM, "a 1\n\n# EOF\n", "empty line", 2},
        ErrorCase{kOM, "# random comment\n# EOF\n", "invalid comment", 1},
        ErrorCase{kOM, "# FOO a b\n# EOF\n", "invalid comment", 1},
        ErrorCase{kOM, "# TYPE a untyped\n# EOF\n", "invalid metric type", 1},
        ErrorCase{kOM, "# TYPE a  gauge\n# EOF\n", "invalid metric type", 1},
        ErrorCase{kOM, "a  1\n# EOF\n", "expected value after metric", 1},
        ErrorCase{kOM, "a\t1\n# EOF\n", "expected a single space", 1},
        ErrorCase{kOM, "a{b=\"c\",} 1\n# EOF\n", "trailing comma in label set", 1},
        ErrorCase{kOM, "a{b = \"c\"} 1\n# EOF\n", "expected '=' after label name", 1},
        ErrorCase{kOM, "a 1 NaN\n# EOF\n", "invalid timestamp", 1},
        ErrorCase{kOM, "a 1 x\n# EOF\n", "invalid timestamp", 1},
        ErrorCase{kOM, "a 1 1 junk\n# EOF\n", "unexpected text after timestamp", 1},
        ErrorCase{kOM, "a 1 # x\n# EOF\n", "invalid exemplar", 1},
        ErrorCase{kOM, "a 1 # {b=\"c\"}\n# EOF\n", "expected value after exemplar labels", 1},
        ErrorCase{kOM, "a 1 # {b=\"c\"} x\n# EOF\n", "invalid exemplar value", 1},
        ErrorCase{kOM, "a 1 # {b=\"c\"} 1 Inf\n# EOF\n", "invalid exemplar timestamp", 1},
        ErrorCase{kOM, "a 1 # {b=\"c\"} 1 2 3\n# EOF\n", "unexpected text after exemplar", 1},
        ErrorCase{kOM, "# HELP a\tx\n# EOF\n", "expected a single space", 1}));

TEST(OpenMetricsTest, FullPage) {
  const char* page = R"(# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
# TYPE foo counter
foo_total 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67
# TYPE hist histogram
hist_bucket{le="0.01"} 5 # {trace_id="x"} 0.005 1520879607.1
hist_bucket{le="+Inf"} 7
# TYPE s stateset
s{s="a"} 1
# TYPE i info
i_info{v="1.0"} 1
# EOF
)";
  TextParser p(page, kOM);
  std::vector<TextParser::Entry> kinds;
  std::vector<Got> series;
  while (p.Next()) {
    kinds.push_back(p.entry());
    if (p.entry() == TextParser::Entry::kUnit) {
      EXPECT_EQ(p.text(), "seconds");
    }
    if (p.entry() == TextParser::Entry::kHelp) {
      EXPECT_EQ(p.text(), "Latency though all of ACME's HTTP request router.");
    }
    if (p.entry() == TextParser::Entry::kSeries) {
      Got g{std::string(p.metric_name()),
            std::string(p.series()),
            {},
            p.value(),
            p.has_timestamp(),
            p.timestamp_ms()};
      for (const auto& [n, v] : p.labels()) g.labels.emplace_back(n, v);
      series.push_back(g);
    }
  }
  ASSERT_TRUE(p.status().ok()) << p.status();
  ASSERT_EQ(series.size(), 8u);
  EXPECT_EQ(kinds[0], TextParser::Entry::kType);
  EXPECT_EQ(kinds[1], TextParser::Entry::kUnit);
  EXPECT_EQ(kinds[2], TextParser::Entry::kHelp);
  EXPECT_EQ(series[0].value, 9036.32);
  EXPECT_EQ(series[2].name, "acme_http_router_request_seconds_created");
  EXPECT_EQ(series[3].name, "foo_total");
  EXPECT_TRUE(series[3].has_ts);
  EXPECT_EQ(series[3].ts, 1520879607789);  // seconds in OpenMetrics, ms inside
  EXPECT_TRUE(series[3].labels.empty());   // exemplar labels are not series labels
  EXPECT_EQ(series[4].labels.size(), 1u);
  EXPECT_EQ(series[4].labels[0].second, "0.01");
  EXPECT_FALSE(series[4].has_ts);
  EXPECT_EQ(series[6].name, "s");
  EXPECT_EQ(series[7].name, "i_info");
}

TEST(OpenMetricsTest, EofOnlyAndNoTrailingNewline) {
  EXPECT_TRUE(Series("# EOF\n", kOM).empty());
  EXPECT_EQ(Series("a 1\n# EOF", kOM).size(), 1u);
}

TEST(OpenMetricsTest, TypesOnlyInOpenMetrics) {
  TextParser p("# TYPE a gaugehistogram\n# TYPE b unknown\n# EOF\n", kOM);
  ASSERT_TRUE(p.Next());
  EXPECT_EQ(p.type(), MetricType::kGaugeHistogram);
  ASSERT_TRUE(p.Next());
  EXPECT_EQ(p.type(), MetricType::kUnknown);
  EXPECT_FALSE(p.Next());
  EXPECT_TRUE(p.status().ok());
}

TEST(FormatTest, ContentType) {
  EXPECT_EQ(FormatForContentType("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            kOM);
  EXPECT_EQ(FormatForContentType("text/plain; version=0.0.4; charset=utf-8"), kText);
  EXPECT_EQ(FormatForContentType(""), kText);
  EXPECT_EQ(FormatForContentType("application/json"), kText);
}

}  // namespace
}  // namespace cairn::scrape
