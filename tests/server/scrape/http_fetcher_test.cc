// HttpFetcher against a real local HTTP server (Cairn's own HttpServer).
#include "server/scrape/http_fetcher.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/http_server.h"

namespace cairn::scrape {
namespace {

using ::testing::HasSubstr;

class HttpFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::HttpServer::Options opts;
    opts.listen_address = "127.0.0.1:0";
    http_ = std::make_unique<server::HttpServer>(opts);
    http_->Route("/metrics", [this](const server::HttpRequest& req, server::HttpResponse* resp) {
      accept_ = std::string(req.Header("accept"));
      encoding_ = std::string(req.Header("accept-encoding"));
      timeout_header_ = std::string(req.Header("x-prometheus-scrape-timeout-seconds"));
      authorization_ = std::string(req.Header("authorization"));
      resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
      resp->body = page_;
    });
    http_->Route("/missing", [](const server::HttpRequest&, server::HttpResponse* resp) {
      resp->status = 404;
      resp->body = "nope";
    });
    http_->Route("/slow", [](const server::HttpRequest&, server::HttpResponse* resp) {
      absl::SleepFor(absl::Milliseconds(1500));
      resp->body = "a 1\n";
    });
    ASSERT_TRUE(http_->Start().ok());
  }
  void TearDown() override { http_->Stop(); }
  std::string Url(std::string_view path) {
    return absl::StrCat("http://127.0.0.1:", http_->port(), std::string(path));
  }

  std::unique_ptr<server::HttpServer> http_;
  std::string page_ = "a 1\n";
  std::string accept_, encoding_, timeout_header_, authorization_;
};

TEST_F(HttpFetcherTest, FetchesWithPrometheusHeaders) {
  config::ScrapeConfig cfg;
  cfg.has_authorization = true;
  cfg.authorization.credentials = "tok";
  HttpFetcher f(Url("/metrics"), absl::Seconds(10), cfg);
  std::string body, ctype;
  ASSERT_TRUE(f.Fetch(&body, &ctype).ok());
  EXPECT_EQ(body, "a 1\n");
  EXPECT_EQ(ctype, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(accept_, kScrapeAcceptHeader);
  EXPECT_THAT(accept_, HasSubstr("application/openmetrics-text;version=1.0.0"));
  EXPECT_THAT(encoding_, HasSubstr("gzip"));
  EXPECT_EQ(timeout_header_, "10");
  EXPECT_EQ(authorization_, "Bearer tok");
}

TEST_F(HttpFetcherTest, CredentialsFilesReReadEveryScrape) {
  // Options are set once per fetcher; secrets from files must still follow rotation.
  const std::string token_file = ::testing::TempDir() + "/http_fetcher_token";
  const std::string password_file = ::testing::TempDir() + "/http_fetcher_password";
  // Each fetcher reads its file, which then changes under it.
  auto expect_follows_file = [this](const config::ScrapeConfig& cfg, const std::string& file,
                                    const char* first, const char* first_header, const char* second,
                                    const char* second_header) {
    std::ofstream(file) << first;
    HttpFetcher f(Url("/metrics"), absl::Seconds(10), cfg);
    std::string body, ctype;
    ASSERT_TRUE(f.Fetch(&body, &ctype).ok());
    EXPECT_EQ(authorization_, first_header);
    std::ofstream(file) << second;
    ASSERT_TRUE(f.Fetch(&body, &ctype).ok());
    EXPECT_EQ(authorization_, second_header);
  };
  config::ScrapeConfig bearer;
  bearer.has_authorization = true;
  bearer.authorization.type = "Bearer";
  bearer.authorization.credentials_file = token_file;
  expect_follows_file(bearer, token_file, "tok1\n", "Bearer tok1", "tok2\n", "Bearer tok2");
  config::ScrapeConfig basic;
  basic.has_basic_auth = true;
  basic.basic_auth.username = "u";
  basic.basic_auth.password_file = password_file;
  expect_follows_file(basic, password_file, "p1", "Basic dTpwMQ==", "p2",  // base64("u:p1")
                      "Basic dTpwMg==");                                   // base64("u:p2")
  // An unreadable file fails the scrape, naming the file.
  std::remove(token_file.c_str());
  HttpFetcher f(Url("/metrics"), absl::Seconds(10), bearer);
  std::string body, ctype;
  absl::Status st = f.Fetch(&body, &ctype);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(st.message()), HasSubstr(token_file));
  std::remove(password_file.c_str());
}

TEST_F(HttpFetcherTest, GzipBodyDecoded) {
  // Over 1 KiB, so the server compresses it.
  page_.clear();
  for (int i = 0; i < 500; ++i) absl::StrAppend(&page_, "metric_", i, " ", i, "\n");
  HttpFetcher f(Url("/metrics"), absl::Seconds(10), config::ScrapeConfig());
  std::string body, ctype;
  ASSERT_TRUE(f.Fetch(&body, &ctype).ok());
  EXPECT_EQ(body, page_);
  // The connection is reused for a second fetch.
  ASSERT_TRUE(f.Fetch(&body, &ctype).ok());
  EXPECT_EQ(body, page_);
}

TEST_F(HttpFetcherTest, BadStatus) {
  HttpFetcher f(Url("/missing"), absl::Seconds(10), config::ScrapeConfig());
  std::string body, ctype;
  absl::Status st = f.Fetch(&body, &ctype);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(st.message()), HasSubstr("server returned HTTP status 404"));
}

TEST_F(HttpFetcherTest, Timeout) {
  HttpFetcher f(Url("/slow"), absl::Milliseconds(200), config::ScrapeConfig());
  std::string body, ctype;
  absl::Status st = f.Fetch(&body, &ctype);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("context deadline exceeded"));
}

TEST_F(HttpFetcherTest, BodySizeLimit) {
  page_ = std::string(5000, 'x');
  config::ScrapeConfig cfg;
  cfg.body_size_limit = 1000;
  HttpFetcher f(Url("/metrics"), absl::Seconds(10), cfg);
  std::string body, ctype;
  absl::Status st = f.Fetch(&body, &ctype);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
}

TEST_F(HttpFetcherTest, ConnectionRefused) {
  // A port from a server that is no longer listening.
  server::HttpServer::Options opts;
  opts.listen_address = "127.0.0.1:0";
  server::HttpServer other(opts);
  ASSERT_TRUE(other.Start().ok());
  int port = other.port();
  other.Stop();
  HttpFetcher f(absl::StrCat("http://127.0.0.1:", port, "/metrics"), absl::Seconds(2),
                config::ScrapeConfig());
  std::string body, ctype;
  absl::Status st = f.Fetch(&body, &ctype);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("Get \"http://127.0.0.1:"));
}

TEST_F(HttpFetcherTest, CancelAbortsInFlight) {
  HttpFetcher f(Url("/slow"), absl::Seconds(10), config::ScrapeConfig());
  std::thread t([&] {
    absl::SleepFor(absl::Milliseconds(100));
    f.Cancel();
  });
  std::string body, ctype;
  absl::Status st = f.Fetch(&body, &ctype);
  t.join();
  EXPECT_EQ(st.code(), absl::StatusCode::kCancelled) << st;
}

}  // namespace
}  // namespace cairn::scrape
