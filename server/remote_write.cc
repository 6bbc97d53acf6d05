#include "server/remote_write.h"

#include <snappy.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/model/labels.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/util/coding.h"
#include "tsdb/util/status_macros.h"

namespace cairn::server {
namespace {

constexpr std::string_view kLimitPayloadUrl = "type.cairn.dev/write-limit";

// A kResourceExhausted status for a request over `limit`, naming the flag.
absl::Status LimitError(std::string_view limit, std::string_view flag, std::string message) {
  absl::Status s = absl::ResourceExhaustedError(absl::StrCat(message, " (--", Sv(flag), ")"));
  s.SetPayload(Sv(kLimitPayloadUrl), absl::Cord(Sv(limit)));
  return s;
}

// Converts one series' labels, validating them. `seen` and `enc` are reused scratch;
// `out` is overwritten, its buffer reused.
absl::Status ConvertLabels(absl::Span<const LabelView> ts_labels, size_t index,
                           const RemoteWriteLimits& limits, std::vector<std::string_view>* seen,
                           std::string* enc, Labels* out) {
  auto fail = [&](std::string_view what) {
    std::string rendered;
    for (const LabelView& l : ts_labels) {
      absl::StrAppend(&rendered, rendered.empty() ? "" : ", ", Sv(l.name), "=\"", Sv(l.value),
                      "\"");
    }
    return absl::InvalidArgumentError(absl::StrFormat("series %d {%s}: %s", index, rendered, what));
  };
  if (ts_labels.size() > limits.max_labels_per_series) {
    return LimitError(kLimitLabelsPerSeries, "storage.remote-write.max-labels-per-series",
                      absl::StrFormat("series %d has %d labels, more than the limit of %d", index,
                                      ts_labels.size(), limits.max_labels_per_series));
  }
  // Fast path: senders (Prometheus among them) send labels sorted by name; then the
  // encoding is built directly, without the pairs vector or a sort.
  bool sorted = true;
  for (size_t i = 1; i < ts_labels.size() && sorted; ++i) {
    sorted = ts_labels[i - 1].name < ts_labels[i].name;
  }
  seen->clear();
  bool has_name = false;
  for (const LabelView& lv : ts_labels) {
    const std::string_view name = lv.name, value = lv.value;
    if (name.size() > limits.max_label_name_bytes) {
      return LimitError(
          kLimitLabelNameLength, "storage.remote-write.max-label-name-length",
          absl::StrFormat("series %d: label name %s... is %d bytes long, more than "
                          "the limit of %d",
                          index, Sv(name.substr(0, 64)), name.size(), limits.max_label_name_bytes));
    }
    if (value.size() > limits.max_label_value_bytes) {
      return LimitError(kLimitLabelValueLength, "storage.remote-write.max-label-value-length",
                        absl::StrFormat("series %d: the value of label %s is %d bytes long, more "
                                        "than the limit of %d",
                                        index, Sv(name.substr(0, 64)), value.size(),
                                        limits.max_label_value_bytes));
    }
    if (!IsValidLabelName(name)) {
      return fail(absl::StrFormat("invalid label name \"%s\"", Sv(name)));
    }
    if (name == kMetricNameLabel) {
      if (value.empty()) return fail("empty metric name");
      has_name = true;
    }
    if (!sorted) {  // strictly ascending names cannot repeat
      for (std::string_view prev : *seen) {
        if (prev == name) return fail(absl::StrFormat("duplicate label name \"%s\"", Sv(name)));
      }
      seen->push_back(name);
    }
  }
  if (!has_name) return fail("missing metric name (__name__ label)");
  if (sorted) {
    enc->clear();
    for (const LabelView& l : ts_labels) {
      if (l.value.empty()) continue;  // an empty value means "no such label"
      PutLengthPrefixed(enc, l.name);
      PutLengthPrefixed(enc, l.value);
    }
    out->AssignEncoded(*enc);
    return absl::OkStatus();
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(ts_labels.size());
  for (const LabelView& l : ts_labels) pairs.emplace_back(l.name, l.value);
  *out = Labels::FromPairs(std::move(pairs));
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

namespace {

// Checks the snappy header against the decompressed-size limit and decompresses.
absl::Status Decompress(std::string_view body, const RemoteWriteLimits& limits, std::string* raw) {
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
  if (!snappy::Uncompress(body.data(), body.size(), raw)) {
    return absl::InvalidArgumentError("snappy: corrupt input");
  }
  return absl::OkStatus();
}

// `what` is "N series" / "N samples", or "more series" / "more samples" when parsing
// stopped at the limit without counting the rest.
absl::Status SeriesLimitError(std::string_view what, const RemoteWriteLimits& limits) {
  return LimitError(kLimitSeriesPerRequest, "storage.remote-write.max-series-per-request",
                    absl::StrFormat("request has %s than the limit of %d", Sv(what),
                                    limits.max_series_per_request));
}
absl::Status SamplesLimitError(std::string_view what, const RemoteWriteLimits& limits) {
  return LimitError(kLimitSamplesPerRequest, "storage.remote-write.max-samples-per-request",
                    absl::StrFormat("request has %s than the limit of %d", Sv(what),
                                    limits.max_samples_per_request));
}

}  // namespace

absl::Status DecodeSnappyWriteRequest(std::string_view body, const RemoteWriteLimits& limits,
                                      std::string* raw, WriteRequestView* out) {
  CAIRN_RETURN_IF_ERROR(Decompress(body, limits, raw));
  // Parsing stops one past each per-request limit, so a request of tiny messages is
  // refused before its arrays outgrow the request itself.
  WriteRequestView::Limits parse_limits;
  parse_limits.max_series = limits.max_series_per_request + 1;
  parse_limits.max_samples = limits.max_samples_per_request + 1;
  parse_limits.max_labels_per_series = limits.max_labels_per_series + 1;
  absl::Status s = out->Parse(*raw, parse_limits);
  if (s.ok() || s.code() != absl::StatusCode::kResourceExhausted) return s;
  switch (out->limit_hit()) {
    case WriteRequestView::LimitHit::kSeries:
      return SeriesLimitError("more series", limits);
    case WriteRequestView::LimitHit::kSamples:
      return SamplesLimitError("more samples", limits);
    case WriteRequestView::LimitHit::kLabelsPerSeries:
      return LimitError(kLimitLabelsPerSeries, "storage.remote-write.max-labels-per-series",
                        absl::StrFormat("series %d has more labels than the limit of %d",
                                        out->num_series(), limits.max_labels_per_series));
    case WriteRequestView::LimitHit::kNone:
      break;
  }
  return s;
}

absl::Status IngestWriteRequest(const prometheus::WriteRequest& req,
                                const RemoteWriteLimits& limits, storage::Appendable* db,
                                RemoteWriteResult* result) {
  WriteRequestView view;
  view.FromMessage(req);
  return IngestWriteRequest(view, limits, db, result);
}

absl::Status IngestWriteRequest(const WriteRequestView& req, const RemoteWriteLimits& limits,
                                storage::Appendable* db, RemoteWriteResult* result) {
  if (req.num_series() > limits.max_series_per_request) {
    return SeriesLimitError(absl::StrCat(req.num_series(), " series, more"), limits);
  }
  const size_t samples = req.num_samples();
  if (samples > limits.max_samples_per_request) {
    return SamplesLimitError(absl::StrCat(samples, " samples, more"), limits);
  }
  // Validate everything before appending anything. The label sets of requests of
  // usual size are converted into a per-thread set of Labels whose buffers stay
  // allocated from one request to the next: at steady state (known series) this
  // conversion was a malloc and a free per series, for a lookup key.
  // What a thread keeps is bounded: at most kCachedSeries sets, each trimmed to
  // kCachedBytes when the request is done (a request of huge label sets must not leave
  // them allocated).
  constexpr size_t kCachedSeries = 4096, kCachedBytes = 1024;
  thread_local std::vector<Labels> cached;
  thread_local std::string enc;
  std::vector<Labels> large;
  std::vector<Labels>& labels = req.num_series() <= kCachedSeries ? cached : large;
  if (labels.size() < req.num_series()) labels.resize(req.num_series());
  struct Trim {
    std::vector<Labels>* labels;
    size_t n;
    ~Trim() {
      for (size_t i = 0; i < n; ++i) {
        if ((*labels)[i].ByteSize() > kCachedBytes) (*labels)[i] = Labels();
      }
      if (enc.capacity() > kCachedBytes) std::string().swap(enc);
    }
  } trim{&labels, req.num_series()};
  std::vector<std::string_view> scratch;
  for (size_t i = 0; i < req.num_series(); ++i) {
    absl::Status s = ConvertLabels(req.labels(i), i, limits, &scratch, &enc, &labels[i]);
    if (!s.ok()) return s;
  }
  std::unique_ptr<storage::Appender> app = db->NewAppender();
  for (size_t i = 0; i < req.num_series(); ++i) {
    storage::SeriesRef ref = 0;
    for (const Sample& sample : req.samples(i)) {
      absl::StatusOr<storage::SeriesRef> r = app->Append(ref, labels[i], sample.t, sample.v);
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
