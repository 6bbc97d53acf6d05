#include "server/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

// exporter-toolkit's dummy hash for unknown users (bcrypt cost 10): checking against
// it costs what a real user's check costs, so timing does not tell which users exist.
constexpr char kDummyHash[] = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

void AppendField(std::string* out, std::string_view s) {
  // Length-prefixed so ("ab","c") and ("a","bc") differ.
  uint64_t n = s.size();
  out->append(reinterpret_cast<const char*>(&n), sizeof(n));
  out->append(s);
}

}  // namespace

bool BcryptVerify(std::string_view password, const std::string& hash) {
  // bcrypt reads at most 72 bytes of the password and stops at NUL; a password with a
  // NUL would be silently truncated, so refuse it.
  if (password.find('\0') != std::string_view::npos) return false;
  const std::string phrase(password);
  // crypt_data is ~32 KiB: on the heap, not an I/O thread's stack.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*') return false;  // bad setting ("*0"/"*1") or error
  size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

bool ParseBasicAuthorization(std::string_view header, std::string* user, std::string* password) {
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(Sv(header.substr(0, kScheme.size())), Sv(kScheme))) {
    return false;
  }
  std::string decoded;
  if (!absl::Base64Unescape(absl::StripAsciiWhitespace(Sv(header.substr(kScheme.size()))),
                            &decoded)) {
    return false;
  }
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

size_t BasicAuthenticator::DigestHash::operator()(const Digest& d) const {
  size_t h;
  std::memcpy(&h, d.data(), sizeof(h));  // a SHA-256 prefix is already uniform
  return h;
}

BasicAuthenticator::BasicAuthenticator(const std::map<std::string, std::string>& users)
    : users_(users.begin(), users.end()) {}

bool BasicAuthenticator::Check(std::string_view authorization) const {
  std::string user, password;
  if (!ParseBasicAuthorization(authorization, &user, &password)) return false;
  return CheckPassword(user, password);
}

BasicAuthenticator::Digest BasicAuthenticator::Key(std::string_view user, const std::string& hash,
                                                   std::string_view password) {
  std::string material;
  AppendField(&material, user);
  AppendField(&material, hash);
  AppendField(&material, password);
  Digest key;
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), key.data());
  OPENSSL_cleanse(material.data(), material.size());  // it holds the password
  return key;
}

bool BasicAuthenticator::CheckCached(std::string_view authorization) const {
  std::string user, password;
  if (!ParseBasicAuthorization(authorization, &user, &password)) return false;
  auto it = users_.find(user);
  if (it == users_.end()) return false;
  Digest key = Key(user, it->second, password);
  absl::MutexLock l(&cache_mu_);
  return cache_.contains(key);
}

bool BasicAuthenticator::CheckPassword(std::string_view user, std::string_view password) const {
  static const std::string* const kDummy = new std::string(kDummyHash);
  auto it = users_.find(user);
  const bool known = it != users_.end();
  const std::string& setting = known ? it->second : *kDummy;
  const Digest key = Key(user, setting, password);
  if (known) {
    absl::MutexLock l(&cache_mu_);
    if (cache_.contains(key)) return true;
  }
  bool ok;
  {
    absl::MutexLock l(&bcrypt_mu_);
    ok = BcryptVerify(password, setting);
  }
  ok = ok && known;
  if (ok) {
    absl::MutexLock l(&cache_mu_);
    // Bounded: drop an arbitrary entry (hash order) when full; an evicted user pays
    // one more bcrypt.
    if (cache_.size() >= kMaxCachedLogins) cache_.erase(cache_.begin());
    cache_.insert(key);
  }
  return ok;
}

size_t BasicAuthenticator::cached_logins() const {
  absl::MutexLock l(&cache_mu_);
  return cache_.size();
}

}  // namespace cairn::server
