// ScrapeScheduler: runs the scrapes of every target on a fixed set of threads,
// instead of a thread per target (whose wake-ups, futex waits and context switches
// were half of the scrape CPU with 1000 targets; docs/benchmarks.md).
//
//  - One event thread keeps a heap of next scrape times and drives every HTTP
//    transfer through one libcurl multi handle (curl_multi_poll), so connections to
//    all targets live in one connection cache and an idle target costs nothing.
//  - A small pool of workers (one per hardware thread by default) takes the fetched
//    pages and ingests them (ScheduledScrape::Complete: parse, append, commit), and
//    runs the fetches of fetchers that have no asynchronous mode (tests' fakes).
//
// Timing follows Prometheus 2.42's scrape loop: a task's scrapes are due at
// first, first + interval, first + 2 * interval, ...; a task never has two scrapes
// at once, and a scrape that ends after later ticks skips them (reported through
// ScheduledScrape::Missed). To batch wake-ups, a scrape may start up to 1% of its
// interval (at most 10 ms) before its tick when another one is starting. A slow or failing target
// only delays itself: its transfer waits in the multi handle while the others proceed.
//
// Thread-safety: Add, RequestRemove and WaitRemoved may be called from any thread.
// A task's BeginFetch/EndFetch run on the event thread, FetchSync/Complete on a
// worker, never two of them at once for one task, with happens-before between them
// (the task may keep plain fields for the scrape in progress).
#ifndef CAIRN_SERVER_SCRAPE_SCRAPE_SCHEDULER_H_
#define CAIRN_SERVER_SCRAPE_SCRAPE_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <queue>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cairn::scrape {

// One periodically scraped thing (a ScrapeLoop), as the scheduler sees it.
class ScheduledScrape {
 public:
  virtual ~ScheduledScrape() = default;
  // Event thread, when a scrape is due: starts the fetch. Returns the libcurl easy
  // handle (CURL*) of a transfer for the scheduler to run, after which EndFetch gets
  // its result; nullptr to have FetchSync called on a worker instead; or an error,
  // which is the fetch's outcome (Complete gets it).
  virtual absl::StatusOr<void*> BeginFetch() = 0;
  // Event thread: the transfer of BeginFetch's handle ended with CURLcode
  // `curl_result`. Returns the fetch's outcome.
  virtual absl::Status EndFetch(int curl_result) = 0;
  // Worker: fetches synchronously (when BeginFetch returned nullptr).
  virtual absl::Status FetchSync() = 0;
  // Worker: the fetch of the scrape that started at `start` ended with
  // `fetch_status`; ingest what it got. Not called for a scrape aborted by removal.
  virtual void Complete(absl::Time start, absl::Status fetch_status) = 0;
  // `ticks` scrapes were skipped because the previous one ended after them. Called
  // with the scheduler's lock held: must be quick and call nothing back.
  virtual void Missed(uint64_t ticks) = 0;
};

class ScrapeScheduler {
 public:
  struct Options {
    // Worker threads; 0 means one per hardware thread.
    size_t workers = 0;
  };

  ScrapeScheduler();
  explicit ScrapeScheduler(Options options);
  // REQUIRES: every added task was removed (RequestRemove + WaitRemoved).
  ~ScrapeScheduler();
  ScrapeScheduler(const ScrapeScheduler&) = delete;
  ScrapeScheduler& operator=(const ScrapeScheduler&) = delete;

  // Schedules `task`'s scrapes at `first` and every `interval` after it. `task` must
  // stay alive until WaitRemoved(task) returned.
  // REQUIRES: task not scheduled already; interval > 0.
  void Add(ScheduledScrape* task, absl::Time first, absl::Duration interval);
  // Stops scheduling `task` and aborts its in-flight transfer, if any; returns at
  // once (so a caller can stop many tasks in parallel). A Complete already running
  // finishes; one not yet started is skipped. No-op for a task never added.
  void RequestRemove(ScheduledScrape* task);
  // Waits until the scheduler no longer uses `task` (after RequestRemove).
  void WaitRemoved(ScheduledScrape* task);

  size_t workers() const { return workers_.size(); }

 private:
  enum class State {
    kWaiting,   // in the heap, due at `next`
    kFetching,  // BeginFetch called; transfer in the multi handle (`easy`) or starting
    kQueued,    // a job for it is queued or running on a worker
  };
  struct Entry {
    ScheduledScrape* task = nullptr;
    absl::Duration interval;
    absl::Duration slack;  // may start this much before `next` to join a batch
    absl::Time next;       // the tick of the scrape due or in progress
    absl::Time start;      // when the scrape in progress started
    State state = State::kWaiting;
    bool remove = false;   // RequestRemove was called
    void* easy = nullptr;  // CURL* in the multi handle while kFetching
  };
  struct Due {
    absl::Time when;
    uint64_t id;
    bool operator>(const Due& o) const { return when > o.when; }
  };
  enum class JobKind {
    kComplete,  // Complete(start, status)
    kSync,      // FetchSync, then Complete
    kPerform,   // curl_easy_perform(easy), EndFetch, Complete (no multi handle)
  };
  struct Job {
    uint64_t id;
    JobKind kind;
    absl::Status status;
    void* easy = nullptr;
  };

  void EventLoop();
  void WorkerLoop();
  // Starts the fetch of each task in `starting` (ids), without the lock.
  void StartFetches(const std::vector<uint64_t>& starting) ABSL_LOCKS_EXCLUDED(mu_);
  // Reads the multi handle's finished transfers and queues their completions.
  void CollectFinished() ABSL_LOCKS_EXCLUDED(mu_);
  void Enqueue(uint64_t id, JobKind kind, absl::Status status, void* easy)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets entry `id` (the task is no longer used) and wakes WaitRemoved.
  void Erase(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Puts the entry back in the heap for its next tick after a scrape; counts the
  // ticks it missed. Returns whether the event thread must be woken.
  bool Reschedule(uint64_t id, Entry* e, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Wake();

  void* multi_ = nullptr;  // CURLM*; used only by the event thread (curl_multi_wakeup aside)

  absl::Mutex mu_;
  absl::CondVar jobs_cv_;     // jobs_ got a job, or stop_
  absl::CondVar removed_cv_;  // an entry was erased
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ScheduledScrape*, uint64_t> ids_ ABSL_GUARDED_BY(mu_);
  // Due times; an item whose entry is gone or not kWaiting at that time is stale.
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_ ABSL_GUARDED_BY(mu_);
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  // kFetching entries whose transfer the event thread must abort.
  std::vector<uint64_t> to_abort_ ABSL_GUARDED_BY(mu_);
  // When the event thread wakes on its own next; earlier due times must wake it.
  absl::Time wake_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  std::thread event_thread_;
  std::vector<std::thread> workers_;
};

}  // namespace cairn::scrape

#endif  // CAIRN_SERVER_SCRAPE_SCRAPE_SCHEDULER_H_
