// Store: the coordinator's SQLite results store, the truth about sweeps.
//
// One writer: only the coordinator opens the file for writing, and only
// through this class. Writes are grouped by the caller with InTransaction so
// that a state change and its consequences (a job finishing, its sweep
// finishing) commit together or not at all. WAL mode lets readers (this
// class's read connection, or users' `sqlite3 -readonly`) run while it writes.
//
// Nothing throws out of here: SQLite errors come back as a Status naming the
// file and the operation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/sweep_spec.h"
#include "coordinator/reader_pool.h"
#include "coordinator/records.h"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace bitsweep::coordinator {

class StoreLock;

/// Who owns a store: the coordinator that last started on it.
struct StoreOwner {
  int64_t epoch = 0;
  std::string host;
  int64_t pid = 0;
  int64_t started_ms = 0;
  /// When it last said it is alive (0: it stopped cleanly).
  int64_t heartbeat_ms = 0;
  /// "pid 12 on host h, since 2026-... UTC".
  std::string Describe() const;
};

class Store {
 public:
  /// How a store is owned (see docs/results-store.md, "One writer").
  struct OwnerOptions {
    /// An owner on another host whose heartbeat is younger than this is
    /// taken to be alive, and the store is refused.
    int64_t stale_ms = 30000;
    /// Take the store over from a live-looking owner on another host (it
    /// stops writing at its next write).
    bool take_over = false;
  };

  /// Opens (creating it when absent) the store at `path`, migrates it to the
  /// latest schema and takes ownership of it: the lock beside it (refused,
  /// naming the holder, while another process on this host has it), then the
  /// owner row (refused while a live coordinator on another host has it).
  /// From then on every write transaction checks that this store still owns
  /// the file. A file written by a newer bitsweep is refused.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const OwnerOptions& owner);
  static Result<std::unique_ptr<Store>> Open(const std::string& path) { return Open(path, OwnerOptions()); }
  /// For tests of migrations: opens and migrates only up to `version`
  /// (without taking ownership).
  static Result<std::unique_ptr<Store>> OpenAtVersion(const std::string& path, int version);
  /// Gives ownership up (another host may start at once) and closes.
  ~Store();

  const std::string& path() const { return path_; }
  Result<int> SchemaVersion();
  /// The id the store got when it was created (32 hex digits), forever.
  const std::string& store_id() const { return store_id_; }
  /// Set once a write found that another coordinator took the store over;
  /// every write fails from then on. fence_error() says who took it.
  bool fenced() const { return fenced_; }
  std::string fence_error() const;

  // ---- writes (the caller serialises them; one writer) ----

  /// Runs `body` in one transaction: committed when it returns OK, rolled
  /// back when it fails.
  Status InTransaction(const std::function<Status()>& body);

  /// Inserts a sweep and its jobs (QUEUED) under the ids they carry.
  Status InsertSweep(SweepRecord* sweep, std::vector<JobRecord>* jobs);
  /// Inserts jobs (QUEUED) a strategy proposed for a stored sweep.
  Status InsertJobs(const std::vector<JobRecord>& jobs);
  /// Stores a strategy's state and outcome on its sweep.
  Status SaveStrategy(int64_t sweep_id, const std::string& state_json, const std::string& outcome_json);
  /// Job -> RUNNING under a new lease, with an attempts row.
  Status MarkLeased(const JobRecord& job, int64_t now_ms);
  /// Job -> SUCCEEDED with its result and metrics (the report's uploads are
  /// not read) and the stored `artifacts`; closes the attempt.
  Status MarkSucceeded(const JobRecord& job, const CompletionReport& report,
                       const std::vector<ArtifactRecord>& artifacts, int64_t now_ms);
  /// Closes the current attempt with `outcome` (failed, expired, cancelled)
  /// and `error`, and stores the job's new state (QUEUED for a retry, FAILED
  /// or CANCELLED) with last_error and avoid_worker.
  /// `counted_attempts` (default: job.attempts) is what the job's attempt
  /// count becomes (one less for an attempt that does not count).
  Status MarkAttemptEnded(const JobRecord& job, const std::string& outcome, const std::string& error,
                          int64_t now_ms, int counted_attempts = -1);
  /// Records artifacts of a job whose files are already in place (a failed
  /// attempt's log).
  Status InsertArtifacts(int64_t job_id, const std::vector<ArtifactRecord>& artifacts, int64_t now_ms);
  /// Sets the path of each artifact row named by (job_id, name).
  Status SetArtifactPaths(const std::vector<ArtifactRecord>& artifacts);
  /// A queued job -> CANCELLED.
  Status MarkQueuedCancelled(int64_t job_id, int64_t now_ms);
  /// Every QUEUED job of a sweep -> CANCELLED.
  Status MarkSweepQueuedCancelled(int64_t sweep_id, int64_t now_ms);
  Status SetSweepState(int64_t sweep_id, SweepState state, int64_t now_ms);
  /// Interim measurements (replacing any at the same job, metric and step).
  Status InsertMetrics(int64_t job_id, const std::vector<MetricValue>& metrics);
  /// Stores a worker; `next_worker_number` is what the worker-id counter
  /// becomes (it only grows).
  Status UpsertWorker(const WorkerRecord& worker, int64_t next_worker_number);
  /// Keeps post-training measurements (replacing any under the same key).
  Status PutMeasurements(const std::vector<PtqMeasurement>& measurements, int64_t now_ms);
  /// Says this owner is alive (the owner row's heartbeat).
  Status RenewOwnership(int64_t now_ms);
  Status TouchWorker(const std::string& worker_id, int64_t now_ms);

