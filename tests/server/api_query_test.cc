// /api/v1/query and /api/v1/query_range: parameters, errors and the exact JSON.
// Expected bodies are Prometheus 2.42's responses to the same requests (captured from
// the Debian prometheus 2.42 binary with curl).
#include "server/api_query.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tsdb/promql/memory_storage.h"

namespace cairn::server {
namespace {

class QueryApiTest : public ::testing::Test {
 protected:
  QueryApiTest() : engine_(promql::EngineOptions{}), api_(&storage_, &engine_, [] { return 0; }) {}

  HttpResponse Get(std::string_view path, std::vector<std::pair<std::string, std::string>> params,
                   std::string method = "GET") {
    HttpRequest req;
    req.method = std::move(method);
    req.path = std::string(path);
    req.params = std::move(params);
    HttpResponse resp;
    if (path == "/api/v1/query") {
      api_.Query(req, &resp);
    } else {
      api_.QueryRange(req, &resp);
    }
    return resp;
  }

  promql::testing::MemoryStorage storage_;
  promql::Engine engine_;
  QueryApi api_;
};

TEST_F(QueryApiTest, ScalarAndStringUseFloatTimestampsAndFixedValues) {
  struct Case {
    const char* query;
    const char* body;
  } cases[] = {
      {"time()", R"j({"status":"success","data":{"resultType":"scalar","result":[1.5,"1.5"]}})j"},
      {"1e21",
       R"j({"status":"success","data":{"resultType":"scalar","result":[1.5,"1000000000000000000000"]}})j"},
      {"0.0000001",
       R"j({"status":"success","data":{"resultType":"scalar","result":[1.5,"0.0000001"]}})j"},
      {"1/0", R"j({"status":"success","data":{"resultType":"scalar","result":[1.5,"+Inf"]}})j"},
      {"-0", R"j({"status":"success","data":{"resultType":"scalar","result":[1.5,"-0"]}})j"},
      {"123456789012345678",
       R"j({"status":"success","data":{"resultType":"scalar","result":[1.5,"123456789012345680"]}})j"},
      {"\"hi\"", R"j({"status":"success","data":{"resultType":"string","result":[1.5,"hi"]}})j"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Get("/api/v1/query", {{"query", c.query}, {"time", "1.5"}});
    EXPECT_EQ(r.status, 200) << c.query;
    EXPECT_EQ(r.body, c.body) << c.query;
  }
}

TEST_F(QueryApiTest, VectorSamplesUseMillisecondTimestampsAndShortValues) {
  struct Case {
    const char* query;
    const char* value;
  } cases[] = {
      {"vector(1e21)", "\"1e+21\""},
      {"vector(1e-7)", "\"1e-07\""},
      {"vector(-0)", "\"-0\""},
      {"vector(0.1)", "\"0.1\""},
      {"vector(NaN)", "\"NaN\""},
      {"vector(-1/0)", "\"-Inf\""},
      {"vector(123456789.125)", "\"123456789.125\""},
  };
  for (const Case& c : cases) {
    HttpResponse r = Get("/api/v1/query", {{"query", c.query}, {"time", "-1.005"}});
    EXPECT_EQ(r.body,
              absl::StrCat(R"j({"status":"success","data":{"resultType":"vector","result":[)j",
                           R"j({"metric":{},"value":[-1.005,)j", c.value, "]}]}}"))
        << c.query;
  }
  HttpResponse r = Get("/api/v1/query", {{"query", "vector(1.5)"}, {"time", "1.5"}});
  EXPECT_EQ(
      r.body,
      R"j({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"1.5"]}]}})j");
}

TEST_F(QueryApiTest, VectorWithLabelsAndRfc3339Time) {
  storage_.Add(Labels{{"__name__", "up"}, {"job", "a\"b"}}, 1700000000000, 1);
  HttpResponse r =
      Get("/api/v1/query", {{"query", "up"}, {"time", "2023-11-14T22:13:20.123Z"}}, "POST");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"j({"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a\"b"},"value":[1700000000.123,"1"]}]}})j");
}

