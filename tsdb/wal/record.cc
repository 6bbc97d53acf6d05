#include "tsdb/wal/record.h"

#include <bit>

#include "absl/strings/str_cat.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/util/coding.h"
#include "tsdb/util/status_macros.h"

namespace cairn::wal {
namespace {

// Upper bound on entries in one record, against absurd counts in corrupt input
// (a count is checked against the bytes left before anything is reserved, too).
constexpr uint64_t kMaxEntries = 1 << 26;

absl::Status Malformed(std::string_view what, std::string_view detail) {
  return absl::DataLossError(absl::StrCat("malformed ", Sv(what), " record: ", Sv(detail)));
}

absl::Status CheckType(std::string_view* rec, RecordType want, std::string_view what) {
  uint8_t type;
  if (!GetByte(rec, &type)) return Malformed(what, "empty");
  if (type != static_cast<uint8_t>(want)) {
    return Malformed(what, absl::StrCat("type byte ", type));
  }
  return absl::OkStatus();
}

}  // namespace

void EncodeSeries(const std::vector<SeriesRecord>& series, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kSeries));
  PutVarint64(out, series.size());
  for (const SeriesRecord& s : series) {
    PutVarint64(out, s.ref);
    PutLengthPrefixed(out, s.labels.encoded());
  }
}

void EncodeSamples(const std::vector<SampleRecord>& samples, std::string* out) {
  out->push_back(static_cast<char>(kSamplesColumnarTypeByte));
  PutVarint64(out, samples.size());
  if (samples.empty()) return;
  const uint64_t ref0 = samples[0].ref;
  const int64_t t0 = samples[0].t;
  PutVarint64(out, ref0);
  PutSignedVarint64(out, t0);
  // Columns: a batch is mostly consecutive refs at one timestamp, so the first two
  // are runs of equal bytes, and values sit next to values.
  uint64_t prev_ref = ref0;
  for (const SampleRecord& s : samples) {
    PutSignedVarint64(out, static_cast<int64_t>(s.ref - prev_ref));
    prev_ref = s.ref;
  }
  for (const SampleRecord& s : samples) {
    PutSignedVarint64(out,
                      static_cast<int64_t>(static_cast<uint64_t>(s.t) - static_cast<uint64_t>(t0)));
  }
  for (const SampleRecord& s : samples) PutBigEndian64(out, std::bit_cast<uint64_t>(s.v));
}

void EncodeTombstones(const std::vector<TombstoneRecord>& tombstones, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kTombstones));
  PutVarint64(out, tombstones.size());
  for (const TombstoneRecord& t : tombstones) {
    PutVarint64(out, t.ref);
    PutVarint64(out, t.intervals.size());
    for (const Interval& iv : t.intervals) {
      PutSignedVarint64(out, iv.mint);
      PutSignedVarint64(out, iv.maxt);
    }
  }
}

absl::StatusOr<RecordType> PeekRecordType(std::string_view rec) {
  if (rec.empty()) return absl::DataLossError("empty wal record");
  uint8_t t = static_cast<uint8_t>(rec[0]);
  if (t == kSamplesColumnarTypeByte) return RecordType::kSamples;
  if (t < 1 || t > 3) return absl::DataLossError(absl::StrCat("unknown wal record type ", t));
  return static_cast<RecordType>(t);
}

absl::Status DecodeSeries(std::string_view rec, std::vector<SeriesRecord>* out) {
  out->clear();
  if (absl::Status s = CheckType(&rec, RecordType::kSeries, "series"); !s.ok()) return s;
  uint64_t n;
  // Each entry takes at least 2 bytes.
  if (!GetVarint64(&rec, &n) || n > kMaxEntries || n > rec.size() / 2) {
    return Malformed("series", "bad count");
  }
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t ref;
    std::string_view enc;
    if (!GetVarint64(&rec, &ref) || !GetLengthPrefixed(&rec, &enc)) {
      return Malformed("series", absl::StrCat("truncated at entry ", i));
    }
    Labels ls;
    if (!Labels::DecodeChecked(enc, &ls)) {
      return Malformed("series", absl::StrCat("invalid labels for ref ", ref));
    }
    out->push_back({ref, std::move(ls)});
  }
  if (!rec.empty()) return Malformed("series", "trailing bytes");
  return absl::OkStatus();
}

