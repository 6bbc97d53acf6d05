// Labels: the identity of a series — a set of (name, value) pairs sorted by name,
// with unique names and no empty values, `__name__` holding the metric name.
//
// Representation: one contiguous string, each pair encoded as
//   uvarint(len(name)) name uvarint(len(value)) value
// in name order. A series' labels are thus one heap allocation (or none, for short
// sets under the SSO limit), cheap to hash, compare and copy — the head keeps one
// Labels per active series, so this layout is what keeps memory per series low.
// Iteration yields string_views into that buffer, valid while the Labels lives.
//
// Thread-safety: immutable after construction; safe to share for reading.
//
//   LabelsBuilder b;
//   b.Set("__name__", "up"); b.Set("job", "node");
//   Labels ls = b.Build();
//   for (const Label& l : ls) ...;  ls.Get("job") == "node"
#ifndef CAIRN_TSDB_MODEL_LABELS_H_
#define CAIRN_TSDB_MODEL_LABELS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn {

inline constexpr std::string_view kMetricNameLabel = "__name__";

struct Label {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const Label&, const Label&) = default;
};

class Labels {
 public:
  class const_iterator {
   public:
    using value_type = Label;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;
    using reference = const Label&;
    using pointer = const Label*;

    const_iterator() = default;
    const Label& operator*() const { return current_; }
    const Label* operator->() const { return &current_; }
    const_iterator& operator++() {
      Decode();
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator copy = *this;
      Decode();
      return copy;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.pos_ == b.pos_;
    }

   private:
    friend class Labels;
    explicit const_iterator(std::string_view rest) : rest_(rest) { Decode(); }
    // Inline because label iteration is the inner loop of sorting, hashing and
    // comparing series; names and values shorter than 128 bytes (one-byte lengths)
    // take the fast path.
    void Decode() {
      if (rest_.empty()) {
        pos_ = nullptr;
        current_ = Label();
        return;
      }
      pos_ = rest_.data();
      if (!TakeShort(&current_.name) || !TakeShort(&current_.value)) DecodeSlow();
    }
    bool TakeShort(std::string_view* out) {
      if (rest_.empty()) return false;
      const auto len = static_cast<unsigned char>(rest_[0]);
      if (len >= 0x80 || len >= rest_.size()) return false;
      *out = rest_.substr(1, len);
      rest_.remove_prefix(len + 1u);
      return true;
    }
    // The general varint path, restarting at pos_.
    void DecodeSlow();

    std::string_view rest_;      // undecoded bytes after current_
    const char* pos_ = nullptr;  // start of current_'s encoding; nullptr at end
    Label current_;
  };

  Labels() = default;
  // Builds from pairs in any order; a later duplicate name wins; empty values drop.
  Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);
  static Labels FromPairs(std::vector<std::pair<std::string, std::string>> pairs);
  // Wraps an encoding produced by encoded(). REQUIRES: `encoded` is valid (checked by
  // DCHECK only); use DecodeChecked() for bytes read from disk or the network.
  static Labels FromEncoded(std::string encoded);
  // Replaces this label set by `encoded` (REQUIRES as FromEncoded), reusing this
  // object's buffer: no allocation when it is large enough, which lets a caller that
  // converts many label sets per request (remote write) keep a set of them warm.
  void AssignEncoded(std::string_view encoded);
  // Validates the encoding: well-formed varints, sorted unique names, no empty value.
  static bool DecodeChecked(std::string_view encoded, Labels* out);

  const_iterator begin() const { return const_iterator(data_); }
  const_iterator end() const { return const_iterator(); }
  bool empty() const { return data_.empty(); }
  size_t size() const;

  // The value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  std::string_view MetricName() const { return Get(kMetricNameLabel); }

  // In-process hash (not stable across runs; never persist it).
  uint64_t Hash() const;
  // A hash stable across processes and versions (FNV-1a 64 over the encoding), used
  // where a hash decides placement that must not change between restarts.
  uint64_t StableHash() const;

  // Prometheus' rendering: {__name__="up", job="node"}.
  std::string ToString() const;

  const std::string& encoded() const { return data_; }
  size_t ByteSize() const { return data_.capacity(); }

  // Lexicographic over the (name, value) sequence, as Prometheus' labels.Compare.
  static int Compare(const Labels& a, const Labels& b);
  friend bool operator==(const Labels& a, const Labels& b) { return a.data_ == b.data_; }
  friend bool operator<(const Labels& a, const Labels& b) { return Compare(a, b) < 0; }

  template <typename H>
  friend H AbslHashValue(H h, const Labels& ls) {
    return H::combine(std::move(h), ls.data_);
  }

 private:
  explicit Labels(std::string data) : data_(std::move(data)) {}
  std::string data_;
};

// Mutable label set that produces Labels. Reuse one across calls to avoid allocation.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base) { Reset(base); }

  void Reset(const Labels& base);
  void Clear() { pairs_.clear(); }
  // Sets `name` to `value`; an empty value deletes the label, as in Prometheus.
  void Set(std::string_view name, std::string_view value);
  void Del(std::string_view name);
  std::string_view Get(std::string_view name) const;
  // Keeps only the labels whose names are in `names`.
  void Keep(const std::vector<std::string>& names);
  Labels Build() const;

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;  // unsorted
};

// [a-zA-Z_][a-zA-Z0-9_]*
bool IsValidLabelName(std::string_view name);
// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);

}  // namespace cairn

#endif  // CAIRN_TSDB_MODEL_LABELS_H_
