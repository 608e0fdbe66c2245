// `bitsweep dashboard`: a read-only web dashboard over a coordinator. An
// HTTP server (cpp-httplib) that is a gRPC client of the coordinator; the
// page, its script and Chart.js are compiled into the binary (clusters are
// often offline, so nothing comes from a CDN).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "common/status.h"
#include "dashboard/sweep_feed.h"

namespace httplib {
class Server;
}

namespace bitsweep::dashboard {

class Routes;

struct ListenAddress {
  std::string host;
  int port = 0;
};

/// "HOST:PORT" or "[IPv6]:PORT" parsed. A host other than loopback
/// (127.0.0.0/8, ::1, localhost) is refused unless `allow_remote`: the
/// dashboard shows everything the coordinator holds to whoever connects.
Result<ListenAddress> ParseListenAddress(const std::string& listen, bool allow_remote);

class DashboardServer {
 public:
  /// Calls go over `channel`; `authorize` adds the user token to each.
  DashboardServer(std::shared_ptr<grpc::Channel> channel, Authorizer authorize);
  ~DashboardServer();
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  /// Binds and serves in the background. Port 0 picks a free port.
  Status Start(const ListenAddress& address);
  /// The bound port (after Start).
  int port() const { return port_; }
  /// "http://HOST:PORT/".
  std::string Url() const;
  void Stop();

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SweepService::Stub> stub_;
  Authorizer authorize_;
  std::unique_ptr<FeedRegistry> feeds_;
  std::unique_ptr<Routes> routes_;
  std::unique_ptr<httplib::Server> http_;
  std::thread serving_;
  // Hands memory freed by large responses back to the system (the
  // allocator settings of scripts/env.sh would keep it otherwise).
  std::thread trimming_;
  std::mutex trim_mu_;
  std::condition_variable trim_stop_;
  bool stopping_ = false;
  std::string host_;
  int port_ = 0;
};

}  // namespace bitsweep::dashboard
