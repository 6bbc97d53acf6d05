// `cairnctl query`: response rendering checked against hand-written API answers (the
// shapes of Prometheus' HTTP API documentation), and the binary run against a real
// Prometheus 2.42 scraping itself (skipped when /usr/bin/prometheus is absent).
#include "tools/query_command.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/tools/cairnctl_runner.h"

extern char** environ;

namespace cairn::tools {
namespace {

using ::cairn::testing::CairnctlResult;
using ::cairn::testing::RunCairnctl;
using ::cairn::testing::ShellQuote;

TEST(FormatMetricTest, PromtoolRendering) {
  EXPECT_EQ(FormatMetric({{"__name__", "up"}, {"job", "x"}, {"instance", "a:1"}}),
            "up{instance=\"a:1\", job=\"x\"}");
  EXPECT_EQ(FormatMetric({{"__name__", "up"}}), "up");
  EXPECT_EQ(FormatMetric({}), "{}");
  EXPECT_EQ(FormatMetric({{"job", "x"}}), "{job=\"x\"}");
  // Go's %q escapes; the pairs sort as rendered text, so "a1=" precedes "a=".
  EXPECT_EQ(FormatMetric({{"a", "q\"b\\\n"}, {"a1", "\x01"}}),
            "{a1=\"\\x01\", a=\"q\\\"b\\\\\\n\"}");
}

TEST(QueryFormTest, EscapesAndChoosesEndpoint) {
  QueryRequest r;
  r.url = "http://h:1/";
  r.expr = "sum(rate(x{a=\"b c\"}[5m]))";
  r.time = "2023-11-14T22:13:20Z";
  EXPECT_EQ(QueryUrl(r), "http://h:1/api/v1/query");
  EXPECT_EQ(
      QueryForm(r),
      "query=sum%28rate%28x%7Ba%3D%22b%20c%22%7D%5B5m%5D%29%29&time=2023-11-14T22%3A13%3A20Z");
  r.range = true;
  r.start = "1";
  r.end = "2";
  r.step = "15s";
  EXPECT_EQ(QueryUrl(r), "http://h:1/api/v1/query_range");
  EXPECT_EQ(QueryForm(r),
            "query=sum%28rate%28x%7Ba%3D%22b%20c%22%7D%5B5m%5D%29%29&start=1&end=2&step=15s");
}

TEST(ParseQueryResponseTest, Vector) {
  // From the Prometheus HTTP API documentation (instant query example).
  auto a = ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector","result":[
    {"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},
     "value":[1435781451.781,"1"]},
    {"metric":{"__name__":"up","job":"node","instance":"localhost:9100"},
     "value":[1435781451.781,"0"]}]}})");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->success);
  EXPECT_EQ(a->table,
            "up{instance=\"localhost:9090\", job=\"prometheus\"} => 1 @[1435781451.781]\n"
            "up{instance=\"localhost:9100\", job=\"node\"} => 0 @[1435781451.781]\n");
}

