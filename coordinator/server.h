// CoordinatorServer: the store, the scheduler and both gRPC services on one
// port, with gRPC health checking and server reflection (so grpcurl and
// grpc_health_probe work), and a ticker that expires leases and long-polls.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "coordinator/scheduler.h"
#include "coordinator/sql_query.h"
#include "proto/transport_security.h"

namespace grpc {
class Server;
}

namespace bitsweep::coordinator {

class WorkerServiceImpl;
class SweepServiceImpl;

class CoordinatorServer {
 public:
  struct Options {
    /// host:port to listen on; port 0 picks a free one (see port()).
    std::string listen = "0.0.0.0:50051";
    /// The SQLite results store (created when absent).
    std::string db_path = "bitsweep.db";
    /// The root artifacts go under ("" = an "artifacts" folder beside the
    /// database); each store keeps its own folder in it (artifact_folder.h).
    std::string artifacts_dir;
    /// Ownership of the store: when another coordinator's is taken to be
    /// alive, and whether to take it over anyway.
    Store::OwnerOptions owner;
    /// How often the coordinator renews its ownership of the store.
    int64_t owner_heartbeat_ms = 5000;
    /// Called once (from the server's own thread) when the server cannot go
    /// on: another coordinator took the store over. Serving has stopped being
    /// healthy and every write is refused; the caller should shut down.
    std::function<void(const Status&)> on_fatal;
    /// Lease TTL, heartbeat interval, worker timeout.
    Scheduler::Options scheduler;
    /// TLS (plain text when no certificate is set); mutual TLS for workers
    /// when tls.client_ca is set.
    ServerTlsFiles tls;
    /// The shared token users (and, without mutual TLS, workers) must send.
    std::string token;
    /// The largest request accepted (results carry their artifacts).
    int max_request_bytes = 256 << 20;
    /// Time, row and size limits of the read-only query path.
    QueryLimits query_limits;
  };

  /// Opens the store (migrating it), recovers the queue and starts serving.
  static Result<std::unique_ptr<CoordinatorServer>> Start(Options options);
  ~CoordinatorServer();

  /// The port actually bound.
  int port() const { return port_; }
  /// Why the server cannot go on ("" while it can; see Options::on_fatal).
  std::string fatal_error() const;
  Scheduler* scheduler() { return scheduler_.get(); }
  /// Stops accepting calls, answers parked ones and stops the ticker.
  void Shutdown();

 private:
  CoordinatorServer() = default;
  void Tick();
  // Health follows the store: NOT_SERVING while its commits fail.
  void ReportStoreHealth();
  // Stops serving once another coordinator has taken the store over.
  void StopIfFenced();

  SystemClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<WorkerServiceImpl> worker_service_;
  std::unique_ptr<SweepServiceImpl> sweep_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::string store_error_;  // ticker thread only
  int64_t owner_heartbeat_ms_ = 0;
  std::function<void(const Status&)> on_fatal_;
  mutable std::mutex fatal_mu_;
  std::string fatal_error_;
  std::thread ticker_;
};

}  // namespace bitsweep::coordinator
