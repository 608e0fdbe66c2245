// Scheduling throughput of the sweep service: one coordinator (in this
// process, serving on loopback), `workers` x `slots` worker slots, each slot
// a thread running the worker protocol against it with `synthetic`
// zero-length jobs. What it measures is the service itself: RPCs, the
// scheduler and a SQLite transaction per state change.
//
//   scheduling_bench [--jobs 20000] [--workers 8] [--slots 8] [--big 100000] [--submit-only]
//
// Reports jobs/s and lease latency (p50/p99) for two ways of speaking the
// protocol, side by side:
//   one job per call   each slot a thread: CompleteJobs with one result and
//                      lease_next = 1 (1 RPC per job); latency per call
//   agents (batched)   the real worker agent: one exchange per worker reports
//                      all results since its last call and leases for all idle
//                      slots; latency = how long an idle slot waits for a job
// plus the ceiling: the rate of a trivial RPC (ListWorkers) from the same
// slots. With --big N it also stores a sweep of N jobs, runs it, and reports
// the coordinator's memory with N jobs queued, after the sweep ended (as the
// coordinator leaves it: no malloc_trim of the benchmark's own), and the
// time of a results query. --submit-only (a flag, after the options) cancels
// the big sweep instead of running it. The process uses the coordinator
// process's memory settings (common/service_memory.h) unless
// --default-malloc (a flag) keeps glibc's defaults.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "common/service_memory.h"
#include "coordinator/server.h"
#include "worker/agent.h"
#include "worker/synthetic_task.h"

namespace {

using Clock = std::chrono::steady_clock;
using bitsweep::v1::SweepService;
using bitsweep::v1::WorkerService;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

int64_t RssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return 0;
}

std::string SyntheticSweep(int64_t jobs, const std::string& name) {
  return R"({"name": ")" + name + R"(", "base": {"task": "synthetic"},
             "strategy": {"kind": "grid", "axes": {"train.seed": [)" +
         [&] {
           std::string seeds;
           for (int64_t i = 1; i <= jobs; ++i) seeds += (i > 1 ? "," : "") + std::to_string(i);
           return seeds;
         }() +
         "]}}}";
}

std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 30) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

int64_t Submit(SweepService::Stub* stub, int64_t jobs, const std::string& name) {
  bitsweep::v1::SubmitSweepRequest request;
  request.set_spec_json(SyntheticSweep(jobs, name));
  bitsweep::v1::SubmitSweepResponse response;
  auto status = stub->SubmitSweep(Ctx(600).get(), request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "submit failed: %s\n", status.error_message().c_str());
    std::exit(1);
  }
  return response.sweep_id();
}

struct RunResult {
  double seconds = 0.0;
  double submit_seconds = 0.0;
  int64_t jobs = 0;
  std::vector<double> lease_ms;
};

// One slot speaking the protocol one job per call: lease one, "run" it
// (nothing), report it with lease_next = 1; until the queue is empty.
void OneJobPerCallSlot(WorkerService::Stub* stub, const std::string& worker_id, std::vector<double>* latencies,
                       std::atomic<int64_t>* done) {
  std::vector<bitsweep::v1::Lease> leases;
  while (true) {
    if (leases.empty()) {
      bitsweep::v1::LeaseJobsRequest request;
      request.set_worker_id(worker_id);
      request.set_max_jobs(1);
      bitsweep::v1::LeaseJobsResponse response;
      auto t = Clock::now();
      if (!stub->LeaseJobs(Ctx().get(), request, &response).ok()) return;
      latencies->push_back(Seconds(t) * 1000.0);
      if (response.leases().empty()) return;
      leases.assign(response.leases().begin(), response.leases().end());
    }
    bitsweep::v1::CompleteJobsRequest request;
    request.set_worker_id(worker_id);
    auto* job = request.add_jobs();
    job->set_job_id(leases.front().job_id());
    job->set_epoch(leases.front().epoch());
    job->set_result_json("{}");
    auto* m = job->add_metrics();
    m->set_name("fid");
    m->set_value(1.0);
    request.set_lease_next(1);
    bitsweep::v1::CompleteJobsResponse response;
    auto t = Clock::now();
    if (!stub->CompleteJobs(Ctx().get(), request, &response).ok()) return;
    latencies->push_back(Seconds(t) * 1000.0);
    ++*done;
    leases.assign(response.leases().begin(), response.leases().end());
  }
}

