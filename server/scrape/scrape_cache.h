// ScrapeCache: a scrape loop's map from each series as exposed (the raw bytes
// "name{labels}", TextParser::series()) to what the loop needs to append it without
// building labels again: the final labels, the storage ref, staleness bookkeeping.
//
// Built for the steady state, where a target exposes the same series in the same
// order every scrape (1000 targets x 100 series: one lookup per sample is the
// scrape's hottest loop, and with 100k entries mostly cache misses):
//  - each entry's key bytes live in the entry's own allocation, so a lookup touches
//    one block of memory that the append then reuses, not a node and a string;
//  - Find() first compares the page's i-th series with the i-th series of the last
//    page, and hashes only when that fails.
//
// Entries stay at the same address until erased (scrape loops keep pointers to
// them between scrapes). Not thread-safe: one scrape at a time.
#ifndef CAIRN_SERVER_SCRAPE_SCRAPE_CACHE_H_
#define CAIRN_SERVER_SCRAPE_SCRAPE_CACHE_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "tsdb/model/labels.h"
#include "tsdb/storage/appender.h"

namespace cairn::scrape {

class ScrapeCache {
 public:
  struct Entry {
    Labels labels;  // final labels; empty when dropped by metric relabelling
    storage::SeriesRef ref = 0;
    uint64_t last_seen = 0;  // scrape iteration that last exposed it
    bool dropped = false;
    bool tracked = false;  // staleness tracked (no exposed timestamp)
    // The series bytes this entry is cached under.
    std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size}; }

   private:
    friend class ScrapeCache;
    uint32_t key_size = 0;
  };

  ScrapeCache() = default;
  ScrapeCache(const ScrapeCache&) = delete;
  ScrapeCache& operator=(const ScrapeCache&) = delete;

  // Starts a page: Find/Insert calls until EndPage() are its series in page order.
  void BeginPage();
  // The entry of `series`, or nullptr. Records the hit as this page's next series.
  Entry* Find(std::string_view series);
  // Adds an entry for `series` (after Find returned nullptr) and records it.
  // REQUIRES: series.size() < 4 GiB (pages are far smaller: body_size_limit).
  Entry* Insert(std::string_view series);
  // Ends the page (complete or not): its order is what the next page is compared to.
  void EndPage();

  // Erases entries whose last_seen is below `min_last_seen`. Pointers to other
  // entries stay valid.
  void EraseSeenBefore(uint64_t min_last_seen);

  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }

 private:
  struct EntryDeleter {
    void operator()(Entry* e) const;
  };
  using EntryPtr = std::unique_ptr<Entry, EntryDeleter>;

  // Keys are views of the bytes inside their entries.
  absl::flat_hash_map<std::string_view, EntryPtr> map_;
  // The series of the last page in order, and of the current one so far. Entries
  // here were seen by that page, so EraseSeenBefore (which clears both when it
  // erases anything, to be safe) is the only way they could go away.
  std::vector<Entry*> order_, next_order_;
  size_t pos_ = 0;  // index into order_ of the current page's next series
};

}  // namespace cairn::scrape

#endif  // CAIRN_SERVER_SCRAPE_SCRAPE_CACHE_H_
