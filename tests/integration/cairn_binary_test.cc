// Error paths of the real `cairn` binary over HTTP and gRPC: it is started as a child
// process on loopback ports (port 0; the bound ports are read from its log), and, where
// Prometheus 2.42 has the same endpoint, `prometheus` is started beside it and its
// status codes and error bodies are the expected answers. Comparisons that need
// Prometheus skip when it is not installed; the rest always run.
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <snappy.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "proto/cairn/v1/ingest.grpc.pb.h"
#include "proto/prometheus/remote.pb.h"
#include "re2/re2.h"
#include "tests/server/test_http_client.h"
#include "tests/server/test_write_request.h"

namespace {

struct Reply {
  long status = 0;
  std::string content_type;
  std::string body;
};

size_t Collect(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

// One request through libcurl; status 0 when the server could not be reached.
Reply Http(const std::string& method, const std::string& url, const std::string& body = "",
           const std::vector<std::string>& headers = {}) {
  Reply r;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
  if (method == "POST" || method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_slist* hs = nullptr;
  for (const std::string& h : headers) hs = curl_slist_append(hs, h.c_str());
  if (hs != nullptr) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
  if (curl_easy_perform(c) == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    char* ct = nullptr;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    if (ct != nullptr) r.content_type = ct;
  }
  curl_slist_free_all(hs);
  curl_easy_cleanup(c);
  return r;
}

std::string Escape(const std::string& s) {
  CURL* c = curl_easy_init();
  char* e = curl_easy_escape(c, s.data(), static_cast<int>(s.size()));
  std::string out = e;
  curl_free(e);
  curl_easy_cleanup(c);
  return out;
}

using cairn::server::test_write::OneSeries;
using cairn::server::test_write::WriteBody;
std::string Snappy(std::string_view raw) { return cairn::server::test_write::SnappyCompress(raw); }

const std::vector<std::string> kRemoteWriteHeaders = {"Content-Type: application/x-protobuf",
                                                      "Content-Encoding: snappy",
                                                      "X-Prometheus-Remote-Write-Version: 0.1.0"};

using cairn::server::test_http::FreePort;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child process with its output in a log file; killed (SIGTERM, then waited for) on
// destruction.
class Process {
 public:
  Process(std::vector<std::string> argv, std::string log) : log_(std::move(log)) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = fopen(log_.c_str(), "w");
      if (f != nullptr) {
        dup2(fileno(f), 1);
        dup2(fileno(f), 2);
      }
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() { Stop(); }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int st;
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  bool Running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  pid_t pid() const { return pid_; }
  std::string Log() const { return ReadFile(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

// Polls `ready` every 100 ms while `p` runs, for up to two minutes (start-up on a
// loaded machine); this bounds a hang, it asserts nothing about speed.
template <typename Fn>
bool WaitFor(const Process& p, Fn ready) {
  for (int i = 0; i < 1200; ++i) {
    if (ready()) return true;
    if (!p.Running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Peak resident memory of a process, from /proc (kB).
long PeakRssKb(pid_t pid) {
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  long kb = 0;
  RE2::PartialMatch(status, R"(VmHWM:\s+(\d+) kB)", &kb);
  return kb;
}

// {"status":"success","data":{"name":"20261206T104853Z-5e5aabed650eb352"}}, the name
// captured.
constexpr char kSnapshotAnswer[] =
    R"re(\{"status":"success","data":\{"name":"(\d{8}T\d{6}Z-[0-9a-f]{16})"\}\})re";

class CairnBinaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char tmpl[] = "/tmp/cairn_binary_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    std::ofstream(*dir_ + "/empty.yml") << "scrape_configs: []\n";
    cairn_ = StartCairn("cairn", /*admin=*/false, &cairn_url_, &cairn_grpc_);
    admin_ = StartCairn("cairn-admin", /*admin=*/true, &admin_url_, nullptr);
    if (system("command -v prometheus >/dev/null 2>&1") == 0) {
      int port = FreePort();
      prom_url_ = new std::string("http://127.0.0.1:" + std::to_string(port));
      prom_ = new Process({"prometheus", "--config.file=" + *dir_ + "/empty.yml",
                           "--storage.tsdb.path=" + *dir_ + "/prom",
                           "--web.listen-address=127.0.0.1:" + std::to_string(port),
                           "--web.enable-remote-write-receiver", "--web.enable-admin-api"},
                          *dir_ + "/prom.log");
      if (!WaitFor(*prom_, [] { return Http("GET", *prom_url_ + "/-/ready").status == 200; })) {
        ADD_FAILURE() << "prometheus did not start:\n" << prom_->Log();
      }
    }
  }
  static void TearDownTestSuite() {
    delete cairn_;
    delete admin_;
    delete prom_;
    cairn_ = admin_ = prom_ = nullptr;
    (void)!system(("rm -rf " + *dir_).c_str());
  }

  static Process* StartCairn(const std::string& name, bool admin, std::string** url,
                             std::string** grpc_target) {
    std::vector<std::string> argv = {
        CAIRN_BINARY, "--web.listen-address=127.0.0.1:0", "--grpc.listen-address=127.0.0.1:0",
        "--storage.tsdb.path=" + *dir_ + "/" + name, "--config.file=" + *dir_ + "/empty.yml"};
    if (admin) argv.push_back("--web.enable-admin-api");
    auto* p = new Process(argv, *dir_ + "/" + name + ".log");
    int http_port = 0, grpc_port = 0;
    bool up = WaitFor(*p, [&] {
      std::string log = p->Log();
      return RE2::PartialMatch(log, R"(cairn: listening on \S+ \(port (\d+)\))", &http_port) &&
             RE2::PartialMatch(log, R"(cairn: gRPC listening on \S+ \(port (\d+)\))", &grpc_port);
    });
    if (!up) ADD_FAILURE() << name << " did not start:\n" << p->Log();
    *url = new std::string("http://127.0.0.1:" + std::to_string(http_port));
    if (grpc_target != nullptr) {
      *grpc_target = new std::string("127.0.0.1:" + std::to_string(grpc_port));
    }
    return p;
  }

  void SetUp() override {
    ASSERT_NE(cairn_, nullptr);
    ASSERT_TRUE(cairn_->Running()) << cairn_->Log();
  }
  void NeedPrometheus() {
    if (prom_ == nullptr) GTEST_SKIP() << "prometheus is not installed";
  }

  static inline std::string* dir_ = nullptr;
  static inline Process* cairn_ = nullptr;
  static inline Process* admin_ = nullptr;
  static inline Process* prom_ = nullptr;
  static inline std::string* cairn_url_ = nullptr;
  static inline std::string* admin_url_ = nullptr;
  static inline std::string* prom_url_ = nullptr;
  static inline std::string* cairn_grpc_ = nullptr;
};

TEST_F(CairnBinaryTest, RemoteWriteBadSnappyAndBadProtobuf) {
  Reply snappy =
      Http("POST", *cairn_url_ + "/api/v1/write", "not snappy at all", kRemoteWriteHeaders);
  EXPECT_EQ(snappy.status, 400);
  EXPECT_NE(snappy.body.find("snappy"), std::string::npos) << snappy.body;
  Reply proto = Http("POST", *cairn_url_ + "/api/v1/write", Snappy("\xff\xff\xff garbage"),
                     kRemoteWriteHeaders);
  EXPECT_EQ(proto.status, 400);
  EXPECT_NE(proto.body.find("protobuf"), std::string::npos) << proto.body;
  EXPECT_EQ(Http("GET", *cairn_url_ + "/api/v1/write").status, 405);

  NeedPrometheus();
  EXPECT_EQ(
      Http("POST", *prom_url_ + "/api/v1/write", "not snappy at all", kRemoteWriteHeaders).status,
      snappy.status);
  EXPECT_EQ(Http("POST", *prom_url_ + "/api/v1/write", Snappy("\xff\xff\xff garbage"),
                 kRemoteWriteHeaders)
                .status,
            proto.status);
  EXPECT_EQ(Http("GET", *prom_url_ + "/api/v1/write").status, 405);
}

// Prometheus 2.42 answers 204 and stores series with invalid label names or without a
// metric name, and 500 ("label name \"a\" is not unique: invalid sample", which
// senders retry forever) to a repeated label name. Cairn refuses all of them with 400
// (DESIGN.md: label names match [a-zA-Z_][a-zA-Z0-9_]*, one value per name, a metric
// name), naming the fault, and stores nothing of the request.
TEST_F(CairnBinaryTest, RemoteWriteInvalidSeriesAre400WithTheReason) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> labels;
    std::string message;
  } cases[] = {
      {{{"__name__", "bad_label"}, {"a-b", "1"}}, "invalid label name \"a-b\""},
      {{{"__name__", "bad_label"}, {"0a", "1"}}, "invalid label name \"0a\""},
      {{{"__name__", "dup_label"}, {"a", "1"}, {"a", "2"}}, "duplicate label name"},
      {{{"job", "no_name"}}, "metric name"},
      {{{"__name__", ""}, {"job", "empty_name"}}, "metric name"},
  };
  for (const Case& c : cases) {
    Reply r = Http("POST", *cairn_url_ + "/api/v1/write", WriteBody(c.labels, {{1000, 1}}),
                   kRemoteWriteHeaders);
    EXPECT_EQ(r.status, 400) << c.message;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << r.body;
  }
  for (const char* m : {"bad_label", "dup_label"}) {
    Reply s = Http("GET", *cairn_url_ + "/api/v1/series?match[]=" + std::string(m));
    EXPECT_EQ(s.body, R"({"status":"success","data":[]})") << m;
  }
  Reply s = Http("GET", *cairn_url_ + "/api/v1/series?match[]=" + Escape("{job=~\".+_name\"}"));
  EXPECT_EQ(s.body, R"({"status":"success","data":[]})");
}

// Prometheus answers 400 to an out-of-order or duplicate sample, so senders do not
// retry; Cairn does too, and keeps the valid samples of the request (DESIGN.md).
TEST_F(CairnBinaryTest, RemoteWriteOutOfOrderAndDuplicateSamples) {
  const std::string url = *cairn_url_ + "/api/v1/write";
  ASSERT_EQ(
      Http("POST", url, WriteBody({{"__name__", "ooo"}}, {{5000, 1}}), kRemoteWriteHeaders).status,
      204);
  Reply ooo = Http("POST", url, WriteBody({{"__name__", "ooo"}}, {{4000, 2}, {6000, 3}}),
                   kRemoteWriteHeaders);
  EXPECT_EQ(ooo.status, 400);
  EXPECT_NE(ooo.body.find("out of order"), std::string::npos) << ooo.body;
  Reply dup = Http("POST", url, WriteBody({{"__name__", "ooo"}}, {{6000, 9}, {7000, 4}}),
                   kRemoteWriteHeaders);
  EXPECT_EQ(dup.status, 400);
  EXPECT_NE(dup.body.find("duplicate"), std::string::npos) << dup.body;
  Reply q = Http("GET", *cairn_url_ + "/api/v1/query?query=" + Escape("ooo[1h]") + "&time=10");
  EXPECT_EQ(q.body, R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":)"
                    R"({"__name__":"ooo"},"values":[[5,"1"],[6,"3"],[7,"4"]]}]}})");

  NeedPrometheus();
  const std::string purl = *prom_url_ + "/api/v1/write";
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ASSERT_EQ(
      Http("POST", purl, WriteBody({{"__name__", "ooo"}}, {{now, 1}}), kRemoteWriteHeaders).status,
      204);
  EXPECT_EQ(
      Http("POST", purl, WriteBody({{"__name__", "ooo"}}, {{now - 1000, 2}}), kRemoteWriteHeaders)
          .status,
      ooo.status);
  EXPECT_EQ(
      Http("POST", purl, WriteBody({{"__name__", "ooo"}}, {{now, 9}}), kRemoteWriteHeaders).status,
      dup.status);
}

// A small request that claims a huge decompressed size, and one that really expands
// to 512 MiB, are refused without the server allocating that much.
TEST_F(CairnBinaryTest, RemoteWriteSnappyBombIs400WithBoundedMemory) {
  std::string header_only = "\x80\x80\x80\x80\x0f";  // varint: 0xF0000000 bytes
  header_only += std::string(16, '\0');
  Reply a = Http("POST", *cairn_url_ + "/api/v1/write", header_only, kRemoteWriteHeaders);
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("decompressed request would be"), std::string::npos) << a.body;

  // Valid snappy: one literal byte, then copies of 64 bytes at offset 1 (3 bytes each).
  const uint32_t size = 512u << 20;
  std::string bomb;
  for (uint32_t v = size;; v >>= 7) {
    if (v < 0x80) {
      bomb.push_back(static_cast<char>(v));
      break;
    }
    bomb.push_back(static_cast<char>((v & 0x7f) | 0x80));
  }
  bomb += std::string("\x00\x00", 2);  // literal of length 1: 0x00, byte 0x00
  for (uint32_t produced = 1; produced + 64 <= size; produced += 64) {
    bomb += std::string("\xfe\x01\x00", 3);  // copy-2: length 64, offset 1
  }
  ASSERT_LT(bomb.size(), 32u << 20);  // under the body limit: the size check must act
  const long before_kb = PeakRssKb(cairn_->pid());
  Reply b = Http("POST", *cairn_url_ + "/api/v1/write", bomb, kRemoteWriteHeaders);
  EXPECT_EQ(b.status, 400) << b.body;
  EXPECT_NE(b.body.find("decompress"), std::string::npos) << b.body;
  const long after_kb = PeakRssKb(cairn_->pid());
  // The body itself (~24 MiB) is read; the 512 MiB expansion must not happen.
  EXPECT_LT(after_kb - before_kb, 256 * 1024) << "peak RSS " << before_kb << " -> " << after_kb;
  EXPECT_TRUE(cairn_->Running());
}

TEST_F(CairnBinaryTest, QueryErrorsMatchPrometheus) {
  const std::vector<std::string> targets = {
      "/api/v1/query?query=" + Escape("up{"),
      "/api/v1/query?query=" + Escape("sum(") + "&time=1",
      "/api/v1/query?query=up&time=abc",
      "/api/v1/query",
      "/api/v1/query_range?query=up&start=0&end=100000&step=1",
      "/api/v1/query_range?query=up&start=0&end=100000&step=0",
      "/api/v1/query_range?query=up&start=10&end=0&step=1",
      "/api/v1/query_range?query=" + Escape("rate(up)") + "&start=0&end=10&step=1",
      "/api/v1/query_range?query=" + Escape("up{") + "&start=0&end=10&step=1",
      "/api/v1/query_range?query=up&end=10&step=1",
  };
  std::vector<Reply> ours;
  for (const std::string& t : targets) {
    ours.push_back(Http("GET", *cairn_url_ + t));
    EXPECT_EQ(ours.back().status, 400) << t << ": " << ours.back().body;
    EXPECT_NE(ours.back().body.find(R"("errorType":"bad_data")"), std::string::npos)
        << t << ": " << ours.back().body;
  }
  NeedPrometheus();
  for (size_t i = 0; i < targets.size(); ++i) {
    Reply theirs = Http("GET", *prom_url_ + targets[i]);
    EXPECT_EQ(ours[i].status, theirs.status) << targets[i];
    EXPECT_EQ(ours[i].body, theirs.body) << targets[i];
  }
}

TEST_F(CairnBinaryTest, UnknownEndpointIs404) {
  for (const char* path : {"/api/v1/nope", "/nope", "/api/v2/query"}) {
    Reply r = Http("GET", *cairn_url_ + path);
    EXPECT_EQ(r.status, 404) << path;
    if (prom_ != nullptr) {
      EXPECT_EQ(Http("GET", *prom_url_ + path).status, 404) << path;
    }
  }
}

TEST_F(CairnBinaryTest, AdminApiDisabledAnswersAsPrometheus) {
  for (const char* e : {"delete_series?match[]=up", "clean_tombstones", "snapshot"}) {
    const std::string path = std::string("/api/v1/admin/tsdb/") + e;
    Reply r = Http("POST", *cairn_url_ + path);
    EXPECT_EQ(r.status, 500) << path;
    EXPECT_EQ(r.body,
              R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})");
    EXPECT_EQ(Http("GET", *cairn_url_ + path).status, 405) << path;
  }
  NeedPrometheus();
  // The Prometheus beside us has the admin API on; compare with a fresh one without.
  int port = FreePort();
  Process off({"prometheus", "--config.file=" + *dir_ + "/empty.yml",
               "--storage.tsdb.path=" + *dir_ + "/prom-off",
               "--web.listen-address=127.0.0.1:" + std::to_string(port)},
              *dir_ + "/prom-off.log");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(WaitFor(off, [&] { return Http("GET", url + "/-/ready").status == 200; }))
      << off.Log();
  for (const char* e : {"delete_series?match[]=up", "clean_tombstones", "snapshot"}) {
    const std::string path = std::string("/api/v1/admin/tsdb/") + e;
    Reply theirs = Http("POST", url + path);
    Reply ours = Http("POST", *cairn_url_ + path);
    EXPECT_EQ(ours.status, theirs.status) << path;
    EXPECT_EQ(ours.body, theirs.body) << path;
    EXPECT_EQ(Http("GET", *cairn_url_ + path).status, Http("GET", url + path).status) << path;
  }
}

TEST_F(CairnBinaryTest, AdminApiEnabled) {
  ASSERT_NE(admin_, nullptr);
  const std::string w = *admin_url_ + "/api/v1/write";
  ASSERT_EQ(Http("POST", w, WriteBody({{"__name__", "del"}, {"k", "a"}}, {{1000, 1}, {2000, 2}}),
                 kRemoteWriteHeaders)
                .status,
            204);
  ASSERT_EQ(Http("POST", w, WriteBody({{"__name__", "del"}, {"k", "b"}}, {{1000, 1}}),
                 kRemoteWriteHeaders)
                .status,
            204);
  Reply d = Http("POST", *admin_url_ + "/api/v1/admin/tsdb/delete_series",
                 "match[]=" + Escape("del{k=\"a\"}") + "&start=1.5",
                 {"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(d.status, 204) << d.body;
  EXPECT_EQ(d.body, "");
  Reply q = Http("GET", *admin_url_ + "/api/v1/query?query=" + Escape("del[1h]") + "&time=3");
  EXPECT_EQ(q.body, R"({"status":"success","data":{"resultType":"matrix","result":[)"
                    R"({"metric":{"__name__":"del","k":"a"},"values":[[1,"1"]]},)"
                    R"({"metric":{"__name__":"del","k":"b"},"values":[[1,"1"]]}]}})");
  EXPECT_EQ(Http("PUT", *admin_url_ + "/api/v1/admin/tsdb/clean_tombstones").status, 204);
  Reply snap = Http("POST", *admin_url_ + "/api/v1/admin/tsdb/snapshot");
  EXPECT_EQ(snap.status, 200);
  std::string name;
  ASSERT_TRUE(RE2::FullMatch(snap.body, kSnapshotAnswer, &name)) << snap.body;
  EXPECT_EQ(system(("test -d " + *dir_ + "/cairn-admin/snapshots/" + name).c_str()), 0);

  // Error answers, byte for byte against Prometheus.
  const std::vector<std::string> bad = {
      "/api/v1/admin/tsdb/delete_series",
      "/api/v1/admin/tsdb/delete_series?match[]=" + Escape("up{"),
      "/api/v1/admin/tsdb/delete_series?match[]=up&start=abc",
      "/api/v1/admin/tsdb/delete_series?match[]=up&end=abc",
      "/api/v1/admin/tsdb/snapshot?skip_head=yes",
  };
  std::vector<Reply> ours;
  for (const std::string& b : bad) {
    ours.push_back(Http("POST", *admin_url_ + b));
    EXPECT_EQ(ours.back().status, 400) << b;
  }
  NeedPrometheus();
  for (size_t i = 0; i < bad.size(); ++i) {
    Reply theirs = Http("POST", *prom_url_ + bad[i]);
    EXPECT_EQ(ours[i].status, theirs.status) << bad[i];
    EXPECT_EQ(ours[i].body, theirs.body) << bad[i];
  }
  Reply theirs = Http("POST", *prom_url_ + "/api/v1/admin/tsdb/snapshot");
  EXPECT_TRUE(RE2::FullMatch(
      theirs.body, R"(\{"status":"success","data":\{"name":"\d{8}T\d{6}Z-[0-9a-f]{16}"\}\})"))
      << theirs.body;
}

TEST_F(CairnBinaryTest, GrpcWriteRefusesInvalidDataAndStreams) {
  auto stub = cairn::v1::Ingest::NewStub(
      grpc::CreateChannel(*cairn_grpc_, grpc::InsecureChannelCredentials()));
  for (const auto& labels : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"__name__", "g_bad"}, {"a-b", "1"}},
           {{"__name__", "g_bad"}, {"a", "1"}, {"a", "2"}},
           {{"job", "g_bad"}}}) {
    grpc::ClientContext ctx;
    cairn::v1::WriteResponse resp;
    grpc::Status s = stub->Write(&ctx, OneSeries(labels, {{1000, 1}}), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_FALSE(s.error_message().empty());
  }
  {
    grpc::ClientContext ctx;
    cairn::v1::WriteResponse resp;
    auto stream = stub->WriteStream(&ctx, &resp);
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE(stream->Write(OneSeries({{"__name__", "g_stream"}}, {{i * 1000, double(i)}})));
    }
    ASSERT_TRUE(stream->WritesDone());
    grpc::Status s = stream->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.samples_accepted(), 3u);
  }
  {
    // An invalid message in a stream ends it with INVALID_ARGUMENT.
    grpc::ClientContext ctx;
    cairn::v1::WriteResponse resp;
    auto stream = stub->WriteStream(&ctx, &resp);
    stream->Write(OneSeries({{"__name__", "g_stream2"}}, {{1000, 1}}));
    stream->Write(OneSeries({{"__name__", "g_bad"}, {"a-b", "1"}}, {{1000, 1}}));
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  }
  Reply series =
      Http("GET", *cairn_url_ + "/api/v1/series?match[]=" + Escape("{__name__=~\"g_.*\"}"));
  EXPECT_NE(series.body.find(R"({"__name__":"g_stream"})"), std::string::npos) << series.body;
  EXPECT_EQ(series.body.find("g_bad"), std::string::npos) << series.body;
}

}  // namespace
