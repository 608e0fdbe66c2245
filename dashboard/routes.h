// The dashboard's HTTP routes: the page and its assets, and the read-only
// JSON API the page calls (and scripts may). Every route reads through the
// coordinator's SweepService; nothing here can change a sweep.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "dashboard/sweep_feed.h"

namespace httplib {
class Server;
}

namespace bitsweep::dashboard {

class Routes {
 public:
  Routes(v1::SweepService::Stub* stub, Authorizer authorize, FeedRegistry* feeds);
  void AddTo(httplib::Server* http);
  /// Ends the event streams (they check it every second).
  void Stop() { stopping_ = true; }

 private:
  struct CachedResults {
    std::string key;  // the sweep's state and finished count when fetched
    std::shared_ptr<const v1::QueryResultsResponse> rows;
  };
  /// The sweep's result rows, fetched again only when a job finished since.
  grpc::Status Results(int64_t sweep_id, std::shared_ptr<const v1::QueryResultsResponse>* rows);
  std::unique_ptr<grpc::ClientContext> Call(double seconds) const;

  v1::SweepService::Stub* stub_;
  Authorizer authorize_;
  FeedRegistry* feeds_;
  std::atomic<bool> stopping_{false};
  std::mutex results_mu_;
  std::map<int64_t, CachedResults> results_;
};

}  // namespace bitsweep::dashboard
