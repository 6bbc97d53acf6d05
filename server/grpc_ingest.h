// The gRPC ingestion service cairn.v1.Ingest (proto/cairn/v1/ingest.proto): the same
// WriteRequest as remote write, without snappy. Validation and limits are shared with
// the HTTP endpoint (remote_write.h); refused samples (out of order, duplicate, too
// old) are counted in the response, not turned into an error, so a high-rate writer
// keeps its stream. Status codes: INVALID_ARGUMENT for invalid series,
// RESOURCE_EXHAUSTED for limits, UNAVAILABLE when storage cannot commit.
//
// With a web config (SetSecurity), the listener uses its TLS settings
// (MakeGrpcServerCredentials) and, when it has basic_auth_users, every call needs an
// `authorization: Basic ...` metadata entry with valid credentials (UNAUTHENTICATED
// otherwise); a WriteStream is checked once, when it opens.
//
// Thread-safety: gRPC calls handlers concurrently; the service is stateless apart
// from the borrowed DB and metrics, which are thread-safe.
#ifndef CAIRN_SERVER_GRPC_INGEST_H_
#define CAIRN_SERVER_GRPC_INGEST_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "proto/cairn/v1/ingest.grpc.pb.h"
#include "server/remote_write.h"
#include "server/web_config.h"
#include "tsdb/storage/appender.h"

namespace grpc {
class Server;
class ServerCredentials;
}  // namespace grpc

namespace cairn::server {

class WebSecurity;

class IngestService final : public cairn::v1::Ingest::Service {
 public:
  // Called after each request with its outcome, for metrics.
  using Observer = std::function<void(const RemoteWriteResult&, const absl::Status&)>;

  IngestService(storage::Appendable* db, RemoteWriteLimits limits, Observer observer)
      : db_(db), limits_(limits), observer_(std::move(observer)) {}

  // Basic auth from the web config; null (default): none. `security` must outlive
  // the service. REQUIRES: before the server starts.
  void SetSecurity(WebSecurity* security) { security_ = security; }

  grpc::Status Write(grpc::ServerContext* ctx, const prometheus::WriteRequest* req,
                     cairn::v1::WriteResponse* resp) override;
  grpc::Status WriteStream(grpc::ServerContext* ctx,
                           grpc::ServerReader<prometheus::WriteRequest>* reader,
                           cairn::v1::WriteResponse* resp) override;

 private:
  grpc::Status Ingest(const prometheus::WriteRequest& req, cairn::v1::WriteResponse* resp);
  grpc::Status Authenticate(const grpc::ServerContext* ctx) const;

  storage::Appendable* db_;
  RemoteWriteLimits limits_;
  Observer observer_;
  WebSecurity* security_ = nullptr;
};

// Converts an absl::Status to a grpc::Status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& s);

// Server credentials for a web config: TLS with its certificate, key, client CA and
// client_auth_type when it enables TLS, insecure otherwise (and for null). Reads the
// files now; errors name them. gRPC's own TLS stack applies its defaults for
// versions and cipher suites (min_version, max_version, cipher_suites and
// curve_preferences are not passed on).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeGrpcServerCredentials(
    const WebConfig* config);

// Starts a gRPC server for `service` on `address` ("host:port", port 0 picks one);
// `*port` receives the bound port. Null `credentials`: insecure. Messages larger than
// `max_message_bytes` (the remote-write decompressed-size limit) are refused by gRPC
// with RESOURCE_EXHAUSTED before they are parsed.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& address, IngestService* service, int* port,
    std::shared_ptr<grpc::ServerCredentials> credentials = nullptr,
    size_t max_message_bytes = 64 << 20);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_GRPC_INGEST_H_