TEST(ParseQueryResponseTest, MatrixScalarStringEmpty) {
  auto m = ParseQueryResponse(R"({"status":"success","data":{"resultType":"matrix","result":[
    {"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},
     "values":[[1435781430.781,"1"],[1435781445.781,"NaN"],[1435781460.781,"+Inf"]]},
    {"metric":{},"values":[[1435781430,"0.5"]]}]}})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->table,
            "up{instance=\"localhost:9090\", job=\"prometheus\"} =>\n"
            "1 @[1435781430.781]\nNaN @[1435781445.781]\n+Inf @[1435781460.781]\n"
            "{} =>\n0.5 @[1435781430]\n");
  auto s = ParseQueryResponse(
      R"({"status":"success","data":{"resultType":"scalar","result":[1700000000,"42"]}})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->table, "scalar: 42 @[1700000000]\n");
  auto str = ParseQueryResponse(
      R"({"status":"success","data":{"resultType":"string","result":[1700000000,"hi"]}})");
  ASSERT_TRUE(str.ok()) << str.status();
  EXPECT_EQ(str->table, "hi @[1700000000]\n");
  auto e = ParseQueryResponse(
      R"({"status":"success","data":{"resultType":"vector","result":[]},"warnings":["w1"]})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->table, "");
  EXPECT_EQ(e->warnings, std::vector<std::string>{"w1"});
}

TEST(ParseQueryResponseTest, ApiErrorAndMalformedBodies) {
  auto a = ParseQueryResponse(
      R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"})");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->success);
  EXPECT_EQ(a->error_type, "bad_data");
  EXPECT_EQ(a->error, "1:5: parse error: unclosed left parenthesis");

  for (const char* body : {"404 page not found\n", "", "{}", "[1]", R"({"status":"success"})",
                           R"({"status":"success","data":{"resultType":"vector","result":[{}]}})",
                           R"({"status":"success","data":{"resultType":"vector","result":[
                               {"metric":{},"value":[1,2,3]}]}})",
                           R"({"status":"success","data":{"resultType":"blob","result":1}})",
                           R"({"status":"error"})"}) {
    auto r = ParseQueryResponse(body);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(QueryCommandTest, ConnectionFailureExits2) {
  int port = FreePort();  // nothing listens there once the probe socket is closed
  ASSERT_GT(port, 0);
  CairnctlResult r = RunCairnctl("query --url=http://127.0.0.1:" + std::to_string(port) + " up");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("cannot query http://127.0.0.1:" + std::to_string(port) + "/api/v1/query"),
            std::string::npos)
      << r.out;
}

TEST(QueryCommandTest, UsageErrorsExit2) {
  EXPECT_EQ(RunCairnctl("query").exit_code, 2);
  EXPECT_EQ(RunCairnctl("query range --start=1 --end=2 up").exit_code, 2);  // no step
  EXPECT_EQ(RunCairnctl("query --format=yaml up").exit_code, 2);
  EXPECT_EQ(RunCairnctl("query up down").exit_code, 2);
}

