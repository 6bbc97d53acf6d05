// AlertPoster: POSTs one JSON body to several Alertmanagers at once with libcurl's
// multi interface, so a slow or dead Alertmanager delays the others by no more than
// its own timeout (Prometheus sends to each Alertmanager concurrently too).
//
// The multi handle keeps its connections between calls: one keep-alive connection per
// Alertmanager. A response body is read up to 1 KiB (Alertmanager's error reason);
// the rest is discarded, so a misbehaving peer cannot make us allocate without bound.
//
// Thread-safety: PostAll() from one thread at a time; Cancel() from any thread.
#ifndef CAIRN_SERVER_NOTIFIER_ALERT_POSTER_H_
#define CAIRN_SERVER_NOTIFIER_ALERT_POSTER_H_

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace cairn::notifier {

struct PostTarget {
  std::string url;
  absl::Duration timeout;
};

class AlertPoster {
 public:
  AlertPoster();
  ~AlertPoster();
  AlertPoster(const AlertPoster&) = delete;
  AlertPoster& operator=(const AlertPoster&) = delete;

  // POSTs `json_body` (Content-Type: application/json) to every target; returns one
  // status per target, in order. OK for a 2xx answer; kUnavailable for a connection
  // failure, 5xx or 429 (worth retrying); kDeadlineExceeded for a timeout;
  // kInvalidArgument for another status (the request itself was refused: retrying it
  // cannot help); kCancelled after Cancel().
  std::vector<absl::Status> PostAll(const std::vector<PostTarget>& targets,
                                    std::string_view json_body);

  // Aborts the PostAll in progress and every later one. Thread-safe.
  void Cancel();

  // True when a failure is worth retrying (see PostAll).
  static bool IsRetryable(const absl::Status& s);

 private:
  void* multi_ = nullptr;  // CURLM*, owned
  std::atomic<bool> cancelled_{false};
};

}  // namespace cairn::notifier

#endif  // CAIRN_SERVER_NOTIFIER_ALERT_POSTER_H_
