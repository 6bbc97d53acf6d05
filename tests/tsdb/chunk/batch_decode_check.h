// ExpectBatchesAgree: decodes a chunk sample by sample (Next) and in batches of
// several sizes (NextBatch), which moves the switch between a decoder's checked and
// unchecked loops, and expects the same samples and the same status from each.
#ifndef CAIRN_TESTS_TSDB_CHUNK_BATCH_DECODE_CHECK_H_
#define CAIRN_TESTS_TSDB_CHUNK_BATCH_DECODE_CHECK_H_

#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "tsdb/model/sample.h"

namespace cairn {

template <typename Iterator>
std::vector<Sample> DecodeOneByOne(std::string_view bytes, absl::Status* status) {
  Iterator it(bytes);
  std::vector<Sample> out;
  while (it.Next()) out.push_back({it.t(), it.v()});
  *status = it.status();
  return out;
}

template <typename Iterator>
std::vector<Sample> DecodeBatched(std::string_view bytes, size_t batch, absl::Status* status) {
  Iterator it(bytes);
  std::vector<Sample> out;
  std::vector<Sample> buf(batch);
  for (;;) {
    size_t k = it.NextBatch(buf.data(), batch);
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(k));
    if (k < batch) break;
    EXPECT_EQ(it.t(), buf[k - 1].t);  // after a full batch t() is its last sample
  }
  *status = it.status();
  return out;
}

template <typename Iterator>
void ExpectBatchesAgree(std::string_view bytes) {
  absl::Status want_status;
  std::vector<Sample> want = DecodeOneByOne<Iterator>(bytes, &want_status);
  for (size_t batch : {1, 2, 3, 7, 64, 1000}) {
    absl::Status status;
    std::vector<Sample> got = DecodeBatched<Iterator>(bytes, batch, &status);
    ASSERT_EQ(got, want) << "batch " << batch;
    ASSERT_EQ(status, want_status) << "batch " << batch;
  }
}

}  // namespace cairn

#endif  // CAIRN_TESTS_TSDB_CHUNK_BATCH_DECODE_CHECK_H_
