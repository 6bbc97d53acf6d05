// cairnctl loadgen: remote-write load for Cairn or Prometheus, over HTTP
// (snappy protobuf, /api/v1/write) or gRPC (cairn.v1.Ingest/Write).
//
// It simulates `series` exporter series scraped every `interval_ms` for `rounds`
// rounds, as fast as the server accepts them (backfill), with a realistic value mix:
// counters growing by varying amounts with occasional resets, gauges with 2-3
// decimals, constants; timestamps carry a few ms of jitter. `concurrency` workers
// each own a slice of the series and send `batch_series` series per request.
#ifndef CAIRN_TOOLS_LOADGEN_H_
#define CAIRN_TOOLS_LOADGEN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace cairn::tools {

struct LoadgenOptions {
  std::string url;          // http://host:port/api/v1/write, or empty with grpc_target
  std::string grpc_target;  // host:port
  int64_t series = 10000;
  int64_t rounds = 40;  // samples per series
  int64_t interval_ms = 15000;
  int64_t start_ms = 0;  // 0: now - rounds * interval
  int concurrency = 4;
  int64_t batch_series = 500;
  bool progress = true;
};

struct LoadgenResult {
  int64_t samples_sent = 0;
  int64_t requests = 0;
  int64_t errors = 0;
  double seconds = 0;
  std::string first_error;
};

absl::StatusOr<LoadgenResult> RunLoadgen(const LoadgenOptions& opts);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_LOADGEN_H_
