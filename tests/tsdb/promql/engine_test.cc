// Engine: errors and their types, limits (samples, timeout, cancellation, concurrency),
// result shapes, the time range handed to storage. Query semantics proper are covered
// by the test scripts (promql_test_scripts_test.cc).
#include "tsdb/promql/engine.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tsdb/promql/memory_storage.h"

namespace cairn::promql {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kMin = 60 * 1000;

class EngineTest : public ::testing::Test {
 protected:
  testing::MemoryStorage storage_;
};

TEST_F(EngineTest, ParseErrorIsBadData) {
  Engine engine(EngineOptions{});
  absl::StatusOr<Value> v = engine.InstantQuery(storage_, "sum(rate(x[5m])", 0);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorType(v.status()), "bad_data");
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("parse error"));
}

TEST_F(EngineTest, DuplicateSeriesForMatchGroup) {
  storage_.Add(Labels{{"__name__", "a"}, {"x", "1"}, {"y", "1"}}, 0, 1);
  storage_.Add(Labels{{"__name__", "a"}, {"x", "1"}, {"y", "2"}}, 0, 2);
  storage_.Add(Labels{{"__name__", "b"}, {"x", "1"}}, 0, 3);
  Engine engine(EngineOptions{});
  absl::StatusOr<Value> v = engine.InstantQuery(storage_, "b + on(x) a", 0);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ErrorType(v.status()), "execution");
  // Prometheus names the later series of the right-hand side first.
  EXPECT_EQ(v.status().message(),
            "found duplicate series for the match group {x=\"1\"} on the right hand-side of the "
            "operation: [{__name__=\"a\", x=\"1\", y=\"2\"}, {__name__=\"a\", x=\"1\", y=\"1\"}]"
            ";many-to-many matching not allowed: matching labels must be unique on one side");

  v = engine.InstantQuery(storage_, "a + on(x) b", 0);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");

  // group_left makes it legal: one result per left-hand series, name dropped.
  v = engine.InstantQuery(storage_, "a + on(x) group_left b", 0);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->vector.size(), 2u);
  EXPECT_EQ(v->vector[0].labels, (Labels{{"x", "1"}, {"y", "1"}}));
  EXPECT_EQ(v->vector[0].v, 4);
  EXPECT_EQ(v->vector[1].v, 5);
}

TEST_F(EngineTest, SameLabelsetAfterDroppingName) {
  storage_.Add(Labels{{"__name__", "a"}, {"x", "1"}}, 0, 1);
  storage_.Add(Labels{{"__name__", "b"}, {"x", "1"}}, 0, 2);
  Engine engine(EngineOptions{});
  for (const char* q :
       {"abs({x=\"1\"})", "-{x=\"1\"}", "count_over_time({x=\"1\"}[5m])", "{x=\"1\"} * 2"}) {
    absl::StatusOr<Value> v = engine.InstantQuery(storage_, q, 0);
    ASSERT_FALSE(v.ok()) << q;
    EXPECT_EQ(v.status().message(), "vector cannot contain metrics with the same labelset") << q;
    EXPECT_EQ(ErrorType(v.status()), "execution");
  }
}

TEST_F(EngineTest, TooManySamples) {
  for (int s = 0; s < 10; ++s) {
    for (int i = 0; i < 100; ++i) {
      storage_.Add(Labels{{"__name__", "m"}, {"s", std::to_string(s)}}, i * 1000, i);
    }
  }
  EngineOptions o;
  o.max_samples = 500;
  Engine engine(o);
  absl::StatusOr<Value> v = engine.InstantQuery(storage_, "sum(rate(m[2m]))", 99 * 1000);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorType(v.status()), "execution");
  EXPECT_EQ(v.status().message(),
            "query processing would load too many samples into memory in query execution");
  EXPECT_EQ(engine.limit_hits().max_samples, 1);
  EXPECT_EQ(engine.limit_hits().timeout, 0);
  // Within the limit it works: 10 series x 100 samples is 1000.
  o.max_samples = 5000;
  Engine bigger(o);
  v = bigger.InstantQuery(storage_, "sum(rate(m[2m]))", 99 * 1000);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(bigger.limit_hits().max_samples, 0);
  ASSERT_EQ(v->vector.size(), 1u);
  // Each series is 0, 1, ..., 99 at 1 s intervals; the window [-21 s, 99 s] holds all
  // of it. Extrapolation stops at the counter's zero point (t=0) and at the last
  // sample (= window end), so increase = 99 over a 120 s range: 0.825/s per series.
  EXPECT_NEAR(v->vector[0].v, 8.25, 1e-9);
}

