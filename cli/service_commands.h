// The `bitsweep` subcommands of the sweep service: run a coordinator, a
// worker or both in one process (local), and the client commands users
// query it with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitsweep::cli {

struct CoordinatorCommandOptions {
  std::string listen = "0.0.0.0:50051";
  std::string db_path = "bitsweep.db";
  std::string artifacts_dir;
  double lease_ttl_seconds = 30.0;
  double heartbeat_seconds = 5.0;
  std::string tls_cert;
  std::string tls_key;
  /// CA of worker certificates: set = mutual TLS for workers.
  std::string tls_client_ca;
  /// The shared token users (and workers without mutual TLS) send.
  std::string token_file;
  int max_request_mb = 256;
  double query_timeout_seconds = 10.0;
  int query_max_rows = 100000;
  /// The largest grid one submit may hold.
  int64_t max_jobs_per_sweep = 1000000;
  /// Take the store over from a coordinator on another host that still
  /// looks alive (it stops writing at its next write).
  bool take_over = false;
};
int RunCoordinatorCommand(const CoordinatorCommandOptions& options);

struct WorkerCommandOptions {
  std::string coordinator;
  /// Slots; 0 = one per GPU, or one CPU slot.
  int slots = 0;
  /// auto, cpu or cuda.
  std::string device = "auto";
  int threads = 0;
  std::string work_dir = "bitsweep-work";
  std::string cache_dir;
  bool keep_work = false;
  /// Task kinds whose jobs each run in their own process ("all", "none", or
  /// a comma-separated list).
  std::string isolate = "qgan,ptq";
  /// Slots per GPU (0 = --slots decides).
  int slots_per_gpu = 0;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string token_file;
};
int RunWorkerCommand(const WorkerCommandOptions& options);

/// `bitsweep job-child` (hidden): one job in a process of its own, started
/// by a worker (worker/job_process.h).
struct JobChildOptions {
  std::string dir;
  int events_fd = -1;
  int replies_fd = -1;
};
int RunJobChildCommand(const JobChildOptions& options);

struct LocalCommandOptions {
  std::string spec_path;
  /// --set FIELD=VALUE overrides of the spec file.
  std::vector<std::string> overrides;
  /// Worker slots in this process (0 = one per GPU, or one CPU slot).
  int workers = 0;
  std::string device = "auto";
  /// As for the worker: task kinds run in their own process.
  std::string isolate = "qgan,ptq";
  int threads = 0;
  std::string db_path = "runs/local/bitsweep.db";
  std::string work_dir;
  std::string cache_dir;
  bool quiet = false;
  /// Also print the Pareto front of model size against FID.
  bool pareto = false;
  /// Run the sweep again even when the store holds a finished run of the
  /// same spec (default: show that run's results).
  bool rerun = false;
  /// Serve the web dashboard on this loopback address while the sweep runs,
  /// and after it until Ctrl-C ("" = no dashboard).
  std::string dashboard;
};
int RunLocalCommand(const LocalCommandOptions& options);

struct HealthCommandOptions {
  std::string coordinator;
  double timeout_seconds = 5.0;
};
/// Exit 0 when the coordinator says SERVING.
int RunHealthCommand(const HealthCommandOptions& options);

struct QueryCommandOptions {
  std::string coordinator;
  std::string sql;
  /// table, csv or json.
  std::string format = "table";
  int max_rows = 0;
};
int RunQueryCommand(const QueryCommandOptions& options);

struct ReportCommandOptions {
  /// One or more stores; rows of several are judged together (by seed).
  std::vector<std::string> db_paths;
  std::vector<int64_t> sweeps;  // empty: every sweep
  std::string metric = "fid";
  double bound = 1.2;
  double confidence = 0.95;
};
/// Per protocol and method: how few bits keep the metric within the bound
/// of full precision, with intervals (cli/verdict_report.h).
int RunReportCommand(const ReportCommandOptions& options);

struct SubmitCommandOptions {
  std::string coordinator;
  std::string spec_path;
  /// --set FIELD=VALUE overrides of the spec file.
  std::vector<std::string> overrides;
  bool watch = false;
};
int RunSubmitCommand(const SubmitCommandOptions& options);

struct StatusCommandOptions {
  std::string coordinator;
  int64_t sweep_id = 0;  // 0 = list sweeps
  bool jobs = true;
};
int RunStatusCommand(const StatusCommandOptions& options);

struct WatchCommandOptions {
  std::string coordinator;
  int64_t sweep_id = 0;
};
int RunWatchCommand(const WatchCommandOptions& options);

struct ResultsCommandOptions {
  std::string coordinator;
  int64_t sweep_id = 0;  // 0 = all sweeps
  /// table, csv or json.
  std::string format = "table";
  std::string sort;
  std::vector<std::string> where;
  /// Print only the Pareto front of model_bytes against fid.
  bool pareto = false;
  /// The search summary instead of the rows (needs a sweep).
  bool summary = false;
};
int RunResultsCommand(const ResultsCommandOptions& options);

struct PlotCommandOptions {
  std::string coordinator;
  int64_t sweep_id = 0;
  /// The PNG file to write.
  std::string out;
};
int RunPlotCommand(const PlotCommandOptions& options);

struct CancelCommandOptions {
  std::string coordinator;
  int64_t sweep_id = 0;
  int64_t job_id = 0;
};
int RunCancelCommand(const CancelCommandOptions& options);

struct WorkersCommandOptions {
  std::string coordinator;
};
int RunWorkersCommand(const WorkersCommandOptions& options);

struct DashboardCommandOptions {
  std::string coordinator;
  std::string listen = "127.0.0.1:8080";
  /// Serve on an address other than loopback.
  bool allow_remote = false;
};
/// The web dashboard (dashboard/server.h) until Ctrl-C.
int RunDashboardCommand(const DashboardCommandOptions& options);

struct ArtifactsCommandOptions {
  std::string coordinator;
  /// list or get.
  std::string action = "list";
  int64_t job_id = 0;
  int64_t sweep_id = 0;
  std::string name;
  std::string out_path;
};
int RunArtifactsCommand(const ArtifactsCommandOptions& options);

}  // namespace bitsweep::cli
