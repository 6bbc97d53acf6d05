// The gRPC ingestion service cairn.v1.Ingest (proto/cairn/v1/ingest.proto): the same
// WriteRequest as remote write, without snappy. Validation and limits are shared with
// the HTTP endpoint (remote_write.h); refused samples (out of order, duplicate, too
// old) are counted in the response, not turned into an error, so a high-rate writer
// keeps its stream. Status codes: INVALID_ARGUMENT for invalid series,
// RESOURCE_EXHAUSTED for limits, UNAVAILABLE when storage cannot commit.
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
#include "tsdb/storage/appender.h"

namespace grpc {
class Server;
}

namespace cairn::server {

class IngestService final : public cairn::v1::Ingest::Service {
 public:
  // Called after each request with its outcome, for metrics.
  using Observer = std::function<void(const RemoteWriteResult&, const absl::Status&)>;

  IngestService(storage::Appendable* db, RemoteWriteLimits limits, Observer observer)
      : db_(db), limits_(limits), observer_(std::move(observer)) {}

  grpc::Status Write(grpc::ServerContext* ctx, const prometheus::WriteRequest* req,
                     cairn::v1::WriteResponse* resp) override;
  grpc::Status WriteStream(grpc::ServerContext* ctx,
                           grpc::ServerReader<prometheus::WriteRequest>* reader,
                           cairn::v1::WriteResponse* resp) override;

 private:
  grpc::Status Ingest(const prometheus::WriteRequest& req, cairn::v1::WriteResponse* resp);

  storage::Appendable* db_;
  RemoteWriteLimits limits_;
  Observer observer_;
};

// Converts an absl::Status to a grpc::Status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& s);

// Starts a gRPC server for `service` on `address` ("host:port", port 0 picks one);
// `*port` receives the bound port. Messages larger than `max_message_bytes` (the
// remote-write decompressed-size limit) are refused by gRPC with RESOURCE_EXHAUSTED
// before they are parsed.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(const std::string& address,
                                                              IngestService* service, int* port,
                                                              size_t max_message_bytes = 64 << 20);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_GRPC_INGEST_H_