TEST_F(EngineTest, Timeout) {
  for (int s = 0; s < 2000; ++s)
    storage_.Add(Labels{{"__name__", "m"}, {"s", std::to_string(s)}}, 0, 1);
  EngineOptions o;
  o.timeout = absl::Nanoseconds(1);
  Engine engine(o);
  absl::StatusOr<Value> v = engine.InstantQuery(storage_, "sum(m)", 0);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrorType(v.status()), "timeout");
  EXPECT_THAT(std::string(v.status().message()), StartsWith("query timed out in "));
  EXPECT_EQ(engine.limit_hits().timeout + engine.limit_hits().queue_timeout, 1);
  EXPECT_EQ(engine.limit_hits().max_samples, 0);
}

TEST_F(EngineTest, Cancelled) {
  for (int s = 0; s < 2000; ++s)
    storage_.Add(Labels{{"__name__", "m"}, {"s", std::to_string(s)}}, 0, 1);
  Engine engine(EngineOptions{});
  std::atomic<bool> cancelled{true};
  QueryControl ctl;
  ctl.cancelled = &cancelled;
  absl::StatusOr<Value> v = engine.InstantQuery(storage_, "sum(m)", 0, ctl);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(ErrorType(v.status()), "canceled");
  EXPECT_EQ(v.status().message(), "query was canceled in expression evaluation");
}

// A Queryable whose NewQuerier blocks until released, to hold a query slot.
class BlockingQueryable final : public storage::Queryable {
 public:
  explicit BlockingQueryable(storage::Queryable* inner) : inner_(inner) {}
  absl::StatusOr<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint,
                                                               int64_t maxt) override {
    std::unique_lock<std::mutex> l(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(l, [&] { return released_; });
    return inner_->NewQuerier(mint, maxt);
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return entered_; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  storage::Queryable* inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, released_ = false;
};

TEST_F(EngineTest, ConcurrencyLimitQueuesThenTimesOut) {
  storage_.Add(Labels{{"__name__", "m"}}, 0, 7);
  EngineOptions o;
  o.max_concurrent_queries = 1;
  o.timeout = absl::Milliseconds(200);
  Engine engine(o);
  BlockingQueryable blocking(&storage_);
  absl::StatusOr<Value> first;
  std::thread t([&] { first = engine.InstantQuery(blocking, "m", 0); });
  blocking.WaitEntered();
  // The only slot is taken: the second query waits in the queue until its timeout.
  absl::StatusOr<Value> second = engine.InstantQuery(storage_, "m", 0);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(second.status().message(), "query timed out in query queue");
  EXPECT_EQ(engine.limit_hits().queue_timeout, 1);
  EXPECT_EQ(engine.limit_hits().timeout, 0);  // the queue wait is counted apart
  blocking.Release();
  t.join();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->vector.size(), 1u);
  EXPECT_EQ(first->vector[0].v, 7);
  // The slot is free again.
  absl::StatusOr<Value> third = engine.InstantQuery(storage_, "m", 0);
  ASSERT_TRUE(third.ok()) << third.status();
}

