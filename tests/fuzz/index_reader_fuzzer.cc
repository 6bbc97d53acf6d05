// Fuzz target: the block index reader on corrupt files. Open() checks the TOC and the
// CRCs of what it reads eagerly; everything reachable afterwards (label names and
// values, postings, series entries, Verify) must fail cleanly on bad bytes — never
// read out of bounds, crash or allocate without bound.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tsdb/index/index_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy, so that ASan sees reads past the end of the file's bytes.
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto reader = cairn::index::IndexReader::Open(bytes, "fuzz");
  if (!reader.ok()) return 0;
  cairn::index::IndexReader& r = **reader;
  (void)r.Verify();
  for (std::string_view name : r.LabelNames()) {
    for (std::string_view value : r.LabelValues(name)) {
      auto p = r.PostingsFor(name, value);
      int n = 0;
      while (p->Next() && ++n < 64) (void)p->At();
    }
  }
  auto all = r.AllPostings();
  cairn::Labels labels;
  std::vector<cairn::index::ChunkMeta> chunks;
  int n = 0;
  while (all->Next() && ++n < 1024) (void)r.Series(all->At(), &labels, &chunks);
  for (uint64_t i = 0; i < 16 && i < r.num_symbols() + 2; ++i) (void)r.Symbol(i);
  return 0;
}
