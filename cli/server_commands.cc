// Long-running subcommands: coordinator, worker, and local (both in one
// process, the default way to run a sweep on one machine).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/results_printer.h"
#include "cli/search_data.h"
#include "cli/service_commands.h"
#include "cli/sweep_watch.h"
#include "common/baseline_files.h"
#include "common/service_memory.h"
#include "common/sweep_spec.h"
#include "coordinator/server.h"
#include "dashboard/server.h"
#include "proto/grpc_status.h"
#include "worker/agent.h"
#include "worker/job_process.h"
#include "worker/qgan_task.h"
#include "worker/synthetic_task.h"

namespace bitsweep::cli {
namespace {

namespace fs = std::filesystem;

// One slot per GPU when there are GPUs (and the user did not say cpu), or
// `slots_per_gpu` on each, else `slots` CPU slots (default 1).
Result<std::vector<std::string>> SlotDevices(const std::string& device, int slots, int slots_per_gpu = 0) {
  if (device != "auto" && device != "cpu" && device != "cuda") {
    return Status::InvalidArgument("--device: \"" + device + "\" is not one of auto, cpu, cuda");
  }
  const int gpus = device == "cpu" ? 0 : worker::CudaDeviceCount();
  if (device == "cuda" && gpus == 0) return Status::FailedPrecondition("--device cuda: no CUDA device is visible");
  std::vector<std::string> devices;
  if (gpus > 0) {
    const int n = slots_per_gpu > 0 ? slots_per_gpu * gpus : slots > 0 ? slots : gpus;
    for (int i = 0; i < n; ++i) devices.push_back("cuda:" + std::to_string(i % gpus));
  } else {
    devices.assign(static_cast<size_t>(std::max(1, slots)), "cpu");
  }
  return devices;
}

std::map<std::string, worker::TaskRunner> AllRunners() {
  return {{"qgan", worker::RunQganTask}, {"ptq", worker::RunQganTask}, {"synthetic", worker::RunSyntheticTask}};
}

// The runners of a worker, those of the kinds in `isolate` ("all", "none"
// or a comma-separated list) each running its jobs in a process of its own.
Result<std::map<std::string, worker::TaskRunner>> WorkerRunners(const std::string& isolate) {
  auto runners = AllRunners();
  std::set<std::string> kinds;
  if (isolate == "all") {
    for (const auto& [kind, runner] : runners) kinds.insert(kind);
  } else if (isolate != "none" && !isolate.empty()) {
    std::stringstream in(isolate);
    for (std::string kind; std::getline(in, kind, ',');) {
      if (runners.count(kind) == 0) {
        return Status::InvalidArgument("--isolate: \"" + kind + "\" is not a task kind (qgan, ptq, synthetic; "
                                       "or all, none)");
      }
      kinds.insert(kind);
    }
  }
  if (kinds.empty()) return runners;
  worker::JobProcessOptions process;
  process.binary = worker::CurrentExecutable();
  if (process.binary.empty()) return Status::FailedPrecondition("--isolate: cannot find this program's own binary");
  for (const auto& kind : kinds) runners[kind] = worker::RunInOwnProcess(process);
  return runners;
}

// A failed job's error belongs on the screen, not only in the store.
Status PrintFailedJobs(v1::SweepService::Stub* sweeps, int64_t sweep_id) {
  v1::ListJobsRequest request;
  request.set_sweep_id(sweep_id);
  v1::ListJobsResponse jobs;
  BITSWEEP_RETURN_IF_ERROR(FromGrpcStatus(sweeps->ListJobs(CallContext().get(), request, &jobs), "ListJobs"));
  bool header = false;
  for (const auto& job : jobs.jobs()) {
    if (job.state() != v1::JOB_FAILED) continue;
    if (!header) std::printf("\nfailed jobs:\n");
    header = true;
    std::printf("  job %lld %s: %s\n", static_cast<long long>(job.id()), job.params_json().c_str(),
                job.last_error().c_str());
  }
  return Status::Ok();
}

void WaitForInterrupt() {
  const auto& interrupted = InterruptFlag();
  while (!interrupted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

int RunCoordinatorCommand(const CoordinatorCommandOptions& options) {
  (void)InterruptFlag();
  // Past a file-size limit a write should fail like on a full disk (the
  // store then refuses work), not kill the coordinator.
  std::signal(SIGXFSZ, SIG_IGN);
  UseServiceMemorySettings();
  coordinator::CoordinatorServer::Options server_options;
  server_options.listen = options.listen;
  server_options.tls = {options.tls_cert, options.tls_key, options.tls_client_ca};
  if (!options.token_file.empty()) {
    auto token = ReadSecretFile(options.token_file, "--token-file");
    if (!token.ok()) return ReportError("coordinator", token.status());
    server_options.token = token.value();
  }
  server_options.max_request_bytes = options.max_request_mb << 20;
  server_options.query_limits.timeout_ms = static_cast<int64_t>(options.query_timeout_seconds * 1000);
  server_options.query_limits.max_rows = options.query_max_rows;
  server_options.db_path = options.db_path;
  server_options.artifacts_dir = options.artifacts_dir;
  server_options.scheduler.lease_ttl_ms = static_cast<int64_t>(options.lease_ttl_seconds * 1000);
  server_options.scheduler.max_jobs_per_sweep = options.max_jobs_per_sweep;
  server_options.scheduler.heartbeat_interval_ms = static_cast<int64_t>(options.heartbeat_seconds * 1000);
  server_options.scheduler.worker_timeout_ms = 3 * server_options.scheduler.lease_ttl_ms;
  server_options.owner.take_over = options.take_over;
  server_options.on_fatal = [](const Status&) { RequestStop(); };
  if (server_options.scheduler.heartbeat_interval_ms * 2 > server_options.scheduler.lease_ttl_ms) {
    return ReportError("coordinator", Status::InvalidArgument("--heartbeat must be at most half of --lease-ttl"));
  }
  auto server = coordinator::CoordinatorServer::Start(server_options);
  if (!server.ok()) return ReportError("coordinator", server.status());
  std::fprintf(stderr, "bitsweep coordinator: listening on port %d (%s%s%s), store %s\n", server.value()->port(),
               options.tls_cert.empty() ? "plain text" : "TLS",
               options.tls_client_ca.empty() ? "" : ", workers need client certificates",
               options.token_file.empty() ? "" : ", token required", fs::absolute(options.db_path).string().c_str());
  WaitForInterrupt();
  std::fprintf(stderr, "bitsweep coordinator: shutting down\n");
  server.value()->Shutdown();
  const std::string fatal = server.value()->fatal_error();
  if (!fatal.empty()) return ReportError("coordinator", Status::FailedPrecondition(fatal));
  return kExitOk;
}

int RunJobChildCommand(const JobChildOptions& options) {
  return worker::RunJobChild(options.dir, options.events_fd, options.replies_fd, AllRunners());
}

int RunWorkerCommand(const WorkerCommandOptions& options) {
  const auto& interrupted = InterruptFlag();
  auto devices = SlotDevices(options.device, options.slots, options.slots_per_gpu);
  if (!devices.ok()) return ReportError("worker", devices.status());
  auto runners = WorkerRunners(options.isolate);
  if (!runners.ok()) return ReportError("worker", runners.status());
  worker::AgentOptions agent_options;
  agent_options.coordinator = options.coordinator.empty() ? DefaultCoordinatorAddress() : options.coordinator;
  agent_options.devices = devices.value();
  agent_options.threads = options.threads;
  agent_options.work_dir = options.work_dir;
  agent_options.cache_dir = options.cache_dir;
  agent_options.keep_work = options.keep_work;
  agent_options.tls = {options.tls_ca, options.tls_cert, options.tls_key};
  if (!options.token_file.empty()) {
    auto token = ReadSecretFile(options.token_file, "--token-file");
    if (!token.ok()) return ReportError("worker", token.status());
    agent_options.token = token.value();
  }
  agent_options.runners = runners.value();
  worker::Agent agent(agent_options);
  Status s = agent.Run(interrupted);
  if (!s.ok() && s.code() != StatusCode::kCancelled) return ReportError("worker", s);
  return interrupted ? kExitCancelled : kExitOk;
}

int RunLocalCommand(const LocalCommandOptions& options) {
  const auto& interrupted = InterruptFlag();
  auto spec = SweepSpec::FromFile(options.spec_path, options.overrides);
  if (!spec.ok()) return ReportError("local", spec.status());
  if (Status hashed = HashBaselineFiles(&spec.value()); !hashed.ok()) return ReportError("local", hashed);
  auto devices = SlotDevices(options.device, options.workers);
  if (!devices.ok()) return ReportError("local", devices.status());
  auto runners = WorkerRunners(options.isolate);
  if (!runners.ok()) return ReportError("local", runners.status());

  coordinator::CoordinatorServer::Options server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.db_path = options.db_path;
  // Short leases: in one process a lost lease means a crashed job thread.
  server_options.scheduler.lease_ttl_ms = 10000;
  server_options.scheduler.heartbeat_interval_ms = 1000;
  server_options.on_fatal = [](const Status&) { RequestStop(); };
  auto server = coordinator::CoordinatorServer::Start(server_options);
  if (!server.ok()) return ReportError("local", server.status());
  const std::string address = "127.0.0.1:" + std::to_string(server.value()->port());
  Connection c = Connect(address);
  std::unique_ptr<dashboard::DashboardServer> web;
  if (!options.dashboard.empty()) {
    auto listen = dashboard::ParseListenAddress(options.dashboard, /*allow_remote=*/false);
    if (!listen.ok()) return ReportError("local --dashboard", listen.status());
    web = std::make_unique<dashboard::DashboardServer>(c.channel, Authorize);
    if (Status started = web->Start(listen.value()); !started.ok()) return ReportError("local --dashboard", started);
    std::fprintf(stderr, "dashboard: %s\n", web->Url().c_str());
  }

  // The same spec in the same store, unfinished: carry on with it (finished
  // jobs stay done; interrupted ones resume from their checkpoints).
  // Finished: show its results rather than run it all again (unless asked).
  const std::string canonical = spec->ToJson().dump();
  int64_t sweep_id = 0, finished_id = 0;
  v1::ListSweepsResponse sweeps;
  Status s = FromGrpcStatus(c.sweeps->ListSweeps(CallContext().get(), {}, &sweeps), "ListSweeps");
  if (!s.ok()) return ReportError("local", s);
  for (const auto& sw : sweeps.sweeps()) {
    if (sw.spec_json() != canonical) continue;
    if (sw.state() == v1::SWEEP_RUNNING) sweep_id = sw.id();
    if (sw.state() == v1::SWEEP_DONE) finished_id = sw.id();
  }
  if (sweep_id == 0 && finished_id != 0 && !options.rerun) sweep_id = finished_id;
  if (sweep_id != 0 && sweep_id == finished_id) {
    std::fprintf(stderr, "sweep %lld \"%s\" already ran to the end in %s: its results (--rerun runs it again)\n",
                 static_cast<long long>(sweep_id), spec->name.c_str(), options.db_path.c_str());
  } else if (sweep_id != 0) {
    std::fprintf(stderr, "resuming sweep %lld \"%s\" from %s\n", static_cast<long long>(sweep_id), spec->name.c_str(),
                 options.db_path.c_str());
  } else {
    v1::SubmitSweepRequest request;
    request.set_spec_json(canonical);
    v1::SubmitSweepResponse response;
    s = FromGrpcStatus(c.sweeps->SubmitSweep(CallContext(120).get(), request, &response), "SubmitSweep");
    if (!s.ok()) return ReportError("local", s);
    sweep_id = response.sweep_id();
    const std::string jobs = spec->strategy == "grid" ? std::to_string(response.job_count()) + " jobs"
                                                      : spec->strategy + " search";
    std::fprintf(stderr, "sweep %lld \"%s\": %s on %zu %s slot(s); store %s\n", static_cast<long long>(sweep_id),
                 spec->name.c_str(), jobs.c_str(), devices->size(), devices->front().c_str(),
                 options.db_path.c_str());
  }

  worker::AgentOptions agent_options;
  agent_options.coordinator = address;
  agent_options.devices = devices.value();
  agent_options.threads = options.threads;
  // Job folders go to <work>/store-<id>/job-<id> (the agent adds the store's
  // folder), so stores that share a folder never share checkpoints.
  agent_options.work_dir = options.work_dir.empty()
                               ? (fs::absolute(options.db_path).parent_path() / "work").string()
                               : options.work_dir;
  agent_options.cache_dir = options.cache_dir;
  agent_options.runners = runners.value();
  agent_options.verbose = false;  // the progress display says what matters
  std::atomic<bool> stop_agent{false};
  worker::Agent agent(agent_options);
  std::thread agent_thread([&] { (void)agent.Run(stop_agent); });

  auto last = FollowSweep(c.sweeps.get(), sweep_id, &interrupted, options.quiet);
  stop_agent = true;
  agent_thread.join();
  if (!last.ok()) {
    server.value()->Shutdown();
    const std::string fatal = server.value()->fatal_error();
    if (!fatal.empty()) return ReportError("local", Status::FailedPrecondition(fatal));
    if (last.status().code() == StatusCode::kCancelled) {
      std::fprintf(stderr, "interrupted: run the same command again to resume\n");
      return kExitCancelled;
    }
    return ReportError("local", last.status());
  }

  std::printf("%s\n\n", SweepSummary(last.value()).c_str());
  ResultsView view;
  view.sort = "job";
  if (spec->strategy != "grid") {
    s = PrintSearchSummary(c.sweeps.get(), sweep_id, stdout);
  } else {
    s = PrintResults(c.sweeps.get(), sweep_id, view, stdout);
  }
  if (s.ok() && options.pareto) {
    std::printf("\nPareto front (packed generator bytes vs FID):\n");
    view.pareto = true;
    view.sort = "model_bytes";
    s = PrintResults(c.sweeps.get(), sweep_id, view, stdout);
  }
  if (s.ok()) s = PrintFailedJobs(c.sweeps.get(), sweep_id);
  if (s.ok()) {
    v1::ListArtifactsRequest request;
    request.set_sweep_id(sweep_id);
    v1::ListArtifactsResponse artifacts;
    s = FromGrpcStatus(c.sweeps->ListArtifacts(CallContext().get(), request, &artifacts), "ListArtifacts");
    bool header = false;
    for (const auto& a : artifacts.artifacts()) {
      if (a.name() != "samples.png") continue;
      if (!header) std::printf("\nsample grids:\n");
      header = true;
      std::printf("  job %lld  %s\n", static_cast<long long>(a.job_id()), a.path().c_str());
    }
  }
  if (web) {
    // The results stay browsable until the user is done with them.
    std::fflush(stdout);
    std::fprintf(stderr, "\ndashboard still at %s (Ctrl-C stops)\n", web->Url().c_str());
    while (!interrupted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    web->Stop();
  }
  server.value()->Shutdown();
  if (!s.ok()) return ReportError("local", s);
  // A search counts failed runs (diverged ones) as results; a grid's
  // failures are failures.
  return spec->strategy == "grid" && last->jobs_failed() > 0 ? kExitFailure : kExitOk;
}

}  // namespace bitsweep::cli
