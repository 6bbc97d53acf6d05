#include "server/remote_write.h"

#include <snappy.h>

#include <map>

#include "gtest/gtest.h"
#include "tests/server/test_write_request.h"
#include "tsdb/model/sample.h"

namespace cairn::server {
namespace {

using test_write::WriteRequestOf;

// An in-memory Appendable that refuses samples not newer than the series' last one.
class FakeStore : public storage::Appendable {
 public:
  class App : public storage::Appender {
   public:
    explicit App(FakeStore* s) : s_(s) {}
    absl::StatusOr<storage::SeriesRef> Append(storage::SeriesRef, const Labels& ls, int64_t t,
                                              double v) override {
      auto& series = s_->data[ls.ToString()];
      int64_t last = series.empty() ? kMinTimeMs : series.back().t;
      for (const auto& p : pending_) {
        if (p.first == ls.ToString()) last = std::max(last, p.second.t);
      }
      if (t <= last) {
        return storage::RejectedSampleError(storage::RejectReason::kOutOfOrder, ls, t, "");
      }
      pending_.emplace_back(ls.ToString(), Sample{t, v});
      return 1;
    }
    absl::Status Commit() override {
      if (s_->fail_commit) {
        // What the head answers on a full disk.
        return absl::ResourceExhaustedError(
            "head commit: WAL write failed: no space left on device");
      }
      for (auto& [k, smp] : pending_) s_->data[k].push_back(smp);
      pending_.clear();
      return absl::OkStatus();
    }
    void Rollback() override { pending_.clear(); }

   private:
    FakeStore* s_;
    std::vector<std::pair<std::string, Sample>> pending_;
  };
  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(this); }
  std::map<std::string, std::vector<Sample>> data;
  bool fail_commit = false;
};

TEST(RemoteWriteTest, DecodesSnappyProtobuf) {
  auto req = WriteRequestOf({{{{"__name__", "up"}, {"job", "x"}}, {{1000, 1}}}});
  std::string wire = req.SerializeAsString(), compressed;
  snappy::Compress(wire.data(), wire.size(), &compressed);
  std::string raw;
  WriteRequestView out;
  ASSERT_TRUE(DecodeSnappyWriteRequest(compressed, {}, &raw, &out).ok());
  ASSERT_EQ(out.num_series(), 1u);
  EXPECT_EQ(out.samples(0)[0].t, 1000);
}

TEST(RemoteWriteTest, BadSnappyAndBadProtobufAreInvalidArgument) {
  std::string raw;
  WriteRequestView out;
  absl::Status s = DecodeSnappyWriteRequest("definitely not snappy", {}, &raw, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("snappy"), absl::string_view::npos);
  std::string garbage = "\xff\xff\xff\xff garbage protobuf", compressed;
  snappy::Compress(garbage.data(), garbage.size(), &compressed);
  s = DecodeSnappyWriteRequest(compressed, {}, &raw, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("protobuf"), absl::string_view::npos);
}

// The HTTP path's zero-copy parse stops one past each per-request limit (so that a
// request just over it still gets the counted message from IngestWriteRequest) and
// names the limit and its flag, without claiming a count it did not finish.
TEST(RemoteWriteTest, ViewParseStopsAtPerRequestLimits) {
  std::vector<std::pair<std::vector<std::pair<std::string, std::string>>,
                        std::vector<std::pair<int64_t, double>>>>
      series;
  for (int i = 0; i < 10; ++i) {
    series.push_back(
        {{{"__name__", "m"}, {"a", "1"}, {"b", "2"}, {"i", std::to_string(i)}}, {{1, 1}, {2, 2}}});
  }
  std::string raw_req = WriteRequestOf(series).SerializeAsString(), body;
  snappy::Compress(raw_req.data(), raw_req.size(), &body);
  struct Case {
    RemoteWriteLimits limits;
    std::string_view limit;
    std::string want;
  };
  RemoteWriteLimits s, n, l;
  s.max_series_per_request = 3;
  n.max_samples_per_request = 5;
  l.max_labels_per_series = 2;
  for (const Case& c : {Case{s, kLimitSeriesPerRequest,
                             "request has more series than the limit of 3 "
                             "(--storage.remote-write.max-series-per-request)"},
                        Case{n, kLimitSamplesPerRequest,
                             "request has more samples than the limit of 5 "
                             "(--storage.remote-write.max-samples-per-request)"},
                        Case{l, kLimitLabelsPerSeries,
                             "series 0 has more labels than the limit of 2 "
                             "(--storage.remote-write.max-labels-per-series)"}}) {
    std::string raw;
    WriteRequestView view;
    absl::Status st = DecodeSnappyWriteRequest(body, c.limits, &raw, &view);
    EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
    EXPECT_EQ(WriteLimitHit(st), c.limit);
    EXPECT_EQ(st.message(), c.want);
  }
  std::string raw;
  WriteRequestView view;
  ASSERT_TRUE(DecodeSnappyWriteRequest(body, {}, &raw, &view).ok());
  EXPECT_EQ(view.num_series(), 10u);
  EXPECT_EQ(view.num_samples(), 20u);
}

TEST(RemoteWriteTest, SnappyBombIsRefusedBeforeDecompressing) {
  std::string big(10 << 20, 'a'), compressed;
  snappy::Compress(big.data(), big.size(), &compressed);
  RemoteWriteLimits limits;
  limits.max_decompressed_bytes = 1 << 20;
  std::string raw;
  WriteRequestView out;
  absl::Status s = DecodeSnappyWriteRequest(compressed, limits, &raw, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
}

TEST(RemoteWriteTest, InvalidSeriesRefuseWholeRequest) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> labels;
    std::string want;
  };
  std::vector<Case> cases = {
      {{{"__name__", "up"}, {"bad-name", "x"}}, "invalid label name \"bad-name\""},
      {{{"__name__", "up"}, {"a", "1"}, {"a", "2"}}, "duplicate label name \"a\""},
      {{{"__name__", ""}, {"a", "1"}}, "empty metric name"},
      {{{"a", "1"}}, "missing metric name"},
  };
  for (const Case& c : cases) {
    FakeStore store;
    auto req = WriteRequestOf({{{{"__name__", "ok"}}, {{1, 1}}}, {c.labels, {{1, 1}}}});
    RemoteWriteResult res;
    absl::Status s = IngestWriteRequest(req, {}, &store, &res);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.want;
    EXPECT_NE(s.message().find(c.want), absl::string_view::npos) << s.message();
    EXPECT_NE(s.message().find("series 1"), absl::string_view::npos) << s.message();
    EXPECT_TRUE(store.data.empty()) << "nothing may be stored for " << c.want;
  }
}

