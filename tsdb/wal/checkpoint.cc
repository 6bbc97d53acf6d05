#include "tsdb/wal/checkpoint.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/util/status_macros.h"
#include "tsdb/wal/record.h"
#include "tsdb/wal/wal.h"
#include "tsdb/wal/wal_format.h"
#include "tsdb/wal/wal_reader.h"

namespace cairn::wal {
namespace {

constexpr absl::string_view kPrefix = "checkpoint.";

// Parses "checkpoint.00000012" (no suffix); -1 otherwise.
int ParseCheckpointName(const std::string& name) {
  if (!absl::StartsWith(name, kPrefix)) return -1;
  return ParseSegmentName(name.substr(kPrefix.size()));
}

// Copies the records worth keeping from `reader` into `out`.
absl::Status Filter(WalReader* reader, const std::function<bool(uint64_t)>& keep,
                    int64_t min_time_ms, Wal* out) {
  std::vector<SeriesRecord> series;
  std::vector<SampleRecord> samples;
  std::vector<TombstoneRecord> tombstones;
  std::string buf;
  while (reader->Next()) {
    CAIRN_ASSIGN_OR_RETURN(RecordType type, PeekRecordType(reader->record()));
    buf.clear();
    switch (type) {
      case RecordType::kSeries: {
        CAIRN_RETURN_IF_ERROR(DecodeSeries(reader->record(), &series));
        std::erase_if(series, [&](const SeriesRecord& s) { return !keep(s.ref); });
        if (series.empty()) continue;
        EncodeSeries(series, &buf);
        break;
      }
      case RecordType::kSamples: {
        CAIRN_RETURN_IF_ERROR(DecodeSamples(reader->record(), &samples));
        std::erase_if(samples,
                      [&](const SampleRecord& s) { return s.t < min_time_ms || !keep(s.ref); });
        if (samples.empty()) continue;
        EncodeSamples(samples, &buf);
        break;
      }
      case RecordType::kTombstones: {
        CAIRN_RETURN_IF_ERROR(DecodeTombstones(reader->record(), &tombstones));
        std::erase_if(tombstones, [&](const TombstoneRecord& t) { return !keep(t.ref); });
        if (tombstones.empty()) continue;
        EncodeTombstones(tombstones, &buf);
        break;
      }
    }
    CAIRN_RETURN_IF_ERROR(out->Log(buf));
  }
  return reader->status();
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> LastCheckpoint(io::FileSystem* fs,
                                                           const std::string& wal_dir) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(wal_dir));
  int best = -1;
  for (const std::string& n : names) best = std::max(best, ParseCheckpointName(n));
  if (best < 0) return absl::NotFoundError(absl::StrCat("no checkpoint in ", wal_dir));
  return std::make_pair(io::JoinPath(wal_dir, absl::StrFormat("checkpoint.%08d", best)), best);
}

absl::Status Checkpoint(io::FileSystem* fs, const std::string& wal_dir, int last_segment,
                        const std::function<bool(uint64_t ref)>& keep, int64_t min_time_ms) {
  const std::string name = absl::StrFormat("checkpoint.%08d", last_segment);
  const std::string final_dir = io::JoinPath(wal_dir, name);
  const std::string tmp_dir = final_dir + ".tmp";
  CAIRN_RETURN_IF_ERROR(fs->RemoveAll(tmp_dir));
  int first_segment = -1;
  {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Wal> out,
                           Wal::Open(fs, tmp_dir, WalOptions{.compress = true}));
    absl::StatusOr<std::pair<std::string, int>> prev = LastCheckpoint(fs, wal_dir);
    if (prev.ok()) {
      if (prev->second >= last_segment) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "checkpoint up to segment %d requested, but %s exists", last_segment, prev->first));
      }
      CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WalReader> r, WalReader::Open(fs, prev->first));
      CAIRN_RETURN_IF_ERROR(Annotate(Filter(r.get(), keep, min_time_ms, out.get()), prev->first));
      first_segment = prev->second + 1;
    }
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WalReader> r,
                           WalReader::Open(fs, wal_dir, first_segment, last_segment));
    CAIRN_RETURN_IF_ERROR(Filter(r.get(), keep, min_time_ms, out.get()));
    CAIRN_RETURN_IF_ERROR(out->Close());
  }
  CAIRN_RETURN_IF_ERROR(fs->SyncDir(tmp_dir));
  CAIRN_RETURN_IF_ERROR(fs->Rename(tmp_dir, final_dir));
  CAIRN_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  // Older checkpoints and stale temporaries are now garbage.
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(wal_dir));
  for (const std::string& n : names) {
    if (!absl::StartsWith(n, kPrefix) || n == name) continue;
    int k = ParseCheckpointName(n);
    if (k < 0 || k < last_segment) CAIRN_RETURN_IF_ERROR(fs->RemoveAll(io::JoinPath(wal_dir, n)));
  }
  return absl::OkStatus();
}

}  // namespace cairn::wal
