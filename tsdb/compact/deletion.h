// RecordDeletion: deleting data from an immutable block. The samples of the given
// series inside [mint_ms, maxt_ms] are added to the block's tombstones file (read,
// merged, rewritten atomically); the block's chunks and index stay untouched until
// compaction drops the deleted samples. BlockSeriesToDelete resolves matchers to the
// block's series refs through its postings; the DB applies the same deletion to the
// head.
//
// Thread-safety: callers serialise deletions on one block (the DB holds its
// per-block lock); readers of the old file are unaffected by the rename.
#ifndef CAIRN_TSDB_COMPACT_DELETION_H_
#define CAIRN_TSDB_COMPACT_DELETION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tsdb/block/block.h"
#include "tsdb/compact/tombstones.h"
#include "tsdb/io/file_system.h"
#include "tsdb/model/matcher.h"

namespace cairn::compact {

// The refs, sorted, of the series of `block` that match all of `matchers` and have a
// chunk overlapping [mint_ms, maxt_ms] (Prometheus records a tombstone only for
// those). Matchers that all match the empty string select from every series, as
// Prometheus' postings do. REQUIRES: at least one matcher.
absl::StatusOr<std::vector<uint64_t>> BlockSeriesToDelete(const block::Block& block,
                                                          const std::vector<Matcher>& matchers,
                                                          int64_t mint_ms, int64_t maxt_ms);

// Adds [mint_ms, maxt_ms] for every ref in `refs` to `block_dir`/tombstones and
// returns the resulting set (the caller swaps it into the open block). Writes
// nothing when `refs` is empty or mint_ms > maxt_ms. An existing corrupt file is
// kDataLoss and is left as it is.
absl::StatusOr<TombstoneSet> RecordDeletion(io::FileSystem* fs, const std::string& block_dir,
                                            absl::Span<const uint64_t> refs, int64_t mint_ms,
                                            int64_t maxt_ms);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_DELETION_H_
