#include "server/scrape/scrape_cache.h"

#include <cstring>
#include <new>
#include <utility>

namespace cairn::scrape {

void ScrapeCache::EntryDeleter::operator()(Entry* e) const {
  e->~Entry();
  ::operator delete(static_cast<void*>(e));
}

void ScrapeCache::BeginPage() {
  pos_ = 0;
  next_order_.clear();
}

ScrapeCache::Entry* ScrapeCache::Find(std::string_view series) {
  Entry* e = nullptr;
  if (pos_ < order_.size()) {
    Entry* guess = order_[pos_];
    if (guess->key() == series) e = guess;
  }
  ++pos_;
  if (e == nullptr) {
    auto it = map_.find(series);
    if (it == map_.end()) return nullptr;
    e = it->second.get();
  }
  next_order_.push_back(e);
  return e;
}

ScrapeCache::Entry* ScrapeCache::Insert(std::string_view series) {
  // One allocation: the entry, then its key bytes (Entry::key()).
  void* mem = ::operator new(sizeof(Entry) + series.size());
  Entry* e = new (mem) Entry();
  e->key_size = static_cast<uint32_t>(series.size());
  if (!series.empty())
    std::memcpy(static_cast<char*>(mem) + sizeof(Entry), series.data(), series.size());
  auto [it, inserted] = map_.try_emplace(e->key());
  if (!inserted) {  // not after a failed Find; keep the entry there is
    EntryDeleter()(e);
    e = it->second.get();
  } else {
    it->second.reset(e);
  }
  next_order_.push_back(e);
  return e;
}

void ScrapeCache::EndPage() {
  std::swap(order_, next_order_);
  next_order_.clear();
  pos_ = 0;
}

void ScrapeCache::EraseSeenBefore(uint64_t min_last_seen) {
  bool erased = false;
  for (auto it = map_.begin(); it != map_.end();) {
    if (it->second->last_seen < min_last_seen) {
      map_.erase(it++);
      erased = true;
    } else {
      ++it;
    }
  }
  if (erased) {
    order_.clear();
    next_order_.clear();
  }
}

}  // namespace cairn::scrape
