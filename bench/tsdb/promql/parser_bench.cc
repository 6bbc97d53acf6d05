// Parse throughput of typical dashboard and rule queries: the HTTP API and the
// rule manager parse every query they run, so parsing is on the request path.
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "tsdb/promql/parser.h"

namespace cairn::promql {
namespace {

const std::vector<std::string>& Queries() {
  static const auto* q = new std::vector<std::string>{
      "up",
      "rate(http_requests_total{job=\"api\",code=~\"5..\"}[5m])",
      "sum by (job, instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[1m])) / on (job, "
      "instance) group_left count by (job, instance) (node_cpu_seconds_total{mode=\"idle\"})",
      "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
      "max_over_time(deriv(rate(distance_covered_total[5s])[30s:5s])[10m:])",
      "topk(5, sum without (instance) (rate(errors_total[1h] offset 1d @ 1609746000)))",
  };
  return *q;
}

void BM_ParseExpr(benchmark::State& state) {
  const std::string& query = Queries()[state.range(0)];
  for (auto _ : state) {
    auto e = ParseExpr(query);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(query.size()));
}
BENCHMARK(BM_ParseExpr)->DenseRange(0, 5);

void BM_ToString(benchmark::State& state) {
  auto e = ParseExpr(Queries()[state.range(0)]);
  for (auto _ : state) {
    std::string s = ToString(**e);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ToString)->DenseRange(0, 5);

}  // namespace
}  // namespace cairn::promql
