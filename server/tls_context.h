// Server-side TLS for the HTTP listener: builds an OpenSSL context (through
// boost::asio::ssl) from a web config's tls_server_config. The certificate, key and
// client CA files are read here, so a missing or unreadable file fails start-up (or a
// reload) with the file's name instead of failing every handshake later.
//
// client_auth_type maps to OpenSSL's verify modes:
//   NoClientCert                 SSL_VERIFY_NONE
//   RequestClientCert            PEER, any certificate accepted unverified
//   RequireAnyClientCert         PEER | FAIL_IF_NO_PEER_CERT, accepted unverified
//   VerifyClientCertIfGiven      PEER, verified against client_ca_file
//   RequireAndVerifyClientCert   PEER | FAIL_IF_NO_PEER_CERT, verified
//
// Thread-safety: the returned context is immutable after construction and shared
// by every connection (OpenSSL allows concurrent SSL objects on one SSL_CTX).
#ifndef CAIRN_SERVER_TLS_CONTEXT_H_
#define CAIRN_SERVER_TLS_CONTEXT_H_

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "absl/status/statusor.h"
#include "server/web_config.h"

namespace cairn::server {

absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const TlsServerConfig& config);

// The last OpenSSL error queue entries as text (for messages).
std::string OpenSslErrors();

}  // namespace cairn::server

#endif  // CAIRN_SERVER_TLS_CONTEXT_H_
