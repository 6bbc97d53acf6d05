#include "server/write_request_view.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

// Protobuf wire types.
constexpr int kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5;
// Nesting bound for skipped groups (protobuf's default recursion limit is 100).
constexpr int kMaxGroupDepth = 64;

// A cursor over one message's bytes. Every read is bounds-checked; a failed read
// leaves ok() false and makes later reads fail too.
class WireReader {
 public:
  explicit WireReader(std::string_view b) : p_(b.data()), end_(b.data() + b.size()) {}

  bool done() const { return p_ == end_; }

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      result |= uint64_t{b & 0x7fu} << shift;
      if (b < 0x80) {
        *v = result;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }
  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);  // little-endian on the wire and on supported hosts
    p_ += 8;
    return true;
  }
  bool Bytes(std::string_view* out) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  // Reads a tag: field number and wire type.
  bool Tag(uint32_t* field, int* wire_type) {
    uint64_t tag;
    if (!Varint(&tag) || tag > 0xffffffffu || (tag >> 3) == 0) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *wire_type = static_cast<int>(tag & 7);
    return true;
  }
  // Skips the value of field `field` of `wire_type`; a group (deprecated, but valid
  // protobuf) up to its matching end tag.
  bool Skip(uint32_t field, int wire_type, int depth = 0) {
    uint64_t v;
    std::string_view s;
    switch (wire_type) {
      case kStartGroup:
        if (depth >= kMaxGroupDepth) return false;
        for (;;) {
          uint32_t f;
          int t;
          if (!Tag(&f, &t)) return false;
          if (t == kEndGroup) return f == field;
          if (!Skip(f, t, depth + 1)) return false;
        }
      case kVarint:
        return Varint(&v);
      case kFixed64:
        return Fixed64(&v);
      case kLen:
        return Bytes(&s);
      case kFixed32:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      default:
        return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("protobuf: cannot parse WriteRequest: ", Sv(what)));
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII runs 8 bytes at a time: label text is nearly always ASCII.
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    const uint8_t c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;  // a continuation byte, or 0xc0/0xc1/0xf5+ (never valid)
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

void WriteRequestView::Clear() {
  limit_hit_ = LimitHit::kNone;
  labels_.clear();
  samples_.clear();
  series_.clear();
}

absl::Status WriteRequestView::OverLimit(LimitHit which, std::string_view what) {
  limit_hit_ = which;
  return absl::ResourceExhaustedError(
      absl::StrCat("request has more ", Sv(what), " than the limit"));
}

absl::Status WriteRequestView::Parse(std::string_view wire, const Limits& limits) {
  Clear();
  WireReader r(wire);
  while (!r.done()) {
    uint32_t field;
    int type;
    if (!r.Tag(&field, &type)) return Malformed("bad tag");
    if (field == 1 && type == kLen) {
      std::string_view ts;
      if (!r.Bytes(&ts)) return Malformed("truncated timeseries");
      if (series_.size() >= limits.max_series) return OverLimit(LimitHit::kSeries, "series");
      if (absl::Status s = ParseTimeSeries(ts, limits); !s.ok()) return s;
    } else if (!r.Skip(field, type)) {
      return Malformed(absl::StrCat("bad field ", field));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteRequestView::ParseTimeSeries(std::string_view wire, const Limits& limits) {
  Series s;
  s.labels_begin = s.labels_end = static_cast<uint32_t>(labels_.size());
  s.samples_begin = s.samples_end = static_cast<uint32_t>(samples_.size());
  // A series' labels and samples may interleave on the wire; they are appended to the
  // flat arrays in order, which keeps this series' ranges contiguous.
  WireReader r(wire);
  while (!r.done()) {
    uint32_t field;
    int type;
    if (!r.Tag(&field, &type)) return Malformed("bad tag in timeseries");
    std::string_view msg;
    if (field == 1 && type == kLen) {
      if (!r.Bytes(&msg)) return Malformed("truncated label");
      if (labels_.size() - s.labels_begin >= limits.max_labels_per_series) {
        return OverLimit(LimitHit::kLabelsPerSeries, "labels in a series");
      }
      LabelView l;
      WireReader lr(msg);
      while (!lr.done()) {
        uint32_t f;
        int t;
        if (!lr.Tag(&f, &t)) return Malformed("bad tag in label");
        if ((f == 1 || f == 2) && t == kLen) {
          std::string_view v;
          if (!lr.Bytes(&v)) return Malformed("truncated label string");
          if (!IsValidUtf8(v)) return Malformed("label string is not valid UTF-8");
          (f == 1 ? l.name : l.value) = v;
        } else if (!lr.Skip(f, t)) {
          return Malformed(absl::StrCat("bad field ", f, " in label"));
        }
      }
      labels_.push_back(l);
    } else if (field == 2 && type == kLen) {
      if (!r.Bytes(&msg)) return Malformed("truncated sample");
      if (samples_.size() >= limits.max_samples) return OverLimit(LimitHit::kSamples, "samples");
      Sample smp{0, 0};
      WireReader sr(msg);
      while (!sr.done()) {
        uint32_t f;
        int t;
        if (!sr.Tag(&f, &t)) return Malformed("bad tag in sample");
        uint64_t v;
        if (f == 1 && t == kFixed64) {
          if (!sr.Fixed64(&v)) return Malformed("truncated sample value");
          smp.v = std::bit_cast<double>(v);
        } else if (f == 2 && t == kVarint) {
          if (!sr.Varint(&v)) return Malformed("truncated sample timestamp");
          smp.t = static_cast<int64_t>(v);
        } else if (!sr.Skip(f, t)) {
          return Malformed(absl::StrCat("bad field ", f, " in sample"));
        }
      }
      samples_.push_back(smp);
    } else if (!r.Skip(field, type)) {
      return Malformed(absl::StrCat("bad field ", field, " in timeseries"));
    }
  }
  s.labels_end = static_cast<uint32_t>(labels_.size());
  s.samples_end = static_cast<uint32_t>(samples_.size());
  series_.push_back(s);
  return absl::OkStatus();
}

void WriteRequestView::FromMessage(const prometheus::WriteRequest& msg) {
  Clear();
  for (const prometheus::TimeSeries& ts : msg.timeseries()) {
    Series s;
    s.labels_begin = static_cast<uint32_t>(labels_.size());
    s.samples_begin = static_cast<uint32_t>(samples_.size());
    for (const prometheus::Label& l : ts.labels()) labels_.push_back({l.name(), l.value()});
    for (const prometheus::Sample& smp : ts.samples()) {
      samples_.push_back({smp.timestamp(), smp.value()});
    }
    s.labels_end = static_cast<uint32_t>(labels_.size());
    s.samples_end = static_cast<uint32_t>(samples_.size());
    series_.push_back(s);
  }
}

}  // namespace cairn::server