  // ---- reads (safe from any thread) ----

  Result<SweepRecord> GetSweep(int64_t sweep_id);
  Result<std::vector<SweepRecord>> ListSweeps();
  Result<JobRecord> GetJob(int64_t job_id);
  /// The sweep's jobs in order.
  Result<std::vector<JobRecord>> ListJobs(int64_t sweep_id);
  /// Hands each job of the sweep in `range` to `visit`, in order, one at a
  /// time: a caller that converts them needs no copy of 100,000 records.
  /// `visit` may move from its argument.
  Status VisitJobs(int64_t sweep_id, const JobRange& range, const std::function<void(JobRecord&)>& visit);
  /// How many jobs of the sweep exist (a large grid plans its points into
  /// jobs as it runs).
  Result<int64_t> CountJobRows(int64_t sweep_id);
  /// How many jobs of the sweep are in each state.
  Result<std::map<JobState, int>> CountJobs(int64_t sweep_id);
  /// Every QUEUED or RUNNING job, for recovery after a restart.
  Result<std::vector<JobRecord>> ActiveJobs();
  /// The largest sweep id and job id in use (0 when none).
  Result<std::pair<int64_t, int64_t>> MaxIds();
  /// Sweeps still RUNNING.
  Result<std::vector<SweepRecord>> RunningSweeps();
  /// Rows of the results view, for one sweep or (sweep_id 0) all.
  Result<std::vector<ResultRecord>> QueryResults(int64_t sweep_id);
  /// The same rows, handed to `visit` one at a time (it may move from them).
  Status VisitResults(int64_t sweep_id, const std::function<void(ResultRecord&)>& visit);
  Result<std::vector<WorkerRecord>> ListWorkers();
  /// The number the next new worker id ("w-N") gets.
  Result<int64_t> NextWorkerNumber();
  Result<StoreOwner> Owner();
  /// Artifacts of one job, or of every job of a sweep (job_id 0).
  Result<std::vector<ArtifactRecord>> ListArtifacts(int64_t job_id, int64_t sweep_id);
  /// Artifact rows whose path is absolute (written before rows held paths
  /// relative to the store's artifact folder).
  Result<std::vector<ArtifactRecord>> ListAbsoluteArtifactPaths();
  Result<std::vector<MetricValue>> JobMetrics(int64_t job_id);
  /// Worker-slot time the sweep's finished attempts took, in seconds (a
  /// slot is one GPU, or the CPU share a CPU worker runs a job on).
  Result<double> SweepSlotSeconds(int64_t sweep_id);
  Result<std::string> JobResultJson(int64_t job_id);
  /// The stored measurement under `key`, if any.
  Result<std::optional<PtqMeasurement>> FindMeasurement(const PtqMeasurementKey& key);
  /// Job `job_id` as a baseline (NotFound when there is no such job).
  Result<BaselineRecord> FindBaseline(int64_t job_id);

 private:
  struct Statements;
  Store() = default;
  static Result<std::unique_ptr<Store>> OpenImpl(const std::string& path, int version);
  /// Runs `fn`, turning SQLite exceptions into a Status about `what`.
  Status Guard(const char* what, const std::function<void()>& fn);
  /// Inside Guard: the artifact rows of one job.
  void InsertArtifactRows(int64_t job_id, const std::vector<ArtifactRecord>& artifacts, int64_t now_ms);
  /// Bumps the owner epoch (or refuses: see Open).
  Status ClaimOwnership(const OwnerOptions& options);
  /// Inside a write transaction: fails (and fences this store off) when the
  /// owner row no longer carries this store's epoch.
  Status CheckOwnership();

  std::string path_;
  std::string store_id_;
  std::unique_ptr<StoreLock> lock_;
  int64_t owner_epoch_ = 0;  // 0: not owned (migration tests)
  // The schema version the file was opened at (older in migration tests,
  // whose writes must fit it).
  int schema_version_ = 0;
  std::atomic<bool> fenced_{false};
  mutable std::mutex fence_mutex_;
  std::string fence_error_;
  std::unique_ptr<SQLite::Database> writer_;
  std::unique_ptr<Statements> statements_;
  std::unique_ptr<ReaderPool> readers_;
};

}  // namespace bitsweep::coordinator
