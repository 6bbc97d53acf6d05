// Expected strings come from Prometheus 2.42 (`promtool test rules` printing the
// expanded annotations of an alert over the same values), not from this code.
#include "server/rules/template.h"

#include <cmath>

#include "gtest/gtest.h"

namespace cairn::rules {
namespace {

std::string Expand(std::string_view text, double value, const Labels& labels = {},
                   const Labels& external = {}) {
  absl::StatusOr<Template> t = Template::Parse("__alert_A", text);
  if (!t.ok()) return "PARSE: " + std::string(t.status().message());
  TemplateData data;
  data.labels = &labels;
  data.external_labels = &external;
  data.value = value;
  data.external_url = "http://prom:9090";
  absl::StatusOr<std::string> out = t->Execute(data);
  if (!out.ok()) return "EXEC: " + std::string(out.status().message());
  return *out;
}

struct Row {
  double v;
  const char* value;
  const char* humanize;
  const char* humanize1024;
  const char* duration;
  const char* percentage;
  const char* timestamp;
  const char* printf2f;
};

TEST(TemplateTest, HumanizeMatchesPrometheus) {
  const Row rows[] = {
      {1000000, "1e+06", "1M", "976.6ki", "11d 13h 46m 40s", "1e+08%",
       "1970-01-12 13:46:40 +0000 UTC", "1000000.00"},
      {0.000123456, "0.000123456", "123.5u", "0.0001235", "123.5us", "0.01235%",
       "1970-01-01 00:00:00 +0000 UTC", "0.00"},
      {123456.789, "123456.789", "123.5k", "120.6ki", "1d 10h 17m 36s", "1.235e+07%",
       "1970-01-02 10:17:36.789 +0000 UTC", "123456.79"},
      {-90061.5, "-90061.5", "-90.06k", "-87.95ki", "-1d 1h 1m 1s", "-9.006e+06%",
       "1969-12-30 22:58:58.5 +0000 UTC", "-90061.50"},
      {1699999999.123, "1.699999999123e+09", "1.7G", "1.583Gi", "19675d 22h 13m 19s", "1.7e+11%",
       "2023-11-14 22:13:19.122 +0000 UTC", "1699999999.12"},
      {0, "0", "0", "0", "0s", "0%", "1970-01-01 00:00:00 +0000 UTC", "0.00"},
      {1234567, "1.234567e+06", "1.235M", "1.177Mi", "14d 6h 56m 7s", "1.235e+08%",
       "1970-01-15 06:56:07 +0000 UTC", "1234567.00"},
      {0.5, "0.5", "500m", "0.5", "500ms", "50%", "1970-01-01 00:00:00.5 +0000 UTC", "0.50"},
      {3000, "3000", "3k", "2.93ki", "50m 0s", "3e+05%", "1970-01-01 00:50:00 +0000 UTC",
       "3000.00"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.value);
    EXPECT_EQ(Expand("{{ $value }}", r.v), r.value);
    EXPECT_EQ(Expand("{{ .Value }}", r.v), r.value);
    EXPECT_EQ(Expand("{{ humanize $value }}", r.v), r.humanize);
    EXPECT_EQ(Expand("{{ $value | humanize }}", r.v), r.humanize);
    EXPECT_EQ(Expand("{{ humanize1024 $value }}", r.v), r.humanize1024);
    EXPECT_EQ(Expand("{{ humanizeDuration $value }}", r.v), r.duration);
    EXPECT_EQ(Expand("{{ humanizePercentage $value }}", r.v), r.percentage);
    EXPECT_EQ(Expand("{{ humanizeTimestamp $value }}", r.v), r.timestamp);
    EXPECT_EQ(Expand("{{ printf \"%.2f\" $value }}", r.v), r.printf2f);
  }
}

TEST(TemplateTest, SpecialValues) {
  EXPECT_EQ(Expand("{{ humanize $value }}", NAN), "NaN");
  EXPECT_EQ(Expand("{{ humanize $value }}", INFINITY), "+Inf");
  EXPECT_EQ(Expand("{{ humanize $value }}", -INFINITY), "-Inf");
  EXPECT_EQ(Expand("{{ $value }}", INFINITY), "+Inf");
  EXPECT_EQ(Expand("{{ humanizeDuration $value }}", NAN), "NaN");
}

TEST(TemplateTest, LabelsAndPrintf) {
  Labels ls{{"__name__", "m"}, {"i", "1"}, {"job", "a"}};
  Labels ext{{"dc", "eu"}};
  EXPECT_EQ(Expand("x{{ $labels.job }}", 1, ls), "xa");
  EXPECT_EQ(
      Expand("{{ .Labels.job }}/{{ $externalLabels.dc }}/{{ .ExternalLabels.dc }}", 1, ls, ext),
      "a/eu/eu");
  // A missing label expands to "" (Prometheus runs templates with missingkey=zero).
  EXPECT_EQ(Expand("[{{ $labels.nope }}]", 1, ls), "[]");
  EXPECT_EQ(Expand("{{ $labels }}", 1, ls), "map[__name__:m i:1 job:a]");
  EXPECT_EQ(Expand("{{ printf \"%d %s %v %g %e\" $value $value $value $value $value }}", 1e6),
            "%!d(float64=1e+06) %!s(float64=1e+06) 1e+06 1e+06 1.000000e+06");
  EXPECT_EQ(Expand("{{ title \"foo bar\" }}", 0), "Foo Bar");
  EXPECT_EQ(Expand("{{ printf \"%5.1f|%-8s|\" 3.14159 \"ab\" }}", 0), "  3.1|ab      |");
  EXPECT_EQ(Expand("{{ $labels.job | toUpper }}", 0, ls), "A");
  EXPECT_EQ(Expand("{{ reReplaceAll \"(.*):.*\" \"$1\" \"host:9100\" }}", 0), "host");
  EXPECT_EQ(Expand("{{ index $labels \"job\" }}", 0, ls), "a");
  EXPECT_EQ(Expand("{{ externalURL }}", 0), "http://prom:9090");
  EXPECT_EQ(Expand("{{ humanize \"1500\" }}", 0), "1.5k");
  EXPECT_EQ(Expand("{{ printf \"%9999999d|%.9999999f\" 1 2.5 }}", 0),
            "%!(BADWIDTH)1|%!(BADPREC)2.500000");
  EXPECT_EQ(Expand("{{ (printf \"%.0f\" $value) | humanize }}", 2500), "2.5k");
}

TEST(TemplateTest, TrimMarkersAndComments) {
  EXPECT_EQ(Expand("a   {{- $value -}}   b", 1), "a1b");
  EXPECT_EQ(Expand("a{{/* note */}}b", 1), "ab");
  EXPECT_EQ(Expand("no actions", 1), "no actions");
}

TEST(TemplateTest, ParseErrorsAreClear) {
  EXPECT_EQ(Expand("{{ humanise $value }}", 1),
            "PARSE: template: __alert_A:1: function \"humanise\" not defined");
  EXPECT_EQ(Expand("x\n{{ if $value }}y{{ end }}", 1).substr(0, 54),
            "PARSE: template: __alert_A:2: unsupported template act");
  EXPECT_EQ(Expand("{{ query \"up\" }}", 1),
            "PARSE: template: __alert_A:1: function \"query\" is not supported by Cairn");
  EXPECT_EQ(Expand("{{ $foo }}", 1), "PARSE: template: __alert_A:1: undefined variable \"$foo\"");
  EXPECT_EQ(Expand("{{ $value ", 1), "PARSE: template: __alert_A:1: unclosed action");
  EXPECT_EQ(Expand("{{ $x := 1 }}", 1),
            "PARSE: template: __alert_A:1: unsupported variable declaration of $x");
}

TEST(TemplateTest, ExecErrors) {
  EXPECT_EQ(Expand("{{ humanize \"abc\" }}", 1),
            "EXEC: template: __alert_A:1: executing \"__alert_A\": error calling humanize: "
            "strconv.ParseFloat: parsing \"abc\": invalid syntax");
  TemplateData data;
  EXPECT_EQ(ExpandTemplate("__alert_A", "{{ humanize \"x\" }}", data).substr(0, 30),
            "<error expanding template: tem");
}

TEST(TemplateTest, PlainText) {
  absl::StatusOr<Template> t = Template::Parse("n", "plain");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_plain_text());
  t = Template::Parse("n", "{{ $value }}");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->is_plain_text());
}

}  // namespace
}  // namespace cairn::rules
