#include "server/scrape/http_fetcher.h"

#include <curl/curl.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::scrape {
namespace {

static_assert(CURL_ERROR_SIZE <= 256, "HttpFetcher::errbuf_ is too small");

absl::Status ReadSecret(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(absl::StrCat("unable to read file ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = std::string(absl::StripTrailingAsciiWhitespace(ss.str()));
  return absl::OkStatus();
}

}  // namespace

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpFetcher::HttpFetcher(std::string url, absl::Duration timeout, const config::ScrapeConfig& cfg)
    : url_(std::move(url)), timeout_(timeout), cfg_(cfg) {
  EnsureCurlInitialized();
  curl_ = curl_easy_init();
  dynamic_headers_ = cfg_.has_authorization && !cfg_.authorization.credentials_file.empty();
  if (curl_ != nullptr) SetFixedOptions();
}

HttpFetcher::~HttpFetcher() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
  if (share_ != nullptr) curl_share_cleanup(static_cast<CURLSH*>(share_));
  curl_slist_free_all(static_cast<curl_slist*>(headers_));
}

void HttpFetcher::SetFixedOptions() {
  CURL* c = static_cast<CURL*>(curl_);
  // Used by this handle only, one transfer at a time: no lock callbacks needed.
  share_ = curl_share_init();
  if (share_ != nullptr) {
    curl_share_setopt(static_cast<CURLSH*>(share_), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(static_cast<CURLSH*>(share_), CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_easy_setopt(c, CURLOPT_SHARE, share_);
  }
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based timeouts
  const long timeout_ms = static_cast<long>(absl::ToInt64Milliseconds(timeout_));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "Cairn/0.1.0");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &HttpFetcher::OnData);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &HttpFetcher::OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &HttpFetcher::OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, this);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf_);
  if (cfg_.has_basic_auth) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, cfg_.basic_auth.username.c_str());
    password_ = cfg_.basic_auth.password;
    curl_easy_setopt(c, CURLOPT_PASSWORD, password_.c_str());
  }
  const config::TlsConfig& tls = cfg_.tls_config;
  if (!tls.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, tls.cert_file.c_str());
  if (!tls.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, tls.key_file.c_str());
  if (tls.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!dynamic_headers_) {
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, absl::StrCat("Accept: ", kScrapeAcceptHeader).c_str());
    headers = curl_slist_append(headers, absl::StrFormat("X-Prometheus-Scrape-Timeout-Seconds: %g",
                                                         absl::ToDoubleSeconds(timeout_))
                                             .c_str());
    if (cfg_.has_authorization) {
      headers = curl_slist_append(headers, absl::StrCat("Authorization: ", cfg_.authorization.type,
                                                        " ", cfg_.authorization.credentials)
                                               .c_str());
    }
    headers_ = headers;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  }
}

size_t HttpFetcher::OnData(char* data, size_t size, size_t n, void* self_ptr) {
  auto* self = static_cast<HttpFetcher*>(self_ptr);
  size_t bytes = size * n;
  uint64_t limit = self->cfg_.body_size_limit;
  if (limit > 0 && self->body_->size() + bytes > limit) {
    self->over_limit_ = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  self->body_->append(data, bytes);
  return bytes;
}

size_t HttpFetcher::OnHeader(char* data, size_t size, size_t n, void* self_ptr) {
  auto* self = static_cast<HttpFetcher*>(self_ptr);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (absl::StartsWith(Sv(line), "HTTP/")) {
    // A new response (after a redirect or 100-continue) starts over.
    size_t sp = line.find(' ');
    self->status_line_ = sp == std::string_view::npos ? "" : std::string(line.substr(sp + 1));
    self->content_type_.clear();
  } else if (line.size() > 13 && absl::EqualsIgnoreCase(Sv(line.substr(0, 13)), "content-type:")) {
    std::string_view v = line.substr(13);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    self->content_type_ = std::string(v);
  }
  return size * n;
}

int HttpFetcher::OnProgress(void* self_ptr, int64_t, int64_t, int64_t, int64_t) {
  return static_cast<HttpFetcher*>(self_ptr)->cancelled_.load(std::memory_order_relaxed) ? 1 : 0;
}

absl::Status HttpFetcher::Prepare(std::string* body) {
  CURL* c = static_cast<CURL*>(curl_);
  if (c == nullptr) return absl::InternalError("curl_easy_init failed");
  if (cancelled_.load(std::memory_order_relaxed)) return absl::CancelledError("scrape cancelled");
  body->clear();
  body_ = body;
  over_limit_ = false;
  status_line_.clear();
  content_type_.clear();
  errbuf_[0] = '\0';

  if (dynamic_headers_) {
    std::string credentials;
    absl::Status st = ReadSecret(cfg_.authorization.credentials_file, &credentials);
    if (!st.ok()) return st;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, absl::StrCat("Accept: ", kScrapeAcceptHeader).c_str());
    headers = curl_slist_append(headers, absl::StrFormat("X-Prometheus-Scrape-Timeout-Seconds: %g",
                                                         absl::ToDoubleSeconds(timeout_))
                                             .c_str());
    headers = curl_slist_append(
        headers,
        absl::StrCat("Authorization: ", cfg_.authorization.type, " ", credentials).c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_slist_free_all(static_cast<curl_slist*>(headers_));
    headers_ = headers;
  }
  if (cfg_.has_basic_auth && !cfg_.basic_auth.password_file.empty()) {
    absl::Status st = ReadSecret(cfg_.basic_auth.password_file, &password_);
    if (!st.ok()) return st;
    curl_easy_setopt(c, CURLOPT_PASSWORD, password_.c_str());
  }
  return absl::OkStatus();
}

absl::Status HttpFetcher::Finish(int rc_int, std::string* content_type) {
  const CURLcode rc = static_cast<CURLcode>(rc_int);
  long code = 0;
  curl_easy_getinfo(static_cast<CURL*>(curl_), CURLINFO_RESPONSE_CODE, &code);
  body_ = nullptr;

  if (over_limit_) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("body size limit exceeded (limit: %d bytes)", cfg_.body_size_limit));
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) return absl::CancelledError("scrape cancelled");
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(
        absl::StrFormat("Get \"%s\": context deadline exceeded (timeout %s)", url_,
                        config::FormatPromDuration(timeout_)));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrFormat(
        "Get \"%s\": %s", url_, errbuf_[0] != '\0' ? errbuf_ : curl_easy_strerror(rc)));
  }
  if (code != 200) {
    std::string status = status_line_.empty() ? std::to_string(code) : status_line_;
    return absl::UnavailableError(absl::StrCat("server returned HTTP status ", status));
  }
  content_type->swap(content_type_);
  return absl::OkStatus();
}

absl::Status HttpFetcher::Fetch(std::string* body, std::string* content_type) {
  absl::Status st = Prepare(body);
  if (!st.ok()) return st;
  return Finish(curl_easy_perform(static_cast<CURL*>(curl_)), content_type);
}

absl::StatusOr<void*> HttpFetcher::BeginAsync(std::string* body) {
  absl::Status st = Prepare(body);
  if (!st.ok()) return st;
  return curl_;
}

absl::Status HttpFetcher::EndAsync(int curl_result, std::string* content_type) {
  return Finish(curl_result, content_type);
}

}  // namespace cairn::scrape