TEST_F(EngineTest, RangeQueryShapes) {
  // b sorts before a only by labels: the matrix is sorted by labels.
  for (int i = 0; i <= 10; ++i) {
    storage_.Add(Labels{{"__name__", "m"}, {"i", "2"}}, i * kMin, i);
    storage_.Add(Labels{{"__name__", "m"}, {"i", "1"}}, i * kMin, 10 * i);
  }
  Engine engine(EngineOptions{});
  absl::StatusOr<Value> v = engine.RangeQuery(storage_, "m", 0, 10 * kMin, 2 * kMin);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->type, ValueType::kMatrix);
  ASSERT_EQ(v->matrix.size(), 2u);
  EXPECT_EQ(v->matrix[0].labels.Get("i"), "1");
  ASSERT_EQ(v->matrix[0].points.size(), 6u);
  EXPECT_EQ(v->matrix[0].points[3], (Sample{6 * kMin, 60}));

  v = engine.RangeQuery(storage_, "time()", 0, 2 * kMin, kMin);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->matrix.size(), 1u);
  EXPECT_TRUE(v->matrix[0].labels.empty());
  EXPECT_EQ(v->matrix[0].points, (std::vector<Sample>{{0, 0}, {kMin, 60}, {2 * kMin, 120}}));

  v = engine.RangeQuery(storage_, "m[5m]", 0, kMin, kMin);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ErrorType(v.status()), "bad_data");
  EXPECT_EQ(v.status().message(),
            "invalid expression type \"range vector\" for range query, must be Scalar or instant "
            "Vector");
  EXPECT_FALSE(engine.RangeQuery(storage_, "m", 0, kMin, 0).ok());
  EXPECT_FALSE(engine.RangeQuery(storage_, "m", kMin, 0, kMin).ok());

  // An instant query of a range vector gives the raw samples of the window.
  v = engine.InstantQuery(storage_, "m{i=\"2\"}[2m]", 5 * kMin);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->type, ValueType::kMatrix);
  ASSERT_EQ(v->matrix.size(), 1u);
  EXPECT_EQ(v->matrix[0].points,
            (std::vector<Sample>{{3 * kMin, 3}, {4 * kMin, 4}, {5 * kMin, 5}}));

  v = engine.InstantQuery(storage_, "\"hello\"", 5 * kMin);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->type, ValueType::kString);
  EXPECT_EQ(v->string_value, "hello");
}

TEST_F(EngineTest, StorageRangeCoversOffsetAndLookback) {
  storage_.Add(Labels{{"__name__", "m"}}, 0, 1);
  Engine engine(EngineOptions{});
  ASSERT_TRUE(engine.InstantQuery(storage_, "m offset 1h", 3 * 3600 * 1000).ok());
  EXPECT_EQ(storage_.last_mint(), 2 * 3600 * 1000 - 5 * kMin);
  EXPECT_EQ(storage_.last_maxt(), 2 * 3600 * 1000);
  ASSERT_TRUE(engine
                  .RangeQuery(storage_, "rate(m[10m]) + max_over_time(m[30m:1m] @ 100)",
                              3600 * 1000, 7200 * 1000, kMin)
                  .ok());
  // The subquery at @100s reaches back 30m from 100 s; rate reaches 10m before start.
  EXPECT_EQ(storage_.last_mint(), 100 * 1000 - 30 * kMin - 5 * kMin);
  EXPECT_EQ(storage_.last_maxt(), 7200 * 1000);
}

TEST_F(EngineTest, LookbackDeltaIsConfigurable) {
  storage_.Add(Labels{{"__name__", "m"}}, 0, 1);
  EngineOptions o;
  o.lookback_delta = absl::Minutes(1);
  Engine engine(o);
  absl::StatusOr<Value> v = engine.InstantQuery(storage_, "m", kMin);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->vector.size(), 1u);  // exactly one lookback delta old: still visible
  v = engine.InstantQuery(storage_, "m", kMin + 1);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->vector.empty());
}

TEST_F(EngineTest, StaleMarkerEndsSeries) {
  storage_.Add(Labels{{"__name__", "m"}}, 0, 1);
  storage_.Add(Labels{{"__name__", "m"}}, kMin, StaleNaN());
  Engine engine(EngineOptions{});
  absl::StatusOr<Value> v = engine.RangeQuery(storage_, "m", 0, 2 * kMin, 30 * 1000);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->matrix.size(), 1u);
  EXPECT_EQ(v->matrix[0].points, (std::vector<Sample>{{0, 1}, {30 * 1000, 1}}));
}

// Regression: `or` produced two result series with the same labels when the left and
// right side supplied them at different steps of a range query.
TEST_F(EngineTest, OrMergesSameLabelsAcrossSteps) {
  for (int i = 0; i <= 10; ++i) storage_.Add(Labels{{"__name__", "m"}}, i * kMin, i);
  Engine engine(EngineOptions{});
  absl::StatusOr<Value> v =
      engine.RangeQuery(storage_, "(m < 3) or (m offset 1m)", 0, 10 * kMin, kMin);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->matrix.size(), 1u);
  std::vector<Sample> want = {{0, 0}, {kMin, 1}, {2 * kMin, 2}};
  for (int i = 3; i <= 10; ++i) want.push_back({i * kMin, static_cast<double>(i - 1)});
  EXPECT_EQ(v->matrix[0].points, want);
}

}  // namespace
}  // namespace cairn::promql
