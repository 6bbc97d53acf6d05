#include "server/basic_auth.h"

#include "gtest/gtest.h"
#include "tests/server/web_test_certs.h"

namespace cairn::server {
namespace {

TEST(BasicAuthTest, ParseAuthorization) {
  std::string user, password;
  // "alice:open sesame" in base64.
  ASSERT_TRUE(ParseBasicAuthorization("Basic YWxpY2U6b3BlbiBzZXNhbWU=", &user, &password));
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(password, "open sesame");
  ASSERT_TRUE(ParseBasicAuthorization("basic YTpiOmM=", &user, &password));  // "a:b:c"
  EXPECT_EQ(user, "a");
  EXPECT_EQ(password, "b:c");
  EXPECT_FALSE(ParseBasicAuthorization("", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Bearer abc", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic YWxpY2U=", &user, &password));  // no colon
}

// Hashes come from htpasswd ($2y$) or python3's crypt ($2b$), not from this code.
TEST(BasicAuthTest, BcryptVerifyAgainstExternalHashes) {
  std::string hash = testing::ExternalBcrypt("correct horse");
  if (hash.empty()) GTEST_SKIP() << "neither htpasswd nor python3 crypt available";
  EXPECT_TRUE(BcryptVerify("correct horse", hash));
  EXPECT_FALSE(BcryptVerify("correct hors", hash));
  EXPECT_FALSE(BcryptVerify("", hash));
  EXPECT_FALSE(BcryptVerify(std::string("correct horse\0x", 15), hash));
  EXPECT_FALSE(BcryptVerify("correct horse", "not a hash"));
  // Both prefixes libxcrypt knows, whichever tool made the hash.
  std::string other = hash;
  other[2] = hash[2] == 'y' ? 'b' : 'y';
  EXPECT_TRUE(BcryptVerify("correct horse", other)) << other;
}

TEST(BasicAuthTest, CachesOnlySuccessesAndBoundsTheCache) {
  std::string hash = testing::ExternalBcrypt("pw");
  if (hash.empty()) GTEST_SKIP() << "neither htpasswd nor python3 crypt available";
  BasicAuthenticator auth({{"alice", hash}});
  const std::string good = "Basic YWxpY2U6cHc=";  // alice:pw
  EXPECT_FALSE(auth.CheckCached(good));
  EXPECT_FALSE(auth.Check("Basic YWxpY2U6cHg="));  // alice:px
  EXPECT_EQ(auth.cached_logins(), 0u);
  EXPECT_TRUE(auth.Check(good));
  EXPECT_TRUE(auth.CheckCached(good));
  EXPECT_FALSE(auth.CheckCached("Basic YWxpY2U6cHg="));
  EXPECT_EQ(auth.cached_logins(), 1u);
  EXPECT_FALSE(auth.CheckPassword("mallory", "pw"));
}

}  // namespace
}  // namespace cairn::server
