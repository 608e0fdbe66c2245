// Scheduler: the coordinator's core. Turns sweeps into jobs and hands them
// out as leases; every state change is a store transaction.
//
// The rules (DESIGN.md, service rules):
//  - A lease carries an attempt number and an epoch. The worker renews it by
//    heartbeat; a lease not renewed within the TTL expires and the job goes
//    back to the queue, until max_attempts is spent, then FAILED with the
//    last error.
//  - Every report carries the epoch; a report whose epoch (or worker) is not
//    the job's current lease is refused with FAILED_PRECONDITION and changes
//    nothing.
//  - A retried job goes to a different worker when another live one exists.
//  - Higher sweep priority leases first; equal priorities in submission order.
//
// Group commit: a state change updates memory at once, under the lock, and
// queues its store writes; the call returns only when a transaction holding
// them has committed. While one caller commits, the others' writes gather
// into the next transaction, so under load one commit carries many changes
// (a SQLite commit costs tens of microseconds whatever it holds). If a commit
// fails, every call in it fails and memory is reloaded from the store.
//
// No gRPC here: the handlers in worker_service.cc and sweep_service.cc are
// thin translations onto these calls, and tests drive the core directly with
// a ManualClock. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metric_value.h"
#include "common/status.h"
#include "coordinator/clock.h"
#include "coordinator/measurement_cache.h"
#include "coordinator/records.h"
#include "coordinator/store.h"
#include "coordinator/strategy.h"

namespace bitsweep::coordinator {

/// A job handed to a worker.
struct LeaseGrant {
  int64_t job_id = 0;
  int64_t sweep_id = 0;
  int attempt = 0;
  int64_t epoch = 0;
  std::string spec_json;
  int64_t ttl_ms = 0;
  std::string store_id;
};

/// One lease's progress, as a heartbeat reports it.
struct LeaseReport {
  int64_t job_id = 0;
  int64_t epoch = 0;
  int64_t step = 0;
  int64_t total = 0;
  double images_per_second = 0.0;
  std::vector<MetricValue> interim_metrics;
};

enum class DirectiveKind { kContinue, kCancel, kLeaseLost };

struct Directive {
  int64_t job_id = 0;
  int64_t epoch = 0;
  DirectiveKind kind = DirectiveKind::kContinue;
  std::string reason;
};

struct WorkerRegistration {
  std::string worker_id;
  int64_t lease_ttl_ms = 0;
  int64_t heartbeat_interval_ms = 0;
  /// The store's id: job work folders are kept per store.
  std::string store_id;
};

/// A sweep with its job counts.
struct SweepView {
  SweepRecord sweep;
  std::map<JobState, int> counts;
  int total = 0;
  /// Worker-slot seconds its finished attempts took.
  double slot_seconds = 0.0;
};

/// A job with the progress of its running attempt.
struct JobView {
  JobRecord job;
  int64_t step = 0;
  int64_t total = 0;
};

struct WorkerView {
  WorkerRecord worker;
  bool alive = false;
  int running_jobs = 0;
};

class Scheduler {
 public:
  struct Options {
    /// A lease not renewed within this expires.
    int64_t lease_ttl_ms = 30000;
    /// How often workers are told to heartbeat (well inside the TTL).
    int64_t heartbeat_interval_ms = 5000;
    /// A worker silent for this long counts as gone.
    int64_t worker_timeout_ms = 90000;
    /// Where uploaded artifacts are kept (a folder per job); the store's
    /// rows name them relative to it (artifact_folder.h).
    std::string artifacts_dir;
    /// The largest grid (points) a submit may hold; larger ones are refused
    /// at once, before anything is planned.
    int64_t max_jobs_per_sweep = static_cast<int64_t>(kMaxJobsPerSweep);
  };

  /// Builds the scheduler over `store` and recovers the queue and the leases
  /// in it: running jobs keep their lease, with a fresh TTL from now.
  static Result<std::unique_ptr<Scheduler>> Create(const Options& options, Store* store, Clock* clock);

  /// Called (outside the scheduler's lock) whenever jobs may have become
  /// leasable: a sweep was submitted, a job was requeued.
  void SetWorkAvailableListener(std::function<void()> listener);

  // ---- users ----

  /// Validates and stores a sweep with the jobs its strategy wants at once
  /// (a grid: all of them, or its first GridStrategy::kWindow; adaptive
  /// strategies propose theirs when workers ask for work). Returns the sweep
  /// id and its number of jobs (a grid's: all it will run). An
  /// invalid spec is refused with INVALID_ARGUMENT naming the field, and
  /// nothing is written.
  Result<std::pair<int64_t, int>> SubmitSweep(const nlohmann::json& spec);
  /// Cancels every unfinished job of a sweep; returns how many.
  Result<int> CancelSweep(int64_t sweep_id);
  Result<int> CancelJob(int64_t job_id);
  Result<SweepView> GetSweep(int64_t sweep_id);
  Result<std::vector<SweepView>> ListSweeps();
  Result<std::vector<JobView>> ListJobs(int64_t sweep_id);
  /// Hands the sweep's jobs in `range` to `visit` one at a time, with the
  /// progress of those running (NOT_FOUND for an unknown sweep).
  Status VisitJobs(int64_t sweep_id, const JobRange& range, const std::function<void(const JobView&)>& visit);
  Result<std::vector<WorkerView>> ListWorkers();
  /// Blocks until the sweep changes after `seen` (a value this returned
  /// before; 0 at first) or `timeout_ms` passes; returns the current value.
  uint64_t WaitForSweepChange(int64_t sweep_id, uint64_t seen, int64_t timeout_ms);

