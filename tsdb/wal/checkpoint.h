// WAL checkpoints: when the head drops old data it rewrites what the WAL still needs
// (the series it keeps and their samples at or after the new lower bound) into
// dir/checkpoint.NNNNNNNN — a directory of segments in the WAL format, NNNNNNNN being
// the last segment it covers — so those segments can be deleted. Replay reads the
// newest checkpoint, then the segments after it (replay.h).
//
// Crash safety: written as checkpoint.NNNNNNNN.tmp, fsynced, renamed, parent fsynced;
// only then are older checkpoints removed. A leftover .tmp is ignored and removed by
// the next Checkpoint().
#ifndef CAIRN_TSDB_WAL_CHECKPOINT_H_
#define CAIRN_TSDB_WAL_CHECKPOINT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "tsdb/io/file_system.h"

namespace cairn::wal {

// Writes checkpoint.<last_segment> from the previous checkpoint (if any) plus
// segments up to `last_segment`, keeping series records with keep(ref), and samples
// and tombstones of kept series with t >= min_time_ms. The caller then calls
// Wal::TruncateBefore(last_segment + 1).
absl::Status Checkpoint(io::FileSystem* fs, const std::string& wal_dir, int last_segment,
                        const std::function<bool(uint64_t ref)>& keep, int64_t min_time_ms);

// The newest complete checkpoint: its path and the last segment it covers;
// kNotFound if there is none.
absl::StatusOr<std::pair<std::string, int>> LastCheckpoint(io::FileSystem* fs,
                                                           const std::string& wal_dir);

}  // namespace cairn::wal

#endif  // CAIRN_TSDB_WAL_CHECKPOINT_H_
