#include "server/grpc_ingest.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/web_security.h"

namespace cairn::server {

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

grpc::Status IngestService::Ingest(const prometheus::WriteRequest& req,
                                   cairn::v1::WriteResponse* resp) {
  RemoteWriteResult result;
  absl::Status s = IngestWriteRequest(req, limits_, db_, &result);
  if (observer_) observer_(result, s);
  resp->set_samples_accepted(resp->samples_accepted() + result.samples_accepted);
  resp->set_samples_rejected(resp->samples_rejected() + result.samples_rejected);
  if (!s.ok() && s.code() != absl::StatusCode::kInvalidArgument &&
      s.code() != absl::StatusCode::kResourceExhausted) {
    s = absl::UnavailableError(absl::StrCat("storage: ", s.message()));
  }
  return ToGrpcStatus(s);
}

grpc::Status IngestService::Authenticate(const grpc::ServerContext* ctx) const {
  if (security_ == nullptr) return grpc::Status::OK;
  std::shared_ptr<const WebSecurity::State> state = security_->Current();
  if (state == nullptr || state->auth == nullptr) return grpc::Status::OK;
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it != md.end() &&
      state->auth->Check(std::string_view(it->second.data(), it->second.size()))) {
    return grpc::Status::OK;
  }
  // Never echo the credentials.
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "basic authentication required: send valid credentials in the "
                      "\"authorization\" metadata (\"Basic <base64 user:password>\")");
}

grpc::Status IngestService::Write(grpc::ServerContext* ctx, const prometheus::WriteRequest* req,
                                  cairn::v1::WriteResponse* resp) {
  if (grpc::Status s = Authenticate(ctx); !s.ok()) return s;
  return Ingest(*req, resp);
}

grpc::Status IngestService::WriteStream(grpc::ServerContext* ctx,
                                        grpc::ServerReader<prometheus::WriteRequest>* reader,
                                        cairn::v1::WriteResponse* resp) {
  if (grpc::Status s = Authenticate(ctx); !s.ok()) return s;
  prometheus::WriteRequest req;
  while (reader->Read(&req)) {
    grpc::Status s = Ingest(req, resp);
    if (!s.ok()) return s;
    req.Clear();
  }
  return grpc::Status::OK;
}

namespace {

absl::Status ReadPem(std::string_view field, const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("tls_server_config ", std::string(field), " ", path,
                                            ": ", std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return absl::OkStatus();
}

grpc_ssl_client_certificate_request_type GrpcClientCertRequest(ClientAuthType t) {
  switch (t) {
    case ClientAuthType::kNoClientCert:
      return GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
    case ClientAuthType::kRequestClientCert:
      return GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY;
    case ClientAuthType::kRequireAnyClientCert:
      return GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY;
    case ClientAuthType::kVerifyClientCertIfGiven:
      return GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    case ClientAuthType::kRequireAndVerifyClientCert:
      return GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeGrpcServerCredentials(
    const WebConfig* config) {
  if (config == nullptr || !config->tls_enabled) return grpc::InsecureServerCredentials();
  const TlsServerConfig& tls = config->tls;
  grpc::SslServerCredentialsOptions opts(GrpcClientCertRequest(tls.client_auth_type));
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  absl::Status s = ReadPem("cert_file", tls.cert_file, &pair.cert_chain);
  if (s.ok()) s = ReadPem("key_file", tls.key_file, &pair.private_key);
  if (s.ok() && !tls.client_ca_file.empty()) {
    s = ReadPem("client_ca_file", tls.client_ca_file, &opts.pem_root_certs);
  }
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat(config->source, ": gRPC: ", s.message()));
  }
  opts.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(opts);
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& address, IngestService* service, int* port,
    std::shared_ptr<grpc::ServerCredentials> credentials, size_t max_message_bytes) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      address, credentials != nullptr ? credentials : grpc::InsecureServerCredentials(), port);
  builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<size_t>(max_message_bytes, std::numeric_limits<int>::max())));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) {
    return absl::UnavailableError(absl::StrCat("grpc: cannot listen on ", address));
  }
  return server;
}

}  // namespace cairn::server