// Label sets are converted into per-thread buffers reused from one request to the
// next: a later request with shorter, fewer or unsorted label sets, or after one with
// label values too large to keep, stores exactly its own labels.
TEST(RemoteWriteTest, ConsecutiveRequestsStoreTheirOwnLabels) {
  FakeStore store;
  RemoteWriteResult res;
  const std::string big(5000, 'v');
  auto first = WriteRequestOf(
      {{{{"__name__", "long_metric_name"}, {"instance", "host-0001:9100"}}, {{1, 1}}},
       {{{"__name__", "b"}, {"x", big}}, {{1, 2}}},
       {{{"__name__", "c"}, {"job", "j"}}, {{1, 3}}}});
  ASSERT_TRUE(IngestWriteRequest(first, {}, &store, &res).ok());
  auto second = WriteRequestOf({{{{"__name__", "s"}}, {{2, 4}}},
                                {{{"job", "k"}, {"__name__", "t"}}, {{2, 5}}}});  // unsorted
  ASSERT_TRUE(IngestWriteRequest(second, {}, &store, &res).ok());
  std::map<std::string, std::vector<Sample>> want = {
      {"{__name__=\"long_metric_name\", instance=\"host-0001:9100\"}", {{1, 1}}},
      {"{__name__=\"b\", x=\"" + big + "\"}", {{1, 2}}},
      {"{__name__=\"c\", job=\"j\"}", {{1, 3}}},
      {"{__name__=\"s\"}", {{2, 4}}},
      {"{__name__=\"t\", job=\"k\"}", {{2, 5}}},
  };
  EXPECT_EQ(store.data, want);
}

TEST(RemoteWriteTest, OutOfOrderSamplesAreCountedAndTheRestLands) {
  FakeStore store;
  auto req = WriteRequestOf(
      {{{{"__name__", "a"}}, {{10, 1}, {5, 2}, {20, 3}}}, {{{"__name__", "b"}}, {{1, 1}}}});
  RemoteWriteResult res;
  ASSERT_TRUE(IngestWriteRequest(req, {}, &store, &res).ok());
  EXPECT_EQ(res.samples_accepted, 3u);
  EXPECT_EQ(res.samples_rejected, 1u);
  EXPECT_EQ(res.rejected_by_reason[static_cast<int>(storage::RejectReason::kOutOfOrder)], 1u);
  EXPECT_EQ(storage::GetRejectReason(res.first_rejection), storage::RejectReason::kOutOfOrder);
  EXPECT_EQ(store.data["{__name__=\"a\"}"].size(), 2u);
  EXPECT_EQ(store.data["{__name__=\"b\"}"].size(), 1u);
}

