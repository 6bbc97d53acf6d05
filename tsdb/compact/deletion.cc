#include "tsdb/compact/deletion.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "tsdb/util/status_macros.h"

namespace cairn::compact {

absl::StatusOr<std::vector<uint64_t>> BlockSeriesToDelete(const block::Block& block,
                                                          const std::vector<Matcher>& matchers,
                                                          int64_t mint_ms, int64_t maxt_ms) {
  const index::IndexReader& index = block.index();
  std::unique_ptr<index::Postings> postings;
  if (std::all_of(matchers.begin(), matchers.end(),
                  [](const Matcher& m) { return m.MatchesEmpty(); })) {
    postings = index.AllPostings();
  } else {
    CAIRN_ASSIGN_OR_RETURN(postings, index.PostingsForMatchers(matchers));
  }
  std::vector<uint64_t> refs;
  Labels labels;
  std::vector<index::ChunkMeta> chunks;
  while (postings->Next()) {
    const uint64_t ref = postings->At();
    CAIRN_RETURN_IF_ERROR(
        Annotate(index.Series(ref, &labels, &chunks), absl::StrCat("block ", block.meta().ulid)));
    if (!MatchesAll(matchers, labels)) continue;
    if (std::any_of(chunks.begin(), chunks.end(), [&](const index::ChunkMeta& c) {
          return c.min_time <= maxt_ms && c.max_time >= mint_ms;
        })) {
      refs.push_back(ref);
    }
  }
  CAIRN_RETURN_IF_ERROR(postings->status());
  return refs;
}

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
