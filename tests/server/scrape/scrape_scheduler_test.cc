// ScrapeScheduler: due order, fixed ticks with missed ones counted, one scrape at a
// time per task, and (through ScrapeLoop + HttpFetcher against a local server) that
// a stuck or slow target neither blocks the others nor its own removal.
//
// No assertion depends on how fast the machine is: waits are for events (with a
// generous bound so a broken scheduler fails instead of hanging), and the timing
// properties checked hold however late the threads run.
#include "server/scrape/scrape_scheduler.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/http_server.h"
#include "server/scrape/scrape_loop.h"
#include "tests/server/scrape/fake_storage.h"

namespace cairn::scrape {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Waits until `done()` holds, for at most 30 s (a bound for broken code, not a
// timing expectation).
template <typename F>
bool WaitFor(F done) {
  for (int i = 0; i < 3000; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

// A task with a synchronous fetch that records what the scheduler did with it.
class FakeTask : public ScheduledScrape {
 public:
  FakeTask(std::string name, std::vector<std::string>* begun, absl::Mutex* begun_mu)
      : name_(std::move(name)), begun_(begun), begun_mu_(begun_mu) {}

  absl::StatusOr<void*> BeginFetch() override {
    if (begun_ != nullptr) {
      absl::MutexLock lock(begun_mu_);
      begun_->push_back(name_);
    }
    return nullptr;
  }
  absl::Status EndFetch(int) override { return absl::InternalError("no transfers"); }
  absl::Status FetchSync() override {
    if (in_flight_.fetch_add(1) != 0) overlapped_ = true;
    if (first_fetch_delay_ > absl::ZeroDuration() && completed_.load() == 0) {
      absl::SleepFor(first_fetch_delay_);
    }
    if (block_ != nullptr) block_->WaitForNotification();
    return fail_ ? absl::UnavailableError("down") : absl::OkStatus();
  }
  void Complete(absl::Time start, absl::Status status) override {
    {
      absl::MutexLock lock(&mu_);
      starts_.push_back(start);
      if (!status.ok()) ++failures_;
    }
    in_flight_.fetch_sub(1);
    completed_.fetch_add(1);
  }
  void Missed(uint64_t ticks) override { missed_.fetch_add(ticks); }

  uint64_t completed() const { return completed_.load(); }
  uint64_t missed() const { return missed_.load(); }
  bool overlapped() const { return overlapped_.load(); }
  std::vector<absl::Time> starts() {
    absl::MutexLock lock(&mu_);
    return starts_;
  }

  absl::Duration first_fetch_delay_;
  absl::Notification* block_ = nullptr;
  bool fail_ = false;

 private:
  const std::string name_;
  std::vector<std::string>* const begun_;
  absl::Mutex* const begun_mu_;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> overlapped_{false};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> missed_{0};
  absl::Mutex mu_;
  std::vector<absl::Time> starts_;
  uint64_t failures_ = 0;
};

TEST(ScrapeSchedulerTest, ScrapesStartInDueOrder) {
  ScrapeScheduler scheduler;
  absl::Mutex mu;
  std::vector<std::string> begun;
  FakeTask a("a", &begun, &mu), b("b", &begun, &mu), c("c", &begun, &mu);
  const absl::Time now = absl::Now();
  // Added in another order than due; a long interval so each scrapes once here.
  scheduler.Add(&a, now + absl::Milliseconds(300), absl::Hours(1));
  scheduler.Add(&b, now + absl::Milliseconds(100), absl::Hours(1));
  scheduler.Add(&c, now + absl::Milliseconds(200), absl::Hours(1));
  ASSERT_TRUE(WaitFor([&] { return a.completed() + b.completed() + c.completed() == 3; }));
  for (FakeTask* t : {&a, &b, &c}) scheduler.RequestRemove(t);
  for (FakeTask* t : {&a, &b, &c}) scheduler.WaitRemoved(t);
  absl::MutexLock lock(&mu);
  EXPECT_THAT(begun, ElementsAre("b", "c", "a"));
  // None started before its due time, less the batching slack (10 ms at most).
  EXPECT_GE(b.starts().at(0), now + absl::Milliseconds(90));
  EXPECT_GE(a.starts().at(0), now + absl::Milliseconds(290));
}

TEST(ScrapeSchedulerTest, OverrunSkipsMissedTicksAndNeverOverlaps) {
  ScrapeScheduler scheduler;
  FakeTask t("t", nullptr, nullptr);
  // The first fetch takes 110 ms with ticks every 20 ms: at least the 5 ticks at
  // +20..+100 ms passed while it ran, however slow the machine.
  t.first_fetch_delay_ = absl::Milliseconds(110);
  scheduler.Add(&t, absl::Now(), absl::Milliseconds(20));
  ASSERT_TRUE(WaitFor([&] { return t.completed() >= 4; }));
  scheduler.RequestRemove(&t);
  scheduler.WaitRemoved(&t);
  EXPECT_GE(t.missed(), 5u);
  EXPECT_FALSE(t.overlapped());
  std::vector<absl::Time> starts = t.starts();
  ASSERT_GE(starts.size(), 4u);
  EXPECT_GE(starts[1] - starts[0], absl::Milliseconds(100));
  for (size_t i = 1; i < starts.size(); ++i) EXPECT_GT(starts[i], starts[i - 1]);
}

TEST(ScrapeSchedulerTest, BlockedAndFailingTasksDoNotStopOthers) {
  ScrapeScheduler scheduler(ScrapeScheduler::Options{.workers = 2});
  absl::Notification release;
  FakeTask blocked("blocked", nullptr, nullptr), failing("failing", nullptr, nullptr),
      healthy("healthy", nullptr, nullptr);
  blocked.block_ = &release;
  failing.fail_ = true;
  const absl::Time now = absl::Now();
  scheduler.Add(&blocked, now, absl::Milliseconds(10));
  scheduler.Add(&failing, now, absl::Milliseconds(10));
  scheduler.Add(&healthy, now, absl::Milliseconds(10));
  EXPECT_TRUE(WaitFor([&] { return healthy.completed() >= 5 && failing.completed() >= 5; }));
  EXPECT_EQ(blocked.completed(), 0u);
  release.Notify();
  EXPECT_TRUE(WaitFor([&] { return blocked.completed() >= 1; }));
  for (FakeTask* t : {&blocked, &failing, &healthy}) scheduler.RequestRemove(t);
  for (FakeTask* t : {&blocked, &failing, &healthy}) scheduler.WaitRemoved(t);
}

TEST(ScrapeSchedulerTest, RemovedTaskIsNotScrapedAgain) {
  ScrapeScheduler scheduler;
  FakeTask t("t", nullptr, nullptr);
  scheduler.Add(&t, absl::Now(), absl::Milliseconds(10));
  ASSERT_TRUE(WaitFor([&] { return t.completed() >= 2; }));
  scheduler.RequestRemove(&t);
  scheduler.WaitRemoved(&t);
  const uint64_t after_removal = t.completed();
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(t.completed(), after_removal);
  // Removing twice, or a task never added, is a no-op.
  scheduler.RequestRemove(&t);
  scheduler.WaitRemoved(&t);
}

// An offset seed that puts `loop`'s first scrape about `delay` from now (instead
// of anywhere in its interval), so tests with long intervals start promptly.
uint64_t SeedForDelay(const ScrapeLoop& loop, absl::Duration delay) {
  const int64_t interval = absl::ToInt64Nanoseconds(loop.target()->interval());
  const int64_t phase = absl::ToUnixNanos(absl::Now()) % interval;
  const uint64_t offset =
      static_cast<uint64_t>((phase + absl::ToInt64Nanoseconds(delay)) % interval);
  return loop.target()->hash() ^ offset;
}

// ScrapeLoops with real HTTP fetches through the multi handle.
class SchedulerHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::HttpServer::Options opts;
    opts.listen_address = "127.0.0.1:0";
    opts.threads = 4;
    http_ = std::make_unique<server::HttpServer>(opts);
    http_->Route("/fast", [](const server::HttpRequest&, server::HttpResponse* resp) {
      resp->content_type = "text/plain; version=0.0.4";
      resp->body = "a 1\nb 2\n";
    });
    http_->Route("/stuck", [this](const server::HttpRequest&, server::HttpResponse* resp) {
      stuck_requests_.fetch_add(1);
      release_.WaitForNotificationWithTimeout(absl::Seconds(20));
      resp->body = "c 1\n";
    });
    ASSERT_TRUE(http_->Start().ok());
  }
  void TearDown() override {
    if (!release_.HasBeenNotified()) release_.Notify();
    http_->Stop();
  }

  std::unique_ptr<ScrapeLoop> Loop(const std::string& path, const std::string& interval,
                                   const std::string& timeout) {
    config::ScrapeConfig cfg;
    cfg.job_name = "j";
    cfg.scrape_interval = absl::Seconds(10);
    cfg.scrape_timeout = absl::Seconds(10);
    auto shared = std::make_shared<const config::ScrapeConfig>(cfg);
    auto populated =
        PopulateTargetLabels({{"__address__", absl::StrCat("127.0.0.1:", http_->port())},
                              {"__metrics_path__", path},
                              {"__scrape_interval__", interval},
                              {"__scrape_timeout__", timeout}},
                             cfg);
    EXPECT_TRUE(populated.ok()) << populated.status();
    auto target = std::make_shared<Target>(populated->labels, populated->discovered, cfg);
    return std::make_unique<ScrapeLoop>(&storage_, target, shared);
  }

  std::unique_ptr<server::HttpServer> http_;
  absl::Notification release_;
  std::atomic<int> stuck_requests_{0};
  FakeStorage storage_;
};

TEST_F(SchedulerHttpTest, StuckTargetDoesNotDelayOthersAndStopAbortsIt) {
  // One worker: the stuck transfer must wait in the multi handle, not on a thread.
  ScrapeScheduler scheduler(ScrapeScheduler::Options{.workers = 1});
  auto stuck = Loop("/stuck", "20s", "20s");
  auto fast = Loop("/fast", "100ms", "100ms");
  stuck->Start(&scheduler, SeedForDelay(*stuck, absl::Milliseconds(50)));
  ASSERT_TRUE(WaitFor([&] { return stuck_requests_.load() >= 1; }));
  fast->Start(&scheduler);
  EXPECT_TRUE(WaitFor([&] { return fast->scrapes() >= 5; }));
  EXPECT_EQ(stuck->scrapes(), 0u);
  EXPECT_FALSE(storage_.Named("b").empty());
  // Stopping the stuck loop aborts its transfer: it returns while the server still
  // holds the request (release_ is only notified afterwards).
  stuck->Stop(/*mark_stale=*/false);
  EXPECT_FALSE(release_.HasBeenNotified());
  EXPECT_EQ(stuck->scrapes(), 0u);
  EXPECT_TRUE(storage_.Named("c").empty());
  // Whether its last scrape succeeded (Stop marks) or timed out (the failure
  // marked), the fast target's series end stale.
  fast->Stop(/*mark_stale=*/true);
  EXPECT_TRUE(IsStaleNaN(storage_.Named("b").back().v));
}

TEST_F(SchedulerHttpTest, TimeoutMarksTargetDown) {
  ScrapeScheduler scheduler;
  auto slow = Loop("/stuck", "10s", "100ms");
  slow->Start(&scheduler, SeedForDelay(*slow, absl::Milliseconds(50)));
  ASSERT_TRUE(WaitFor([&] { return slow->scrapes() >= 1; }));
  Target::Status st = slow->target()->status();
  EXPECT_EQ(st.health, TargetHealth::kDown);
  EXPECT_THAT(st.last_error, HasSubstr("context deadline exceeded"));
  slow->Stop(/*mark_stale=*/false);
}

}  // namespace
}  // namespace cairn::scrape
