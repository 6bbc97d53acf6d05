// Postings: sorted, duplicate-free lists of series references, and the set algebra
// (intersection, union, difference) that PostingsForMatchers builds selections from.
//
// A Postings is a forward iterator: Next() advances, Seek(v) advances to the first
// element >= v (never backwards), At() reads the current element once Next()/Seek()
// returned true. Iterators over on-disk lists decode lazily from the mapped file and
// report corruption through status(), so a damaged list ends the iteration with an
// error instead of yielding garbage.
//
// Thread-safety: an iterator is used by one thread; the lists it reads must outlive it.
#ifndef CAIRN_TSDB_INDEX_POSTINGS_H_
#define CAIRN_TSDB_INDEX_POSTINGS_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cairn::index {

class Postings {
 public:
  virtual ~Postings() = default;
  virtual bool Next() = 0;
  virtual bool Seek(uint64_t v) = 0;
  virtual uint64_t At() const = 0;
  virtual absl::Status status() const { return absl::OkStatus(); }
};

// A list that yields nothing.
std::unique_ptr<Postings> EmptyPostings();
// Iterates an in-memory sorted list; `refs` must outlive the iterator.
std::unique_ptr<Postings> ListPostings(const std::vector<uint64_t>* refs);
// Owns its sorted list.
std::unique_ptr<Postings> OwnedListPostings(std::vector<uint64_t> refs);
// Iterates an on-disk list of big-endian uint32 refs (the index format's postings
// entries); `data` is the entries area, 4 bytes per ref, and must outlive it.
std::unique_ptr<Postings> BigEndian32Postings(std::string_view data);

// Elements present in every input. Empty input list: empty postings.
std::unique_ptr<Postings> Intersect(std::vector<std::unique_ptr<Postings>> its);
// Elements present in any input, each once.
std::unique_ptr<Postings> Merge(std::vector<std::unique_ptr<Postings>> its);
// Elements of `full` not in `drop`.
std::unique_ptr<Postings> Without(std::unique_ptr<Postings> full, std::unique_ptr<Postings> drop);

// Drains `p` into a vector, or returns its error.
absl::StatusOr<std::vector<uint64_t>> ExpandPostings(Postings* p);

}  // namespace cairn::index

#endif  // CAIRN_TSDB_INDEX_POSTINGS_H_
