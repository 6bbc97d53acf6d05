#include "tsdb/compact/tombstones.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/model/sample.h"
#include "tsdb/util/coding.h"
#include "tsdb/util/crc32c.h"
#include "tsdb/util/status_macros.h"

namespace cairn::compact {
namespace {

// magic (4) + version (1) + CRC32C (4).
constexpr size_t kHeaderBytes = 5;
constexpr size_t kTrailerBytes = 4;

// Whether b starts at or before a's end + 1, i.e. the two can be one interval.
// Written to avoid overflow at INT64_MAX.
bool Touches(const Interval& a, const Interval& b) {
  return a.maxt_ms == kMaxTimeMs || b.mint_ms <= a.maxt_ms + 1;
}

absl::Status Corrupt(std::string_view file_name, std::string_view reason) {
  return absl::DataLossError(absl::StrFormat("tombstones file %s: %s", file_name, reason));
}

}  // namespace

void AddInterval(Intervals* ivs, Interval iv) {
  // Find the first interval that could merge with iv: the first whose end reaches
  // iv.mint - 1.
  auto it = std::lower_bound(ivs->begin(), ivs->end(), iv,
                             [](const Interval& a, const Interval& b) { return !Touches(a, b); });
  auto end = it;
  while (end != ivs->end() && Touches(iv, *end)) {
    iv.mint_ms = std::min(iv.mint_ms, end->mint_ms);
    iv.maxt_ms = std::max(iv.maxt_ms, end->maxt_ms);
    ++end;
  }
  if (it == end) {
    ivs->insert(it, iv);
  } else {
    *it = iv;
    ivs->erase(it + 1, end);
  }
}

void TombstoneSet::Add(uint64_t ref, Interval iv) {
  if (iv.mint_ms > iv.maxt_ms) return;
  AddInterval(&by_ref_[ref], iv);
}

void TombstoneSet::Merge(const TombstoneSet& other) {
  for (const auto& [ref, ivs] : other.by_ref_) {
    for (const Interval& iv : ivs) Add(ref, iv);
  }
}

const Intervals& TombstoneSet::Get(uint64_t ref) const {
  static const Intervals* const kEmpty = new Intervals();
  auto it = by_ref_.find(ref);
  return it == by_ref_.end() ? *kEmpty : it->second;
}

uint64_t TombstoneSet::num_intervals() const {
  uint64_t n = 0;
  for (const auto& [ref, ivs] : by_ref_) n += ivs.size();
  return n;
}

std::string TombstoneSet::Encode() const {
  std::string out;
  PutBigEndian32(&out, kTombstonesMagic);
  out.push_back(static_cast<char>(kTombstonesVersion));
  PutVarint64(&out, by_ref_.size());
  for (const auto& [ref, ivs] : by_ref_) {
    PutVarint64(&out, ref);
    PutVarint64(&out, ivs.size());
    for (const Interval& iv : ivs) {
      PutSignedVarint64(&out, iv.mint_ms);
      PutSignedVarint64(&out, iv.maxt_ms);
    }
  }
  PutBigEndian32(&out, crc32c::Value(out));
  return out;
}

absl::StatusOr<TombstoneSet> TombstoneSet::Decode(std::string_view data,
                                                  std::string_view file_name) {
  if (data.size() < kHeaderBytes + kTrailerBytes) {
    return Corrupt(file_name, absl::StrCat("truncated: ", data.size(), " bytes"));
  }
  if (DecodeBigEndian32(data.data()) != kTombstonesMagic) {
    return Corrupt(file_name, absl::StrFormat("bad magic 0x%08x", DecodeBigEndian32(data.data())));
  }
  const uint8_t version = static_cast<uint8_t>(data[4]);
  if (version != kTombstonesVersion) {
    return Corrupt(file_name, absl::StrCat("unsupported version ", version));
  }
  const std::string_view covered = data.substr(0, data.size() - kTrailerBytes);
  const uint32_t want = DecodeBigEndian32(data.data() + covered.size());
  const uint32_t got = crc32c::Value(covered);
  if (want != got) {
    return Corrupt(file_name, absl::StrFormat("checksum mismatch (stored 0x%08x, computed 0x%08x)",
                                              want, got));
  }
  std::string_view in = covered.substr(kHeaderBytes);
  uint64_t num_series;
  if (!GetVarint64(&in, &num_series)) return Corrupt(file_name, "truncated series count");
  TombstoneSet set;
  uint64_t prev_ref = 0;
  for (uint64_t i = 0; i < num_series; ++i) {
    uint64_t ref, num_intervals;
    if (!GetVarint64(&in, &ref) || !GetVarint64(&in, &num_intervals)) {
      return Corrupt(file_name, absl::StrCat("truncated entry ", i));
    }
    if (i > 0 && ref <= prev_ref) {
      return Corrupt(file_name, absl::StrCat("entry ", i, ": series refs not increasing"));
    }
    prev_ref = ref;
    // Each interval takes at least two bytes; reject counts the input cannot hold
    // before reserving anything.
    if (num_intervals == 0 || num_intervals > in.size() / 2) {
      return Corrupt(file_name, absl::StrCat("entry ", i, ": bad interval count ", num_intervals));
    }
    Intervals& ivs = set.by_ref_[ref];
    ivs.reserve(num_intervals);
    for (uint64_t j = 0; j < num_intervals; ++j) {
      Interval iv;
      if (!GetSignedVarint64(&in, &iv.mint_ms) || !GetSignedVarint64(&in, &iv.maxt_ms)) {
        return Corrupt(file_name, absl::StrCat("entry ", i, ": truncated interval ", j));
      }
      if (iv.mint_ms > iv.maxt_ms || (!ivs.empty() && Touches(ivs.back(), iv))) {
        return Corrupt(file_name,
                       absl::StrCat("entry ", i, ": interval ", j, " out of order or inverted"));
      }
      ivs.push_back(iv);
    }
  }
  if (!in.empty()) {
    return Corrupt(file_name, absl::StrCat(in.size(), " trailing bytes after entries"));
  }
  return set;
}

absl::StatusOr<TombstoneSet> ReadTombstones(io::FileSystem* fs, const std::string& block_dir) {
  const std::string path = io::JoinPath(block_dir, kTombstonesFileName);
  if (!fs->Exists(path)) return TombstoneSet();
  CAIRN_ASSIGN_OR_RETURN(std::string data, fs->ReadFile(path));
  return TombstoneSet::Decode(data, path);
}

absl::Status WriteTombstones(io::FileSystem* fs, const std::string& block_dir,
                             const TombstoneSet& tombstones) {
  const std::string path = io::JoinPath(block_dir, kTombstonesFileName);
  absl::Status s = fs->WriteFileAtomically(path, tombstones.Encode());
  if (!s.ok()) return Annotate(s, absl::StrFormat("writing tombstones %s", path));
  return absl::OkStatus();
}

DeletedSamplesIterator::DeletedSamplesIterator(std::unique_ptr<SampleIterator> base,
                                               Intervals deleted)
    : base_(std::move(base)), deleted_(std::move(deleted)) {}

bool DeletedSamplesIterator::SkipDeleted() {
  while (true) {
    const int64_t t = base_->t();
    while (next_interval_ < deleted_.size() && deleted_[next_interval_].maxt_ms < t) {
      ++next_interval_;
    }
    if (next_interval_ == deleted_.size() || !deleted_[next_interval_].Contains(t)) return true;
    // Inside a deleted range: jump past it with one Seek rather than stepping.
    const int64_t maxt = deleted_[next_interval_].maxt_ms;
    if (maxt == kMaxTimeMs) return false;
    if (!base_->Seek(maxt + 1)) return false;
  }
}

bool DeletedSamplesIterator::Next() {
  positioned_ = base_->Next() && SkipDeleted();
  return positioned_;
}

bool DeletedSamplesIterator::Seek(int64_t t) {
  if (positioned_ && base_->t() >= t) return true;
  positioned_ = base_->Seek(t) && SkipDeleted();
  return positioned_;
}

std::unique_ptr<SampleIterator> WithoutDeleted(std::unique_ptr<SampleIterator> base,
                                               const Intervals& deleted) {
  if (deleted.empty()) return base;
  return std::make_unique<DeletedSamplesIterator>(std::move(base), deleted);
}

}  // namespace cairn::compact