RunResult RunOneJobPerCall(const std::string& address, SweepService::Stub* sweeps, int64_t jobs, int workers,
                           int slots, const std::string& name) {
  // One channel (one HTTP/2 connection) per worker, as separate processes have.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<WorkerService::Stub>> stubs;
  std::vector<std::string> ids;
  for (int w = 0; w < workers; ++w) {
    grpc::ChannelArguments args;
    args.SetInt("bench.channel", w);  // distinct arguments: distinct connections
    channels.push_back(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(WorkerService::NewStub(channels.back()));
    bitsweep::v1::RegisterRequest request;
    request.set_host("bench");
    request.set_slots(slots);
    bitsweep::v1::RegisterResponse response;
    if (!stubs.back()->Register(Ctx().get(), request, &response).ok()) std::exit(1);
    ids.push_back(response.worker_id());
  }
  const auto submit_start = Clock::now();
  if (jobs > 0) Submit(sweeps, jobs, name);  // 0: drain what is queued
  const double submit_seconds = Seconds(submit_start);
  std::vector<std::vector<double>> latencies(static_cast<size_t>(workers * slots));
  std::atomic<int64_t> done{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    for (int s = 0; s < slots; ++s) {
      threads.emplace_back(OneJobPerCallSlot, stubs[static_cast<size_t>(w)].get(), ids[static_cast<size_t>(w)],
                           &latencies[static_cast<size_t>(w * slots + s)], &done);
    }
  }
  for (auto& t : threads) t.join();
  RunResult r;
  r.seconds = Seconds(start);
  r.submit_seconds = submit_seconds;
  r.jobs = done;
  for (auto& l : latencies) r.lease_ms.insert(r.lease_ms.end(), l.begin(), l.end());
  std::sort(r.lease_ms.begin(), r.lease_ms.end());
  return r;
}

// The real worker agents (in this process), running zero-length synthetic
// jobs: batched reports that bring the next leases.
RunResult RunAgents(const std::string& address, SweepService::Stub* sweeps, int64_t jobs, int workers, int slots,
                    const std::string& name) {
  std::mutex mu;
  RunResult r;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<bitsweep::worker::Agent>> agents;
  for (int w = 0; w < workers; ++w) {
    bitsweep::worker::AgentOptions options;
    options.coordinator = address;
    options.devices.assign(static_cast<size_t>(slots), "cpu");
    options.runners = {{"synthetic", bitsweep::worker::RunSyntheticTask}};
    options.verbose = false;
    options.work_dir = (std::filesystem::temp_directory_path() / "bitsweep-bench-work").string();
    options.on_lease_wait = [&](double ms) {
      std::lock_guard<std::mutex> lock(mu);
      r.lease_ms.push_back(ms);
    };
    agents.push_back(std::make_unique<bitsweep::worker::Agent>(options));
  }
  std::vector<std::thread> threads;
  for (auto& agent : agents) threads.emplace_back([&, a = agent.get()] { (void)a->Run(stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // registered and polling
  int64_t before = 0;
  for (const auto& agent : agents) before += agent->jobs_succeeded();
  const auto submit_start = Clock::now();
  Submit(sweeps, jobs, name);
  r.submit_seconds = Seconds(submit_start);
  auto start = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    r.lease_ms.clear();  // only waits for this sweep's jobs
  }
  // Done when the agents have had every result accepted (asking the
  // coordinator instead would put a sweep-wide count in the measurement).
  while (true) {
    int64_t succeeded = 0;
    for (const auto& agent : agents) succeeded += agent->jobs_succeeded();
    if (succeeded >= jobs + before) {
      r.jobs = succeeded - before;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  r.seconds = Seconds(start);
  stop = true;
  for (auto& t : threads) t.join();
  std::sort(r.lease_ms.begin(), r.lease_ms.end());
  return r;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())))];
}

double TrivialRpcRate(const std::string& address, int threads_n, double seconds) {
  std::atomic<int64_t> calls{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 8; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("bench.channel", 100 + i);
    channels.push_back(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      auto stub = SweepService::NewStub(channels[static_cast<size_t>(t % 8)]);
      while (!stop) {
        bitsweep::v1::ListWorkersResponse response;
        if (stub->ListWorkers(Ctx().get(), {}, &response).ok()) ++calls;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  return static_cast<double>(calls) / seconds;
}

// The scheduler core alone (no gRPC): lease + complete in a loop, one thread.
void CoreOnly(const std::string& dir, int64_t jobs) {
  auto store = bitsweep::coordinator::Store::Open(dir + "/core.db");
  bitsweep::coordinator::SystemClock clock;
  bitsweep::coordinator::Scheduler::Options options;
  options.artifacts_dir = dir + "/artifacts";
  auto scheduler = bitsweep::coordinator::Scheduler::Create(options, store.value().get(), &clock).value();
  bitsweep::coordinator::WorkerRecord w;
  w.host = "bench";
  const std::string id = scheduler->RegisterWorker(w).value().worker_id;
  (void)scheduler->SubmitSweep(nlohmann::json::parse(SyntheticSweep(jobs, "core")));
  auto start = Clock::now();
  double lease_s = 0.0;
  int64_t done = 0;
  while (true) {
    auto t = Clock::now();
    auto lease = scheduler->TryLease(id);
    lease_s += Seconds(t);
    if (!lease.ok() || !lease->has_value()) break;
    bitsweep::coordinator::CompletionReport report;
    report.job_id = (*lease)->job_id;
    report.epoch = (*lease)->epoch;
    report.result_json = "{}";
    bitsweep::MetricValue m;
    m.metric = "fid";
    m.value = 1.0;
    report.metrics = {m};
    if (!scheduler->Complete(id, report).ok()) break;
    ++done;
  }
  const double total = Seconds(start);
  std::printf("core only (no gRPC, 1 thread): %lld jobs, %.0f jobs/s; lease %.1f us, complete %.1f us per job\n",
              static_cast<long long>(done), static_cast<double>(done) / total, lease_s / static_cast<double>(done) * 1e6,
              (total - lease_s) / static_cast<double>(done) * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t jobs = 20000, big = 0;
  int workers = 8, slots = 8;
  bool core_only = false, submit_only = false, default_malloc = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--core-only")) core_only = true;
    if (!std::strcmp(argv[i], "--submit-only")) submit_only = true;
    if (!std::strcmp(argv[i], "--default-malloc")) default_malloc = true;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--jobs")) jobs = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--slots")) slots = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--big")) big = std::atoll(argv[i + 1]);
  }
  if (!default_malloc) bitsweep::UseServiceMemorySettings();  // as `bitsweep coordinator` does
  std::string dir_template = (std::filesystem::temp_directory_path() / "bitsweep-bench-XXXXXX").string();
  const std::string dir = mkdtemp(dir_template.data());
  bitsweep::coordinator::CoordinatorServer::Options options;
  options.listen = "127.0.0.1:0";
  options.db_path = dir + "/bench.db";
  auto server = bitsweep::coordinator::CoordinatorServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  const std::string address = "127.0.0.1:" + std::to_string(server.value()->port());
  grpc::ChannelArguments user_args;
  user_args.SetMaxReceiveMessageSize(1 << 30);
  auto sweeps = SweepService::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), user_args));

  CoreOnly(dir, jobs);
  if (core_only) return 0;
  std::printf("scheduling throughput: %d workers x %d slots over loopback, %lld zero-length synthetic jobs per run, "
              "%u hardware threads\n\n",
              workers, slots, static_cast<long long>(jobs), std::thread::hardware_concurrency());
  std::printf("%-22s %10s %10s %14s %14s %22s\n", "protocol", "jobs", "jobs/s", "lease p50 ms", "lease p99 ms",
              "jobs/s with the submit");
  for (int round = 0; round < 2; ++round) {
    for (bool batched : {false, true}) {
      const std::string label = batched ? "agents (batched)" : "one job per call";
      RunResult r = batched ? RunAgents(address, sweeps.get(), jobs, workers, slots, "agents" + std::to_string(round))
                            : RunOneJobPerCall(address, sweeps.get(), jobs, workers, slots, "raw" + std::to_string(round));
      std::printf("%-22s %10lld %10.0f %14.3f %14.3f %22.0f\n", label.c_str(), static_cast<long long>(r.jobs),
                  static_cast<double>(r.jobs) / r.seconds, Percentile(r.lease_ms, 0.5), Percentile(r.lease_ms, 0.99),
                  static_cast<double>(r.jobs) / (r.seconds + r.submit_seconds));
    }
  }
  std::printf("\nceiling: trivial RPC (ListWorkers) from %d threads: %.0f calls/s\n", workers * slots,
              TrivialRpcRate(address, workers * slots, 3.0));

  if (big > 0) {
    // Memory freed by earlier runs but kept by malloc is handed back first,
    // so the difference is what the queued sweep holds.
    malloc_trim(0);
    const int64_t rss_before = RssKib();
    auto t = Clock::now();
    const int64_t big_id = Submit(sweeps.get(), big, "big");
    const double submit_s = Seconds(t);
    const int64_t rss_peak = RssKib();
    malloc_trim(0);
    const int64_t rss_queued = RssKib();
    if (submit_only) {
      bitsweep::v1::CancelSweepRequest cancel;
      cancel.set_sweep_id(big_id);
      bitsweep::v1::CancelResponse cancelled;
      (void)sweeps->CancelSweep(Ctx(600).get(), cancel, &cancelled);
      std::this_thread::sleep_for(std::chrono::seconds(2));  // the coordinator's ticker trims
      std::printf("\n%lld-job sweep: submit %.2f s; process RSS %lld MiB before, %lld MiB just after submit, %lld MiB "
                  "with it queued after malloc_trim (+%.0f bytes/job), %lld MiB 2 s after cancelling it\n",
                  static_cast<long long>(big), submit_s, static_cast<long long>(rss_before / 1024),
                  static_cast<long long>(rss_peak / 1024), static_cast<long long>(rss_queued / 1024),
                  static_cast<double>(rss_queued - rss_before) * 1024.0 / static_cast<double>(big),
                  static_cast<long long>(RssKib() / 1024));
      server.value()->Shutdown();
      std::filesystem::remove_all(dir);
      return 0;
    }
    RunResult r = RunOneJobPerCall(address, sweeps.get(), 0, workers, slots, "empty");  // drains the big sweep
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the coordinator's ticker trims
    const int64_t rss_after = RssKib();
    bitsweep::v1::QueryResultsRequest q;
    bitsweep::v1::QueryResultsResponse rows;
    t = Clock::now();
    auto status = sweeps->QueryResults(Ctx(600).get(), q, &rows);
    const double query_s = Seconds(t);
    std::printf("\n%lld-job sweep: submit %.2f s; process RSS %lld MiB before, %lld MiB just after submit, %lld MiB "
                "with it queued after malloc_trim (+%.0f bytes/job), %lld MiB 2 s after it ended; ran in %.1f s "
                "(%.0f jobs/s); results query over "
                "all %d rows via gRPC: %.3f s%s\n",
                static_cast<long long>(big), submit_s, static_cast<long long>(rss_before / 1024),
                static_cast<long long>(rss_peak / 1024), static_cast<long long>(rss_queued / 1024),
                static_cast<double>(rss_queued - rss_before) * 1024.0 / static_cast<double>(big),
                static_cast<long long>(rss_after / 1024), r.seconds,
                static_cast<double>(r.jobs) / r.seconds, rows.rows_size(), query_s,
                status.ok() ? "" : (" (" + status.error_message() + ")").c_str());
  }
  server.value()->Shutdown();
  std::filesystem::remove_all(dir);
  return 0;
}