TEST_F(QueryApiTest, RangeQueryMatrix) {
  HttpResponse r = Get("/api/v1/query_range",
                       {{"query", "vector(1)"}, {"start", "1.5"}, {"end", "2"}, {"step", "0.25"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"j({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1.500,"1"],[1.750,"1"],[2,"1"]]}]}})j");
  r = Get(
      "/api/v1/query_range",
      {{"query", "time()"}, {"start", "1700000000.123"}, {"end", "1700000000.5"}, {"step", "0.1"}});
  EXPECT_EQ(
      r.body,
      R"j({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1700000000.123,"1700000000.123"],[1700000000.223,"1700000000.223"],[1700000000.323,"1700000000.323"],[1700000000.423,"1700000000.423"]]}]}})j");
  // 11,000 points are fine; one more is refused.
  r = Get("/api/v1/query_range", {{"query", "1"}, {"start", "0"}, {"end", "11000"}, {"step", "1"}});
  EXPECT_EQ(r.status, 200);
  r = Get("/api/v1/query_range", {{"query", "1"}, {"start", "0"}, {"end", "11001"}, {"step", "1"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(
      r.body,
      R"j({"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"})j");
}

TEST_F(QueryApiTest, Errors) {
  struct Case {
    const char* path;
    std::vector<std::pair<std::string, std::string>> params;
    int status;
    const char* body;
  } cases[] = {
      {"/api/v1/query",
       {{"query", "sum("}},
       400,
       R"j({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"})j"},
      {"/api/v1/query",
       {{"query", "1"}, {"time", "x"}},
       400,
       R"j({"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": Invalid time value for 'time': cannot parse \"x\" to a valid timestamp"})j"},
      {"/api/v1/query",
       {{"query", "1"}, {"timeout", "x"}},
       400,
       R"j({"status":"error","errorType":"bad_data","error":"invalid parameter \"timeout\": cannot parse \"x\" to a valid duration"})j"},
      // Prometheus 2.42 wraps an instant query's parse error, not a range query's.
      {"/api/v1/query_range",
       {{"query", "sum("}, {"start", "0"}, {"end", "10"}, {"step", "1"}},
       400,
       R"j({"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"})j"},
      {"/api/v1/query_range",
       {{"query", "x[5m]"}, {"start", "0"}, {"end", "10"}, {"step", "1"}},
       400,
       R"j({"status":"error","errorType":"bad_data","error":"invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"})j"},
      {"/api/v1/query_range",
       {{"query", "1"}, {"start", "10"}, {"end", "0"}, {"step", "1"}},
       400,
       R"j({"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": end timestamp must not be before start time"})j"},
      {"/api/v1/query_range",
       {{"query", "1"}, {"start", "0"}, {"end", "10"}, {"step", "x"}},
       400,
       R"j({"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": cannot parse \"x\" to a valid duration"})j"},
      {"/api/v1/query_range",
       {{"query", "1"}, {"start", "0"}, {"end", "10"}, {"step", "0"}},
       400,
       R"j({"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"})j"},
      {"/api/v1/query_range",
       {{"query", "1"}, {"end", "10"}, {"step", "1"}},
       400,
       R"j({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": cannot parse \"\" to a valid timestamp"})j"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Get(c.path, c.params);
    EXPECT_EQ(r.status, c.status) << c.body;
    EXPECT_EQ(r.body, c.body);
  }
}

TEST_F(QueryApiTest, ExecutionErrorIs422) {
  storage_.Add(Labels{{"__name__", "a"}, {"x", "1"}}, 0, 1);
  storage_.Add(Labels{{"__name__", "b"}, {"x", "1"}}, 0, 1);
  HttpResponse r = Get("/api/v1/query", {{"query", "-{x=\"1\"}"}, {"time", "0"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(
      r.body,
      R"j({"status":"error","errorType":"execution","error":"vector cannot contain metrics with the same labelset"})j");
}

TEST(FormatApiValueTest, ShortestRoundTrip) {
  EXPECT_EQ(FormatApiValue(100000), "100000");
  EXPECT_EQ(FormatApiValue(1e20), "100000000000000000000");
  EXPECT_EQ(FormatApiValue(1.5e-7), "1.5e-07");
  EXPECT_EQ(FormatApiValue(0.000001), "0.000001");
  EXPECT_EQ(FormatApiValue(0.1 + 0.2), "0.30000000000000004");
  std::string ts;
  AppendApiTimestamp(&ts, -1005);
  EXPECT_EQ(ts, "-1.005");
}

}  // namespace
}  // namespace cairn::server