namespace {

// Type byte 4: count, ref0, t0, then the columns (record.h).
// The header both sample encodings share: count, then ref0 and t0 when count > 0.
// Each sample takes at least 10 bytes (two 1-byte varints and a value), which bounds
// the count by the bytes left.
absl::Status DecodeSamplesHeader(std::string_view* rec, uint64_t* n, uint64_t* ref0, int64_t* t0) {
  if (!GetVarint64(rec, n) || *n > kMaxEntries || *n > rec->size() / 10) {
    return Malformed("samples", "bad count");
  }
  if (*n == 0) {
    if (!rec->empty()) return Malformed("samples", "trailing bytes");
    return absl::OkStatus();
  }
  if (!GetVarint64(rec, ref0) || !GetSignedVarint64(rec, t0)) {
    return Malformed("samples", "truncated header");
  }
  return absl::OkStatus();
}

// Type byte 4: the header, then the columns (record.h).
absl::Status DecodeColumnarSamples(std::string_view rec, std::vector<SampleRecord>* out) {
  uint64_t n, ref;
  int64_t t0;
  CAIRN_RETURN_IF_ERROR(DecodeSamplesHeader(&rec, &n, &ref, &t0));
  if (n == 0) return absl::OkStatus();
  out->resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    int64_t dref;
    if (!GetSignedVarint64(&rec, &dref)) {
      return Malformed("samples", absl::StrCat("truncated ref at sample ", i));
    }
    ref += static_cast<uint64_t>(dref);
    (*out)[i].ref = ref;
  }
  for (uint64_t i = 0; i < n; ++i) {
    int64_t dt;
    if (!GetSignedVarint64(&rec, &dt)) {
      return Malformed("samples", absl::StrCat("truncated timestamp at sample ", i));
    }
    (*out)[i].t = static_cast<int64_t>(static_cast<uint64_t>(t0) + static_cast<uint64_t>(dt));
  }
  if (rec.size() != n * 8) {
    out->clear();
    return Malformed("samples", rec.size() < n * 8 ? "truncated values" : "trailing bytes");
  }
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t bits;
    GetBigEndian64(&rec, &bits);
    (*out)[i].v = std::bit_cast<double>(bits);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeSamples(std::string_view rec, std::vector<SampleRecord>* out) {
  out->clear();
  if (!rec.empty() && static_cast<uint8_t>(rec[0]) == kSamplesColumnarTypeByte) {
    rec.remove_prefix(1);
    absl::Status s = DecodeColumnarSamples(rec, out);
    if (!s.ok()) out->clear();
    return s;
  }
  if (absl::Status s = CheckType(&rec, RecordType::kSamples, "samples"); !s.ok()) return s;
  uint64_t n, ref0;
  int64_t t0;
  CAIRN_RETURN_IF_ERROR(DecodeSamplesHeader(&rec, &n, &ref0, &t0));
  if (n == 0) return absl::OkStatus();
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    int64_t dref, dt;
    uint64_t bits;
    if (!GetSignedVarint64(&rec, &dref) || !GetSignedVarint64(&rec, &dt) ||
        !GetBigEndian64(&rec, &bits)) {
      return Malformed("samples", absl::StrCat("truncated at sample ", i));
    }
    out->push_back({ref0 + static_cast<uint64_t>(dref),
                    static_cast<int64_t>(static_cast<uint64_t>(t0) + static_cast<uint64_t>(dt)),
                    std::bit_cast<double>(bits)});
  }
  if (!rec.empty()) return Malformed("samples", "trailing bytes");
  return absl::OkStatus();
}

absl::Status DecodeTombstones(std::string_view rec, std::vector<TombstoneRecord>* out) {
  out->clear();
  if (absl::Status s = CheckType(&rec, RecordType::kTombstones, "tombstones"); !s.ok()) return s;
  uint64_t n;
  if (!GetVarint64(&rec, &n) || n > kMaxEntries || n > rec.size() / 2) {
    return Malformed("tombstones", "bad count");
  }
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    TombstoneRecord t;
    uint64_t k;
    if (!GetVarint64(&rec, &t.ref) || !GetVarint64(&rec, &k) || k > rec.size() / 2) {
      return Malformed("tombstones", absl::StrCat("truncated at entry ", i));
    }
    for (uint64_t j = 0; j < k; ++j) {
      Interval iv;
      if (!GetSignedVarint64(&rec, &iv.mint) || !GetSignedVarint64(&rec, &iv.maxt)) {
        return Malformed("tombstones", absl::StrCat("truncated at entry ", i));
      }
      t.intervals.push_back(iv);
    }
    out->push_back(std::move(t));
  }
  if (!rec.empty()) return Malformed("tombstones", "trailing bytes");
  return absl::OkStatus();
}

}  // namespace cairn::wal
