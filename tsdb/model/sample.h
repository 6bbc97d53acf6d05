// Samples and time: a sample is an int64 timestamp in milliseconds since the Unix
// epoch and a float64 value. The stale marker is one particular NaN (DESIGN.md);
// every other NaN is an ordinary value. Compare values by bits, never with ==, where
// NaN payloads matter.
#ifndef CAIRN_TSDB_MODEL_SAMPLE_H_
#define CAIRN_TSDB_MODEL_SAMPLE_H_

#include <bit>
#include <cstdint>
#include <limits>

namespace cairn {

// The stale marker Prometheus writes when a series disappears (value.StaleNaN).
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
// The NaN Prometheus (Go's math.NaN()) produces for ordinary NaN results.
inline constexpr uint64_t kNormalNaNBits = 0x7ff8000000000001ULL;

inline constexpr int64_t kMinTimeMs = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMaxTimeMs = std::numeric_limits<int64_t>::max();

inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

struct Sample {
  int64_t t;  // milliseconds since the epoch
  double v;

  // Bitwise equality: distinguishes NaN payloads, -0.0 from 0.0.
  friend bool operator==(const Sample& a, const Sample& b) {
    return a.t == b.t && std::bit_cast<uint64_t>(a.v) == std::bit_cast<uint64_t>(b.v);
  }
};

}  // namespace cairn

#endif  // CAIRN_TSDB_MODEL_SAMPLE_H_
