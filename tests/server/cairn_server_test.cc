// In-process integration test of the HTTP API over real storage: remote write in,
// metadata API out, over a loopback socket.
#include "server/cairn_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <snappy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <fstream>

#include "gtest/gtest.h"
#include "tests/server/test_http_client.h"
#include "tests/server/test_write_request.h"

namespace cairn::server {
namespace {

using test_http::Reply;
using test_http::Request;
using test_write::WriteBody;

class CairnServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_server_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    StartServer(Flags());
  }
  ServerFlags Flags() const {
    ServerFlags f;
    f.storage_path = dir_;
    f.web_listen_address = "127.0.0.1:0";
    f.grpc_listen_address = "127.0.0.1:0";
    // No scrape targets: the embedded self-scrape would add series these tests count.
    f.config_file = dir_ + "/empty.yml";
    std::ofstream(f.config_file) << "scrape_configs: []\n";
    return f;
  }
  void StartServer(const ServerFlags& f) {
    server_ = std::make_unique<CairnServer>(f);
    absl::Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s;
    port_ = server_->http_port();
    ASSERT_GT(server_->grpc_port(), 0);
  }
  void TearDown() override {
    server_.reset();
    ASSERT_TRUE(io::FileSystem::Default()->RemoveAll(dir_).ok());
  }
  std::string dir_;
  std::unique_ptr<CairnServer> server_;
  int port_ = 0;
};

// /api/v1/status/config answers the running configuration file's text (the web UI's
// config page reads it), updated by a reload.
TEST_F(CairnServerTest, StatusConfigIsTheRunningConfig) {
  Reply r = Request(port_, "GET", "/api/v1/status/config");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"status\":\"success\",\"data\":{\"yaml\":\"scrape_configs: []\\n\"}}");
  std::ofstream(dir_ + "/empty.yml") << "global:\n  scrape_interval: 7s\nscrape_configs: []\n";
  ASSERT_TRUE(server_->ReloadConfig().ok());
  r = Request(port_, "GET", "/api/v1/status/config");
  EXPECT_NE(r.body.find("scrape_interval: 7s"), std::string::npos) << r.body;
  // A refused reload keeps the running text.
  std::ofstream(dir_ + "/empty.yml") << "global: [\n";
  EXPECT_FALSE(server_->ReloadConfig().ok());
  r = Request(port_, "GET", "/api/v1/status/config");
  EXPECT_NE(r.body.find("scrape_interval: 7s"), std::string::npos) << r.body;
}

TEST_F(CairnServerTest, HealthAndMetrics) {
  EXPECT_EQ(Request(port_, "GET", "/-/healthy").status, 200);
  EXPECT_EQ(Request(port_, "GET", "/-/ready").status, 200);
  Reply m = Request(port_, "GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("prometheus_tsdb_head_series 0"), std::string::npos) << m.body;
}

TEST_F(CairnServerTest, RemoteWriteThenSeries) {
  Reply w = Request(port_, "POST", "/api/v1/write",
                    WriteBody({{"__name__", "up"}, {"job", "node"}}, {{1000, 1}, {2000, 1}}),
                    "Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n");
  EXPECT_EQ(w.status, 204) << w.body;
  Reply s = Request(port_, "GET", "/api/v1/series?match[]=up");
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.body, "{\"status\":\"success\",\"data\":[{\"__name__\":\"up\",\"job\":\"node\"}]}");
  Reply v = Request(port_, "GET", "/api/v1/label/job/values");
  EXPECT_EQ(v.body, "{\"status\":\"success\",\"data\":[\"node\"]}");
  Reply m = Request(port_, "GET", "/metrics");
  EXPECT_NE(m.body.find("cairn_samples_ingested_total{source=\"remote_write\"} 2"),
            std::string::npos);
  EXPECT_NE(m.body.find("prometheus_tsdb_head_series 1"), std::string::npos);
  // By default the write reached the WAL file, not necessarily the disk: the
  // background thread fsyncs every second.
  EXPECT_NE(m.body.find("cairn_tsdb_wal_fsync_seconds_total "), std::string::npos);
}

// With --storage.tsdb.wal-fsync-on-commit every acknowledged write was fsynced.
TEST_F(CairnServerTest, WalFsyncOnCommitFsyncsAcknowledgedWrites) {
  server_.reset();
  ServerFlags f = Flags();
  f.wal_fsync_on_commit = true;
  StartServer(f);
  if (HasFatalFailure()) return;
  auto fsyncs = [this] {
    Reply m = Request(port_, "GET", "/metrics");
    size_t at = m.body.find("\ncairn_tsdb_wal_fsyncs_total ");
    EXPECT_NE(at, std::string::npos) << m.body;
    return at == std::string::npos ? -1 : std::stol(m.body.substr(at + 29));
  };
  const long before = fsyncs();
  for (int i = 0; i < 3; ++i) {
    Reply w = Request(port_, "POST", "/api/v1/write",
                      WriteBody({{"__name__", "up"}, {"job", "node"}}, {{1000 * (i + 1), 1}}),
                      "Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n");
    EXPECT_EQ(w.status, 204) << w.body;
  }
  EXPECT_GE(fsyncs(), before + 3);
}

