// Parser tests: canonical forms and error texts follow Prometheus 2.42
// (promql/parser/parse_test.go and printer_test.go), not this code's output.
#include "tsdb/promql/parser.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tsdb/promql/functions.h"
#include "tsdb/promql/lexer.h"

namespace cairn::promql {
namespace {

std::string Canon(std::string_view q) {
  auto e = ParseExpr(q);
  if (!e.ok()) return "ERROR: " + std::string(e.status().message());
  return ToString(**e);
}

std::string Err(std::string_view q) {
  auto e = ParseExpr(q);
  if (e.ok()) return "OK: " + ToString(**e);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << q;
  return std::string(e.status().message());
}

struct Case {
  const char* input;
  const char* want;
};

TEST(ParserTest, CanonicalForms) {
  const Case cases[] = {
      // Literals.
      {"1", "1"},
      {"+1", "1"},
      {"-1", "-1"},
      {".5", "0.5"},
      {"5.", "5"},
      {"123.4567", "123.4567"},
      {"5e-3", "0.005"},
      {"5e3", "5000"},
      {"100000", "100000"},
      {"1e6", "1e+06"},
      {"12.34e6", "1.234e+07"},
      {"9999999999", "9.999999999e+09"},
      {"0xc", "12"},
      {"0x1f", "31"},
      {"0x101e3", "66019"},
      {"0XaBc", "2748"},
      {"010", "8"},
      {"1e21", "1e+21"},
      {"0.00001", "1e-05"},
      {"Inf", "+Inf"},
      {"+Inf", "+Inf"},
      {"-Inf", "-Inf"},
      {"iNf", "+Inf"},
      {"NaN", "NaN"},
      {"nAN", "NaN"},
      {"-NaN", "NaN"},
      {"1 # comment", "1"},
      {"\"double-quoted\"", "\"double-quoted\""},
      {"'single-quoted'", "\"single-quoted\""},
      {"`backtick-quoted`", "\"backtick-quoted\""},
      {"\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\"", "\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\""},
      {"'\\''", "\"'\""},
      {"\"\\x41\\101\\u00e9\\U0001F600\"", "\"AAé😀\""},
      {"`\\n`", "\"\\\\n\""},
      // Arithmetic and precedence.
      {"1 + 1", "1 + 1"},
      {"1 - 1", "1 - 1"},
      {"1 * 1", "1 * 1"},
      {"1 % 1", "1 % 1"},
      {"1 / 1", "1 / 1"},
      {"1 == bool 1", "1 == bool 1"},
      {"1 != bool 1", "1 != bool 1"},
      {"1 > bool 1", "1 > bool 1"},
      {"1 >= bool 1", "1 >= bool 1"},
      {"1 < bool 1", "1 < bool 1"},
      {"1 <= bool 1", "1 <= bool 1"},
      {"-1^2", "-1 ^ 2"},
      {"-1*2", "-1 * 2"},
      {"-1+2", "-1 + 2"},
      {"-1^-2", "-1 ^ -2"},
      {"+1 + -2 * 1", "1 + -2 * 1"},
      {"1 + 2/(3*1)", "1 + 2 / (3 * 1)"},
      {"1 < bool 2 - 1 * 2", "1 < bool 2 - 1 * 2"},
      {"-some_metric", "-some_metric"},
      {"+some_metric", "+some_metric"},
      {" +some_metric", "+some_metric"},
      {"2 ^ 3 ^ 2", "2 ^ 3 ^ 2"},
      {"1 atan2 2", "1 atan2 2"},
      // Vector binary operations.
      {"foo * bar", "foo * bar"},
      {"foo * sum", "foo * sum"},
      {"foo == 1", "foo == 1"},
      {"foo == bool 1", "foo == bool 1"},
      {"2.5 / bar", "2.5 / bar"},
      {"foo and bar", "foo and bar"},
      {"foo or bar", "foo or bar"},
      {"foo unless bar", "foo unless bar"},
      {"foo + bar or bla and blub", "foo + bar or bla and blub"},
      {"foo and bar unless baz or qux", "foo and bar unless baz or qux"},
      {"bar + on(foo) bla / on(baz, buz) group_right(test) blub",
       "bar + on (foo) bla / on (baz, buz) group_right (test) blub"},
      {"foo * on(test,blub) bar", "foo * on (test, blub) bar"},
      {"foo * on(test,blub) group_left bar", "foo * on (test, blub) group_left () bar"},
      {"foo and on(test,blub) bar", "foo and on (test, blub) bar"},
      {"foo and on() bar", "foo and on () bar"},
      {"foo and ignoring(test,blub) bar", "foo and ignoring (test, blub) bar"},
      {"foo and ignoring() bar", "foo and bar"},
      {"foo unless on(bar) baz", "foo unless on (bar) baz"},
      {"foo / on(test,blub) group_left(bar) bar", "foo / on (test, blub) group_left (bar) bar"},
      {"foo / ignoring(test,blub) group_left(blub) bar",
       "foo / ignoring (test, blub) group_left (blub) bar"},
      {"foo - on(test,blub) group_right(bar,foo) bar",
       "foo - on (test, blub) group_right (bar, foo) bar"},
      {"foo == bool on(a) bar", "foo == bool on (a) bar"},
      {"foo * on(a,) bar", "foo * on (a) bar"},
      // Selectors.
      {"foo", "foo"},
      {"min", "min"},
      {"foo offset 5m", "foo offset 5m"},
      {"foo offset -7m", "foo offset -7m"},
      {"foo OFFSET 1h30m", "foo offset 1h30m"},
      {"foo OFFSET 1m30ms", "foo offset 1m30ms"},
      {"foo @ 1603774568", "foo @ 1603774568.000"},
      {"foo @ -100", "foo @ -100.000"},
      {"foo @ .3", "foo @ 0.300"},
      {"foo @ 3.", "foo @ 3.000"},
      {"foo @ 3.33", "foo @ 3.330"},
      {"foo @ 3.3333", "foo @ 3.333"},
      {"foo @ 3.3335", "foo @ 3.334"},
      {"foo @ 3e2", "foo @ 300.000"},
      {"foo @ 3e-1", "foo @ 0.300"},
      {"foo @ 0xA", "foo @ 10.000"},
      {"foo @ -3.3e1", "foo @ -33.000"},
      {"foo @ start()", "foo @ start()"},
      {"foo @ end()", "foo @ end()"},
      {"foo offset 5m @ 10", "foo @ 10.000 offset 5m"},
      {"foo @ 10 offset 5m", "foo @ 10.000 offset 5m"},
      {"foo:bar{a=\"bc\"}", "foo:bar{a=\"bc\"}"},
      {"foo{NaN='bc'}", "foo{NaN=\"bc\"}"},
      {"foo{bar='}'}", "foo{bar=\"}\"}"},
      {"foo{a=\"b\", foo!=\"bar\", test=~\"test\", bar!~\"baz\"}",
       "foo{a=\"b\",bar!~\"baz\",foo!=\"bar\",test=~\"test\"}"},
      {"foo{a=\"b\", foo!=\"bar\", test=~\"test\", bar!~\"baz\",}",
       "foo{a=\"b\",bar!~\"baz\",foo!=\"bar\",test=~\"test\"}"},
      {"{__name__=~\"foo.+\",__name__=~\".*bar\"}", "{__name__=~\".*bar\",__name__=~\"foo.+\"}"},
      {"{__name__=\"foo\"}", "{__name__=\"foo\"}"},
      {"{foo=\"bar\"}", "{foo=\"bar\"}"},
      {"{x=\"\",a=\"z\"}", "{a=\"z\",x=\"\"}"},
      {"foo{job=\"a\\nb\"}", "foo{job=\"a\\nb\"}"},
      {"foo{sum=\"x\",by=\"y\"}", "foo{by=\"y\",sum=\"x\"}"},
      {"start", "start"},
      {"end", "end"},
      {"offset", "offset"},
      {"by", "by"},
      {"and", "and"},
      {"sum offset 5m", "sum offset 5m"},
      {"test[5s]", "test[5s]"},
      {"test[5m]", "test[5m]"},
      {"test[5m30s]", "test[5m30s]"},
      {"test[5h] OFFSET 5m", "test[5h] offset 5m"},
      {"test[5d] OFFSET 10s", "test[5d] offset 10s"},
      {"test[5w] offset 2w", "test[5w] offset 2w"},
      {"test{a=\"b\"}[5y] OFFSET 3d", "test{a=\"b\"}[5y] offset 3d"},
      {"test[5m] @ 100 offset -2m", "test[5m] @ 100.000 offset -2m"},
      {"foo[90d]", "foo[90d]"},
      {"foo[14d]", "foo[2w]"},
      {"foo[1y]", "foo[1y]"},
      {"foo[292y]", "foo[292y]"},
      {"foo[60m]", "foo[1h]"},
      {"foo[1000ms]", "foo[1s]"},
      // Aggregations.
      {"sum by (foo)(some_metric)", "sum by (foo) (some_metric)"},
      {"avg by (foo)(some_metric)", "avg by (foo) (some_metric)"},
      {"max by (foo)(some_metric)", "max by (foo) (some_metric)"},
      {"sum without (foo) (some_metric)", "sum without (foo) (some_metric)"},
      {"sum (some_metric) without (foo)", "sum without (foo) (some_metric)"},
      {"stddev(some_metric)", "stddev(some_metric)"},
      {"stdvar by (foo)(some_metric)", "stdvar by (foo) (some_metric)"},
      {"sum by ()(some_metric)", "sum(some_metric)"},
      {"sum by (foo,bar,)(some_metric)", "sum by (foo, bar) (some_metric)"},
      {"sum by (foo,)(some_metric)", "sum by (foo) (some_metric)"},
      {"topk(5, some_metric)", "topk(5, some_metric)"},
      {"count_values(\"value\", some_metric)", "count_values(\"value\", some_metric)"},
      {"sum without(and, by, avg, count, alert, annotations)(some_metric)",
       "sum without (and, by, avg, count, alert, annotations) (some_metric)"},
      {"sum without () (some_metric)", "sum without () (some_metric)"},
      {"SUM BY (group) (http_requests)", "sum by (group) (http_requests)"},
      {"quantile(0.9, x) by (job)", "quantile by (job) (0.9, x)"},
      {"group(x)", "group(x)"},
      {"bottomk by (a) (3, x)", "bottomk by (a) (3, x)"},
      {"sum(sum)", "sum(sum)"},
      // Functions.
      {"time()", "time()"},
      {"floor(some_metric{foo!=\"bar\"})", "floor(some_metric{foo!=\"bar\"})"},
      {"rate(some_metric[5m])", "rate(some_metric[5m])"},
      {"round(some_metric)", "round(some_metric)"},
      {"round(some_metric, 5)", "round(some_metric, 5)"},
      {"label_join(a, \"d\", \",\", \"s1\", \"s2\", \"s3\")",
       "label_join(a, \"d\", \",\", \"s1\", \"s2\", \"s3\")"},
      {"label_join(a, \"d\", \",\")", "label_join(a, \"d\", \",\")"},
      {"day_of_month()", "day_of_month()"},
      {"pi()", "pi()"},
      {"histogram_quantile(0.9, rate(x[5m]))", "histogram_quantile(0.9, rate(x[5m]))"},
      {"quantile_over_time(0.5, x[1m])", "quantile_over_time(0.5, x[1m])"},
      {"holt_winters(x[5m], 0.5, 0.5)", "holt_winters(x[5m], 0.5, 0.5)"},
      // Subqueries.
      {"foo{bar=\"baz\"}[10m:6s]", "foo{bar=\"baz\"}[10m:6s]"},
      {"foo{bar=\"baz\"}[10m5s:1h6ms]", "foo{bar=\"baz\"}[10m5s:1h6ms]"},
      {"foo[10m:]", "foo[10m:]"},
      {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:5s])",
       "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:5s])"},
      {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s]",
       "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s]"},
      {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] offset 4m)[4m:3s]",
       "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] offset 4m)[4m:3s]"},
      {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ 1603775091)[4m:3s]",
       "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ 1603775091.000)[4m:3s]"},
      {"sum without(and, by, avg, count, alert, annotations)(some_metric) [30m:10s]",
       "sum without (and, by, avg, count, alert, annotations) (some_metric)[30m:10s]"},
      {"some_metric OFFSET 1m [10m:5s]", "some_metric offset 1m[10m:5s]"},
      {"(foo + bar{nm=\"val\"})[5m:]", "(foo + bar{nm=\"val\"})[5m:]"},
      {"(foo + bar{nm=\"val\"})[5m:] offset 10m", "(foo + bar{nm=\"val\"})[5m:] offset 10m"},
      {"(foo + bar{nm=\"val\"} @ 1234)[5m:] @ 1603775019",
       "(foo + bar{nm=\"val\"} @ 1234.000)[5m:] @ 1603775019.000"},
      {"foo[5m:1m] @ start() offset 1m", "foo[5m:1m] @ start() offset 1m"},
      {"foo @ start() [5m]", "foo[5m] @ start()"},
      // Comments and whitespace.
      {"# a comment\nfoo\n# another", "foo"},
      {"sum(\n  rate(x[5m]) # per second\n)", "sum(rate(x[5m]))"},
      {"foo{a=\"b\", # why\n c=\"d\"}", "foo{a=\"b\",c=\"d\"}"},
      {"2e-324", "0"},
      {"\"\\U0010FFFF\\u00a0\\u00e9\"", "\"\\U0010ffff\\u00a0\u00e9\""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Canon(c.input), c.want) << "input: " << c.input;
  }
}

