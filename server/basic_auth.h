// BasicAuthenticator: checks HTTP basic-auth credentials ("Authorization: Basic
// base64(user:password)") against the bcrypt hashes of a web config's
// basic_auth_users, as exporter-toolkit does for Prometheus.
//
// bcrypt at cost 10 takes tens of milliseconds by design, so a successful check is
// remembered: the cache holds the SHA-256 of (user, hash, password) for at most
// kMaxCachedLogins logins, and a keep-alive client that sends the same header on
// every request pays bcrypt once. Failures are not cached (an attacker's guesses
// must not evict real users' entries). The cache never holds a password, only a
// digest that includes the stored hash, so changing a user's hash invalidates it.
//
// Timing: an unknown user is checked against a dummy hash, so the answer takes as
// long as for a known user with a wrong password; hashes are compared with
// CRYPTO_memcmp. bcrypt runs one at a time (exporter-toolkit does the same) so a
// flood of wrong passwords costs one core, not all of them.
//
// Thread-safety: Check() may be called concurrently.
#ifndef CAIRN_SERVER_BASIC_AUTH_H_
#define CAIRN_SERVER_BASIC_AUTH_H_

#include <array>
#include <map>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace cairn::server {

class BasicAuthenticator {
 public:
  static constexpr size_t kMaxCachedLogins = 1024;

  // `users`: user name -> bcrypt hash ($2a$, $2b$ or $2y$).
  explicit BasicAuthenticator(const std::map<std::string, std::string>& users);

  // True when `authorization` (the header's value) carries the right password of a
  // configured user.
  bool Check(std::string_view authorization) const;
  // True when `authorization` is a login cached as successful: no bcrypt, cheap
  // enough for an I/O thread. False means "unknown", not "wrong": call Check().
  bool CheckCached(std::string_view authorization) const;
  // True when `password` is user's password.
  bool CheckPassword(std::string_view user, std::string_view password) const;

  // Number of cached successful logins (tests).
  size_t cached_logins() const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct DigestHash {
    size_t operator()(const Digest& d) const;
  };

  static Digest Key(std::string_view user, const std::string& hash, std::string_view password);

  const std::map<std::string, std::string, std::less<>> users_;
  mutable absl::Mutex bcrypt_mu_;  // serialises bcrypt (see header comment)
  mutable absl::Mutex cache_mu_;
  mutable absl::flat_hash_set<Digest, DigestHash> cache_ ABSL_GUARDED_BY(cache_mu_);
};

// Splits "Basic <base64(user:password)>" (scheme case-insensitive). False when the
// header is absent, of another scheme, or malformed.
bool ParseBasicAuthorization(std::string_view header, std::string* user, std::string* password);

// bcrypt verification through libxcrypt's crypt_rn: true when `password` hashes to
// `hash`. Constant-time in the comparison of the hashes.
bool BcryptVerify(std::string_view password, const std::string& hash);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_BASIC_AUTH_H_
