// Remote-write requests for tests: a WriteRequest from label and sample pairs, and its
// snappy-compressed body as senders POST it to /api/v1/write.
#ifndef CAIRN_TESTS_SERVER_TEST_WRITE_REQUEST_H_
#define CAIRN_TESTS_SERVER_TEST_WRITE_REQUEST_H_

#include <snappy.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/prometheus/remote.pb.h"

namespace cairn::server::test_write {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;
using SamplePairs = std::vector<std::pair<int64_t, double>>;

// One time series per element, labels and samples in the given order (unchecked, so
// tests can send invalid ones).
inline prometheus::WriteRequest WriteRequestOf(
    const std::vector<std::pair<LabelPairs, SamplePairs>>& series) {
  prometheus::WriteRequest wr;
  for (const auto& [labels, samples] : series) {
    auto* ts = wr.add_timeseries();
    for (const auto& [n, v] : labels) {
      auto* l = ts->add_labels();
      l->set_name(n);
      l->set_value(v);
    }
    for (const auto& [t, v] : samples) {
      auto* s = ts->add_samples();
      s->set_timestamp(t);
      s->set_value(v);
    }
  }
  return wr;
}

inline prometheus::WriteRequest OneSeries(const LabelPairs& labels, const SamplePairs& samples) {
  return WriteRequestOf({{labels, samples}});
}

inline std::string SnappyCompress(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

inline std::string SnappyBody(const prometheus::WriteRequest& wr) {
  return SnappyCompress(wr.SerializeAsString());
}

// The body of a request with one series.
inline std::string WriteBody(const LabelPairs& labels, const SamplePairs& samples) {
  return SnappyBody(OneSeries(labels, samples));
}

}  // namespace cairn::server::test_write

#endif  // CAIRN_TESTS_SERVER_TEST_WRITE_REQUEST_H_
