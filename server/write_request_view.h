// WriteRequestView: a Prometheus remote-write WriteRequest (prometheus/prompb
// remote.proto and types.proto) parsed without copying: label names and values are
// string_views into the caller's buffer, samples sit in one flat array.
//
// Why not libprotobuf here: on the remote-write hot path the generated parser
// allocates a std::string for every label longer than 15 bytes (even on an arena)
// and a message object per label and sample; parsing and those allocations were a
// third of the server's ingest CPU. The wire format of these four messages is small
// and fixed, so the HTTP endpoint reads it directly. The gRPC service, which gets a
// parsed message from gRPC, builds a view over that message (FromMessage), so both
// paths share one validation and ingestion path (remote_write.h).
//
// Parse() follows protobuf's rules for the fields it reads: unknown fields (metadata,
// exemplars, native histograms, fields added later) are skipped by wire type, a known
// field number with an unexpected wire type is skipped as unknown, a repeated scalar
// field keeps its last value, and strings must be valid UTF-8 (proto3). Errors are
// kInvalidArgument naming what was malformed ("protobuf: ...").
//
// Memory: the arrays are reused across Parse() calls, so a view kept per thread
// allocates nothing in steady state. Thread-safety: none.
#ifndef CAIRN_SERVER_WRITE_REQUEST_VIEW_H_
#define CAIRN_SERVER_WRITE_REQUEST_VIEW_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "proto/prometheus/remote.pb.h"
#include "tsdb/model/sample.h"

namespace cairn::server {

struct LabelView {
  std::string_view name;
  std::string_view value;
};

class WriteRequestView {
 public:
  // Bounds on what Parse() stores, so that a request of tiny messages cannot make it
  // allocate far more than its own size. Over one, Parse() stops with
  // kResourceExhausted and limit_hit() says which.
  struct Limits {
    size_t max_series = SIZE_MAX;
    size_t max_samples = SIZE_MAX;
    size_t max_labels_per_series = SIZE_MAX;
  };
  enum class LimitHit { kNone, kSeries, kSamples, kLabelsPerSeries };

  // Parses `wire`, which must outlive the view's use.
  absl::Status Parse(std::string_view wire, const Limits& limits);
  LimitHit limit_hit() const { return limit_hit_; }
  // A view of `msg`, which must outlive the view's use.
  void FromMessage(const prometheus::WriteRequest& msg);

  size_t num_series() const { return series_.size(); }
  size_t num_samples() const { return samples_.size(); }
  absl::Span<const LabelView> labels(size_t series) const {
    const Series& s = series_[series];
    return absl::MakeConstSpan(labels_.data() + s.labels_begin, s.labels_end - s.labels_begin);
  }
  absl::Span<const Sample> samples(size_t series) const {
    const Series& s = series_[series];
    return absl::MakeConstSpan(samples_.data() + s.samples_begin, s.samples_end - s.samples_begin);
  }

 private:
  struct Series {
    uint32_t labels_begin, labels_end, samples_begin, samples_end;
  };
  absl::Status ParseTimeSeries(std::string_view wire, const Limits& limits);
  absl::Status OverLimit(LimitHit which, std::string_view what);
  void Clear();

  LimitHit limit_hit_ = LimitHit::kNone;
  std::vector<LabelView> labels_;
  std::vector<Sample> samples_;
  std::vector<Series> series_;
};

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), as protobuf requires of proto3 strings.
bool IsValidUtf8(std::string_view s);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_WRITE_REQUEST_VIEW_H_
