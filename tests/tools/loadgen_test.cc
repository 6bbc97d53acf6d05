// cairnctl loadgen against an in-process remote-write receiver that slows one worker
// down: the workers must stay within ten minutes of simulated time of each other, or
// a real storage would refuse the slow worker's samples as too old.
#include "tools/loadgen.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "server/http_server.h"
#include "server/remote_write.h"

namespace cairn::tools {
namespace {

TEST(LoadgenTest, WorkersStayWithinTenMinutesOfEachOther) {
  constexpr int64_t kIntervalMs = 15000;
  std::mutex mu;
  int64_t newest_seen = INT64_MIN;
  int64_t worst_lag_ms = 0;  // newest timestamp already received minus this request's oldest
  int64_t samples = 0;
  server::HttpServer::Options o;
  o.listen_address = "127.0.0.1:0";
  server::HttpServer http(o);
  http.Route("/api/v1/write", [&](const server::HttpRequest& req, server::HttpResponse* resp) {
    std::string raw;
    server::WriteRequestView wr;
    absl::Status st =
        server::DecodeSnappyWriteRequest(req.body, server::RemoteWriteLimits{}, &raw, &wr);
    if (!st.ok()) {
      resp->status = 400;
      resp->body = std::string(st.message());
      return;
    }
    bool slow = false;
    int64_t oldest = INT64_MAX, newest = INT64_MIN;
    for (size_t i = 0; i < wr.num_series(); ++i) {
      for (const server::LabelView& l : wr.labels(i)) {
        // Worker 0 owns the series whose index is a multiple of the concurrency (4).
        if (l.name == "series" && std::stoll(std::string(l.value)) % 4 == 0) slow = true;
      }
      for (const Sample& s : wr.samples(i)) {
        oldest = std::min<int64_t>(oldest, s.t);
        newest = std::max<int64_t>(newest, s.t);
      }
    }
    if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(3));
    std::lock_guard<std::mutex> l(mu);
    if (newest_seen != INT64_MIN) worst_lag_ms = std::max(worst_lag_ms, newest_seen - oldest);
    newest_seen = std::max(newest_seen, newest);
    samples += static_cast<int64_t>(wr.num_series());
    resp->status = 204;
    resp->content_type = "";
  });
  ASSERT_TRUE(http.Start().ok());

  LoadgenOptions opts;
  opts.url = "http://127.0.0.1:" + std::to_string(http.port()) + "/api/v1/write";
  opts.series = 8;
  opts.batch_series = 1;
  opts.rounds = 240;  // an hour of simulated time
  opts.interval_ms = kIntervalMs;
  opts.concurrency = 4;
  opts.progress = false;
  absl::StatusOr<LoadgenResult> r = RunLoadgen(opts);
  http.Stop();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errors, 0) << r->first_error;
  EXPECT_EQ(r->samples_sent, 8 * 240);
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(samples, 8 * 240);
  // Ten minutes of lead, plus one round and the jitter of a few ms.
  EXPECT_LE(worst_lag_ms, 10 * 60 * 1000 + 2 * kIntervalMs);
}

}  // namespace
}  // namespace cairn::tools
