#include "server/scrape/scrape_scheduler.h"

#include <curl/curl.h>

#include <algorithm>
#include <utility>

#include "server/scrape/http_fetcher.h"

namespace cairn::scrape {
namespace {

// Upper bound of one wait of the event thread; it is woken for anything earlier.
constexpr int kMaxPollMs = 1000;

// How early a scrape may start to join a batch: 1% of its interval, at most 10 ms.
// With 1000 targets at 1 s, batching ~10 scrapes per wake-up of the event thread
// (and of the workers that ingest them) instead of one cut the scheduler's context
// switches per scrape several times (bench/scrape_compare.sh, docs/benchmarks.md).
// Samples still carry the time their scrape actually started.
absl::Duration Slack(absl::Duration interval) {
  return std::min(interval / 100, absl::Milliseconds(10));
}

// Milliseconds from `now` until `t`, rounded up so the thread never wakes early
// (a poll that returns before the due time would spin).
int PollMs(absl::Time now, absl::Time t) {
  if (t <= now) return 0;
  const absl::Duration d = t - now;
  if (d >= absl::Milliseconds(kMaxPollMs)) return kMaxPollMs;
  return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1))));
}

}  // namespace

ScrapeScheduler::ScrapeScheduler() : ScrapeScheduler(Options()) {}

ScrapeScheduler::ScrapeScheduler(Options options) {
  EnsureCurlInitialized();
  multi_ = curl_multi_init();  // nullptr only when out of memory: workers then perform
  size_t workers = options.workers;
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  event_thread_ = std::thread([this] { EventLoop(); });
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ScrapeScheduler::~ScrapeScheduler() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    jobs_cv_.SignalAll();
  }
  Wake();
  event_thread_.join();
  for (std::thread& t : workers_) t.join();
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void ScrapeScheduler::Wake() {
  if (multi_ != nullptr) curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void ScrapeScheduler::Add(ScheduledScrape* task, absl::Time first, absl::Duration interval) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    const uint64_t id = next_id_++;
    ids_[task] = id;
    Entry& e = entries_[id];
    e.task = task;
    e.interval = interval;
    e.slack = Slack(interval);
    e.next = first;
    due_.push({first, id});
    wake = first < wake_at_;
  }
  if (wake) Wake();
}

void ScrapeScheduler::RequestRemove(ScheduledScrape* task) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    auto id = ids_.find(task);
    if (id == ids_.end()) return;
    auto it = entries_.find(id->second);
    Entry& e = it->second;
    if (e.remove) return;
    e.remove = true;
    switch (e.state) {
      case State::kWaiting:
        Erase(id->second);  // its heap item goes stale
        break;
      case State::kFetching:
        to_abort_.push_back(id->second);
        wake = true;
        break;
      case State::kQueued:
        break;  // the worker erases it
    }
  }
  if (wake) Wake();
}

void ScrapeScheduler::WaitRemoved(ScheduledScrape* task) {
  absl::MutexLock lock(&mu_);
  while (ids_.contains(task)) removed_cv_.Wait(&mu_);
}

void ScrapeScheduler::Erase(uint64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  ids_.erase(it->second.task);
  entries_.erase(it);
  removed_cv_.SignalAll();
}

void ScrapeScheduler::Enqueue(uint64_t id, JobKind kind, absl::Status status, void* easy) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.remove) {
    Erase(id);
    return;
  }
  it->second.state = State::kQueued;
  it->second.easy = nullptr;
  jobs_.push_back(Job{id, kind, std::move(status), easy});
  jobs_cv_.Signal();
}

bool ScrapeScheduler::Reschedule(uint64_t id, Entry* e, absl::Time now) {
  absl::Time next = e->next + e->interval;
  uint64_t missed = 0;
  while (next <= now) {
    next += e->interval;
    ++missed;
  }
  if (missed > 0) e->task->Missed(missed);
  e->next = next;
  e->state = State::kWaiting;
  due_.push({next, id});
  return next < wake_at_;
}

void ScrapeScheduler::StartFetches(const std::vector<uint64_t>& starting) {
  CURLM* multi = static_cast<CURLM*>(multi_);
  for (uint64_t id : starting) {
    ScheduledScrape* task;
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(id);
      if (it == entries_.end()) continue;
      task = it->second.task;
    }
    // The entry is kFetching: nobody but this thread erases it now.
    absl::StatusOr<void*> handle = task->BeginFetch();
    absl::MutexLock lock(&mu_);
    if (!handle.ok()) {
      Enqueue(id, JobKind::kComplete, handle.status(), nullptr);
    } else if (*handle == nullptr) {
      Enqueue(id, JobKind::kSync, absl::OkStatus(), nullptr);
    } else {
      CURL* easy = static_cast<CURL*>(*handle);
      curl_easy_setopt(easy, CURLOPT_PRIVATE, reinterpret_cast<char*>(id));
      if (multi == nullptr || curl_multi_add_handle(multi, easy) != CURLM_OK) {
        Enqueue(id, JobKind::kPerform, absl::OkStatus(), easy);
      } else {
        entries_[id].easy = easy;
      }
    }
  }
}

