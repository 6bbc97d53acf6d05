// Every limit of docs/limits.md, end to end through a CairnServer started with small
// limits: the flag reaches the component, the client gets a clear error with the
// right status, and cairn_limit_hits_total counts it.
#include "server/limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <snappy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <functional>
#include <limits>

#include "gtest/gtest.h"
#include "server/cairn_server.h"
#include "tests/server/test_http_client.h"
#include "tests/server/test_write_request.h"

namespace cairn::server {
namespace {

using test_http::ReadReply;
using test_http::Reply;
using test_http::Request;
using test_write::SnappyBody;
using test_write::WriteRequestOf;

int Connect(int port) { return test_http::ConnectLoopback(port); }

// The value of cairn_limit_hits_total{limit="<limit>"} on /metrics, or -1.
double LimitHits(int port, std::string_view limit) {
  Reply m = Request(port, "GET", "/metrics");
  std::string key = "cairn_limit_hits_total{limit=\"" + std::string(limit) + "\"} ";
  size_t at = m.body.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(m.body.substr(at + key.size()));
}

class LimitsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) {
      ASSERT_TRUE(io::FileSystem::Default()->RemoveAll(dir_).ok());
    }
  }
  void Start(const std::function<void(ServerFlags*)>& set) {
    char tmpl[] = "/tmp/cairn_limits_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ServerFlags f;
    f.storage_path = dir_;
    f.web_listen_address = "127.0.0.1:0";
    f.grpc_listen_address = "127.0.0.1:0";
    // No scrape targets: the self-scrape would add series and connections.
    f.config_file = dir_ + "/empty.yml";
    std::ofstream(f.config_file) << "scrape_configs: []\n";
    set(&f);
    server_ = std::make_unique<CairnServer>(f);
    absl::Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s;
    port_ = server_->http_port();
  }
  std::string dir_;
  std::unique_ptr<CairnServer> server_;
  int port_ = 0;
};

TEST(ServerLimitsTest, FromFlagsWithZeroDisabling) {
  ServerFlags f;
  f.web_max_request_body_size = "2KB";
  f.web_max_connections = 0;
  f.remote_write_max_decompressed_size = "0";
  f.remote_write_max_series_per_request = 7;
  f.tsdb_max_series = 0;
  absl::StatusOr<ServerLimits> l = ServerLimitsFromFlags(f);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->http_max_body_bytes, 2048u);
  EXPECT_EQ(l->http_max_connections, std::numeric_limits<size_t>::max());
  EXPECT_EQ(l->write.max_decompressed_bytes, std::numeric_limits<size_t>::max());
  EXPECT_EQ(l->write.max_series_per_request, 7u);
  EXPECT_EQ(l->write.max_labels_per_series, 128u);
  EXPECT_EQ(l->tsdb_max_series, 0u);
  f.web_max_request_body_size = "bad";
  EXPECT_FALSE(ServerLimitsFromFlags(f).ok());
}

