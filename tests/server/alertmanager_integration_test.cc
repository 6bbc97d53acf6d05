// Integration: a real Alertmanager (Debian's prometheus-alertmanager, one null
// receiver, clustering off) on a loopback port, fed by AlertmanagerNotifier. A firing
// alert must show up in Alertmanager's GET /api/v2/alerts with its labels (external
// label included), annotations and generatorURL, as active; once sent again with
// endsAt = now it must leave the list of active alerts. Skipped when the binary is
// not installed (tools/setup installs it); CAIRN_ALERTMANAGER overrides its path.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "server/config/config.h"
#include "server/notifier/alertmanager_notifier.h"
#include "tests/server/test_http_client.h"

namespace cairn::notifier {
namespace {

std::string AlertmanagerBinary() {
  const char* env = std::getenv("CAIRN_ALERTMANAGER");
  if (env != nullptr && env[0] != '\0') return env;
  return "/usr/bin/prometheus-alertmanager";
}

using server::test_http::FreePort;

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// GET `url`; the HTTP status (0 when unreachable), body into *body.
long HttpGet(const std::string& url, std::string* body) {
  body->clear();
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  long code = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  return code;
}

class AlertmanagerIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(AlertmanagerBinary().c_str(), X_OK) != 0) {
      GTEST_SKIP() << AlertmanagerBinary()
                   << " not found: apt-get install prometheus-alertmanager (tools/setup does)";
    }
    char tmpl[] = "/tmp/cairn_alertmanager_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/alertmanager.yml") << "route:\n  receiver: 'null'\n"
                                                 "receivers:\n  - name: 'null'\n";
    address_ = absl::StrCat("127.0.0.1:", FreePort());
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      int log = open((dir_ + "/alertmanager.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log >= 0) dup2(log, 2);
      std::string cfg = absl::StrCat("--config.file=", dir_, "/alertmanager.yml");
      std::string listen = absl::StrCat("--web.listen-address=", address_);
      std::string storage = absl::StrCat("--storage.path=", dir_, "/data");
      execl(AlertmanagerBinary().c_str(), AlertmanagerBinary().c_str(), cfg.c_str(), listen.c_str(),
            storage.c_str(), "--cluster.listen-address=", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::string body;
    bool ready = false;
    for (int i = 0; i < 300 && !ready; ++i) {
      ready = HttpGet(absl::StrCat("http://", address_, "/-/ready"), &body) == 200;
      if (!ready) absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_TRUE(ready) << "alertmanager did not come up on " << address_ << "; log:\n" << Log();
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string Log() const {
    std::ifstream in(dir_ + "/alertmanager.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Alertmanager's alerts named `alertname`, as a parsed JSON array; `active_only`
  // asks for active ones only (silenced / inhibited / unprocessed left out).
  rapidjson::Document Alerts(const std::string& alertname, bool active_only) {
    CURL* c = curl_easy_init();
    std::string filter = absl::StrCat("alertname=\"", alertname, "\"");
    char* escaped = curl_easy_escape(c, filter.c_str(), static_cast<int>(filter.size()));
    std::string url = absl::StrCat("http://", address_, "/api/v2/alerts?filter=", escaped);
    curl_free(escaped);
    curl_easy_cleanup(c);
    if (active_only) absl::StrAppend(&url, "&active=true&silenced=false&inhibited=false");
    std::string body;
    rapidjson::Document doc;
    long code = HttpGet(url, &body);
    EXPECT_EQ(code, 200) << url << ": " << body;
    doc.Parse(body.c_str());
    if (doc.HasParseError() || !doc.IsArray()) {
      ADD_FAILURE() << "not a JSON array: " << body;
      doc.SetArray();
    }
    return doc;
  }

  std::string dir_;
  std::string address_;
  pid_t pid_ = -1;
};

TEST_F(AlertmanagerIntegrationTest, FiringThenResolved) {
  auto cfg = config::ParseConfig(absl::StrCat("global:\n  external_labels: {cluster: it}\n"
                                              "alerting:\n  alertmanagers:\n    - static_configs:\n"
                                              "        - targets: ['",
                                              address_, "']\n"),
                                 "it.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  AlertmanagerNotifier n;
  n.ApplyConfig(*cfg);

  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  Alert a;
  a.labels = Labels{{"alertname", "CairnIntegration"}, {"severity", "page"}};
  a.annotations = Labels{{"summary", "it fires"}, {"description", "from cairn's notifier"}};
  a.starts_at_ms = now_ms - 60000;
  a.ends_at_ms = now_ms + 10 * 60000;  // as the rule manager: well past the next resend
  a.generator_url = "http://cairn.example:9090/graph?g0.expr=up%3D%3D0";
  n.Send({a});

  rapidjson::Document doc;
  for (int i = 0; i < 300; ++i) {
    doc = Alerts("CairnIntegration", /*active_only=*/true);
    if (doc.Size() > 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(doc.Size(), 1u) << "the firing alert never reached Alertmanager; log:\n" << Log();
  const rapidjson::Value& got = doc[0];
  for (const char* member : {"labels", "annotations", "status"}) {
    ASSERT_TRUE(got.HasMember(member) && got[member].IsObject()) << member;
  }
  for (const char* member : {"generatorURL", "startsAt"}) {
    ASSERT_TRUE(got.HasMember(member) && got[member].IsString()) << member;
  }
  const rapidjson::Value& labels = got["labels"];
  for (const char* name : {"alertname", "severity", "cluster"}) {
    ASSERT_TRUE(labels.HasMember(name) && labels[name].IsString()) << name;
  }
  for (const char* name : {"summary", "description"}) {
    ASSERT_TRUE(got["annotations"].HasMember(name)) << name;
  }
  ASSERT_TRUE(got["status"].HasMember("state"));
  EXPECT_EQ(labels.MemberCount(), 3u);
  EXPECT_STREQ(labels["alertname"].GetString(), "CairnIntegration");
  EXPECT_STREQ(labels["severity"].GetString(), "page");
  EXPECT_STREQ(labels["cluster"].GetString(), "it");  // external label added
  EXPECT_STREQ(got["annotations"]["summary"].GetString(), "it fires");
  EXPECT_STREQ(got["annotations"]["description"].GetString(), "from cairn's notifier");
  EXPECT_STREQ(got["generatorURL"].GetString(),
               "http://cairn.example:9090/graph?g0.expr=up%3D%3D0");
  EXPECT_STREQ(got["status"]["state"].GetString(), "active");
  EXPECT_EQ(std::string(got["startsAt"].GetString()).substr(0, 16),
            absl::FormatTime("%Y-%m-%dT%H:%M", absl::FromUnixMillis(a.starts_at_ms),
                             absl::UTCTimeZone()));

  // Resolved: the same alert with endsAt = now.
  a.ends_at_ms = absl::ToUnixMillis(absl::Now());
  n.Send({a});
  for (int i = 0; i < 300; ++i) {
    doc = Alerts("CairnIntegration", /*active_only=*/true);
    if (doc.Size() == 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(doc.Size(), 0u) << "the resolved alert is still active; log:\n" << Log();
  // Alertmanager lists no resolved alert at all, active or not.
  EXPECT_EQ(Alerts("CairnIntegration", /*active_only=*/false).Size(), 0u);

  // Unset times go out as Go's zero time, as from Prometheus: Alertmanager takes the
  // alert as starting now, active.
  Alert unset;
  unset.labels = Labels{{"alertname", "CairnIntegrationUnsetTimes"}};
  n.Send({unset});
  for (int i = 0; i < 300; ++i) {
    doc = Alerts("CairnIntegrationUnsetTimes", /*active_only=*/true);
    if (doc.Size() > 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(doc.Size(), 1u) << "the alert without times was not taken; log:\n" << Log();
  ASSERT_TRUE(doc[0].HasMember("startsAt") && doc[0]["startsAt"].IsString());
  EXPECT_NE(std::string(doc[0]["startsAt"].GetString()).substr(0, 4), "0001");

  // Alertmanager can list an alert before the notifier has read the POST's answer and
  // counted it; Stop() would cancel that request, so wait for the count first.
  const std::string url = absl::StrCat("http://", address_, "/api/v2/alerts");
  for (int i = 0; i < 300 && n.stats().sent[url] < 3; ++i) absl::SleepFor(absl::Milliseconds(10));
  n.Stop();
  AlertmanagerNotifier::Stats s = n.stats();
  EXPECT_EQ(s.sent[url], 3u);
  EXPECT_EQ(s.errors[url], 0u);
  EXPECT_EQ(s.dropped, 0u);
}

}  // namespace
}  // namespace cairn::notifier
