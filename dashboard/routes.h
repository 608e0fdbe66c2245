// The dashboard's HTTP routes: the page and its assets, and the read-only
// JSON API the page calls (and scripts may). Every route reads through the
// coordinator's SweepService; nothing here can change a sweep.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "common/status.h"
#include "common/table.h"
#include "dashboard/sweep_feed.h"

namespace httplib {
class Server;
struct Response;
}

namespace bitsweep::dashboard {

class Routes {
 public:
  Routes(v1::SweepService::Stub* stub, Authorizer authorize, FeedRegistry* feeds);
  void AddTo(httplib::Server* http);
  /// Ends the event streams (they check it every second).
  void Stop() { stopping_ = true; }
  /// True (once) after a request built or sent something large: the
  /// server then hands freed memory back to the system.
  bool TakeTrimWanted() { return trim_wanted_.exchange(false); }

 private:
  struct CachedResults {
    std::string key;  // the sweep's state and finished count when fetched
    // When the fetch began: a request that arrived before then can take
    // these rows, whatever its key (they are newer than what it asked for).
    std::chrono::steady_clock::time_point fetched_from;
    std::shared_ptr<const v1::QueryResultsResponse> rows;
    // Filtered / Pareto / sorted tables of these rows, by the request that
    // made them: paging through a big sweep's results sorts it once.
    std::map<std::string, std::shared_ptr<const Table>> tables;
  };
  /// The sweep's result rows, fetched again only when a job finished since.
  grpc::Status Results(int64_t sweep_id, std::shared_ptr<const v1::QueryResultsResponse>* rows);
  /// The results table after `where`, the Pareto front (when `pareto`) and
  /// `sort`; a request the table refuses (an unknown column) comes back in
  /// `invalid` with an OK status.
  grpc::Status ResultsTableFor(int64_t sweep_id, const std::vector<std::string>& where, bool pareto,
                               const std::string& sort, std::shared_ptr<const Table>* table, Status* invalid);
  /// A page of the job table in the sweep's order, read from the
  /// coordinator (for a sweep the dashboard has no copy of yet).
  void SendJobPageFromCoordinator(int64_t sweep_id, const JobPageRequest& request, httplib::Response& res);
  std::unique_ptr<grpc::ClientContext> Call(double seconds) const;

  v1::SweepService::Stub* stub_;
  Authorizer authorize_;
  FeedRegistry* feeds_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> trim_wanted_{false};
  std::mutex fetch_mu_;
  std::mutex results_mu_;
  std::map<int64_t, CachedResults> results_;
};

}  // namespace bitsweep::dashboard
