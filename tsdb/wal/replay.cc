#include "tsdb/wal/replay.h"

#include "tsdb/util/absl_compat.h"
#include "tsdb/util/status_macros.h"
#include "tsdb/wal/checkpoint.h"
#include "tsdb/wal/wal_reader.h"

namespace cairn::wal {
namespace {

// Applies every record of `reader`; corruption is recorded in `stats`.
absl::Status ApplyAll(WalReader* reader, const ReplayHandler& h, ReplayStats* stats) {
  std::vector<SeriesRecord> series;
  std::vector<SampleRecord> samples;
  std::vector<TombstoneRecord> tombstones;
  while (reader->Next()) {
    ++stats->records;
    absl::StatusOr<RecordType> type = PeekRecordType(reader->record());
    absl::Status s = type.status();
    if (s.ok()) {
      switch (*type) {
        case RecordType::kSeries:
          s = DecodeSeries(reader->record(), &series);
          if (s.ok()) {
            stats->series += series.size();
            if (h.on_series) CAIRN_RETURN_IF_ERROR(h.on_series(series));
          }
          break;
        case RecordType::kSamples:
          s = DecodeSamples(reader->record(), &samples);
          if (s.ok()) {
            stats->samples += samples.size();
            if (h.on_samples) CAIRN_RETURN_IF_ERROR(h.on_samples(samples));
          }
          break;
        case RecordType::kTombstones:
          s = DecodeTombstones(reader->record(), &tombstones);
          if (s.ok()) {
            stats->tombstones += tombstones.size();
            if (h.on_tombstones) CAIRN_RETURN_IF_ERROR(h.on_tombstones(tombstones));
          }
          break;
      }
    }
    if (!s.ok()) {
      // A record that passed its CRC but does not decode: written by a buggy or
      // newer version. Stop here, as for corruption.
      stats->tail_corrupted = true;
      stats->corruption = std::string(s.message());
      return absl::OkStatus();
    }
  }
  if (!reader->status().ok()) {
    if (reader->status().code() != absl::StatusCode::kDataLoss) return reader->status();
    stats->tail_corrupted = true;
    stats->corruption = std::string(reader->status().message());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReplayStats> Replay(io::FileSystem* fs, const std::string& wal_dir,
                                   const ReplayHandler& handler) {
  ReplayStats stats;
  if (!fs->Exists(wal_dir)) return stats;
  int first = -1;
  absl::StatusOr<std::pair<std::string, int>> cp = LastCheckpoint(fs, wal_dir);
  if (cp.ok()) {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WalReader> r, WalReader::Open(fs, cp->first));
    CAIRN_RETURN_IF_ERROR(ApplyAll(r.get(), handler, &stats));
    if (stats.tail_corrupted) {
      // A checkpoint is written whole before it is renamed into place: damage here
      // is real data loss, not a torn write. Report it and go on with the segments.
      stats.corruption = absl::StrCat(Sv(cp->first), ": ", Sv(stats.corruption));
    }
    first = cp->second + 1;
  } else if (cp.status().code() != absl::StatusCode::kNotFound) {
    return cp.status();
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WalReader> r, WalReader::Open(fs, wal_dir, first));
  bool checkpoint_damaged = stats.tail_corrupted;
  std::string checkpoint_msg = stats.corruption;
  stats.tail_corrupted = false;
  CAIRN_RETURN_IF_ERROR(ApplyAll(r.get(), handler, &stats));
  if (checkpoint_damaged) {
    stats.tail_corrupted = true;
    stats.corruption =
        stats.corruption.empty() ? checkpoint_msg : checkpoint_msg + "; " + stats.corruption;
  }
  return stats;
}

}  // namespace cairn::wal
