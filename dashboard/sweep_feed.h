// One sweep as the dashboard sees it: a single WatchSweep stream from the
// coordinator, shared by every browser that has the sweep open. Browsers
// never poll the coordinator; they read this copy (pages of the job table)
// and wait on it for changes (server-sent events).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bitsweep/v1/bitsweep.grpc.pb.h"

namespace bitsweep::dashboard {

/// Adds the caller's credentials (the user token) to a call's context.
using Authorizer = std::function<void(grpc::ClientContext*)>;

/// A page of the job table: rows [offset, offset + limit) of the jobs that
/// pass the state filter, in the requested order.
struct JobPageRequest {
  /// "" = every state, else QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED.
  std::string state;
  /// id, state, attempts, worker, progress or wall ("-" first: descending).
  std::string sort = "id";
  int64_t offset = 0;
  int64_t limit = 50;
};

/// INVALID_ARGUMENT naming what is wrong with the request, else OK.
grpc::Status CheckJobPageRequest(const JobPageRequest& request);

/// True for the sweep's own order with no filter: the coordinator can
/// serve such a page itself (ListJobs' offset and limit).
bool InSweepOrder(const JobPageRequest& request);

struct JobPage {
  int64_t matching = 0;  // jobs that pass the filter
  uint64_t version = 0;  // the feed's version the page was read at
  std::vector<v1::Job> jobs;
};

/// What changed after a version: the sweep's counts and the jobs that
/// changed, or `reload` when the changes are too old to replay.
struct FeedChanges {
  uint64_t version = 0;
  bool reload = false;
  bool ended = false;
  v1::Sweep sweep;
  std::vector<v1::Job> jobs;
};

class SweepFeed {
 public:
  SweepFeed(int64_t sweep_id, v1::SweepService::Stub* stub, Authorizer authorize);
  ~SweepFeed();
  SweepFeed(const SweepFeed&) = delete;
  SweepFeed& operator=(const SweepFeed&) = delete;

  /// Waits (up to `seconds`) for the first snapshot. An error when the
  /// coordinator refused the stream (an unknown sweep, a missing token).
  grpc::Status WaitForSnapshot(double seconds);

  /// The sweep and its job counts as last seen.
  v1::Sweep Sweep() const;
  /// Errors with INVALID_ARGUMENT naming what is wrong with the request.
  grpc::Status Page(const JobPageRequest& request, JobPage* page) const;
  /// Blocks up to `seconds` until the version passes `since`, then says
  /// what changed (nothing, at the same version, on timeout).
  FeedChanges WaitForChanges(uint64_t since, double seconds) const;
  /// True once the sweep finished and its last event arrived.
  bool Ended() const;
  /// True once the first snapshot arrived (pages can be read).
  bool HasSnapshot() const;
  int64_t sweep_id() const { return sweep_id_; }

 private:
  void Follow();
  /// Takes the event's jobs (it is read into again next).
  void Apply(v1::SweepEvent* event);

  const int64_t sweep_id_;
  v1::SweepService::Stub* stub_;
  Authorizer authorize_;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  bool have_snapshot_ = false;
  grpc::Status stream_status_;
  bool ended_ = false;
  bool stopping_ = false;
  uint64_t version_ = 0;
  v1::Sweep sweep_;
  std::map<int64_t, v1::Job> jobs_;
  // (version, job id) of recent job changes, oldest first; a browser that
  // fell further behind than this reloads its page instead.
  std::deque<std::pair<uint64_t, int64_t>> recent_;
  // Changes after this version can be replayed from recent_.
  uint64_t replay_from_ = 0;
  std::unique_ptr<grpc::ClientContext> context_;
  std::thread follower_;
};

/// The feeds of the sweeps browsers have open: one per sweep, created on
/// first use; finished sweeps' feeds beyond `max_finished` are dropped,
/// least recently used first.
class FeedRegistry {
 public:
  FeedRegistry(v1::SweepService::Stub* stub, Authorizer authorize, size_t max_finished = 8);
  /// The sweep's feed with its snapshot, or the coordinator's error.
  grpc::Status Get(int64_t sweep_id, std::shared_ptr<SweepFeed>* feed);
  /// The sweep's feed if one was started and has its snapshot, else null;
  /// starts nothing and never waits.
  std::shared_ptr<SweepFeed> FindReady(int64_t sweep_id);
  /// Starts following the sweep unless a feed already does; never waits.
  void Follow(int64_t sweep_id);

 private:
  v1::SweepService::Stub* stub_;
  Authorizer authorize_;
  size_t max_finished_;
  std::mutex mu_;
  uint64_t clock_ = 0;
  std::map<int64_t, std::pair<std::shared_ptr<SweepFeed>, uint64_t>> feeds_;  // feed, last use
};

}  // namespace bitsweep::dashboard
