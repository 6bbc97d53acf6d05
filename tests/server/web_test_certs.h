// Test helpers for the web config tests: a temporary folder with a CA, a server
// certificate for localhost/127.0.0.1 and a client certificate, all made by the
// `openssl` command, and bcrypt hashes made by `htpasswd` (or python3's crypt), so
// no expected value comes from the code under test.
#ifndef CAIRN_TESTS_SERVER_WEB_TEST_CERTS_H_
#define CAIRN_TESTS_SERVER_WEB_TEST_CERTS_H_

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace cairn::server::testing {

inline bool HaveCommand(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

inline std::string RunOutput(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// Makes ca.{crt,key}, server.{crt,key}, client.{crt,key} and rogue.{crt,key} (a
// self-signed client certificate the CA did not sign) in a fresh temp folder.
class TestCerts {
 public:
  TestCerts() {
    char tmpl[] = "/tmp/cairn_web_test_XXXXXX";
    if (mkdtemp(tmpl) != nullptr) dir_ = tmpl;
  }
  ~TestCerts() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // False (with the failing command in *error) when openssl failed.
  bool Generate(std::string* error) {
    WriteFile(path("server.ext"),
              "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    WriteFile(path("client.ext"), "extendedKeyUsage=clientAuth\n");
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string cmds[] = {
        "openssl req -x509 " + key + " -keyout ca.key -out ca.crt -days 2 -subj /CN=cairn-test-ca",
        "openssl req " + key + " -keyout server.key -out server.csr -subj /CN=localhost",
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
        "-out server.crt -days 2 -extfile server.ext",
        "openssl req " + key + " -keyout client.key -out client.csr -subj /CN=cairn-test-client",
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
        "-out client.crt -days 2 -extfile client.ext",
        "openssl req -x509 " + key + " -keyout rogue.key -out rogue.crt -days 2 -subj /CN=rogue",
    };
    for (const std::string& c : cmds) {
      std::string full = "cd '" + dir_ + "' && " + c + " >/dev/null 2>&1";
      if (std::system(full.c_str()) != 0) {
        *error = c;
        return false;
      }
    }
    return true;
  }

 private:
  std::string dir_;
};

// A bcrypt hash of `password` from htpasswd (apache2-utils) or python3's crypt
// module; "" when neither is available.
inline std::string ExternalBcrypt(const std::string& password) {
  std::string out;
  if (HaveCommand("htpasswd")) {
    out = RunOutput("htpasswd -nbBC 10 user '" + password + "'");
    size_t colon = out.find(':');
    out = colon == std::string::npos ? "" : out.substr(colon + 1);
  } else if (HaveCommand("python3")) {
    out = RunOutput(
        "python3 -W ignore -c 'import crypt,sys; "
        "print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))' '" +
        password + "' 2>/dev/null");
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.size() == 60 ? out : "";
}

}  // namespace cairn::server::testing

#endif  // CAIRN_TESTS_SERVER_WEB_TEST_CERTS_H_
