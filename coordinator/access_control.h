// Who may call what. Users (SweepService) prove themselves with the shared
// token; workers (WorkerService) with a client certificate signed by the
// worker CA when mutual TLS is on, else with the same token. Nothing
// configured: everything is open (a sweep on one machine).
#pragma once

#include <string>

#include <grpcpp/server_context.h>

#include "common/status.h"

namespace bitsweep::coordinator {

class AccessControl {
 public:
  struct Options {
    /// The shared secret users send as "authorization: Bearer <token>".
    std::string token;
    /// Worker calls need a verified client certificate (mutual TLS).
    bool require_worker_certificate = false;
  };

  AccessControl() = default;
  explicit AccessControl(Options options) : options_(std::move(options)) {}

  /// OK or UNAUTHENTICATED, saying what is missing.
  Status CheckUser(const grpc::ServerContextBase& context) const;
  Status CheckWorker(const grpc::ServerContextBase& context) const;

 private:
  Status CheckToken(const grpc::ServerContextBase& context, const char* who) const;
  Options options_;
};

}  // namespace bitsweep::coordinator
