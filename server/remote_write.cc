#include "server/remote_write.h"

#include <snappy.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/model/labels.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/util/coding.h"

namespace cairn::server {
namespace {

constexpr std::string_view kLimitPayloadUrl = "type.cairn.dev/write-limit";

// A kResourceExhausted status for a request over `limit`, naming the flag.
absl::Status LimitError(std::string_view limit, std::string_view flag, std::string message) {
  absl::Status s = absl::ResourceExhaustedError(absl::StrCat(message, " (--", Sv(flag), ")"));
  s.SetPayload(Sv(kLimitPayloadUrl), absl::Cord(Sv(limit)));
  return s;
}

// Converts one series' labels, validating them. `builder_pairs` is reused scratch.
absl::Status ConvertLabels(const prometheus::TimeSeries& ts, size_t index,
                           const RemoteWriteLimits& limits,
                           std::vector<std::pair<std::string, std::string>>* pairs, Labels* out) {
  auto fail = [&](std::string_view what) {
    std::string rendered;
    for (const auto& l : ts.labels()) {
      absl::StrAppend(&rendered, rendered.empty() ? "" : ", ", l.name(), "=\"", l.value(), "\"");
    }
    return absl::InvalidArgumentError(absl::StrFormat("series %d {%s}: %s", index, rendered, what));
  };
  if (static_cast<size_t>(ts.labels_size()) > limits.max_labels_per_series) {
    return LimitError(kLimitLabelsPerSeries, "storage.remote-write.max-labels-per-series",
                      absl::StrFormat("series %d has %d labels, more than the limit of %d", index,
                                      ts.labels_size(), limits.max_labels_per_series));
  }
  // Fast path: senders (Prometheus among them) send labels sorted by name; then the
  // encoding is built directly, without the pairs vector or a sort.
  bool sorted = true;
  for (int i = 1; i < ts.labels_size() && sorted; ++i) {
    sorted = ts.labels(i - 1).name() < ts.labels(i).name();
  }
  pairs->clear();
  bool has_name = false;
  for (const auto& l : ts.labels()) {
    if (l.name().size() > limits.max_label_name_bytes) {
      return LimitError(kLimitLabelNameLength, "storage.remote-write.max-label-name-length",
                        absl::StrFormat("series %d: label name %s... is %d bytes long, more than "
                                        "the limit of %d",
                                        index, l.name().substr(0, 64), l.name().size(),
                                        limits.max_label_name_bytes));
    }
    if (l.value().size() > limits.max_label_value_bytes) {
      return LimitError(kLimitLabelValueLength, "storage.remote-write.max-label-value-length",
                        absl::StrFormat("series %d: the value of label %s is %d bytes long, more "
                                        "than the limit of %d",
                                        index, l.name().substr(0, 64), l.value().size(),
                                        limits.max_label_value_bytes));
    }
    if (!IsValidLabelName(l.name())) {
      return fail(absl::StrFormat("invalid label name \"%s\"", l.name()));
    }
    if (l.name() == kMetricNameLabel) {
      if (l.value().empty()) return fail("empty metric name");
      has_name = true;
    }
    for (const auto& p : *pairs) {
      if (p.first == l.name())
        return fail(absl::StrFormat("duplicate label name \"%s\"", l.name()));
    }
    pairs->emplace_back(l.name(), l.value());
  }
  if (!has_name) return fail("missing metric name (__name__ label)");
  if (sorted) {
    std::string enc;
    size_t n = 0;
    for (const auto& l : ts.labels()) n += l.name().size() + l.value().size() + 4;
    enc.reserve(n);
    for (const auto& l : ts.labels()) {
      if (l.value().empty()) continue;  // an empty value means "no such label"
      PutLengthPrefixed(&enc, l.name());
      PutLengthPrefixed(&enc, l.value());
    }
    *out = Labels::FromEncoded(std::move(enc));
    return absl::OkStatus();
  }
  *out = Labels::FromPairs(*pairs);
  return absl::OkStatus();
}

}  // namespace

std::string WriteLimitHit(const absl::Status& status) {
  auto p = status.GetPayload(Sv(kLimitPayloadUrl));
  return p.has_value() ? std::string(*p) : std::string();
}

int RemoteWriteHttpStatus(const absl::Status& status) {
  if (status.ok()) return 204;
  std::string limit = WriteLimitHit(status);
  // A snappy bomb is bad data (400, as the remote-write issue asks); a request that is
  // merely too big for this server's per-request limits is 413.
  if (limit == kLimitSeriesPerRequest || limit == kLimitSamplesPerRequest) return 413;
  if (status.code() == absl::StatusCode::kInvalidArgument ||
      status.code() == absl::StatusCode::kResourceExhausted) {
    return 400;
  }
  return 500;
}

absl::Status DecodeSnappyWriteRequest(std::string_view body, const RemoteWriteLimits& limits,
                                      prometheus::WriteRequest* out) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &len)) {
    return absl::InvalidArgumentError("snappy: corrupt input (bad length header)");
  }
  if (len > limits.max_decompressed_bytes) {
    return LimitError(
        kLimitDecompressedBytes, "storage.remote-write.max-decompressed-size",
        absl::StrFormat("decompressed request would be %d bytes, more than the limit of %d", len,
                        limits.max_decompressed_bytes));
  }
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) {
    return absl::InvalidArgumentError("snappy: corrupt input");
  }
  if (!out->ParseFromString(raw)) {
    return absl::InvalidArgumentError("protobuf: cannot parse WriteRequest");
  }
  return absl::OkStatus();
}