TEST_F(LimitsTest, WriteAndQueryLimitsEndToEnd) {
  Start([](ServerFlags* f) {
    f->web_max_request_body_size = "1KB";
    f->remote_write_max_decompressed_size = "4KB";
    f->remote_write_max_series_per_request = 3;
    f->remote_write_max_samples_per_request = 30;
    f->remote_write_max_labels_per_series = 4;
    f->remote_write_max_label_name_length = 16;
    f->remote_write_max_label_value_length = 32;
    f->tsdb_max_series = 2;
    f->query_max_samples = 10;
  });
  // Every limit is exported from the start.
  EXPECT_EQ(LimitHits(port_, kLimitHeadSeries), 0);
  EXPECT_EQ(LimitHits(port_, kLimitQueryQueue), 0);

  Reply r = Request(port_, "POST", "/api/v1/write", std::string(2000, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("1024"), std::string::npos) << r.body;
  EXPECT_EQ(LimitHits(port_, kLimitHttpBodyBytes), 1);

  // Small on the wire, large once decompressed: refused from the snappy header.
  std::string raw(5000, 'a'), bomb;
  snappy::Compress(raw.data(), raw.size(), &bomb);
  ASSERT_LT(bomb.size(), 1024u);
  r = Request(port_, "POST", "/api/v1/write", bomb);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("--storage.remote-write.max-decompressed-size"), std::string::npos)
      << r.body;
  EXPECT_EQ(LimitHits(port_, kLimitDecompressedBytes), 1);

  r = Request(port_, "POST", "/api/v1/write",
              SnappyBody(WriteRequestOf({{{{"__name__", "a"}}, {{1, 1}}},
                                         {{{"__name__", "b"}}, {{1, 1}}},
                                         {{{"__name__", "c"}}, {{1, 1}}},
                                         {{{"__name__", "d"}}, {{1, 1}}}})));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("--storage.remote-write.max-series-per-request"), std::string::npos)
      << r.body;
  EXPECT_EQ(LimitHits(port_, kLimitSeriesPerRequest), 1);

  std::vector<std::pair<int64_t, double>> many;
  for (int i = 1; i <= 31; ++i) many.emplace_back(i, i);
  r = Request(port_, "POST", "/api/v1/write",
              SnappyBody(WriteRequestOf({{{{"__name__", "a"}}, many}})));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("--storage.remote-write.max-samples-per-request"), std::string::npos);
  EXPECT_EQ(LimitHits(port_, kLimitSamplesPerRequest), 1);

  r = Request(
      port_, "POST", "/api/v1/write",
      SnappyBody(WriteRequestOf(
          {{{{"__name__", "a"}, {"b", "1"}, {"c", "1"}, {"d", "1"}, {"e", "1"}}, {{1, 1}}}})));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("--storage.remote-write.max-labels-per-series"), std::string::npos);
  EXPECT_EQ(LimitHits(port_, kLimitLabelsPerSeries), 1);

  r = Request(port_, "POST", "/api/v1/write",
              SnappyBody(WriteRequestOf(
                  {{{{"__name__", "a"}, {"a_very_long_label_name", "1"}}, {{1, 1}}}})));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("--storage.remote-write.max-label-name-length"), std::string::npos);
  EXPECT_EQ(LimitHits(port_, kLimitLabelNameLength), 1);

  r = Request(
      port_, "POST", "/api/v1/write",
      SnappyBody(WriteRequestOf({{{{"__name__", "a"}, {"v", std::string(33, 'v')}}, {{1, 1}}}})));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("--storage.remote-write.max-label-value-length"), std::string::npos);
  EXPECT_EQ(LimitHits(port_, kLimitLabelValueLength), 1);

  // gRPC shares the write limits and answers RESOURCE_EXHAUSTED.
  {
    auto stub = cairn::v1::Ingest::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->grpc_port()), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    cairn::v1::WriteResponse resp;
    grpc::Status s = stub->Write(&ctx,
                                 WriteRequestOf({{{{"__name__", "a"}}, {{1, 1}}},
                                                 {{{"__name__", "b"}}, {{1, 1}}},
                                                 {{{"__name__", "c"}}, {{1, 1}}},
                                                 {{{"__name__", "d"}}, {{1, 1}}}}),
                                 &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(s.error_message().find("--storage.remote-write.max-series-per-request"),
              std::string::npos);
    EXPECT_EQ(LimitHits(port_, kLimitSeriesPerRequest), 2);
    // gRPC itself refuses a message over the decompressed-size limit.
    grpc::ClientContext big_ctx;
    s = stub->Write(&big_ctx, WriteRequestOf({{{{"__name__", std::string(5000, 'n')}}, {{1, 1}}}}),
                    &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  }

  // The head's series limit: two series fit; a third is refused while the existing
  // ones keep ingesting, in the same request.
  std::vector<std::pair<int64_t, double>> ten;
  for (int i = 1; i <= 10; ++i) ten.emplace_back(i * 1000, i);
  r = Request(port_, "POST", "/api/v1/write",
              SnappyBody(WriteRequestOf({{{{"__name__", "a"}}, ten}, {{{"__name__", "b"}}, ten}})));
  EXPECT_EQ(r.status, 204) << r.body;
  r = Request(port_, "POST", "/api/v1/write",
              SnappyBody(WriteRequestOf(
                  {{{{"__name__", "c"}}, {{11000, 1}}}, {{{"__name__", "a"}}, {{11000, 11}}}})));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("__name__=\"c\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("--storage.tsdb.max-series"), std::string::npos) << r.body;
  EXPECT_EQ(LimitHits(port_, kLimitHeadSeries), 1);
  // a[1s] at 11 s holds only the newest sample (well within the query limit).
  Reply q = Request(port_, "GET", "/api/v1/query?query=a%5B1s%5D&time=11");
  EXPECT_NE(q.body.find("[11,\"11\"]"), std::string::npos) << q.body;
  q = Request(port_, "GET", "/api/v1/series?match[]=c");
  EXPECT_EQ(q.body, "{\"status\":\"success\",\"data\":[]}");

  // Query samples: a[1h] loads 11 samples, one more than the limit.
  q = Request(port_, "GET", "/api/v1/query?query=a%5B1h%5D&time=11");
  EXPECT_EQ(q.status, 422);
  EXPECT_NE(q.body.find("\"errorType\":\"execution\""), std::string::npos) << q.body;
  EXPECT_NE(q.body.find("too many samples"), std::string::npos) << q.body;
  EXPECT_EQ(LimitHits(port_, kLimitQuerySamples), 1);
  q = Request(port_, "GET", "/api/v1/query?query=a%5B5s%5D&time=11");
  EXPECT_EQ(q.status, 200) << q.body;
}

TEST_F(LimitsTest, ConnectionLimitEndToEnd) {
  Start([](ServerFlags* f) { f->web_max_connections = 1; });
  int held = Connect(port_);
  ASSERT_GE(held, 0);
  // A served request proves the held connection owns the only slot.
  std::string req = "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(held, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  char buf[512];
  ASSERT_GT(read(held, buf, sizeof(buf)), 0);
  int refused = Connect(port_);
  ASSERT_GE(refused, 0);
  Reply r = ReadReply(refused);
  close(refused);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("too many open connections"), std::string::npos) << r.body;
  close(held);
  // The server sees the close asynchronously: retry until the slot is free (bounded).
  double hits = -1;
  for (int attempt = 0; attempt < 200 && hits < 0; ++attempt) {
    hits = LimitHits(port_, kLimitHttpConnections);
    if (hits < 0) usleep(20000);
  }
  EXPECT_GE(hits, 1);
}

}  // namespace
}  // namespace cairn::server
