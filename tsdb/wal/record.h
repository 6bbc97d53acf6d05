// WAL record content: what the head logs — series (ref → labels), sample batches and
// tombstones — apart from the framing that stores records in segments (wal.h), as
// Prometheus keeps record/ apart from wlog/. Formats: docs/format/wal.md.
//
// Every record starts with its RecordType byte. Encoders append to `out`; decoders
// validate everything and return kDataLoss naming the fault on malformed input.
#ifndef CAIRN_TSDB_WAL_RECORD_H_
#define CAIRN_TSDB_WAL_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tsdb/model/labels.h"

namespace cairn::wal {

// What a record holds. Samples have two encodings: type byte 2 (one sample after
// another, as written before 2026-12) and type byte 4 (columnar: all ref deltas, then
// all timestamp deltas, then all values, which zstd compresses to about half the
// size). EncodeSamples writes 4; DecodeSamples reads both; PeekRecordType reports
// either as kSamples.
enum class RecordType : uint8_t { kSeries = 1, kSamples = 2, kTombstones = 3 };
inline constexpr uint8_t kSamplesColumnarTypeByte = 4;

struct SeriesRecord {
  uint64_t ref;
  Labels labels;
};

struct SampleRecord {
  uint64_t ref;
  int64_t t;
  double v;
};

struct Interval {
  int64_t mint, maxt;  // inclusive
  friend bool operator==(const Interval&, const Interval&) = default;
};

struct TombstoneRecord {
  uint64_t ref;
  std::vector<Interval> intervals;
};

void EncodeSeries(const std::vector<SeriesRecord>& series, std::string* out);
// Refs and timestamps are stored as signed varint deltas from the first sample's,
// values as raw 64-bit big-endian bits (so NaN payloads survive).
void EncodeSamples(const std::vector<SampleRecord>& samples, std::string* out);
void EncodeTombstones(const std::vector<TombstoneRecord>& tombstones, std::string* out);

absl::StatusOr<RecordType> PeekRecordType(std::string_view rec);
// Decoders replace the contents of `out`.
absl::Status DecodeSeries(std::string_view rec, std::vector<SeriesRecord>* out);
absl::Status DecodeSamples(std::string_view rec, std::vector<SampleRecord>* out);
absl::Status DecodeTombstones(std::string_view rec, std::vector<TombstoneRecord>* out);

}  // namespace cairn::wal

#endif  // CAIRN_TSDB_WAL_RECORD_H_