  // ---- workers ----

  /// Registers a worker. `record.id` may name the id it had before a
  /// reconnect; it is kept when this store issued it (`record.store_id`) and
  /// still knows it. New ids are never reused, across restarts too.
  Result<WorkerRegistration> RegisterWorker(WorkerRecord record);
  /// The next job for `worker_id`, or nullopt when none is leasable.
  Result<std::optional<LeaseGrant>> TryLease(const std::string& worker_id);
  /// Up to `max_jobs` jobs for `worker_id` (none when none is leasable).
  Result<std::vector<LeaseGrant>> TryLeaseMany(const std::string& worker_id, int max_jobs);
  /// Renews the worker's leases and records progress; one directive per lease.
  Result<std::vector<Directive>> Heartbeat(const std::string& worker_id, const std::vector<LeaseReport>& leases);
  Status Complete(const std::string& worker_id, const CompletionReport& report);
  /// Completes several jobs (each accepted or refused on its own: one
  /// Status per report, in order), then leases up to `lease_next` jobs, all
  /// in one commit. Fails as a whole only for an unknown worker or a failed
  /// commit.
  Result<std::pair<std::vector<Status>, std::vector<LeaseGrant>>> CompleteMany(
      const std::string& worker_id, const std::vector<CompletionReport>& reports, int lease_next);
  /// A failed attempt: requeued when `retryable` and attempts remain, else
  /// FAILED. `released`: the worker is stopping and hands the job back; it
  /// is requeued and the attempt does not count.
  /// `artifacts` (the attempt's log) are kept as the job's.
  Status Fail(const std::string& worker_id, int64_t job_id, int64_t epoch, const std::string& error, bool retryable,
              bool released = false, const std::vector<ArtifactUpload>& artifacts = {});

  /// Expires leases past their TTL (call periodically); returns how many.
  Result<int> ExpireLeases();

  Store* store() { return store_; }
  /// The artifacts of one job, or of every job of a sweep (job_id 0), each
  /// `path` naming the file (the rows hold it relative to artifacts_dir).
  Result<std::vector<ArtifactRecord>> ListArtifacts(int64_t job_id, int64_t sweep_id);
  /// Why the last store commit failed (disk full, read-only, I/O error), or
  /// "" once one succeeds. While it fails every state change is refused.
  std::string StoreError() const;
  /// Commits the writes that wait for no caller (heartbeats'), if any and if
  /// no commit is under way. The server calls it every tick.
  Status Flush();
  /// Renews the coordinator's ownership of the store (its heartbeat in the
  /// owner row); like every commit, it fails once another coordinator has
  /// taken the store over.
  Status RenewStoreOwnership();

 private:
  // What the scheduler keeps in memory about a queued or running job.
  struct ActiveJob {
    JobRecord record;
    int priority = 0;
    int64_t lease_deadline_ms = 0;
    int64_t step = 0;
    int64_t total = 0;
  };
  struct RunningSweep {
    nlohmann::json base;
    int priority = 0;
    int unfinished = 0;
    int max_attempts = 3;
    /// Shared so that PrepareStrategies can use it outside the lock.
    std::shared_ptr<Strategy> strategy;
    int64_t next_ordinal = 0;
    /// The strategy state last written, to skip writes that change nothing.
    std::string saved_state;
    std::string saved_error;
    /// Why the strategy cannot go on (it failed to propose); shown in the
    /// outcome, and the sweep ends when its running jobs have.
    std::string error;
    /// Whether the strategy wants more jobs.
    bool Wanting() const { return error.empty() && !strategy->Done(); }
  };
  struct WorkerState {
    WorkerRecord record;
    int64_t last_seen_ms = 0;
    std::unordered_set<int64_t> leases;
  };
  // Queue order: higher priority first, then older job first.
  using QueueKey = std::pair<int, int64_t>;  // (-priority, job id)

  Scheduler(const Options& options, Store* store, Clock* clock)
      : options_(options), store_(store), clock_(clock), cache_(store) {}
  using Mutation = std::function<Status()>;

  /// Loads queue, leases and workers from the store (mu_ held).
  Status Recover();
  /// The sweep with its job counts (read from the store).
  Result<SweepView> WithCounts(SweepRecord sweep);
  /// Queues store writes into the transaction being gathered (mu_ held);
  /// returns the ticket to wait for.
  uint64_t Enqueue(Mutation mutation);
  /// Waits until the transaction holding `ticket` committed (mu_ not held);
  /// commits it itself when no other caller is committing.
  Status AwaitDurable(uint64_t ticket);

