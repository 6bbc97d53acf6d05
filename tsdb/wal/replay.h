// Replay: feeds a WAL directory's records to the head at start-up — the newest
// checkpoint first, then every segment after it, in order.
//
// Corruption (a torn tail after a crash, or a damaged segment) stops replay at that
// point: what was read before stays applied, the fault is reported in ReplayStats
// (not as an error) so the server still starts, and Wal::Open() then cuts the log at
// the same point. Errors returned by a handler abort replay and are returned.
#ifndef CAIRN_TSDB_WAL_REPLAY_H_
#define CAIRN_TSDB_WAL_REPLAY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tsdb/io/file_system.h"
#include "tsdb/wal/record.h"

namespace cairn::wal {

struct ReplayHandler {
  std::function<absl::Status(std::vector<SeriesRecord>&)> on_series;
  std::function<absl::Status(std::vector<SampleRecord>&)> on_samples;
  std::function<absl::Status(std::vector<TombstoneRecord>&)> on_tombstones;
};

struct ReplayStats {
  uint64_t records = 0;
  uint64_t series = 0;
  uint64_t samples = 0;
  uint64_t tombstones = 0;
  bool tail_corrupted = false;
  std::string corruption;  // the reader's message when tail_corrupted
};

absl::StatusOr<ReplayStats> Replay(io::FileSystem* fs, const std::string& wal_dir,
                                   const ReplayHandler& handler);

}  // namespace cairn::wal

#endif  // CAIRN_TSDB_WAL_REPLAY_H_