TEST_F(CairnServerTest, StatusEndpoints) {
  ASSERT_EQ(Request(port_, "POST", "/api/v1/write",
                    WriteBody({{"__name__", "up"}, {"job", "a"}}, {{1000, 1}}))
                .status,
            204);
  ASSERT_EQ(Request(port_, "POST", "/api/v1/write",
                    WriteBody({{"__name__", "up"}, {"job", "b"}}, {{1000, 1}}))
                .status,
            204);
  Reply tsdb = Request(port_, "GET", "/api/v1/status/tsdb");
  EXPECT_EQ(tsdb.status, 200);
  EXPECT_NE(tsdb.body.find("\"headStats\":{\"numSeries\":2,"), std::string::npos) << tsdb.body;
  EXPECT_NE(tsdb.body.find("\"seriesCountByMetricName\":[{\"name\":\"up\",\"value\":2}]"),
            std::string::npos)
      << tsdb.body;
  EXPECT_NE(tsdb.body.find("\"labelValueCountByLabelName\":[{\"name\":\"job\",\"value\":2}"),
            std::string::npos)
      << tsdb.body;
  Reply flags = Request(port_, "GET", "/api/v1/status/flags");
  EXPECT_NE(flags.body.find("\"storage.tsdb.path\":\"" + dir_ + "\""), std::string::npos)
      << flags.body;
  Reply rt = Request(port_, "GET", "/api/v1/status/runtimeinfo");
  EXPECT_NE(rt.body.find("\"storageRetention\":\"15d\""), std::string::npos) << rt.body;
  Reply bi = Request(port_, "GET", "/api/v1/status/buildinfo");
  EXPECT_NE(bi.body.find("\"version\":\"0.1.0\""), std::string::npos);
}

TEST_F(CairnServerTest, WebUiIsServed) {
  Reply root = Request(port_, "GET", "/");
  EXPECT_EQ(root.status, 302);
  Reply graph = Request(port_, "GET", "/graph?g0.expr=up&g0.tab=0&g0.range_input=1h");
  EXPECT_EQ(graph.status, 200);
  EXPECT_NE(graph.body.find("/static/app.js"), std::string::npos) << graph.body;
  EXPECT_EQ(Request(port_, "GET", "/static/app.js").status, 200);
  EXPECT_EQ(Request(port_, "GET", "/static/../CMakeLists.txt").status, 404);
}

TEST_F(CairnServerTest, RemoteWriteErrors) {
  Reply bad_snappy = Request(port_, "POST", "/api/v1/write", "not snappy at all");
  EXPECT_EQ(bad_snappy.status, 400);
  EXPECT_NE(bad_snappy.body.find("snappy"), std::string::npos);
  Reply bad_label = Request(port_, "POST", "/api/v1/write",
                            WriteBody({{"__name__", "x"}, {"a-b", "1"}}, {{1, 1}}));
  EXPECT_EQ(bad_label.status, 400);
  EXPECT_NE(bad_label.body.find("invalid label name \"a-b\""), std::string::npos) << bad_label.body;
  // Out of order: the valid sample lands, the request is answered 400.
  ASSERT_EQ(
      Request(port_, "POST", "/api/v1/write", WriteBody({{"__name__", "m"}}, {{5000, 1}})).status,
      204);
  Reply ooo = Request(port_, "POST", "/api/v1/write",
                      WriteBody({{"__name__", "m"}}, {{4000, 2}, {6000, 3}}));
  EXPECT_EQ(ooo.status, 400);
  EXPECT_NE(ooo.body.find("out of order"), std::string::npos) << ooo.body;
  Reply m = Request(port_, "GET", "/metrics");
  EXPECT_NE(m.body.find(
                "cairn_samples_rejected_total{source=\"remote_write\",reason=\"out_of_order\"} 1"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("cairn_samples_ingested_total{source=\"remote_write\"} 2"),
            std::string::npos);
  EXPECT_EQ(Request(port_, "GET", "/api/v1/write").status, 405);
}

TEST_F(CairnServerTest, GrpcWriteAndStream) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = cairn::v1::Ingest::NewStub(channel);
  prometheus::WriteRequest wr;
  auto* ts = wr.add_timeseries();
  auto* l = ts->add_labels();
  l->set_name("__name__");
  l->set_value("g");
  for (int i = 1; i <= 3; ++i) {
    auto* smp = ts->add_samples();
    smp->set_timestamp(i * 1000);
    smp->set_value(i);
  }
  {
    grpc::ClientContext ctx;
    cairn::v1::WriteResponse resp;
    grpc::Status s = stub->Write(&ctx, wr, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.samples_accepted(), 3u);
    EXPECT_EQ(resp.samples_rejected(), 0u);
  }
  {
    // Replaying the same samples: identical duplicates are accepted and dropped or
    // refused as out of order; either way nothing new is stored and the call is OK.
    grpc::ClientContext ctx;
    cairn::v1::WriteResponse resp;
    auto writer = stub->WriteStream(&ctx, &resp);
    prometheus::WriteRequest next;
    auto* ts2 = next.add_timeseries();
    *ts2->add_labels() = *l;
    auto* smp = ts2->add_samples();
    smp->set_timestamp(4000);
    smp->set_value(4);
    ASSERT_TRUE(writer->Write(next));
    ASSERT_TRUE(writer->WritesDone());
    grpc::Status s = writer->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.samples_accepted(), 1u);
  }
  {
    prometheus::WriteRequest bad;
    auto* bl = bad.add_timeseries()->add_labels();
    bl->set_name("0bad");
    bl->set_value("x");
    grpc::ClientContext ctx;
    cairn::v1::WriteResponse resp;
    grpc::Status s = stub->Write(&ctx, bad, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("invalid label name"), std::string::npos);
  }
  Reply series = Request(port_, "GET", "/api/v1/series?match[]=g");
  EXPECT_EQ(series.body, "{\"status\":\"success\",\"data\":[{\"__name__\":\"g\"}]}");
  // Two good WriteRequests (one unary, one streamed) and one refused.
  Reply m = Request(port_, "GET", "/metrics");
  EXPECT_NE(m.body.find("cairn_grpc_write_requests_total{code=\"OK\"} 2\n"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("cairn_grpc_write_requests_total{code=\"INVALID_ARGUMENT\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace cairn::server