TEST(ParserTest, Errors) {
  const Case cases[] = {
      {"", "1:1: parse error: no expression found in input"},
      {"# just a comment\n\n", "1:1: parse error: no expression found in input"},
      {"1+", "1:3: parse error: unexpected end of input"},
      {".", "1:1: parse error: unexpected character: '.'"},
      {"2.5.", "1:4: parse error: unexpected character: '.'"},
      {"100..4", "1:5: parse error: unexpected number \".4\""},
      {"0deadbeef", "1:1: parse error: bad number or duration syntax: \"0de\""},
      {"1 /", "1:4: parse error: unexpected end of input"},
      {"*1", "1:1: parse error: unexpected <op:*>"},
      {"(1))", "1:5: parse error: unexpected right parenthesis ')'"},
      {"((1)", "1:5: parse error: unclosed left parenthesis"},
      {"999999999999999999999999999999999999999999999999999999999999999999999999", "OK: 1e+72"},
      {"(", "1:2: parse error: unclosed left parenthesis"},
      {"1 and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
      {"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
      {"1 or 1", "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"},
      {"1 unless 1",
       "1:1: parse error: set operator \"unless\" not allowed in binary scalar expression"},
      {"1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"},
      {"1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"},
      {"-\"string\"",
       "1:1: parse error: unary expression only allowed on expressions of type scalar or "
       "instant vector, got \"string\""},
      {"-test[5m]",
       "1:1: parse error: unary expression only allowed on expressions of type scalar or "
       "instant vector, got \"range vector\""},
      {"*test", "1:1: parse error: unexpected <op:*>"},
      {"1 offset 1d",
       "1:1: parse error: offset modifier must be preceded by an instant vector selector or "
       "range vector selector or a subquery"},
      {"foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"},
      {"a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"},
      {"foo and 1",
       "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
      {"1 and foo",
       "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
      {"foo or 1", "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"},
      {"foo == on(bar) 10",
       "1:1: parse error: vector matching only allowed between instant vectors"},
      {"foo + bool bar",
       "1:5: parse error: bool modifier can only be used on comparison operators"},
      {"foo + bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"},
      {"foo and bool 10",
       "1:5: parse error: bool modifier can only be used on comparison operators"},
      {"foo and on(bar) group_left(baz) bar",
       "1:1: parse error: no grouping allowed for \"and\" operation"},
      {"foo and on(bar) group_right(baz) bar",
       "1:1: parse error: no grouping allowed for \"and\" operation"},
      {"foo or on(bar) group_left(baz) bar",
       "1:1: parse error: no grouping allowed for \"or\" operation"},
      {"foo unless on(bar) group_left(baz) bar",
       "1:1: parse error: no grouping allowed for \"unless\" operation"},
      {"http_requests{group=\"production\"} + on(instance) group_left(job,instance) "
       "cpu_count{type=\"smp\"}",
       "1:35: parse error: label \"instance\" must not occur in ON and GROUP clause at once"},
      {"foo + \"alert\"",
       "1:7: parse error: binary expression must contain only scalar and instant vector types"},
      {"\"alert\" + foo",
       "1:1: parse error: binary expression must contain only scalar and instant vector types"},
      {"foo[5m] + 1",
       "1:1: parse error: binary expression must contain only scalar and instant vector types"},
      {"foo * group_left bar", "1:7: parse error: unexpected <group_left>"},
      {"foo * group_right(a) bar", "1:7: parse error: unexpected <group_right>"},
      // Selectors.
      {"{", "1:2: parse error: unexpected end of input inside braces"},
      {"}", "1:1: parse error: unexpected character: '}'"},
      {"some{", "1:6: parse error: unexpected end of input inside braces"},
      {"some}", "1:5: parse error: unexpected character: '}'"},
      {"some_metric{a=b}",
       "1:15: parse error: unexpected identifier \"b\" in label matching, expected string"},
      {"some_metric{a:b=\"b\"}", "1:14: parse error: unexpected character inside braces: ':'"},
      {"foo{a*\"b\"}", "1:6: parse error: unexpected character inside braces: '*'"},
      {"foo{a>=\"b\"}", "1:6: parse error: unexpected character inside braces: '>'"},
      {"foo{gibberish}",
       "1:14: parse error: unexpected \"}\" in label matching, expected label matching operator"},
      {"foo{1}", "1:5: parse error: unexpected character inside braces: '1'"},
      {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"{x=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"{x=~\".*\"}",
       "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"{x!~\".+\"}",
       "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"{x!=\"a\"}",
       "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"foo{__name__=\"bar\"}",
       "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
      {"foo{__name__= =}",
       "1:15: parse error: unexpected \"=\" in label matching, expected string"},
      {"foo{,}",
       "1:5: parse error: unexpected \",\" in label matching, expected identifier or \"}\""},
      {"foo{__name__ == \"bar\"}",
       "1:15: parse error: unexpected \"=\" in label matching, expected string"},
      {"foo{__name__=\"bar\" lol}",
       "1:20: parse error: unexpected identifier \"lol\" in label matching, expected \",\" or "
       "\"}\""},
      {"foo{a=\"b\"", "1:10: parse error: unexpected end of input inside braces"},
      {"foo{a=\"b", "1:7: parse error: unterminated quoted string"},
      {"foo{a=`b", "1:7: parse error: unterminated raw string"},
      {"\"\\q\"", "1:1: parse error: unknown escape sequence U+0071 'q'"},
      {"'\\\"'", "1:1: parse error: unknown escape sequence U+0022 '\"'"},
      {"\"\\xZZ\"", "1:1: parse error: illegal character U+005A 'Z' in escape sequence"},
      {"\"\\uD800\"", "1:1: parse error: escape sequence is an invalid Unicode code point"},
      {"\"a\nb\"", "1:1: parse error: unterminated quoted string"},
      // Ranges, offsets, @.
      {"foo[5mm]", "1:5: parse error: bad duration syntax: \"5mm\""},
      {"foo[5m1]", "1:5: parse error: bad duration syntax: \"5m1\""},
      {"foo[5m:1m1]", "1:8: parse error: bad number or duration syntax: \"1m1\""},
      {"foo[5y1hs]", "1:5: parse error: not a valid duration string: \"5y1hs\""},
      {"foo[5m1h]", "1:5: parse error: not a valid duration string: \"5m1h\""},
      {"foo[5m1m]", "1:5: parse error: not a valid duration string: \"5m1m\""},
      {"foo[0m]", "1:5: parse error: duration must be greater than 0"},
      {"foo[300y]", "1:5: parse error: duration out of range"},
      {"foo[9223372036854775807ms]", "1:5: parse error: duration out of range"},
      {"foo @ @", "1:7: parse error: unexpected \"<Item 57385>\" <op:@> in @, expected timestamp"},
      {"foo[\"5m\"]", "1:5: parse error: missing unit character in duration"},
      {"foo[]", "1:5: parse error: missing unit character in duration"},
      {"foo[1]", "1:5: parse error: missing unit character in duration"},
      {"some_metric[5m] OFFSET 1",
       "1:24: parse error: unexpected number \"1\" in offset, expected duration"},
      {"some_metric[5m] OFFSET 1mm", "1:24: parse error: bad number or duration syntax: \"1mm\""},
      {"some_metric[5m] OFFSET",
       "1:23: parse error: unexpected end of input in offset, expected duration"},
      {"some_metric OFFSET 1m[5m]", "1:22: parse error: no offset modifiers allowed before range"},
      {"some_metric @ 123 [5m]", "1:19: parse error: no @ modifiers allowed before range"},
      {"(foo + bar)[5m]", "1:12: parse error: ranges only allowed for vector selectors"},
      {"foo[5m", "1:7: parse error: unclosed left bracket"},
      {"foo]", "1:4: parse error: unexpected right bracket ']'"},
      {"foo[[5m]]", "1:5: parse error: missing unit character in duration"},
      {"foo @ +Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
      {"foo @ -Inf", "1:1: parse error: timestamp out of bounds for @ modifier: -Inf"},
      {"foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
      {"\"s\" @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
      {"foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
      {"foo @ start() @ end()", "1:1: parse error: @ <timestamp> may not be set multiple times"},
      {"foo @ 1 offset 1m @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
      {"foo @", "1:6: parse error: unexpected end of input in @, expected timestamp"},
      {"foo @ bar", "1:7: parse error: unexpected identifier \"bar\" in @, expected timestamp"},
      {"sum(foo) @ 10",
       "1:1: parse error: @ modifier must be preceded by an instant vector selector or range "
       "vector selector or a subquery"},
      {"rate(foo[5m]) offset 5m",
       "1:1: parse error: offset modifier must be preceded by an instant vector selector or "
       "range vector selector or a subquery"},
      // Subqueries.
      {"test[5d] OFFSET 10s [10m:5s]",
       "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
      {"(foo + bar{nm=\"val\"})[5m:][10m:5s]",
       "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
      {"rate(food[1m])[1h] offset 1h",
       "1:15: parse error: ranges only allowed for vector selectors"},
      {"foo{bar=\"baz\"}[10m:6s", "1:22: parse error: unclosed left bracket"},
      {"foo[5m:1m:1m]", "1:10: parse error: unexpected colon ':'"},
      {"foo[5m:x]", "1:8: parse error: unexpected colon 'x'"},
      {"foo[5m:5]",
       "1:8: parse error: unexpected number \"5\" in subquery selector, expected duration or "
       "\"]\""},
      {"foo[5m:5m 5m]",
       "1:11: parse error: unexpected duration \"5m\" in subquery selector, expected \"]\""},
      {"foo[5m 5m]",
       "1:8: parse error: unexpected duration \"5m\" in subquery or range, expected \":\" or "
       "\"]\""},
      // Aggregations.
      {"sum without(==)(some_metric)",
       "1:13: parse error: unexpected <op:==> in grouping opts, expected label"},
      {"sum without(,)(some_metric)",
       "1:13: parse error: unexpected \",\" in grouping opts, expected label"},
      {"sum without(foo,,)(some_metric)",
       "1:17: parse error: unexpected \",\" in grouping opts, expected label"},
      {"sum some_metric by (test)", "1:5: parse error: unexpected identifier \"some_metric\""},
      {"sum (some_metric) by test",
       "1:22: parse error: unexpected identifier \"test\" in grouping opts, expected \"(\""},
      {"sum (some_metric) by test",
       "1:22: parse error: unexpected identifier \"test\" in grouping opts, expected \"(\""},
      {"sum () by (test)", "1:1: parse error: no arguments for aggregate expression provided"},
      {"MIN keep_common (some_metric)", "1:5: parse error: unexpected identifier \"keep_common\""},
      {"MIN (some_metric) keep_common", "1:19: parse error: unexpected identifier \"keep_common\""},
      {"sum (some_metric) without (test) by (test)", "1:34: parse error: unexpected <by>"},
      {"sum without (test) (some_metric) by (test)", "1:34: parse error: unexpected <by>"},
      {"topk(some_metric)",
       "1:1: parse error: wrong number of arguments for aggregate expression provided, expected "
       "2, got 1"},
      {"topk(some_metric,)",
       "1:17: parse error: trailing commas not allowed in function call args"},
      {"topk(some_metric, other_metric)",
       "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"},
      {"count_values(5, other_metric)",
       "1:14: parse error: expected type string in aggregation parameter, got scalar"},
      {"sum(some_metric[5m])",
       "1:5: parse error: expected type instant vector in aggregation expression, got range "
       "vector"},
      {"sum by (foo:bar) (x)",
       "1:9: parse error: unexpected metric identifier \"foo:bar\" in grouping opts, expected "
       "label"},
      {"rate(some_metric[5m]) by (x)", "1:23: parse error: unexpected <by>"},
      // Functions.
      {"time", "OK: time"},
      {"floor()", "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 0"},
      {"floor(some_metric, other_metric)",
       "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2"},
      {"floor(some_metric, 1)",
       "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2"},
      {"floor(1)",
       "1:7: parse error: expected type instant vector in call to function \"floor\", got scalar"},
      {"hour(some_metric, some_metric, some_metric)",
       "1:1: parse error: expected at most 1 argument(s) in call to \"hour\", got 3"},
      {"time(some_metric)", "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"},
      {"non_existent_function_far_bar()",
       "1:1: parse error: unknown function with name \"non_existent_function_far_bar\""},
      {"foo()", "1:1: parse error: unknown function with name \"foo\""},
      {"rate(some_metric)",
       "1:6: parse error: expected type range vector in call to function \"rate\", got instant "
       "vector"},
      {"label_replace(a, `b`, `c\\xff`, `d`)",
       "1:1: parse error: expected 5 argument(s) in call to \"label_replace\", got 4"},
      {"label_join(a, \"d\")",
       "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 2"},
      {"label_join(a, \"d\", \",\", 1)",
       "1:25: parse error: expected type string in call to function \"label_join\", got scalar"},
      {"round(x, y)",
       "1:10: parse error: expected type scalar in call to function \"round\", got instant vector"},
      {"rate(some_metric[5m]", "1:21: parse error: unclosed left parenthesis"},
      {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s] @ 1 offset 1m [1m:]",
       "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
      {"1 2", "1:3: parse error: unexpected number \"2\""},
      {"sum(foo bar)", "1:9: parse error: unexpected identifier \"bar\" in aggregation"},
      {"sum(rate(==))", "1:10: parse error: unexpected <op:==> in aggregation"},
      {"rate(foo bar)", "1:10: parse error: unexpected identifier \"bar\""},
      {"sum(1 +)", "1:8: parse error: unexpected \")\" in aggregation"},
      {"sum(foo, ==)", "1:8: parse error: trailing commas not allowed in function call args"},
      {"rate(foo,,)", "1:9: parse error: trailing commas not allowed in function call args"},
      {"bar (!= 2.5)", "1:6: parse error: unexpected <op:!=>"},
      {"1e309",
       "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"1e309\": value out "
       "of range"},
      {"foo{# no", "1:9: parse error: unexpected end of input inside braces"},
      {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
      {"foo \"abcdefghijkl\"", "1:5: parse error: unexpected string \"\\\"abcdefghi\"..."},
      {"foo\n  + *", "2:5: parse error: unexpected <op:*>"},
      {"sum(rate(x[5m])) * * 2", "1:20: parse error: unexpected <op:*>"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Err(c.input), c.want) << "input: " << c.input;
  }
}

TEST(ParserTest, AstShape) {
  auto e =
      ParseExpr("sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m] offset 1h)) > bool 3");
  ASSERT_TRUE(e.ok()) << e.status();
  const Expr& root = **e;
  ASSERT_EQ(root.kind, ExprKind::kBinary);
  const auto& bin = root.As<BinaryExpr>();
  EXPECT_EQ(bin.op, BinaryOp::kGtr);
  EXPECT_TRUE(bin.return_bool);
  EXPECT_FALSE(bin.has_matching);  // vector > scalar
  EXPECT_EQ(root.type(), ValueType::kVector);
  ASSERT_EQ(bin.lhs->kind, ExprKind::kAggregate);
  const auto& agg = bin.lhs->As<AggregateExpr>();
  EXPECT_EQ(agg.op, AggregateOp::kSum);
  EXPECT_EQ(agg.grouping, std::vector<std::string>{"job"});
  EXPECT_FALSE(agg.without);
  EXPECT_EQ(agg.param, nullptr);
  ASSERT_EQ(agg.expr->kind, ExprKind::kCall);
  const auto& call = agg.expr->As<Call>();
  EXPECT_EQ(call.func->name, "rate");
  ASSERT_EQ(call.args.size(), 1u);
  ASSERT_EQ(call.args[0]->kind, ExprKind::kMatrixSelector);
  const auto& ms = call.args[0]->As<MatrixSelector>();
  EXPECT_EQ(ms.range_ms, 5 * 60 * 1000);
  EXPECT_EQ(ms.vs->offset_ms, 3600 * 1000);
  EXPECT_EQ(ms.vs->name, "http_requests_total");
  ASSERT_EQ(ms.vs->matchers.size(), 2u);
  EXPECT_EQ(ms.vs->matchers[0].name(), "code");
  EXPECT_EQ(ms.vs->matchers[0].type(), MatchType::kRegexMatch);
  EXPECT_EQ(ms.vs->matchers[1].name(), "__name__");
  EXPECT_EQ(ms.vs->matchers[1].value(), "http_requests_total");
  EXPECT_EQ(root.pos.start, 0);
  EXPECT_EQ(agg.pos.start, 0);
  EXPECT_EQ(call.pos.start, 14);
}

TEST(ParserTest, PositionsAndModifiers) {
  auto e = ParseExpr("foo @ 1.5 offset -1m");
  ASSERT_TRUE(e.ok());
  const auto& vs = (*e)->As<VectorSelector>();
  EXPECT_EQ(vs.at, AtKind::kTimestamp);
  EXPECT_EQ(vs.at_ms, 1500);
  EXPECT_EQ(vs.offset_ms, -60000);
  EXPECT_EQ(vs.pos.start, 0);
  EXPECT_EQ(vs.pos.end, 20);

  e = ParseExpr("x[1h:] @ end()");
  ASSERT_TRUE(e.ok());
  const auto& sq = (*e)->As<SubqueryExpr>();
  EXPECT_EQ(sq.range_ms, 3600000);
  EXPECT_EQ(sq.step_ms, 0);
  EXPECT_EQ(sq.at, AtKind::kEnd);
  EXPECT_EQ((*e)->type(), ValueType::kMatrix);

  e = ParseExpr("a + on(x) group_left(y) b");
  ASSERT_TRUE(e.ok());
  const auto& b = (*e)->As<BinaryExpr>();
  EXPECT_TRUE(b.has_matching);
  EXPECT_TRUE(b.matching.on);
  EXPECT_EQ(b.matching.card, Cardinality::kManyToOne);
  EXPECT_EQ(b.matching.labels, std::vector<std::string>{"x"});
  EXPECT_EQ(b.matching.include, std::vector<std::string>{"y"});

  e = ParseExpr("a or b");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->As<BinaryExpr>().matching.card, Cardinality::kManyToMany);

  e = ParseExpr("1 + 2 * 3");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->type(), ValueType::kScalar);
  EXPECT_EQ((*e)->As<BinaryExpr>().op, BinaryOp::kAdd);
  EXPECT_EQ((*e)->As<BinaryExpr>().rhs->As<BinaryExpr>().op, BinaryOp::kMul);

  e = ParseExpr("2 ^ 3 ^ 2");  // right-associative
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->As<BinaryExpr>().lhs->kind, ExprKind::kNumberLiteral);

  e = ParseExpr("\"\\x41\\101\\u00e9\\U0001F600\\'\"");
  EXPECT_FALSE(e.ok());  // \' is only valid inside single quotes
  e = ParseExpr("'\\x41\\101\\u00e9\\U0001F600\\''");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->As<StringLiteral>().value, "AA\xc3\xa9\xf0\x9f\x98\x80'");
}

TEST(ParserTest, ParseDuration) {
  struct {
    const char* in;
    int64_t ms;
  } ok[] = {{"0", 0},
            {"0s", 0},
            {"5m", 300000},
            {"1h30m", 5400000},
            {"1y", 31536000000},
            {"1w", 604800000},
            {"1d", 86400000},
            {"500ms", 500},
            {"1m30ms", 60030},
            {"2y3w4d5h6m7s8ms",
             2 * 31536000000 + 3 * 604800000 + 4 * 86400000 + 5 * 3600000 + 6 * 60000 + 7000 + 8}};
  for (const auto& c : ok) {
    auto d = ParseDuration(c.in);
    ASSERT_TRUE(d.ok()) << c.in << ": " << d.status();
    EXPECT_EQ(*d, c.ms) << c.in;
  }
  for (const char* bad : {"", "1", "1h1h", "1m1h", "1hs", "5x", "-5m", "1.5h", "m"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseDuration("1h1h").status().message(), "not a valid duration string: \"1h1h\"");
  EXPECT_EQ(ParseDuration("").status().message(), "empty duration string");
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(5400000), "1h30m");
  EXPECT_EQ(FormatDuration(86400000 * 90LL), "90d");
  EXPECT_EQ(FormatDuration(86400000 * 14LL), "2w");
  EXPECT_EQ(FormatDuration(86400000 * 8LL), "8d");
  EXPECT_EQ(FormatDuration(31536000000), "1y");
}

TEST(ParserTest, ParseMetricSelector) {
  auto m = ParseMetricSelector("foo{a=\"b\", c=~\"d.*\"}");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[2].name(), "__name__");
  EXPECT_EQ((*m)[2].value(), "foo");
  m = ParseMetricSelector("{__name__=~\"up|down\"}");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].type(), MatchType::kRegexMatch);
  EXPECT_FALSE(ParseMetricSelector("foo + bar").ok());
  EXPECT_FALSE(ParseMetricSelector("rate(foo[5m])").ok());
  // Texts from Prometheus 2.42's /api/v1/series match[] errors.
  EXPECT_EQ(ParseMetricSelector("foo + bar").status().message(),
            "1:5: parse error: unexpected <op:+>");
  EXPECT_EQ(ParseMetricSelector("rate(foo[5m])").status().message(),
            "1:5: parse error: unexpected \"(\"");
  EXPECT_EQ(ParseMetricSelector("foo[5m]").status().message(),
            "1:4: parse error: unexpected \"[\"");
  EXPECT_EQ(ParseMetricSelector("foo offset 5m").status().message(),
            "1:5: parse error: unexpected <offset>");
  EXPECT_EQ(ParseMetricSelector("1").status().message(),
            "1:1: parse error: unexpected number \"1\"");
  EXPECT_TRUE(ParseMetricSelector("sum").ok());
  EXPECT_TRUE(ParseMetricSelector("{}").ok());  // the HTTP layer refuses empty selectors
  EXPECT_EQ(ParseMetricSelector("foo{").status().message(),
            "1:5: parse error: unexpected end of input inside braces");
}

TEST(ParserTest, FunctionTable) {
  for (const char* name : {"abs",
                           "absent",
                           "absent_over_time",
                           "ceil",
                           "changes",
                           "clamp",
                           "clamp_max",
                           "clamp_min",
                           "day_of_month",
                           "day_of_week",
                           "day_of_year",
                           "days_in_month",
                           "delta",
                           "deriv",
                           "exp",
                           "floor",
                           "histogram_quantile",
                           "holt_winters",
                           "hour",
                           "idelta",
                           "increase",
                           "irate",
                           "label_join",
                           "label_replace",
                           "ln",
                           "log2",
                           "log10",
                           "minute",
                           "month",
                           "predict_linear",
                           "rate",
                           "resets",
                           "round",
                           "scalar",
                           "sgn",
                           "sort",
                           "sort_desc",
                           "sqrt",
                           "time",
                           "timestamp",
                           "vector",
                           "year",
                           "avg_over_time",
                           "min_over_time",
                           "max_over_time",
                           "sum_over_time",
                           "count_over_time",
                           "quantile_over_time",
                           "stddev_over_time",
                           "stdvar_over_time",
                           "last_over_time",
                           "present_over_time",
                           "acos",
                           "acosh",
                           "asin",
                           "asinh",
                           "atan",
                           "atanh",
                           "cos",
                           "cosh",
                           "sin",
                           "sinh",
                           "tan",
                           "tanh",
                           "deg",
                           "rad",
                           "pi"}) {
    EXPECT_NE(LookupFunction(name), nullptr) << name;
  }
  EXPECT_EQ(LookupFunction("Rate"), nullptr);
  EXPECT_EQ(LookupFunction("scalar")->return_type, ValueType::kScalar);
  EXPECT_EQ(LookupFunction("label_join")->variadic, -1);
}

// Random token soup must never crash the parser, and whatever parses must
// print to a canonical form that parses back to itself.
TEST(ParserTest, RandomTokenSequencesRoundTrip) {
  const char* tokens[] = {"foo",
                          "bar:baz",
                          "sum",
                          "rate",
                          "abs",
                          "label_join",
                          "(",
                          ")",
                          "[5m]",
                          "[5m:]",
                          "[1h:1m]",
                          "{a=\"b\"}",
                          "{a!~\"x\",}",
                          "{}",
                          "offset 5m",
                          "offset -1h",
                          "@ 10",
                          "@ start()",
                          "by (a)",
                          "without ()",
                          "on(a)",
                          "ignoring(a, b)",
                          "group_left",
                          "group_right(c)",
                          "bool",
                          "+",
                          "-",
                          "*",
                          "/",
                          "^",
                          "==",
                          "!=",
                          "<",
                          ">=",
                          "and",
                          "or",
                          "unless",
                          "atan2",
                          "1",
                          "0x10",
                          ".5",
                          "Inf",
                          "NaN",
                          "\"s\"",
                          "'t'",
                          "`r`",
                          ",",
                          "topk",
                          "count_values",
                          "quantile",
                          "[",
                          "]",
                          ":",
                          "5m",
                          "{",
                          "}",
                          "#c\n",
                          "\n",
                          "@",
                          "\"\\x41\"",
                          "'\\u00e9'"};
  uint64_t seed = 42;
  auto next = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string q;
    int n = 1 + static_cast<int>(next(12));
    for (int k = 0; k < n; ++k) {
      q += tokens[next(std::size(tokens))];
      if (next(2) == 0) q += " ";
    }
    auto e = ParseExpr(q);
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << q;
      EXPECT_NE(std::string(e.status().message()).find("parse error: "), std::string::npos) << q;
      continue;
    }
    ++parsed;
    std::string canon = ToString(**e);
    auto again = ParseExpr(canon);
    ASSERT_TRUE(again.ok()) << q << " -> " << canon << ": " << again.status();
    EXPECT_EQ(ToString(**again), canon) << q;
  }
  EXPECT_GT(parsed, 500);
}

// Every expression of the upstream engine scripts must parse (eval_fail ones may
// fail at parse or eval time, so they are only run for crashes).
// Nesting is bounded (found by promql_parser_fuzzer: 3,000 '(' overflowed the stack
// under ASan; 100k would in any build): a clear parse error, not a crash.
TEST(ParserTest, DeepNestingIsAParseErrorNotAStackOverflow) {
  auto nested = [](int depth, std::string_view open, std::string_view close) {
    std::string q;
    for (int i = 0; i < depth; ++i) q += open;
    q += "up";
    for (int i = 0; i < depth; ++i) q += close;
    return q;
  };
  EXPECT_TRUE(ParseExpr(nested(100, "(", ")")).ok());
  EXPECT_TRUE(ParseExpr(nested(100, "abs(", ")")).ok());
  for (const std::string& q : {nested(100000, "(", ")"), nested(100000, "-", ""),
                               nested(5000, "sum(", ")"), nested(5000, "up ^ ", "")}) {
    absl::StatusOr<ExprPtr> e = ParseExpr(q);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.status().message().find("nested more than 256 levels"), std::string::npos)
        << e.status();
  }
}

TEST(ParserTest, UpstreamTestScriptsParse) {
  const char* src = std::getenv("CAIRN_SOURCE_DIR");
  if (src == nullptr) GTEST_SKIP() << "CAIRN_SOURCE_DIR not set";
  std::filesystem::path dir = std::filesystem::path(src) / ".." / "shared" / "promql-testdata";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " missing";
  int parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".test") continue;
    std::ifstream in(entry.path());
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      bool fail = line.rfind("eval_fail ", 0) == 0;
      if (line.rfind("eval ", 0) != 0 && line.rfind("eval_ordered ", 0) != 0 && !fail) continue;
      // eval[_ordered|_fail] instant [at <time>] <expr>
      std::string rest = line.substr(line.find(' ') + 1);
      auto skip_word = [&rest]() {
        size_t p = rest.find_first_not_of(" \t");
        rest = p == std::string::npos ? "" : rest.substr(p);
        size_t q = rest.find_first_of(" \t");
        rest = q == std::string::npos ? "" : rest.substr(q);
        size_t r = rest.find_first_not_of(" \t");
        rest = r == std::string::npos ? "" : rest.substr(r);
      };
      skip_word();  // instant
      if (rest.rfind("at ", 0) == 0) {
        skip_word();  // at
        skip_word();  // <time>
      }
      auto e = ParseExpr(rest);
      if (fail) continue;
      EXPECT_TRUE(e.ok()) << entry.path().filename() << ":" << lineno << ": " << rest << ": "
                          << e.status();
      if (e.ok()) {
        ++parsed;
        // The canonical form must itself parse to the same canonical form.
        std::string canon = ToString(**e);
        auto again = ParseExpr(canon);
        ASSERT_TRUE(again.ok()) << canon << ": " << again.status();
        EXPECT_EQ(ToString(**again), canon);
      }
    }
  }
  EXPECT_GT(parsed, 400);
}

}  // namespace
}  // namespace cairn::promql
