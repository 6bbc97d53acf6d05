#include "server/api_metadata.h"
#include <set>

#include "gtest/gtest.h"
#include "server/api_util.h"
#include "tests/tsdb/storage/list_series.h"

namespace cairn::server {
namespace {

using storage::testing::ListSeries;
using storage::testing::ListSeriesSet;

// A fixed set of series; Select filters by matchers and time.
class FakeQueryable : public storage::Queryable {
 public:
  struct Q : storage::Querier {
    const std::vector<ListSeries>* all;
    std::unique_ptr<storage::SeriesSet> Select(int64_t mint, int64_t maxt,
                                               const std::vector<Matcher>& ms) const override {
      std::vector<ListSeries> out;
      for (const auto& s : *all) {
        if (!MatchesAll(ms, s.ls)) continue;
        bool in_range = false;
        for (const auto& smp : s.samples) in_range |= smp.t >= mint && smp.t <= maxt;
        if (in_range) out.push_back(s);
      }
      return std::make_unique<ListSeriesSet>(std::move(out));
    }
    absl::StatusOr<std::vector<std::string>> LabelNames(
        const std::vector<Matcher>& ms) const override {
      std::set<std::string> names;
      for (const auto& s : *all) {
        if (!MatchesAll(ms, s.ls)) continue;
        for (const Label& l : s.ls) names.insert(std::string(l.name));
      }
      return std::vector<std::string>(names.begin(), names.end());
    }
    absl::StatusOr<std::vector<std::string>> LabelValues(
        std::string_view name, const std::vector<Matcher>& ms) const override {
      std::set<std::string> vals;
      for (const auto& s : *all) {
        if (!MatchesAll(ms, s.ls) || !s.ls.Has(name)) continue;
        vals.insert(std::string(s.ls.Get(name)));
      }
      return std::vector<std::string>(vals.begin(), vals.end());
    }
  };
  absl::StatusOr<std::unique_ptr<storage::Querier>> NewQuerier(int64_t, int64_t) override {
    auto q = std::make_unique<Q>();
    q->all = &series;
    return q;
  }
  std::vector<ListSeries> series;
};

class MetadataApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.series.emplace_back(Labels{{"__name__", "up"}, {"job", "api"}},
                            std::vector<Sample>{{1000, 1}});
    db_.series.emplace_back(Labels{{"__name__", "up"}, {"job", "node"}, {"zone", "a"}},
                            std::vector<Sample>{{2000, 1}});
    db_.series.emplace_back(Labels{{"__name__", "x\"y"}, {"job", "api"}},
                            std::vector<Sample>{{50000, 1}});
  }
  HttpResponse Get(std::string path, std::vector<std::pair<std::string, std::string>> params) {
    HttpRequest req;
    req.method = "GET";
    req.path = std::move(path);
    req.params = std::move(params);
    HttpResponse resp;
    MetadataApi api(&db_);
    if (req.path == "/api/v1/series")
      api.Series(req, &resp);
    else if (req.path == "/api/v1/labels")
      api.LabelNames(req, &resp);
    else
      api.LabelValues(req, &resp);
    return resp;
  }
  FakeQueryable db_;
};

TEST_F(MetadataApiTest, SeriesByMatchers) {
  HttpResponse r = Get("/api/v1/series", {{"match[]", "up"}, {"match[]", "{job=\"api\"}"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"status\":\"success\",\"data\":[{\"__name__\":\"up\",\"job\":\"api\"},"
            "{\"__name__\":\"up\",\"job\":\"node\",\"zone\":\"a\"},"
            "{\"__name__\":\"x\\\"y\",\"job\":\"api\"}]}");
}

TEST_F(MetadataApiTest, SeriesTimeRangeAndErrors) {
  HttpResponse r = Get("/api/v1/series", {{"match[]", "up"}, {"start", "1.5"}, {"end", "10"}});
  EXPECT_EQ(
      r.body,
      "{\"status\":\"success\",\"data\":[{\"__name__\":\"up\",\"job\":\"node\",\"zone\":\"a\"}]}");
  r = Get("/api/v1/series", {});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"no match[] parameter "
            "provided\"}");
  r = Get("/api/v1/series", {{"match[]", "up"}, {"start", "yesterday"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid parameter \\\"start\\\": cannot parse \\\"yesterday\\\" to a "
                        "valid timestamp"),
            std::string::npos)
      << r.body;
  r = Get("/api/v1/series", {{"match[]", "up{"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("parse error"), std::string::npos) << r.body;
}

TEST_F(MetadataApiTest, LabelNamesAndValues) {
  EXPECT_EQ(Get("/api/v1/labels", {}).body,
            "{\"status\":\"success\",\"data\":[\"__name__\",\"job\",\"zone\"]}");
  EXPECT_EQ(Get("/api/v1/labels", {{"match[]", "{job=\"api\"}"}}).body,
            "{\"status\":\"success\",\"data\":[\"__name__\",\"job\"]}");
  EXPECT_EQ(Get("/api/v1/label/job/values", {}).body,
            "{\"status\":\"success\",\"data\":[\"api\",\"node\"]}");
  EXPECT_EQ(Get("/api/v1/label/nothere/values", {}).body, "{\"status\":\"success\",\"data\":[]}");
  HttpResponse r = Get("/api/v1/label/bad-name/values", {});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid label name: "
            "\\\"bad-name\\\"\"}");
}

TEST(ApiUtilTest, ParseTimes) {
  EXPECT_EQ(*ParseApiTime("1.5"), 1500);
  EXPECT_EQ(*ParseApiTime("1700000000"), 1700000000000);
  EXPECT_EQ(*ParseApiTime("2015-07-01T20:10:51.781Z"), 1435781451781);
  EXPECT_EQ(*ParseApiTime("2015-07-01T22:10:51+02:00"), 1435781451000);
  EXPECT_FALSE(ParseApiTime("nope").ok());
  EXPECT_EQ(*ParseApiDuration("15"), 15000);
  EXPECT_EQ(*ParseApiDuration("0.5"), 500);
  EXPECT_EQ(*ParseApiDuration("1m"), 60000);
  EXPECT_FALSE(ParseApiDuration("1x").ok());
}

}  // namespace
}  // namespace cairn::server
