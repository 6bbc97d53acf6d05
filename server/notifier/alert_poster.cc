#include "server/notifier/alert_poster.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::notifier {
namespace {

// Enough for Alertmanager's error reason ("bad request: ..."); the rest is dropped.
constexpr size_t kMaxResponseBytes = 1024;

// One POST in flight. Owned by PostAll; the easy handle points back at it.
struct Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string response;     // first kMaxResponseBytes of the body
  std::string status_line;  // "500 Internal Server Error"
  char errbuf[CURL_ERROR_SIZE] = {};
  bool done = false;
  CURLcode result = CURLE_OK;

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
};

size_t OnData(char* data, size_t size, size_t n, void* self) {
  auto* t = static_cast<Transfer*>(self);
  size_t bytes = size * n;
  if (t->response.size() < kMaxResponseBytes) {
    t->response.append(data, std::min(bytes, kMaxResponseBytes - t->response.size()));
  }
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* self) {
  auto* t = static_cast<Transfer*>(self);
  std::string_view line(data, size * n);
  if (absl::StartsWith(Sv(line), "HTTP/")) {
    line = StdSv(absl::StripTrailingAsciiWhitespace(Sv(line)));
    size_t sp = line.find(' ');
    t->status_line = sp == std::string_view::npos ? "" : std::string(line.substr(sp + 1));
    t->response.clear();  // a new response (after 100 Continue) starts over
  }
  return size * n;
}

void EnsureCurlInitialized() {
  // curl_global_init is thread-safe since curl 7.84; once is still cheapest.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

absl::Status ResultStatus(const PostTarget& target, const Transfer& t) {
  if (!t.done) return absl::CancelledError(absl::StrCat("Post \"", target.url, "\": cancelled"));
  if (t.result == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(
        absl::StrFormat("Post \"%s\": context deadline exceeded (timeout %s)", target.url,
                        absl::FormatDuration(target.timeout)));
  }
  if (t.result != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrFormat("Post \"%s\": %s", target.url,
                        t.errbuf[0] != '\0' ? t.errbuf : curl_easy_strerror(t.result)));
  }
  long code = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
  if (code / 100 == 2) return absl::OkStatus();
  std::string message = absl::StrCat("bad response status ",
                                     t.status_line.empty() ? std::to_string(code) : t.status_line);
  std::string_view reason = StdSv(absl::StripAsciiWhitespace(t.response));
  if (!reason.empty()) absl::StrAppend(&message, ": ", Sv(reason.substr(0, 256)));
  if (code >= 500 || code == 429) return absl::UnavailableError(message);
  return absl::InvalidArgumentError(message);
}

}  // namespace

AlertPoster::AlertPoster() {
  EnsureCurlInitialized();
  multi_ = curl_multi_init();
}

AlertPoster::~AlertPoster() {
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void AlertPoster::Cancel() {
  cancelled_.store(true, std::memory_order_relaxed);
  if (multi_ != nullptr) curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

bool AlertPoster::IsRetryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

std::vector<absl::Status> AlertPoster::PostAll(const std::vector<PostTarget>& targets,
                                               std::string_view json_body) {
  std::vector<absl::Status> out;
  CURLM* multi = static_cast<CURLM*>(multi_);
  if (multi == nullptr) {
    out.assign(targets.size(), absl::InternalError("curl_multi_init failed"));
    return out;
  }
  std::vector<std::unique_ptr<Transfer>> transfers;
  transfers.reserve(targets.size());
  for (const PostTarget& target : targets) {
    auto t = std::make_unique<Transfer>();
    t->easy = curl_easy_init();
    if (t->easy == nullptr) {
      transfers.push_back(std::move(t));
      continue;
    }
    CURL* c = t->easy;
    curl_easy_setopt(c, CURLOPT_URL, target.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based timeouts
    const long timeout_ms = static_cast<long>(absl::ToInt64Milliseconds(target.timeout));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "Cairn/0.1.0");
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    // No "Expect: 100-continue" round trip before larger batches.
    t->headers = curl_slist_append(t->headers, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnData);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(c, CURLOPT_PRIVATE, t.get());
    curl_multi_add_handle(multi, c);
    transfers.push_back(std::move(t));
  }

  int running = 0;
  std::string multi_error;
  while (!cancelled_.load(std::memory_order_relaxed)) {
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
      multi_error = curl_multi_strerror(mc);
      break;
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      if (t != nullptr) {
        t->done = true;
        t->result = msg->data.result;
      }
    }
    if (running == 0) break;
    // Woken early by a socket event or by Cancel() (curl_multi_wakeup).
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }

  out.reserve(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    Transfer& t = *transfers[i];
    if (t.easy == nullptr) {
      out.push_back(absl::InternalError("curl_easy_init failed"));
      continue;
    }
    if (!t.done && !multi_error.empty()) {
      out.push_back(absl::InternalError(
          absl::StrFormat("Post \"%s\": curl multi: %s", targets[i].url, multi_error)));
    } else {
      out.push_back(ResultStatus(targets[i], t));
    }
    curl_multi_remove_handle(multi, t.easy);
  }
  return out;
}

}  // namespace cairn::notifier