// One Prometheus 2.42 for the suite, scraping itself every second.
class PrometheusQueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access("/usr/bin/prometheus", X_OK) != 0) return;
    char tmpl[] = "/tmp/cairnctl_query_test_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir_ = new std::string(tmpl);
    port_ = FreePort();
    std::ofstream(*dir_ + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << port_ << "']\n";
    std::string config = "--config.file=" + *dir_ + "/prometheus.yml";
    std::string data = "--storage.tsdb.path=" + *dir_ + "/data";
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    std::string log = *dir_ + "/prometheus.log";
    const char* argv[] = {"/usr/bin/prometheus", config.c_str(), data.c_str(), listen.c_str(),
                          nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return;
    pid_ = pid;
    // Ready once `up` has been scraped at least once.
    QueryRequest req;
    req.url = Url();
    req.expr = "up";
    req.timeout = absl::Seconds(2);
    for (int i = 0; i < 300; ++i) {
      auto r = PostQuery(req);
      if (r.ok() && r->body.find("\"value\"") != std::string::npos) {
        ready_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st;
      waitpid(pid_, &st, 0);
      pid_ = -1;
    }
    if (dir_ != nullptr) {
      std::string rm = "rm -rf " + ShellQuote(*dir_);
      (void)!system(rm.c_str());
      delete dir_;
      dir_ = nullptr;
    }
  }

  void SetUp() override {
    if (access("/usr/bin/prometheus", X_OK) != 0) GTEST_SKIP() << "prometheus not installed";
    ASSERT_TRUE(ready_) << "prometheus did not come up; see its log in the temp dir";
  }

  static std::string Url() { return "http://127.0.0.1:" + std::to_string(port_); }
  static std::string Query(const std::string& rest) { return "query --url=" + Url() + " " + rest; }

  static inline std::string* dir_ = nullptr;
  static inline int port_ = 0;
  static inline pid_t pid_ = -1;
  static inline bool ready_ = false;
};

TEST_F(PrometheusQueryTest, InstantVectorTable) {
  CairnctlResult r = RunCairnctl(Query("up"), /*merge_stderr=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::regex want("up\\{instance=\"127\\.0\\.0\\.1:" + std::to_string(port_) +
                  "\", job=\"prometheus\"\\} => 1 @\\[[0-9]+(\\.[0-9]+)?\\]\n");
  EXPECT_TRUE(std::regex_match(r.out, want)) << r.out;
}

TEST_F(PrometheusQueryTest, InstantAtGivenTimeUnixAndRfc3339) {
  // 1700000000 s is 2023-11-14T22:13:20Z.
  CairnctlResult a = RunCairnctl(Query("--time=1700000000 'time()'"));
  EXPECT_EQ(a.exit_code, 0) << a.out;
  EXPECT_EQ(a.out, "scalar: 1700000000 @[1700000000]\n");
  CairnctlResult b = RunCairnctl(Query("--time=2023-11-14T22:13:20Z 'time() + 0.5'"));
  EXPECT_EQ(b.exit_code, 0) << b.out;
  EXPECT_EQ(b.out, "scalar: 1700000000.5 @[1700000000]\n");
  CairnctlResult c = RunCairnctl(Query("--time=1700000000 '\"hello\"'"));
  EXPECT_EQ(c.out, "hello @[1700000000]\n");
}

TEST_F(PrometheusQueryTest, RangeMatrixTable) {
  CairnctlResult r = RunCairnctl("query range --url=" + Url() +
                                 " --start=1700000000 --end=1700000030 --step=15s 'vector(1) * 2'");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "{} =>\n2 @[1700000000]\n2 @[1700000015]\n2 @[1700000030]\n");

  // Live data: the last 10 s of `up`, one row per scrape-covered step. The end is one
  // second past now: truncated to the second, `now` can precede the only scrape so far
  // (the suite starts right after it), and the range would then be empty.
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  r = RunCairnctl("query range --url=" + Url() + " --start=" + std::to_string(now - 10) +
                  " --end=" + std::to_string(now + 1) + " --step=1 up");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("up{instance=\"127.0.0.1:" + std::to_string(port_) +
                            "\", job=\"prometheus\"} =>\n1 @[",
                        0),
            0u)
      << r.out;
}

TEST_F(PrometheusQueryTest, JsonFormatIsTheRawAnswer) {
  CairnctlResult r = RunCairnctl(Query("--format=json up"), /*merge_stderr=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  ASSERT_FALSE(d.HasParseError()) << r.out;
  EXPECT_STREQ(d["status"].GetString(), "success");
  EXPECT_STREQ(d["data"]["resultType"].GetString(), "vector");
  ASSERT_EQ(d["data"]["result"].Size(), 1u);
  EXPECT_STREQ(d["data"]["result"][0]["metric"]["job"].GetString(), "prometheus");
}

TEST_F(PrometheusQueryTest, ApiErrorsExit1WithTypeAndMessage) {
  CairnctlResult r = RunCairnctl(Query("'sum(up'"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("bad_data: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parse error"), std::string::npos) << r.out;

  // Prometheus' limit of 11,000 points per series.
  r = RunCairnctl("query range --url=" + Url() + " --start=0 --end=100000 --step=1 up");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("bad_data: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("11,000"), std::string::npos) << r.out;

  // --format=json still prints the body, and still exits 1.
  r = RunCairnctl(Query("--format=json 'sum(up'"), /*merge_stderr=*/false);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("\"errorType\":\"bad_data\""), std::string::npos) << r.out;
}

TEST_F(PrometheusQueryTest, NonApiAnswerExits2) {
  CairnctlResult r = RunCairnctl("query --url=" + Url() + "/nothing-here up");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("HTTP 404"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not a Prometheus API response"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cairn::tools