TEST(RemoteWriteTest, LimitsAreEnforced) {
  FakeStore store;
  RemoteWriteLimits limits;
  limits.max_samples_per_request = 2;
  auto req = WriteRequestOf({{{{"__name__", "a"}}, {{1, 1}, {2, 2}, {3, 3}}}});
  RemoteWriteResult res;
  EXPECT_EQ(IngestWriteRequest(req, limits, &store, &res).code(),
            absl::StatusCode::kResourceExhausted);
  limits = {};
  limits.max_label_value_bytes = 4;
  req = WriteRequestOf({{{{"__name__", "toolongvalue"}}, {{1, 1}}}});
  EXPECT_EQ(IngestWriteRequest(req, limits, &store, &res).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(store.data.empty());
}

TEST(RemoteWriteTest, EachLimitNamesItsFlagAndIsReported) {
  struct Case {
    std::string name;
    RemoteWriteLimits limits;
    prometheus::WriteRequest req;
    std::string_view limit;
    std::string flag;
    int http_status;
  };
  auto with = [](auto set) {
    RemoteWriteLimits l;
    set(l);
    return l;
  };
  std::vector<Case> cases = {
      {"series", with([](RemoteWriteLimits& l) { l.max_series_per_request = 1; }),
       WriteRequestOf({{{{"__name__", "a"}}, {{1, 1}}}, {{{"__name__", "b"}}, {{1, 1}}}}),
       kLimitSeriesPerRequest, "--storage.remote-write.max-series-per-request", 413},
      {"samples", with([](RemoteWriteLimits& l) { l.max_samples_per_request = 2; }),
       WriteRequestOf({{{{"__name__", "a"}}, {{1, 1}, {2, 2}, {3, 3}}}}), kLimitSamplesPerRequest,
       "--storage.remote-write.max-samples-per-request", 413},
      {"labels", with([](RemoteWriteLimits& l) { l.max_labels_per_series = 2; }),
       WriteRequestOf({{{{"__name__", "a"}, {"b", "1"}, {"c", "1"}}, {{1, 1}}}}),
       kLimitLabelsPerSeries, "--storage.remote-write.max-labels-per-series", 400},
      {"name length", with([](RemoteWriteLimits& l) { l.max_label_name_bytes = 8; }),
       WriteRequestOf({{{{"__name__", "a"}, {"long_label_name", "1"}}, {{1, 1}}}}),
       kLimitLabelNameLength, "--storage.remote-write.max-label-name-length", 400},
      {"value length", with([](RemoteWriteLimits& l) { l.max_label_value_bytes = 4; }),
       WriteRequestOf({{{{"__name__", "toolongvalue"}}, {{1, 1}}}}), kLimitLabelValueLength,
       "--storage.remote-write.max-label-value-length", 400},
  };
  for (const Case& c : cases) {
    FakeStore store;
    RemoteWriteResult res;
    absl::Status s = IngestWriteRequest(c.req, c.limits, &store, &res);
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << c.name;
    EXPECT_EQ(WriteLimitHit(s), c.limit) << c.name;
    EXPECT_NE(s.message().find(c.flag), absl::string_view::npos) << s.message();
    EXPECT_NE(s.message().find("limit of"), absl::string_view::npos) << s.message();
    EXPECT_EQ(RemoteWriteHttpStatus(s), c.http_status) << c.name;
    EXPECT_TRUE(store.data.empty()) << c.name;
    // Within the limit the same request lands.
    FakeStore ok_store;
    RemoteWriteResult ok_res;
    EXPECT_TRUE(IngestWriteRequest(c.req, {}, &ok_store, &ok_res).ok()) << c.name;
    EXPECT_FALSE(ok_store.data.empty()) << c.name;
  }
  // The decompressed size is checked while decoding.
  std::string big(4096, 'a'), compressed;
  snappy::Compress(big.data(), big.size(), &compressed);
  RemoteWriteLimits small;
  small.max_decompressed_bytes = 1024;
  std::string raw;
  WriteRequestView out;
  absl::Status s = DecodeSnappyWriteRequest(compressed, small, &raw, &out);
  EXPECT_EQ(WriteLimitHit(s), kLimitDecompressedBytes);
  EXPECT_NE(s.message().find("--storage.remote-write.max-decompressed-size"),
            absl::string_view::npos);
  EXPECT_EQ(RemoteWriteHttpStatus(s), 400);  // a snappy bomb is bad data
  // Errors that are not limits name none.
  EXPECT_EQ(WriteLimitHit(absl::InvalidArgumentError("bad")), "");
  EXPECT_EQ(RemoteWriteHttpStatus(absl::InvalidArgumentError("bad")), 400);
  EXPECT_EQ(RemoteWriteHttpStatus(absl::UnavailableError("disk")), 500);
}

TEST(RemoteWriteTest, CommitFailureIsReported) {
  FakeStore store;
  store.fail_commit = true;
  auto req = WriteRequestOf({{{{"__name__", "a"}}, {{1, 1}}}});
  RemoteWriteResult res;
  // A full disk is the server's problem, not the request's: 5xx, so senders retry.
  absl::Status s = IngestWriteRequest(req, {}, &store, &res);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("no space left on device"), absl::string_view::npos);
  EXPECT_EQ(RemoteWriteHttpStatus(s), 500);
  EXPECT_EQ(res.samples_accepted, 0u);
}

}  // namespace
}  // namespace cairn::server
