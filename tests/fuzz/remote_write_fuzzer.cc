// Fuzz target: the remote-write decoders (the HTTP endpoint's zero-copy view and
// libprotobuf, as gRPC uses) and validation, as the
// HTTP endpoint runs them on untrusted bodies. The first byte picks the layer:
// even = snappy-compressed body, odd = raw protobuf (so the fuzzer reaches the
// validation code without having to learn snappy).
#include <cstdint>
#include <string_view>

#include "server/remote_write.h"

namespace {

// Accepts every sample; validation is what is under test.
class NullStore final : public cairn::storage::Appendable {
 public:
  class App final : public cairn::storage::Appender {
   public:
    absl::StatusOr<cairn::storage::SeriesRef> Append(cairn::storage::SeriesRef,
                                                     const cairn::Labels& ls, int64_t,
                                                     double) override {
      return ls.size();
    }
    absl::Status Commit() override { return absl::OkStatus(); }
    void Rollback() override {}
  };
  std::unique_ptr<cairn::storage::Appender> NewAppender() override {
    return std::make_unique<App>();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  cairn::server::RemoteWriteLimits limits;
  limits.max_decompressed_bytes = 1 << 20;
  NullStore store;
  // The HTTP endpoint's path: the zero-copy view.
  {
    std::string raw;
    cairn::server::WriteRequestView view;
    absl::Status s = data[0] % 2 == 0
                         ? cairn::server::DecodeSnappyWriteRequest(body, limits, &raw, &view)
                         : view.Parse(body, {});
    cairn::server::RemoteWriteResult result;
    if (s.ok()) (void)cairn::server::IngestWriteRequest(view, limits, &store, &result);
  }
  // The gRPC service's path: a libprotobuf message (raw protobuf inputs only).
  prometheus::WriteRequest req;
  if (data[0] % 2 == 0 || !req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return 0;
  }
  cairn::server::RemoteWriteResult result;
  (void)cairn::server::IngestWriteRequest(req, limits, &store, &result);
  return 0;
}
