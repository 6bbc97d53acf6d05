// FakeAlertmanager: Cairn's HttpServer on a loopback port answering
// POST <prefix>api/v2/alerts like Alertmanager, recording every request. Tests can
// script response codes and hold requests (to keep a batch in flight while they
// fill the queue).
#ifndef CAIRN_TESTS_SERVER_NOTIFIER_FAKE_ALERTMANAGER_H_
#define CAIRN_TESTS_SERVER_NOTIFIER_FAKE_ALERTMANAGER_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "server/http_server.h"

namespace cairn::notifier {

struct ReceivedAlert {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string starts_at, ends_at, generator_url;
};

struct ReceivedRequest {
  std::string method, path, content_type, body;
  std::vector<ReceivedAlert> alerts;  // parsed body; empty if it did not parse
};

class FakeAlertmanager {
 public:
  explicit FakeAlertmanager(std::string path = "/api/v2/alerts") {
    server::HttpServer::Options opts;
    opts.listen_address = "127.0.0.1:0";
    http_ = std::make_unique<server::HttpServer>(opts);
    http_->Route(path, [this](const server::HttpRequest& req, server::HttpResponse* resp) {
      Handle(req, resp);
    });
    EXPECT_TRUE(http_->Start().ok());
  }
  ~FakeAlertmanager() {
    Release();
    http_->Stop();
  }

  std::string target() const { return absl::StrCat("127.0.0.1:", http_->port()); }

  // The next requests get these codes, in order; then 200.
  void SetStatuses(std::vector<int> codes) {
    absl::MutexLock l(&mu_);
    statuses_.assign(codes.begin(), codes.end());
  }
  void SetDefaultStatus(int code) {
    absl::MutexLock l(&mu_);
    default_status_ = code;
  }
  // Requests wait (after being recorded) until Release().
  void Hold() {
    absl::MutexLock l(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock l(&mu_);
    held_ = false;
  }

  // Waits (up to 60 s, a generous bound for a loaded machine) for `n` requests.
  bool WaitForRequests(size_t n) {
    absl::MutexLock l(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(60));
  }
  std::vector<ReceivedRequest> requests() const {
    absl::MutexLock l(&mu_);
    return requests_;
  }
  std::vector<ReceivedAlert> alerts() const {
    absl::MutexLock l(&mu_);
    std::vector<ReceivedAlert> out;
    for (const auto& r : requests_) out.insert(out.end(), r.alerts.begin(), r.alerts.end());
    return out;
  }

 private:
  static std::map<std::string, std::string> StringMap(const rapidjson::Value& v) {
    std::map<std::string, std::string> out;
    if (!v.IsObject()) return out;
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      if (it->value.IsString()) out[it->name.GetString()] = it->value.GetString();
    }
    return out;
  }

  // The string member `name` of `v`, or "" (also when it is not a string).
  static std::string StringField(const rapidjson::Value& v, const char* name) {
    if (!v.IsObject() || !v.HasMember(name) || !v[name].IsString()) return "";
    return v[name].GetString();
  }

  void Handle(const server::HttpRequest& req, server::HttpResponse* resp) {
    ReceivedRequest r{req.method, req.path, std::string(req.Header("content-type")), req.body, {}};
    rapidjson::Document doc;
    doc.Parse(req.body.c_str());
    if (!doc.HasParseError() && doc.IsArray()) {
      for (const auto& a : doc.GetArray()) {
        ReceivedAlert ra;
        if (!a.IsObject()) continue;
        if (a.HasMember("labels")) ra.labels = StringMap(a["labels"]);
        if (a.HasMember("annotations")) ra.annotations = StringMap(a["annotations"]);
        ra.starts_at = StringField(a, "startsAt");
        ra.ends_at = StringField(a, "endsAt");
        ra.generator_url = StringField(a, "generatorURL");
        r.alerts.push_back(std::move(ra));
      }
    }
    absl::MutexLock l(&mu_);
    requests_.push_back(std::move(r));
    mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &held_));
    int code = default_status_;
    if (!statuses_.empty()) {
      code = statuses_.front();
      statuses_.pop_front();
    }
    resp->status = code;
    resp->content_type = "application/json";
    resp->body = code == 200 ? "" : "\"scripted failure\"";
  }

  std::unique_ptr<server::HttpServer> http_;
  mutable absl::Mutex mu_;
  std::vector<ReceivedRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::deque<int> statuses_ ABSL_GUARDED_BY(mu_);
  int default_status_ ABSL_GUARDED_BY(mu_) = 200;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cairn::notifier

#endif  // CAIRN_TESTS_SERVER_NOTIFIER_FAKE_ALERTMANAGER_H_