  Result<std::vector<LeaseGrant>> LeaseLocked(const std::string& worker_id, int max_jobs, uint64_t* ticket);
  Status CompleteLocked(const std::string& worker_id, const CompletionReport& report,
                        const std::vector<std::string>& temp_paths, std::vector<ArtifactRecord> artifacts,
                        uint64_t* ticket);
  Result<ActiveJob*> FindLease(const std::string& worker_id, int64_t job_id, int64_t epoch);
  /// Ends the current attempt of a running job; requeues it or fails it.
  uint64_t EndAttempt(ActiveJob* job, const std::string& outcome, const std::string& error, bool retryable,
                      bool* requeued, bool released = false);
  /// Removes a finished job from memory and tells its sweep's strategy;
  /// finishes the sweep (and queues that write) when nothing is left to run.
  void Retire(int64_t job_id, const TrialResult& result);
  /// Asks the sweep's strategy for up to `max_new` jobs and queues them and
  /// the strategy's state into the transaction being gathered (mu_ held).
  /// Returns how many it added.
  int ProposeLocked(int64_t sweep_id, RunningSweep* sweep, int max_new);
  // The records of proposed jobs (no ids yet); needs no lock.
  static std::vector<JobRecord> JobsFromPlans(std::vector<JobPlan>* plans, int64_t first_ordinal, int max_attempts);
  // Gives `jobs` ids, queues them and their store insert; returns how many.
  int AddJobsLocked(int64_t sweep_id, RunningSweep* sweep, std::vector<JobRecord> jobs);
  // A strategy that could not propose ends its sweep with the reason.
  int RecordProposalErrorLocked(int64_t sweep_id, RunningSweep* sweep, const Status& error);
  /// Writes the strategy's state when it changed (mu_ held).
  void SaveStrategyLocked(int64_t sweep_id, RunningSweep* sweep);
  /// Lets strategies with room propose up to `wanted` jobs for an idle
  /// worker, higher priority sweeps first, only sweeps of priority above
  /// `above` (mu_ held). Returns how many.
  int TopUpLocked(int wanted, int above);
  /// Ends the sweep (and queues that write) when nothing of it runs and its
  /// strategy wants nothing more; returns whether it did (mu_ held).
  bool MaybeFinishLocked(int64_t sweep_id);
  /// Whether a strategy may have work since the last call (then tells the
  /// work-available listener). Also lets strategies prepare their next jobs
  /// (PrepareStrategies). Called without the lock.
  void WakeIfStrategiesMayPropose();
  /// Strategy::PrepareAhead of every running sweep's strategy, outside the
  /// lock (mu_ not held).
  void PrepareStrategies();
  bool OtherLiveWorker(const std::string& worker_id, int64_t now) const;
  void Touch(int64_t sweep_id);
  void NotifyWorkAvailable();
  Result<std::vector<std::string>> WriteArtifacts(int64_t job_id, const std::vector<ArtifactUpload>& artifacts,
                                                  std::vector<ArtifactRecord>* records);

  const Options options_;
  Store* const store_;
  Clock* const clock_;
  // What strategies may read from the store (earlier measurements).
  StoreMeasurementCache cache_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::unordered_map<int64_t, ActiveJob> active_;
  std::set<QueueKey> queue_;
  std::unordered_set<int64_t> running_;
  std::unordered_map<int64_t, RunningSweep> sweeps_;
  std::unordered_map<std::string, WorkerState> workers_;
  std::unordered_map<int64_t, uint64_t> sweep_versions_;
  /// Counts and slot time of finished sweeps, which never change again:
  /// counting a 100,000-job sweep's jobs costs about 0.1 s, and a dashboard
  /// asks for a sweep's counts with every request.
  std::unordered_map<int64_t, std::pair<std::map<JobState, int>, double>> finished_counts_;
  int64_t next_worker_number_ = 1;
  int64_t next_sweep_id_ = 1;
  int64_t next_job_id_ = 1;
  std::function<void()> on_work_available_;
  bool strategy_wakeup_ = false;
  /// A sweep ended or a large one was submitted: hand freed memory back to
  /// the system at the next Flush (outside the lock).
  std::atomic<bool> trim_wanted_{false};
  /// A strategy that prepares ahead handed out jobs: PrepareStrategies has
  /// work.
  std::atomic<bool> prepare_wanted_{false};

  // Group commit.
  std::vector<Mutation> gathering_;
  uint64_t gathering_ticket_ = 1;  // ticket of the transaction being gathered
  uint64_t durable_ticket_ = 0;    // every ticket up to this one has committed
  bool committing_ = false;
  std::condition_variable durable_cv_;
  std::map<uint64_t, Status> failed_commits_;
  std::string store_error_;
};

}  // namespace bitsweep::coordinator
