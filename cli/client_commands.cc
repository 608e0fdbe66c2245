// Client subcommands: submit, status, watch, results, cancel, workers,
// artifacts. Each is one or two RPCs with a deadline and a formatted answer.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/results_printer.h"
#include "cli/search_data.h"
#include "cli/search_plot.h"
#include "cli/service_commands.h"
#include "cli/sweep_watch.h"
#include "common/baseline_files.h"
#include "common/sweep_spec.h"
#include "proto/grpc_status.h"

namespace bitsweep::cli {
namespace {

std::string Address(const std::string& given) { return given.empty() ? DefaultCoordinatorAddress() : given; }

std::string FormatTime(int64_t unix_ms) {
  if (unix_ms <= 0) return "";
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buffer;
}

}  // namespace

int RunSubmitCommand(const SubmitCommandOptions& options) {
  // Parsed here too, so relative paths resolve against the spec file and
  // mistakes are caught before anything is sent.
  auto spec = SweepSpec::FromFile(options.spec_path, options.overrides);
  if (!spec.ok()) return ReportError("submit", spec.status());
  if (Status hashed = HashBaselineFiles(&spec.value()); !hashed.ok()) return ReportError("submit", hashed);
  Connection c = Connect(Address(options.coordinator));
  v1::SubmitSweepRequest request;
  request.set_spec_json(spec->ToJson().dump());
  v1::SubmitSweepResponse response;
  Status s = FromGrpcStatus(c.sweeps->SubmitSweep(CallContext(120).get(), request, &response), "SubmitSweep");
  if (!s.ok()) return ReportError("submit", s);
  if (spec->strategy == "grid") {
    std::printf("sweep %lld submitted: %d jobs\n", static_cast<long long>(response.sweep_id()), response.job_count());
  } else {
    std::printf("sweep %lld submitted: %s search (jobs are created as workers ask for work)\n",
                static_cast<long long>(response.sweep_id()), spec->strategy.c_str());
  }
  std::fflush(stdout);
  if (!options.watch) return kExitOk;
  auto last = FollowSweep(c.sweeps.get(), response.sweep_id(), &InterruptFlag());
  if (!last.ok()) return ReportError("submit --watch", last.status());
  std::printf("%s\n", SweepSummary(last.value()).c_str());
  // A search counts failed (diverged) runs as results; a grid's are failures.
  return spec->strategy == "grid" && last->jobs_failed() > 0 ? kExitFailure : kExitOk;
}

int RunStatusCommand(const StatusCommandOptions& options) {
  Connection c = Connect(Address(options.coordinator));
  if (options.sweep_id == 0) {
    v1::ListSweepsResponse sweeps;
    Status s = FromGrpcStatus(c.sweeps->ListSweeps(CallContext().get(), {}, &sweeps), "ListSweeps");
    if (!s.ok()) return ReportError("status", s);
    Table t{{"sweep", "name", "state", "jobs", "succeeded", "failed", "cancelled", "running", "queued", "created"}, {}};
    for (const auto& sw : sweeps.sweeps()) {
      t.rows.push_back({Cell::Number(static_cast<double>(sw.id()), "%.0f"), Cell::Text(sw.name()),
                        Cell::Text(SweepStateText(sw.state())),
                        Cell::Number(sw.jobs_total(), "%.0f"), Cell::Number(sw.jobs_succeeded(), "%.0f"),
                        Cell::Number(sw.jobs_failed(), "%.0f"), Cell::Number(sw.jobs_cancelled(), "%.0f"),
                        Cell::Number(sw.jobs_running(), "%.0f"), Cell::Number(sw.jobs_queued(), "%.0f"),
                        Cell::Text(FormatTime(sw.created_unix_ms()))});
    }
    std::fputs(FormatAligned(t).c_str(), stdout);
    return kExitOk;
  }
  v1::GetSweepRequest get;
  get.set_sweep_id(options.sweep_id);
  v1::Sweep sweep;
  Status s = FromGrpcStatus(c.sweeps->GetSweep(CallContext().get(), get, &sweep), "GetSweep");
  if (!s.ok()) return ReportError("status", s);
  std::printf("%s\n", SweepSummary(sweep).c_str());
  if (!options.jobs) return kExitOk;
  v1::ListJobsRequest list;
  list.set_sweep_id(options.sweep_id);
  v1::ListJobsResponse jobs;
  s = FromGrpcStatus(c.sweeps->ListJobs(CallContext().get(), list, &jobs), "ListJobs");
  if (!s.ok()) return ReportError("status", s);
  Table t{{"job", "state", "params", "attempts", "worker", "progress", "wall_s", "last_error"}, {}};
  for (const auto& j : jobs.jobs()) {
    std::string progress = j.state() == v1::JOB_RUNNING && j.total() > 0
                               ? std::to_string(j.step()) + "/" + std::to_string(j.total())
                               : "";
    t.rows.push_back({Cell::Number(static_cast<double>(j.id()), "%.0f"), Cell::Text(JobStateText(j.state())),
                      Cell::Text(DescribeParams(j.params_json())),
                      Cell::Text(std::to_string(j.attempts()) + "/" + std::to_string(j.max_attempts())),
                      Cell::Text(j.worker_id()), Cell::Text(progress),
                      j.wall_seconds() > 0 ? Cell::Number(j.wall_seconds(), "%.1f") : Cell::Missing(),
                      Cell::Text(j.last_error())});
  }
  std::fputs(FormatAligned(t).c_str(), stdout);
  return kExitOk;
}

int RunWatchCommand(const WatchCommandOptions& options) {
  Connection c = Connect(Address(options.coordinator));
  auto last = FollowSweep(c.sweeps.get(), options.sweep_id, &InterruptFlag());
  if (!last.ok()) {
    if (last.status().code() == StatusCode::kCancelled) return kExitCancelled;
    return ReportError("watch", last.status());
  }
  std::printf("%s\n", SweepSummary(last.value()).c_str());
  return last->jobs_failed() > 0 ? kExitFailure : kExitOk;
}

int RunResultsCommand(const ResultsCommandOptions& options) {
  Connection c = Connect(Address(options.coordinator));
  ResultsView view;
  view.format = options.format;
  view.sort = options.sort;
  view.where = options.where;
  view.pareto = options.pareto;
  Status s = options.summary ? PrintSearchSummary(c.sweeps.get(), options.sweep_id, stdout)
                             : PrintResults(c.sweeps.get(), options.sweep_id, view, stdout);
  return s.ok() ? kExitOk : ReportError("results", s);
}

int RunPlotCommand(const PlotCommandOptions& options) {
  Connection c = Connect(Address(options.coordinator));
  auto data = FetchSearch(c.sweeps.get(), options.sweep_id);
  if (!data.ok()) return ReportError("plot", data.status());
  Status s = PlotSearch(data->info, GroupBySeed(data->runs), options.out);
  if (!s.ok()) return ReportError("plot", s);
  std::printf("%s\n", options.out.c_str());
  return kExitOk;
}

int RunCancelCommand(const CancelCommandOptions& options) {
  if ((options.sweep_id == 0) == (options.job_id == 0)) {
    return ReportError("cancel", Status::InvalidArgument("give a sweep id or --job <id> (one of them)"));
  }
  Connection c = Connect(Address(options.coordinator));
  v1::CancelResponse response;
  Status s;
  if (options.job_id != 0) {
    v1::CancelJobRequest request;
    request.set_job_id(options.job_id);
    s = FromGrpcStatus(c.sweeps->CancelJob(CallContext().get(), request, &response), "CancelJob");
  } else {
    v1::CancelSweepRequest request;
    request.set_sweep_id(options.sweep_id);
    s = FromGrpcStatus(c.sweeps->CancelSweep(CallContext().get(), request, &response), "CancelSweep");
  }
  if (!s.ok()) return ReportError("cancel", s);
  std::printf("%d job(s) cancelled\n", response.jobs_cancelled());
  return kExitOk;
}

int RunWorkersCommand(const WorkersCommandOptions& options) {
  Connection c = Connect(Address(options.coordinator));
  v1::ListWorkersResponse response;
  Status s = FromGrpcStatus(c.sweeps->ListWorkers(CallContext().get(), {}, &response), "ListWorkers");
  if (!s.ok()) return ReportError("workers", s);
  Table t{{"worker", "host", "devices", "slots", "running", "alive", "version", "last_seen"}, {}};
  for (const auto& w : response.workers()) {
    std::string devices;
    for (const auto& d : w.devices()) devices += (devices.empty() ? "" : ",") + d;
    t.rows.push_back({Cell::Text(w.id()), Cell::Text(w.host()), Cell::Text(devices), Cell::Number(w.slots(), "%.0f"),
                      Cell::Number(w.running_jobs(), "%.0f"), Cell::Text(w.alive() ? "yes" : "no"),
                      Cell::Text(w.version()), Cell::Text(FormatTime(w.last_seen_unix_ms()))});
  }
  std::fputs(FormatAligned(t).c_str(), stdout);
  return kExitOk;
}

int RunArtifactsCommand(const ArtifactsCommandOptions& options) {
  Connection c = Connect(Address(options.coordinator));
  if (options.action == "list") {
    if ((options.sweep_id == 0) == (options.job_id == 0)) {
      return ReportError("artifacts list", Status::InvalidArgument("give --job <id> or --sweep <id> (one of them)"));
    }
    v1::ListArtifactsRequest request;
    request.set_job_id(options.job_id);
    request.set_sweep_id(options.sweep_id);
    v1::ListArtifactsResponse response;
    Status s = FromGrpcStatus(c.sweeps->ListArtifacts(CallContext().get(), request, &response), "ListArtifacts");
    if (!s.ok()) return ReportError("artifacts list", s);
    // The SHA-256 is what `artifacts get` is checked against ("-": stored
    // before hashes were kept; its size is checked).
    Table t{{"job", "name", "bytes", "sha256", "path"}, {}};
    for (const auto& a : response.artifacts()) {
      t.rows.push_back({Cell::Number(static_cast<double>(a.job_id()), "%.0f"), Cell::Text(a.name()),
                        Cell::Number(static_cast<double>(a.bytes()), "%.0f"),
                        Cell::Text(a.sha256().empty() ? "-" : a.sha256()), Cell::Text(a.path())});
    }
    std::fputs(FormatAligned(t).c_str(), stdout);
    return kExitOk;
  }
  // get
  v1::GetArtifactRequest request;
  request.set_job_id(options.job_id);
  request.set_name(options.name);
  auto ctx = CallContext(300);
  auto reader = c.sweeps->GetArtifact(ctx.get(), request);
  const std::string out_path = options.out_path.empty() ? options.name : options.out_path;
  const std::string partial = out_path + ".partial";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) return ReportError("artifacts get", Status::IoError(partial + ": cannot write"));
  v1::ArtifactChunk chunk;
  int64_t bytes = 0;
  while (reader->Read(&chunk)) {
    out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    bytes += static_cast<int64_t>(chunk.data().size());
  }
  out.close();
  Status s = FromGrpcStatus(reader->Finish(), "GetArtifact");
  if (s.ok() && !out) s = Status::IoError(partial + ": write failed");
  if (!s.ok()) {
    std::remove(partial.c_str());
    return ReportError("artifacts get", s);
  }
  if (std::rename(partial.c_str(), out_path.c_str()) != 0) {
    return ReportError("artifacts get", Status::IoError(out_path + ": cannot rename into place"));
  }
  std::printf("%s (%lld bytes)\n", out_path.c_str(), static_cast<long long>(bytes));
  return kExitOk;
}

}  // namespace bitsweep::cli
