// Engine: runs PromQL instant and range queries against a storage::Queryable with
// Prometheus 2.42's semantics (float samples), limits and error messages.
//
//   promql::Engine engine(promql::EngineOptions{});
//   absl::StatusOr<promql::Value> v =
//       engine.RangeQuery(db, "sum by (job) (rate(http_requests_total[5m]))",
//                         start_ms, end_ms, /*step_ms=*/15000);
//   if (!v.ok()) reply(promql::ErrorType(v.status()), v.status().message());
//
// A query parses the expression, opens one Querier covering every time range the
// expression reads (offsets, @, subqueries and lookback included), and evaluates
// the whole range in one pass per AST node (evaluator.h).
//
// Errors carry a canonical code that ErrorType() maps to Prometheus' API error
// types: kInvalidArgument "bad_data" (parse errors, bad parameters),
// kFailedPrecondition / kResourceExhausted "execution" (e.g. "found duplicate series
// for the match group ...", "query processing would load too many samples into
// memory in query execution"), kDeadlineExceeded "timeout", kCancelled "canceled",
// anything else "internal".
//
// Thread-safety: all methods may be called concurrently; at most
// max_concurrent_queries queries run at once, the others wait their turn (the wait
// counts against the query's timeout).
#ifndef CAIRN_TSDB_PROMQL_ENGINE_H_
#define CAIRN_TSDB_PROMQL_ENGINE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tsdb/promql/value.h"
#include "tsdb/storage/querier.h"

namespace cairn::promql {

struct EngineOptions {
  absl::Duration lookback_delta = absl::Minutes(5);
  // Samples a query may hold in memory (loaded from storage plus computed points).
  int64_t max_samples = 50'000'000;
  absl::Duration timeout = absl::Minutes(2);
  int max_concurrent_queries = 20;
  // Step of subqueries written without one (`x[1h:]`); Prometheus uses the global
  // evaluation interval.
  absl::Duration default_subquery_step = absl::Minutes(1);
};

// How often each query limit refused a query, since the engine was created.
struct EngineLimitHits {
  int64_t max_samples = 0;    // EngineOptions::max_samples (kResourceExhausted)
  int64_t timeout = 0;        // the query's timeout ran out while it was evaluated
  int64_t queue_timeout = 0;  // the timeout ran out while waiting for a concurrency slot
};

// Per-query controls.
struct QueryControl {
  // Set to true (from any thread) to stop the query with kCancelled.
  const std::atomic<bool>* cancelled = nullptr;
  // A tighter timeout than the engine's (the API's `timeout` parameter).
  absl::Duration timeout = absl::InfiniteDuration();
};

class Engine {
 public:
  explicit Engine(EngineOptions options);

  // Evaluates `query` at `time_ms`. The result is a Scalar, String, Vector or — for
  // an expression of range type such as `x[5m]` — a Matrix.
  absl::StatusOr<Value> InstantQuery(storage::Queryable& queryable, std::string_view query,
                                     int64_t time_ms, const QueryControl& control = {});

  // Evaluates `query` at start, start+step, ..., end; the result is a Matrix sorted
  // by labels (a scalar expression gives one series without labels).
  // REQUIRES (else kInvalidArgument): step_ms > 0, end_ms >= start_ms, and the
  // expression is of scalar or instant-vector type.
  absl::StatusOr<Value> RangeQuery(storage::Queryable& queryable, std::string_view query,
                                   int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                   const QueryControl& control = {});

  const EngineOptions& options() const { return options_; }
  EngineLimitHits limit_hits() const;

 private:
  // Runs ExecUncounted and counts the limit it hit, if any.
  absl::StatusOr<Value> Exec(storage::Queryable& queryable, std::string_view query,
                             int64_t start_ms, int64_t end_ms, int64_t step_ms, bool instant,
                             const QueryControl& control);
  // Sets *queue_timeout when the query timed out before it got a concurrency slot.
  absl::StatusOr<Value> ExecUncounted(storage::Queryable& queryable, std::string_view query,
                                      int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                      bool instant, const QueryControl& control,
                                      bool* queue_timeout);

  const EngineOptions options_;
  std::mutex mu_;
  std::condition_variable slot_freed_;
  int running_ = 0;  // guarded by mu_
  std::atomic<int64_t> max_samples_hits_{0};
  std::atomic<int64_t> timeout_hits_{0};
  std::atomic<int64_t> queue_timeout_hits_{0};
};

// Prometheus' API error type for an error returned by the engine: "bad_data",
// "execution", "timeout", "canceled" or "internal".
std::string_view ErrorType(const absl::Status& status);

}  // namespace cairn::promql

#endif  // CAIRN_TSDB_PROMQL_ENGINE_H_
