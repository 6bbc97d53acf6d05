// Prometheus remote-write 1.0 ingestion, shared by the HTTP endpoint
// (/api/v1/write: snappy-compressed protobuf) and the gRPC Ingest service (plain
// protobuf): decoding with bounds, validation, and appending to storage.
//
// Semantics (docs/api.md): every series is validated first — label names must match
// [a-zA-Z_][a-zA-Z0-9_]*, no name may repeat, __name__ must be present and non-empty;
// a request with any invalid series is refused whole (400 / INVALID_ARGUMENT) and
// nothing is stored, so a sender's bug is visible at once. Samples that storage
// refuses (out of order, duplicate, too old) are counted per reason and skipped; the
// valid samples of the request are committed, and the request is answered with 400
// naming the first refused sample, as Prometheus does, so senders do not retry it.
#ifndef CAIRN_SERVER_REMOTE_WRITE_H_
#define CAIRN_SERVER_REMOTE_WRITE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "proto/prometheus/remote.pb.h"
#include "server/write_request_view.h"
#include "tsdb/storage/append_error.h"
#include "tsdb/storage/appender.h"

namespace cairn::server {

// Per-request limits of remote write and gRPC ingestion (flags in docs/limits.md).
// A request over any of them is refused whole with kResourceExhausted; the status
// names the flag and carries the limit's name (WriteLimitHit).
struct RemoteWriteLimits {
  size_t max_decompressed_bytes = 64 << 20;
  size_t max_series_per_request = 1 << 20;
  size_t max_samples_per_request = 8 << 20;
  size_t max_labels_per_series = 128;
  size_t max_label_name_bytes = 1024;
  size_t max_label_value_bytes = 16 << 10;
};

// Names of the write limits: label values of cairn_limit_hits_total{limit="..."}.
inline constexpr std::string_view kLimitDecompressedBytes = "remote_write_decompressed_bytes";
inline constexpr std::string_view kLimitSeriesPerRequest = "remote_write_series_per_request";
inline constexpr std::string_view kLimitSamplesPerRequest = "remote_write_samples_per_request";
inline constexpr std::string_view kLimitLabelsPerSeries = "remote_write_labels_per_series";
inline constexpr std::string_view kLimitLabelNameLength = "remote_write_label_name_length";
inline constexpr std::string_view kLimitLabelValueLength = "remote_write_label_value_length";

// The name of the write limit `status` reports, or "" when it reports none.
std::string WriteLimitHit(const absl::Status& status);

// The HTTP status remote write answers a refused request with: 413 when the request
// is too large as a whole (decompressed size, series or samples per request), 400
// for invalid series and per-series limits (Prometheus drops such a batch instead
// of retrying it), 500 for storage failures.
int RemoteWriteHttpStatus(const absl::Status& status);

struct RemoteWriteResult {
  uint64_t samples_accepted = 0;
  uint64_t samples_rejected = 0;
  std::array<uint64_t, storage::kRejectReasonCount> rejected_by_reason{};
  // The first refusal, for the response body; OK when none.
  absl::Status first_rejection;
};

// Decompresses (snappy block format) a request body into `*raw` (a reused buffer)
// and parses it into a view over those bytes: no allocation per label or sample
// (write_request_view.h). kInvalidArgument for bad snappy, bad protobuf;
// kResourceExhausted when the decompressed size exceeds the limit (checked from the
// snappy header before any allocation).
// Per-request limits (series, samples, labels per series) are also enforced while
// parsing, so the view never grows far past the request's size.
absl::Status DecodeSnappyWriteRequest(std::string_view body, const RemoteWriteLimits& limits,
                                      std::string* raw, WriteRequestView* out);

// Validates every series of `req` (kInvalidArgument naming the series and the fault,
// kResourceExhausted for limits), then appends and commits its samples. On a
// validation error nothing is appended. Commit failures (e.g. a full disk) come back as
// kUnavailable with the storage's message: the request may succeed when retried.
absl::Status IngestWriteRequest(const WriteRequestView& req, const RemoteWriteLimits& limits,
                                storage::Appendable* db, RemoteWriteResult* result);
// The same for a parsed message (the gRPC service), through a view of it.
absl::Status IngestWriteRequest(const prometheus::WriteRequest& req,
                                const RemoteWriteLimits& limits, storage::Appendable* db,
                                RemoteWriteResult* result);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_REMOTE_WRITE_H_