absl::Status IngestWriteRequest(const prometheus::WriteRequest& req,
                                const RemoteWriteLimits& limits, storage::Appendable* db,
                                RemoteWriteResult* result) {
  if (static_cast<size_t>(req.timeseries_size()) > limits.max_series_per_request) {
    return LimitError(kLimitSeriesPerRequest, "storage.remote-write.max-series-per-request",
                      absl::StrFormat("request has %d series, more than the limit of %d",
                                      req.timeseries_size(), limits.max_series_per_request));
  }
  size_t samples = 0;
  for (const auto& ts : req.timeseries()) samples += ts.samples_size();
  if (samples > limits.max_samples_per_request) {
    return LimitError(kLimitSamplesPerRequest, "storage.remote-write.max-samples-per-request",
                      absl::StrFormat("request has %d samples, more than the limit of %d", samples,
                                      limits.max_samples_per_request));
  }
  // Validate everything before appending anything.
  std::vector<Labels> labels(req.timeseries_size());
  std::vector<std::pair<std::string, std::string>> scratch;
  for (int i = 0; i < req.timeseries_size(); ++i) {
    absl::Status s = ConvertLabels(req.timeseries(i), i, limits, &scratch, &labels[i]);
    if (!s.ok()) return s;
  }
  std::unique_ptr<storage::Appender> app = db->NewAppender();
  for (int i = 0; i < req.timeseries_size(); ++i) {
    storage::SeriesRef ref = 0;
    for (const auto& sample : req.timeseries(i).samples()) {
      absl::StatusOr<storage::SeriesRef> r =
          app->Append(ref, labels[i], sample.timestamp(), sample.value());
      if (r.ok()) {
        ref = *r;
        ++result->samples_accepted;
        continue;
      }
      std::optional<storage::RejectReason> reason = storage::GetRejectReason(r.status());
      if (!reason.has_value()) {
        app->Rollback();
        return r.status();
      }
      ++result->samples_rejected;
      ++result->rejected_by_reason[static_cast<int>(*reason)];
      if (result->first_rejection.ok()) {
        result->first_rejection = r.status();
        if (*reason == storage::RejectReason::kLimit) {
          // The head's series limit: name the flag that sets it.
          result->first_rejection =
              absl::Status(r.status().code(),
                           absl::StrCat(r.status().message(), " (--storage.tsdb.max-series)"));
        }
      }
    }
  }
  absl::Status s = app->Commit();
  if (!s.ok()) {
    result->samples_rejected += result->samples_accepted;
    result->samples_accepted = 0;
    // The request was fine; the server could not store it (a full disk is
    // kResourceExhausted in storage). Unavailable makes it a 5xx / gRPC UNAVAILABLE,
    // so senders keep the batch and retry instead of dropping it as bad data.
    return absl::UnavailableError(s.message());
  }
  return s;
}

}  // namespace cairn::server
