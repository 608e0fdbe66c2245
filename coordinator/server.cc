#include "coordinator/server.h"

#include <cstdio>
#include <filesystem>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "coordinator/artifact_folder.h"
#include "coordinator/sweep_service.h"
#include "coordinator/worker_service.h"
#include "proto/grpc_status.h"

namespace bitsweep::coordinator {
namespace {
// Answers can be as large as the largest request (an artifact download is
// chunked; a results table of a huge sweep is not).
constexpr int kMaxSendBytes = 256 << 20;
constexpr auto kTickInterval = std::chrono::milliseconds(100);
constexpr int kTicksPerLeaseCheck = 5;
}  // namespace

Result<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(Options options) {
  std::unique_ptr<CoordinatorServer> server(new CoordinatorServer());
  namespace fs = std::filesystem;
  fs::path db = fs::absolute(options.db_path);
  std::error_code ec;
  if (db.has_parent_path()) fs::create_directories(db.parent_path(), ec);
  if (options.artifacts_dir.empty()) options.artifacts_dir = (db.parent_path() / "artifacts").string();

  BITSWEEP_ASSIGN_OR_RETURN(server->store_, Store::Open(db.string(), options.owner));
  BITSWEEP_ASSIGN_OR_RETURN(options.scheduler.artifacts_dir,
                            ClaimArtifactFolder(options.artifacts_dir, db.string(), server->store_->store_id()));
  // A store moved or copied with its folder, or rows from before relative
  // paths: the rows name the files where they are now.
  BITSWEEP_ASSIGN_OR_RETURN(const int64_t adopted,
                            AdoptMovedArtifacts(server->store_.get(), options.scheduler.artifacts_dir));
  if (adopted > 0) {
    std::fprintf(stderr, "coordinator: %lld artifact rows now name their files relative to %s\n",
                 static_cast<long long>(adopted), options.scheduler.artifacts_dir.c_str());
  }
  server->owner_heartbeat_ms_ = options.owner_heartbeat_ms;
  server->on_fatal_ = options.on_fatal;
  BITSWEEP_ASSIGN_OR_RETURN(server->scheduler_,
                            Scheduler::Create(options.scheduler, server->store_.get(), &server->clock_));
  BITSWEEP_ASSIGN_OR_RETURN(auto credentials, MakeServerCredentials(options.tls));
  AccessControl::Options access;
  access.token = options.token;
  access.require_worker_certificate = !options.tls.client_ca.empty();
  server->worker_service_ = std::make_unique<WorkerServiceImpl>(server->scheduler_.get(), AccessControl(access));
  server->sweep_service_ =
      std::make_unique<SweepServiceImpl>(server->scheduler_.get(), AccessControl(access), options.query_limits);
  WorkerServiceImpl* workers = server->worker_service_.get();
  server->scheduler_->SetWorkAvailableListener([workers] { workers->DispatchWaiting(); });

  DisableMutexDeadlockDetection();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  // gRPC shares a port with any other process that asks (SO_REUSEPORT):
  // a second coordinator on the same port would silently take half the
  // calls. Binding a port in use must fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Larger requests are refused with RESOURCE_EXHAUSTED before any handler
  // sees them.
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  builder.SetMaxSendMessageSize(kMaxSendBytes);
  builder.RegisterService(server->worker_service_.get());
  builder.RegisterService(server->sweep_service_.get());
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return Status::Unavailable("cannot listen on " + options.listen + " (address in use or invalid?)");
  }
  server->ticker_ = std::thread([s = server.get()] { s->Tick(); });
  return server;
}

void CoordinatorServer::Tick() {
  int ticks = 0;
  auto renewed = std::chrono::steady_clock::now();
  while (!stopping_) {
    std::this_thread::sleep_for(kTickInterval);
    worker_service_->ExpireWaits();
    (void)scheduler_->Flush();
    if (++ticks % kTicksPerLeaseCheck == 0) {
      (void)scheduler_->ExpireLeases();
      ReportStoreHealth();
      // Any commit finds a takeover (they all check the owner epoch); the
      // renewal makes sure an idle coordinator finds it too.
      if (std::chrono::steady_clock::now() - renewed >= std::chrono::milliseconds(owner_heartbeat_ms_)) {
        (void)scheduler_->RenewStoreOwnership();
        renewed = std::chrono::steady_clock::now();
      }
      StopIfFenced();
    }
  }
}

void CoordinatorServer::StopIfFenced() {
  if (!store_->fenced()) return;
  {
    std::lock_guard<std::mutex> lock(fatal_mu_);
    if (!fatal_error_.empty()) return;
    fatal_error_ = store_->fence_error();
  }
  std::fprintf(stderr, "bitsweep coordinator: %s\n", fatal_error().c_str());
  server_->GetHealthCheckService()->SetServingStatus(false);
  if (on_fatal_) on_fatal_(Status::FailedPrecondition(fatal_error()));
}

std::string CoordinatorServer::fatal_error() const {
  std::lock_guard<std::mutex> lock(fatal_mu_);
  return fatal_error_;
}

void CoordinatorServer::ReportStoreHealth() {
  std::string error = scheduler_->StoreError();
  if (error == store_error_ || store_->fenced()) return;
  if (!error.empty()) {
    std::fprintf(stderr,
                 "bitsweep coordinator: the results store cannot be written (%s); refusing work and results "
                 "until it can (workers keep their results and retry)\n",
                 error.c_str());
  } else {
    std::fprintf(stderr, "bitsweep coordinator: the results store is writable again; serving\n");
  }
  server_->GetHealthCheckService()->SetServingStatus(error.empty());
  store_error_ = std::move(error);
}

void CoordinatorServer::Shutdown() {
  if (stopping_.exchange(true)) return;
  if (ticker_.joinable()) ticker_.join();
  sweep_service_->Stop();
  // No poll may park from here on: Shutdown waits for every call to finish.
  worker_service_->StopParking();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

CoordinatorServer::~CoordinatorServer() {
  if (server_) Shutdown();
}

}  // namespace bitsweep::coordinator
