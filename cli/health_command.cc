// `bitsweep health`: the standard gRPC health check (grpc.health.v1), so a
// container healthcheck or a probe needs nothing but the binary. SERVING
// means the coordinator is up and its results store can be written.
#include <cstdio>
#include <future>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/service_commands.h"
#include "proto/grpc_status.h"

namespace bitsweep::cli {

int RunHealthCommand(const HealthCommandOptions& options) {
  const std::string address = options.coordinator.empty() ? DefaultCoordinatorAddress() : options.coordinator;
  Connection c = Connect(address);
  grpc::GenericStub stub(c.channel);
  auto ctx = CallContext(options.timeout_seconds);
  // HealthCheckRequest{service: ""} (the whole server) is the empty message;
  // the answer is HealthCheckResponse{status} as field 1, a varint.
  grpc::Slice empty(std::string(""));
  grpc::ByteBuffer request(&empty, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(ctx.get(), "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) { done.set_value(status); });
  Status status = FromGrpcStatus(done.get_future().get(), "Health/Check");
  if (!status.ok()) return ReportError("health", status.WithContext(address));
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (response.Dump(&slices).ok()) {
    for (const auto& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  const int serving_status = bytes.size() == 2 && bytes[0] == '\x08' ? bytes[1] : 0;
  const char* names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
  std::printf("%s: %s\n", address.c_str(), names[serving_status >= 0 && serving_status <= 3 ? serving_status : 0]);
  return serving_status == 1 ? kExitOk : kExitFailure;
}

}  // namespace bitsweep::cli
