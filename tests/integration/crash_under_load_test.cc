// Crash under load over the network: starts the real `cairn` binary on loopback,
// sends remote writes continuously from two writer threads, kills the server with
// SIGKILL at a random moment, restarts it, and checks that every write that got a
// 2xx answer is queryable after the restart (DESIGN.md: once a remote write is
// acknowledged, it survives kill -9). Repeats for CAIRN_CRASH_ROUNDS rounds
// (default 20), then stops the server cleanly and checks once more.
//
// Each writer owns its series and a sequence number that only grows, so a write is
// never out of order, even after a restart that lost unacknowledged writes; the
// sample of write `seq` has timestamp base + seq and value seq. A write that got no
// answer may or may not be stored; one that got 2xx must be, exactly.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <snappy.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "proto/prometheus/remote.pb.h"
#include "rapidjson/document.h"
#include "tests/server/test_http_client.h"

namespace cairn {
namespace {

constexpr int kWriters = 2;
constexpr int kSeriesPerWriter = 5;

using server::test_http::Reply;

Reply Http(int port, const std::string& method, const std::string& target,
           const std::string& body = "") {
  return server::test_http::Request(port, method, target, body);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A running cairn process, its stderr in `log`.
struct Server {
  pid_t pid = -1;
  int port = 0;
  std::string log;
};

// Forks and execs cairn on port 0 with its output in `log`.
pid_t SpawnCairn(const std::string& bin, const std::string& dir, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::string data = "--storage.tsdb.path=" + dir + "/data";
    std::string config = "--config.file=" + dir + "/cairn.yml";
    execl(bin.c_str(), bin.c_str(), data.c_str(), config.c_str(),
          "--web.listen-address=127.0.0.1:0", "--grpc.listen-address=127.0.0.1:0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Starts cairn on port 0 and waits until it says which port it bound and /-/ready
// answers. Fails the test (returning pid -1) if it exits or does not come up.
Server StartCairn(const std::string& bin, const std::string& dir, int round) {
  Server s;
  s.log = dir + "/cairn." + std::to_string(round) + ".log";
  pid_t pid = SpawnCairn(bin, dir, s.log);
  s.pid = pid;
  const std::string marker = "listening on 127.0.0.1:0 (port ";
  for (int i = 0; i < 6000 && s.port == 0; ++i) {  // up to 60 s (slow sanitizer builds)
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      ADD_FAILURE() << "cairn exited at start-up in round " << round << ":\n" << ReadFile(s.log);
      s.pid = -1;
      return s;
    }
    std::string log = ReadFile(s.log);
    if (size_t at = log.find(marker); at != std::string::npos) {
      s.port = std::atoi(log.c_str() + at + marker.size());
    } else {
      usleep(10000);
    }
  }
  for (int i = 0; i < 6000 && s.port != 0; ++i) {
    if (Http(s.port, "GET", "/-/ready").status == 200) return s;
    usleep(10000);
  }
  ADD_FAILURE() << "cairn did not become ready in round " << round << ":\n" << ReadFile(s.log);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  s.pid = -1;
  return s;
}

class Writer {
 public:
  Writer(int id, int64_t base_ms) : id_(id), base_ms_(base_ms) {}

  // Writes until `stop`, recording the sequence numbers answered 2xx.
  void Run(int port, const std::atomic<bool>* stop) {
    while (!stop->load()) {
      const int64_t seq = next_seq_++;
      Reply r = Http(port, "POST", "/api/v1/write", Body(seq));
      if (r.status >= 200 && r.status < 300) {
        acked_.push_back(seq);
      } else if (r.status != 0) {
        unexpected_.push_back(std::to_string(r.status) + " " + r.body);
      } else {
        usleep(1000);  // the server is down: its successor will be waited for
      }
    }
  }

  std::string Body(int64_t seq) const {
    prometheus::WriteRequest wr;
    for (int s = 0; s < kSeriesPerWriter; ++s) {
      auto* ts = wr.add_timeseries();
      auto* l = ts->add_labels();
      l->set_name("__name__");
      l->set_value("crash_test");
      l = ts->add_labels();
      l->set_name("s");
      l->set_value(std::to_string(s));
      l = ts->add_labels();
      l->set_name("w");
      l->set_value(std::to_string(id_));
      auto* smp = ts->add_samples();
      smp->set_timestamp(base_ms_ + seq);
      smp->set_value(static_cast<double>(seq));
    }
    std::string raw = wr.SerializeAsString(), out;
    snappy::Compress(raw.data(), raw.size(), &out);
    return out;
  }

  int id() const { return id_; }
  const std::vector<int64_t>& acked() const { return acked_; }
  const std::vector<std::string>& unexpected() const { return unexpected_; }

 private:
  const int id_;
  const int64_t base_ms_;
  int64_t next_seq_ = 0;
  std::vector<int64_t> acked_;
  std::vector<std::string> unexpected_;
};

// Checks that every acknowledged write of every writer is stored in each of its
// series, with its value. Returns the number of acknowledged writes checked.
size_t VerifyAcked(int port, int64_t base_ms, const std::vector<Writer>& writers, int round) {
  // One range-vector query returns every stored sample of the test series.
  const int64_t eval_ms = base_ms + 3600 * 1000;
  std::string target =
      "/api/v1/query?query=crash_test%5B2h%5D&time=" + std::to_string(eval_ms / 1000);
  Reply r = Http(port, "GET", target);
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 500);
  rapidjson::Document doc;
  doc.Parse(r.body.c_str(), r.body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("data")) {
    ADD_FAILURE() << "round " << round << ": unparsable query answer: " << r.body.substr(0, 500);
    return 0;
  }
  // (writer, series) -> timestamp -> value
  std::map<std::pair<std::string, std::string>, std::map<int64_t, double>> stored;
  for (const auto& series : doc["data"]["result"].GetArray()) {
    auto key = std::make_pair(std::string(series["metric"]["w"].GetString()),
                              std::string(series["metric"]["s"].GetString()));
    auto& points = stored[key];
    for (const auto& p : series["values"].GetArray()) {
      int64_t t = std::llround(p[0].GetDouble() * 1000);
      points[t] = std::strtod(p[1].GetString(), nullptr);
    }
  }
  size_t checked = 0;
  for (const Writer& w : writers) {
    for (int s = 0; s < kSeriesPerWriter; ++s) {
      const auto& points = stored[{std::to_string(w.id()), std::to_string(s)}];
      int missing = 0;
      for (int64_t seq : w.acked()) {
        auto it = points.find(base_ms + seq);
        if (it == points.end() || it->second != static_cast<double>(seq)) {
          if (++missing <= 5) {
            ADD_FAILURE() << "round " << round << ": acknowledged write " << seq << " of writer "
                          << w.id() << " is missing from series s=" << s;
          }
        }
      }
      EXPECT_EQ(missing, 0) << "writer " << w.id() << " series " << s << ": " << missing << " of "
                            << w.acked().size() << " acknowledged writes lost";
    }
    checked += w.acked().size();
  }
  return checked;
}

TEST(CrashUnderLoadTest, AcknowledgedRemoteWritesSurviveSigkill) {
  const char* bindir = std::getenv("CAIRN_BINARY_DIR");
  ASSERT_NE(bindir, nullptr) << "CAIRN_BINARY_DIR is not set (ctest sets it)";
  const std::string bin = std::string(bindir) + "/bin/cairn";
  ASSERT_EQ(access(bin.c_str(), X_OK), 0) << bin << " is missing: build the cairn target";
  int rounds = 20;
  if (const char* r = std::getenv("CAIRN_CRASH_ROUNDS")) rounds = std::atoi(r);
  char tmpl[] = "/tmp/cairn_crash_test_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  // No scrape targets: only the writers' series are in the head.
  std::ofstream(dir + "/cairn.yml") << "scrape_configs: []\n";

  const int64_t base_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  std::vector<Writer> writers;
  for (int w = 0; w < kWriters; ++w) writers.emplace_back(w, base_ms);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> kill_after_ms(50, 600);

  std::uniform_int_distribution<int> recovery_kill_ms(0, 40);
  for (int round = 0; round < rounds; ++round) {
    if (round % 4 == 3) {
      // A crash during start-up (WAL replay, opening the listeners) must not lose
      // or corrupt anything either.
      pid_t early = SpawnCairn(bin, dir, dir + "/early." + std::to_string(round) + ".log");
      usleep(recovery_kill_ms(rng) * 1000);
      kill(early, SIGKILL);
      waitpid(early, nullptr, 0);
    }
    Server s = StartCairn(bin, dir, round);
    ASSERT_GT(s.pid, 0);
    VerifyAcked(s.port, base_ms, writers, round);
    if (::testing::Test::HasFailure()) {
      kill(s.pid, SIGKILL);
      waitpid(s.pid, nullptr, 0);
      FAIL() << "stopping at round " << round << "; data in " << dir;
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (Writer& w : writers) threads.emplace_back([&w, &s, &stop] { w.Run(s.port, &stop); });
    usleep(kill_after_ms(rng) * 1000);
    ASSERT_EQ(kill(s.pid, SIGKILL), 0);
    waitpid(s.pid, nullptr, 0);
    stop = true;
    for (std::thread& t : threads) t.join();
  }

  Server s = StartCairn(bin, dir, rounds);
  ASSERT_GT(s.pid, 0);
  size_t checked = VerifyAcked(s.port, base_ms, writers, rounds);
  for (const Writer& w : writers) {
    EXPECT_TRUE(w.unexpected().empty()) << "writer " << w.id() << " got " << w.unexpected().size()
                                        << " non-2xx answers, first: " << w.unexpected().front();
  }
  // The test proves nothing if no write was acknowledged.
  EXPECT_GT(checked, static_cast<size_t>(rounds));
  std::printf("crash test: %d rounds, %zu acknowledged writes checked\n", rounds, checked);
  kill(s.pid, SIGTERM);
  int status = 0;
  waitpid(s.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "clean shutdown failed:\n"
                                                             << ReadFile(s.log);
  if (!::testing::Test::HasFailure()) std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace cairn
