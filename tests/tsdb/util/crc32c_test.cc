#include "tsdb/util/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace cairn {
namespace {

// Check values from RFC 3720, appendix B.4.
TEST(Crc32cTest, StandardVectors) {
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros), 0x8a9136aau);
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(ones), 0x62a8ab43u);
  std::string inc(32, 0);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<char>(i);
  EXPECT_EQ(crc32c::Value(inc), 0x46dd794eu);
  EXPECT_EQ(crc32c::Value("123456789"), 0xe3069283u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string data = "the quick brown fox jumps over the lazy dog, again and again";
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t a = crc32c::Value(data.data(), split);
    EXPECT_EQ(crc32c::Extend(a, data.data() + split, data.size() - split), crc32c::Value(data));
  }
}

}  // namespace
}  // namespace cairn
