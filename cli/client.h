// The user side of the wire: a connection to the coordinator's SweepService
// and the helpers every client subcommand shares.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "common/table.h"
#include "proto/results_table.h"
#include "proto/state_names.h"
#include "proto/transport_security.h"

namespace bitsweep::cli {

/// Where client subcommands find the coordinator when --coordinator is not
/// given: $BITSWEEP_COORDINATOR, else localhost:50051.
std::string DefaultCoordinatorAddress();

/// How client commands reach the coordinator: TLS files and the user token
/// (from --tls-ca/--tls-cert/--tls-key/--token-file or their environment
/// variables). Filled once by main before a command runs.
struct ClientSecurity {
  ClientTlsFiles tls;
  std::string token_file;
  /// Read from token_file by LoadClientSecurity.
  std::string token;
};
ClientSecurity& GlobalClientSecurity();
/// Reads the token file and checks the TLS files; errors name the flag.
Status LoadClientSecurity();

struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::SweepService::Stub> sweeps;
};
Connection Connect(const std::string& address);

/// A client context whose call must finish within `seconds`, carrying the
/// token when there is one.
std::unique_ptr<grpc::ClientContext> CallContext(double seconds = 30.0);
/// Adds the token (when there is one) to a context made elsewhere.
void Authorize(grpc::ClientContext* ctx);

/// "fmnist (sweep 3): DONE  6 jobs: 6 succeeded, 0 failed, 0 cancelled".
std::string SweepSummary(const v1::Sweep& sweep);

/// "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED".
const char* JobStateText(v1::JobState state);
/// "RUNNING", "DONE", "CANCELLED".
const char* SweepStateText(v1::SweepState state);

/// Prints `status` on stderr and returns the exit code for it.
int ReportError(const std::string& what, const Status& status);

}  // namespace bitsweep::cli