void ScrapeScheduler::CollectFinished() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;
    char* private_id = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private_id);
    const uint64_t id = reinterpret_cast<uint64_t>(private_id);
    curl_multi_remove_handle(multi, easy);
    ScheduledScrape* task;
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(id);
      if (it == entries_.end()) continue;
      it->second.easy = nullptr;  // out of the multi handle: nothing left to abort
      if (it->second.remove) {
        Erase(id);
        continue;
      }
      task = it->second.task;
    }
    absl::Status st = task->EndFetch(result);
    absl::MutexLock lock(&mu_);
    Enqueue(id, JobKind::kComplete, std::move(st), nullptr);
  }
}

void ScrapeScheduler::EventLoop() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  std::vector<uint64_t> starting;
  std::vector<std::pair<uint64_t, CURL*>> aborting;
  while (true) {
    starting.clear();
    aborting.clear();
    {
      absl::MutexLock lock(&mu_);
      if (stop_) break;
      for (uint64_t id : to_abort_) {
        auto it = entries_.find(id);
        if (it == entries_.end() || it->second.state != State::kFetching) continue;
        if (it->second.easy == nullptr) continue;  // CollectFinished or a worker has it
        aborting.emplace_back(id, static_cast<CURL*>(it->second.easy));
      }
      to_abort_.clear();
      const absl::Time now = absl::Now();
      while (!due_.empty()) {
        const Due d = due_.top();
        auto it = entries_.find(d.id);
        if (it == entries_.end() || it->second.state != State::kWaiting ||
            it->second.next != d.when) {
          due_.pop();  // stale item
          continue;
        }
        if (d.when > now + it->second.slack) break;
        due_.pop();
        it->second.state = State::kFetching;
        it->second.start = now;
        starting.push_back(d.id);
      }
    }
    if (!aborting.empty()) {
      for (auto [id, easy] : aborting) {
        if (multi != nullptr) curl_multi_remove_handle(multi, easy);
      }
      absl::MutexLock lock(&mu_);
      for (auto [id, easy] : aborting) Erase(id);
    }
    StartFetches(starting);
    if (multi == nullptr) {
      // No multi handle (out of memory at start): workers perform the transfers and
      // this thread only keeps time, polling since nothing can wake it early.
      absl::MutexLock lock(&mu_);
      const absl::Time now = absl::Now();
      absl::Time until = now + absl::Milliseconds(5);
      if (!due_.empty()) until = std::min(until, due_.top().when);
      mu_.AwaitWithDeadline(absl::Condition(&stop_), until);
      continue;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    CollectFinished();

    long curl_ms = -1;
    curl_multi_timeout(multi, &curl_ms);
    int wait_ms;
    {
      absl::MutexLock lock(&mu_);
      if (stop_) break;
      const absl::Time now = absl::Now();
      wait_ms = kMaxPollMs;
      if (!due_.empty()) wait_ms = PollMs(now, due_.top().when);
      if (!to_abort_.empty()) wait_ms = 0;
      if (curl_ms >= 0) wait_ms = std::min(wait_ms, static_cast<int>(curl_ms));
      wake_at_ = now + absl::Milliseconds(wait_ms);
    }
    curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
    {
      absl::MutexLock lock(&mu_);
      wake_at_ = absl::InfinitePast();  // awake: new due times are seen next round
    }
  }
  // Shutting down: drop transfers still in the multi handle.
  absl::MutexLock lock(&mu_);
  for (auto& [id, e] : entries_) {
    if (e.easy != nullptr && multi != nullptr) {
      curl_multi_remove_handle(multi, static_cast<CURL*>(e.easy));
    }
    e.easy = nullptr;
  }
}

void ScrapeScheduler::WorkerLoop() {
  while (true) {
    Job job;
    ScheduledScrape* task;
    absl::Time start;
    {
      absl::MutexLock lock(&mu_);
      while (!stop_ && jobs_.empty()) jobs_cv_.Wait(&mu_);
      if (jobs_.empty()) return;  // stop_
      job = std::move(jobs_.front());
      jobs_.pop_front();
      auto it = entries_.find(job.id);
      if (it == entries_.end()) continue;
      if (it->second.remove) {
        Erase(job.id);
        continue;
      }
      task = it->second.task;
      start = it->second.start;
    }
    absl::Status st = std::move(job.status);
    if (job.kind == JobKind::kSync) {
      st = task->FetchSync();
    } else if (job.kind == JobKind::kPerform) {
      st = task->EndFetch(curl_easy_perform(static_cast<CURL*>(job.easy)));
    }
    bool removed;
    {
      absl::MutexLock lock(&mu_);
      removed = entries_.at(job.id).remove;
    }
    if (!removed) task->Complete(start, std::move(st));
    bool wake = false;
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(job.id);
      if (it->second.remove) {
        Erase(job.id);
      } else {
        wake = Reschedule(job.id, &it->second, absl::Now());
      }
    }
    if (wake) Wake();
  }
}

}  // namespace cairn::scrape
