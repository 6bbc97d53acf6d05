// The admin API handlers over a real DB in a temporary directory. Expected bodies are
// Prometheus 2.42's answers to the same requests (captured with curl against
// `prometheus --web.enable-admin-api`).
#include "server/api_admin.h"

#include <unistd.h>

#include "gtest/gtest.h"
#include "re2/re2.h"
#include "tsdb/model/matcher.h"
#include "tsdb/model/sample.h"

namespace cairn::server {
namespace {

// {"status":"success","data":{"name":"20261206T104853Z-5e5aabed650eb352"}}, the name
// captured.
constexpr char kSnapshotAnswer[] =
    R"re(\{"status":"success","data":\{"name":"(\d{8}T\d{6}Z-[0-9a-f]{16})"\}\})re";

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_api_admin_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = DB::Open(dir_, DbOptions{.background = false});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto app = db_->NewAppender();
    for (int64_t t = 0; t < 100; ++t) {
      ASSERT_TRUE(app->Append(0, {{"__name__", "up"}, {"job", "a"}}, t * 1000, 1).ok());
      ASSERT_TRUE(app->Append(0, {{"__name__", "up"}, {"job", "b"}}, t * 1000, 1).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  void TearDown() override {
    db_.reset();
    ASSERT_TRUE(io::FileSystem::Default()->RemoveAll(dir_).ok());
  }

  HttpResponse Call(bool enabled, std::string_view endpoint, std::string method,
                    std::vector<std::pair<std::string, std::string>> params = {}) {
    AdminApi api(db_.get(), enabled);
    HttpRequest req;
    req.method = std::move(method);
    req.params = std::move(params);
    HttpResponse resp;
    if (endpoint == "delete_series") api.DeleteSeries(req, &resp);
    if (endpoint == "clean_tombstones") api.CleanTombstones(req, &resp);
    if (endpoint == "snapshot") api.Snapshot(req, &resp);
    return resp;
  }

  size_t Samples(const std::string& job) {
    auto q = db_->NewQuerier(kMinTimeMs, kMaxTimeMs);
    EXPECT_TRUE(q.ok());
    auto set =
        (*q)->Select(kMinTimeMs, kMaxTimeMs, {*Matcher::Create(MatchType::kEqual, "job", job)});
    size_t n = 0;
    while (set->Next()) {
      auto it = set->At().Iterator();
      while (it->Next()) ++n;
    }
    return n;
  }

  std::string dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(AdminApiTest, DisabledAnswersAsPrometheus) {
  for (const char* endpoint : {"delete_series", "clean_tombstones", "snapshot"}) {
    for (const char* method : {"POST", "PUT"}) {
      HttpResponse r = Call(false, endpoint, method, {{"match[]", "up"}});
      EXPECT_EQ(r.status, 500) << endpoint;
      EXPECT_EQ(r.body,
                R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})");
    }
  }
  EXPECT_EQ(Samples("a"), 100u);  // nothing deleted
  EXPECT_FALSE(io::FileSystem::Default()->Exists(dir_ + "/snapshots"));
}

TEST_F(AdminApiTest, OtherMethodsAre405) {
  for (bool enabled : {false, true}) {
    HttpResponse r = Call(enabled, "snapshot", "GET");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.body, "Method Not Allowed\n");
  }
}

TEST_F(AdminApiTest, DeleteSeries) {
  HttpResponse r = Call(true, "delete_series", "POST",
                        {{"match[]", "up{job=\"a\"}"}, {"start", "10"}, {"end", "19.999"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.content_type, "");
  EXPECT_EQ(Samples("a"), 90u);
  EXPECT_EQ(Samples("b"), 100u);
  // Open range: everything.
  r = Call(true, "delete_series", "PUT", {{"match[]", "{job=\"b\"}"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Samples("b"), 0u);
}

TEST_F(AdminApiTest, DeleteSeriesErrorsMatchPrometheus) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> params;
    std::string body;
  } cases[] = {
      {{}, R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})"},
      {{{"match[]", "up"}, {"start", "abc"}},
       R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": Invalid time value for 'start': cannot parse \"abc\" to a valid timestamp"})"},
      {{{"match[]", "up"}, {"end", "abc"}},
       R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": Invalid time value for 'end': cannot parse \"abc\" to a valid timestamp"})"},
      {{{"match[]", "{"}},
       R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": 1:2: parse error: unexpected end of input inside braces"})"},
      {{{"match[]", "up"}, {"match[]", "bad{"}},
       R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": 1:5: parse error: unexpected end of input inside braces"})"},
      {{{"match[]", ""}},
       R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": 1:1: parse error: unexpected end of input"})"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Call(true, "delete_series", "POST", c.params);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, c.body);
  }
  // The valid first selector of a failed request deleted nothing.
  EXPECT_EQ(Samples("a") + Samples("b"), 200u);
}

TEST_F(AdminApiTest, CleanTombstones) {
  HttpResponse r = Call(true, "clean_tombstones", "POST");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
}

TEST_F(AdminApiTest, SnapshotNamesADirectoryThatOpensAsADb) {
  HttpResponse r = Call(true, "snapshot", "POST");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string name;
  ASSERT_TRUE(RE2::FullMatch(r.body, kSnapshotAnswer, &name)) << r.body;
  auto snap = DB::Open(dir_ + "/snapshots/" + name, DbOptions{.background = false});
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ((*snap)->stats().blocks, 1u);  // the head, written as a block

  r = Call(true, "snapshot", "PUT", {{"skip_head", "true"}});
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(RE2::PartialMatch(r.body, R"re("name":"([^"]+)")re", &name));
  auto empty = DB::Open(dir_ + "/snapshots/" + name, DbOptions{.background = false});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->stats().blocks, 0u);
}

TEST_F(AdminApiTest, SnapshotSkipHeadTakesGoBooleans) {
  for (const char* v :
       {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False", ""}) {
    EXPECT_EQ(Call(true, "snapshot", "POST", {{"skip_head", v}}).status, 200) << v;
  }
  HttpResponse r = Call(true, "snapshot", "POST", {{"skip_head", "yes"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(
      r.body,
      R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"skip_head\": unable to parse boolean: strconv.ParseBool: parsing \"yes\": invalid syntax"})");
}

}  // namespace
}  // namespace cairn::server
