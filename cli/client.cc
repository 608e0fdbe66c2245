#include "cli/client.h"

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace bitsweep::cli {

std::string DefaultCoordinatorAddress() {
  const char* env = std::getenv("BITSWEEP_COORDINATOR");
  return env != nullptr && *env != '\0' ? env : "localhost:50051";
}

ClientSecurity& GlobalClientSecurity() {
  static ClientSecurity security;
  return security;
}

Status LoadClientSecurity() {
  ClientSecurity& security = GlobalClientSecurity();
  if (!security.token_file.empty()) {
    BITSWEEP_ASSIGN_OR_RETURN(security.token, ReadSecretFile(security.token_file, "--token-file"));
  }
  return MakeChannelCredentials(security.tls).status();
}

Connection Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  Connection c;
  // LoadClientSecurity has checked the files; plain text otherwise.
  auto credentials = MakeChannelCredentials(GlobalClientSecurity().tls);
  c.channel = grpc::CreateCustomChannel(
      address, credentials.ok() ? credentials.value() : grpc::InsecureChannelCredentials(), args);
  c.sweeps = v1::SweepService::NewStub(c.channel);
  return c;
}

std::unique_ptr<grpc::ClientContext> CallContext(double seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0)));
  Authorize(ctx.get());
  return ctx;
}

void Authorize(grpc::ClientContext* ctx) {
  const std::string& token = GlobalClientSecurity().token;
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

const char* JobStateText(v1::JobState state) { return JobStateName(state); }

const char* SweepStateText(v1::SweepState state) { return SweepStateName(state); }

std::string SweepSummary(const v1::Sweep& s) {
  const char* state = SweepStateText(s.state());
  char line[512];
  std::snprintf(line, sizeof line, "sweep %lld \"%s\": %s  %d jobs: %d succeeded, %d failed, %d cancelled, %d running, %d queued",
                static_cast<long long>(s.id()), s.name().c_str(), state, s.jobs_total(), s.jobs_succeeded(),
                s.jobs_failed(), s.jobs_cancelled(), s.jobs_running(), s.jobs_queued());
  return line;
}

int ReportError(const std::string& what, const Status& status) {
  std::fprintf(stderr, "bitsweep %s: %s\n", what.c_str(), status.ToString().c_str());
  if (status.code() == StatusCode::kInvalidArgument) return kExitUsage;
  return kExitFailure;
}

}  // namespace bitsweep::cli
