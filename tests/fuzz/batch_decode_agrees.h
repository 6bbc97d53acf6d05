// For the chunk fuzzers: decoding `in` through NextBatch (in batches whose size the
// input picks) must give exactly what Next() gives, and the same status; aborts if not.
#ifndef CAIRN_TESTS_FUZZ_BATCH_DECODE_AGREES_H_
#define CAIRN_TESTS_FUZZ_BATCH_DECODE_AGREES_H_

#include <bit>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "tsdb/model/sample.h"

template <typename Iterator>
void CheckBatchDecodeAgrees(std::string_view in) {
  std::vector<cairn::Sample> one;
  Iterator a(in);
  while (a.Next()) one.push_back({a.t(), a.v()});
  const size_t batch = 1 + (in.empty() ? 0 : static_cast<unsigned char>(in.back()) % 150);
  std::vector<cairn::Sample> many, buf(batch);
  Iterator b(in);
  size_t k;
  do {
    k = b.NextBatch(buf.data(), batch);
    many.insert(many.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
  } while (k == batch);
  if (!(one == many) || a.status() != b.status()) std::abort();
}

#endif  // CAIRN_TESTS_FUZZ_BATCH_DECODE_AGREES_H_
