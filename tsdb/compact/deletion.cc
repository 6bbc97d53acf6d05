#include "tsdb/compact/deletion.h"

#include "tsdb/util/status_macros.h"

namespace cairn::compact {

absl::StatusOr<TombstoneSet> RecordDeletion(io::FileSystem* fs, const std::string& block_dir,
                                            absl::Span<const uint64_t> refs, int64_t mint_ms,
                                            int64_t maxt_ms) {
  CAIRN_ASSIGN_OR_RETURN(TombstoneSet set, ReadTombstones(fs, block_dir));
  if (refs.empty() || mint_ms > maxt_ms) return set;
  for (uint64_t ref : refs) set.Add(ref, {mint_ms, maxt_ms});
  CAIRN_RETURN_IF_ERROR(WriteTombstones(fs, block_dir, set));
  return set;
}

}  // namespace cairn::compact
