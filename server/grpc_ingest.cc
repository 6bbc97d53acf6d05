#include "server/grpc_ingest.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

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

grpc::Status IngestService::Write(grpc::ServerContext*, const prometheus::WriteRequest* req,
                                  cairn::v1::WriteResponse* resp) {
  return Ingest(*req, resp);
}

grpc::Status IngestService::WriteStream(grpc::ServerContext*,
                                        grpc::ServerReader<prometheus::WriteRequest>* reader,
                                        cairn::v1::WriteResponse* resp) {
  prometheus::WriteRequest req;
  while (reader->Read(&req)) {
    grpc::Status s = Ingest(req, resp);
    if (!s.ok()) return s;
    req.Clear();
  }
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(const std::string& address,
                                                              IngestService* service, int* port,
                                                              size_t max_message_bytes) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), port);
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
