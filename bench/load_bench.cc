// Load test of the sweep service: one real coordinator process (the
// `bitsweep` binary), `--slots` simulated worker slots heartbeating every
// second against it, and one grid sweep of `--jobs` `synthetic` jobs, for at
// most `--seconds`.
//
//   load_bench [--jobs 100000] [--slots 1000] [--seconds 300] [--job-seconds 1]
//              [--jitter 0.5] [--channels 16] [--lease-ttl 10] [--heartbeat 1]
//              [--binary PATH] [--keep] [--quick]
//
// Each simulated worker registers with one slot and speaks the protocol the
// real agent (worker/agent.cc) speaks, without running the task: it long-polls
// LeaseJobs, "runs" its job for job-seconds x (1 +- jitter), heartbeats every
// interval the coordinator gave at Register (carrying the lease it holds,
// also while the result is on its way), and reports with CompleteJobs and
// lease_next = 1, which brings its next job. The workers are state machines
// driven by one timer thread and gRPC's callback API, not a thread each; they
// share `--channels` connections.
//
// Reports client-side latency of every call (heartbeat p50/p99/max), the
// coordinator's CPU and memory (from /proc, sampled every second), and checks
// in the store (read-only, once the coordinator has exited) that every job
// succeeded exactly once and that the store agrees with what the workers had
// acknowledged. Exit status: 0 every check passed; 1 a check failed (or the
// coordinator crashed); 2 the time ran out first (the checks on what
// finished passed).
//
// --quick: 100 slots, 5,000 jobs of 0.2 s, for a smoke run.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "proto/grpc_status.h"

#ifndef BITSWEEP_BINARY
#define BITSWEEP_BINARY "bitsweep"
#endif

namespace {

namespace v1 = bitsweep::v1;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Options {
  std::string binary = BITSWEEP_BINARY;
  int64_t jobs = 100000;
  int slots = 1000;
  double seconds = 300.0;
  double job_seconds = 1.0;
  double jitter = 0.5;  // job durations are uniform in job_seconds x [1 - jitter, 1 + jitter]
  int channels = 16;
  double lease_ttl = 10.0;
  double heartbeat = 1.0;
  bool keep = false;  // keep the store folder
};

// ------------------------------------------------------------------ machine

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Busy and total CPU seconds of the whole machine (first line of /proc/stat),
// to tell how much of it went to processes other than these two.
std::pair<double, double> MachineCpuSeconds() {
  std::istringstream fields(FirstLine("/proc/stat"));
  std::string cpu;
  fields >> cpu;
  std::vector<double> v;
  double x;
  while (fields >> x) v.push_back(x);
  if (v.size() < 5) return {0, 0};
  double total = 0;
  for (size_t i = 0; i < std::min<size_t>(v.size(), 8); ++i) total += v[i];  // guest time is already in user
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {(total - v[3] - v[4]) / ticks, total / ticks};  // idle and iowait are not busy
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// ---------------------------------------------------------- the coordinator

// CPU time and memory of one process, from /proc.
struct ProcSample {
  double cpu_seconds = 0;  // user + system
  int64_t rss_kib = 0;     // VmRSS
  int64_t hwm_kib = 0;     // VmHWM: peak RSS so far
};

ProcSample ReadProc(pid_t pid) {
  ProcSample s;
  const std::string dir = "/proc/" + std::to_string(pid);
  const std::string stat = FirstLine(dir + "/stat");
  // Field 2 (the command name, in parentheses) may hold spaces; after it the
  // fields are plain: state is field 3, utime and stime fields 14 and 15.
  const size_t paren = stat.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream rest(stat.substr(paren + 1));
    std::vector<std::string> f;
    std::string field;
    while (rest >> field) f.push_back(field);
    if (f.size() > 12) {
      s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  std::ifstream status(dir + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stoll(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_kib = std::stoll(line.substr(6));
  }
  return s;
}

// `bitsweep coordinator` as a child process, its stdout and stderr in a log.
class CoordinatorProcess {
 public:
  ~CoordinatorProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      Reap(0);
    }
  }

  bool Start(const std::vector<std::string>& argv, const std::string& log_path) {
    log_path_ = log_path;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const bool ok = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
    return ok;
  }

  pid_t pid() const { return pid_; }
  int exit_code() const { return exit_code_; }

  std::string Log() const {
    std::ifstream in(log_path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // The port from its "listening on port N" line; 0 when it does not come.
  int WaitForPort(double seconds) {
    const std::regex re("listening on port ([0-9]+)");
    const auto start = Clock::now();
    while (Since(start) < seconds && Running()) {
      std::smatch m;
      const std::string log = Log();
      if (std::regex_search(log, m, re)) return std::stoi(m[1].str());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }

  bool Running() {
    if (exited_) return false;
    Reap(WNOHANG);
    return !exited_;
  }

  // SIGTERM (it shuts down cleanly on it), SIGKILL if it has not exited
  // within 30 s. Returns its exit code (128 + signal when killed).
  int Stop() {
    if (!Running()) return exit_code_;
    kill(pid_, SIGTERM);
    const auto start = Clock::now();
    while (Running() && Since(start) < 30) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (Running()) {
      kill(pid_, SIGKILL);
      Reap(0);
    }
    return exit_code_;
  }

 private:
  void Reap(int flags) {
    int status = 0;
    if (waitpid(pid_, &status, flags) == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }

  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  std::string log_path_;
};

// ----------------------------------------------------------- measurements

struct Summary {
  size_t count = 0;
  double p50 = 0, p99 = 0, max = 0;
};

// Latencies (ms) of one RPC method, each with when its call started (seconds
// since the benchmark's zero), and its failures by status code.
class Latencies {
 public:
  void Add(double at_s, double ms) {
    std::lock_guard<std::mutex> lock(mu_);
    samples_.emplace_back(at_s, ms);
  }
  void Fail(grpc::StatusCode code) {
    std::lock_guard<std::mutex> lock(mu_);
    ++failures_[static_cast<int>(code)];
  }
  // Calls that started in [from_s, to_s).
  Summary Summarize(double from_s, double to_s) const {
    std::vector<double> ms;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [at, v] : samples_) {
        if (at >= from_s && at < to_s) ms.push_back(v);
      }
    }
    Summary s;
    s.count = ms.size();
    if (ms.empty()) return s;
    std::sort(ms.begin(), ms.end());
    auto at = [&](double p) {
      return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
    };
    s.p50 = at(0.50);
    s.p99 = at(0.99);
    s.max = ms.back();
    return s;
  }
  size_t CountOver(double ms_limit) const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<size_t>(
        std::count_if(samples_.begin(), samples_.end(), [&](const auto& s) { return s.second > ms_limit; }));
  }
  std::string Failures() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const auto& [code, n] : failures_) {
      out += (out.empty() ? "" : ", ") + std::to_string(n) + " x code " + std::to_string(code);
    }
    return out.empty() ? "none" : out;
  }
  int64_t failure_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t n = 0;
    for (const auto& [code, count] : failures_) n += count;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<double, double>> samples_;
  std::map<int, int64_t> failures_;
};

// Runs functions at given times on one thread. They must not block: they
// only start asynchronous calls.
class TimerQueue {
 public:
  TimerQueue() : thread_([this] { Loop(); }) {}
  ~TimerQueue() { Stop(); }

  void At(Clock::time_point when, std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push({when, next_seq_++, std::move(fn)});
    }
    cv_.notify_one();
  }

  // Drops whatever is still due.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Event {
    Clock::time_point when;
    uint64_t seq;  // equal times run in the order they were asked for
    std::function<void()> fn;
    bool operator>(const Event& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (events_.empty()) {
        cv_.wait(lock);
      } else if (events_.top().when > Clock::now()) {
        cv_.wait_until(lock, events_.top().when);
      } else {
        auto fn = std::move(const_cast<Event&>(events_.top()).fn);
        events_.pop();
        lock.unlock();
        fn();
        lock.lock();
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t next_seq_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

// ------------------------------------------------------- simulated workers

struct SimWorker {
  v1::WorkerService::Stub* stub = nullptr;
  std::mutex mu;
  std::string id;
  std::mt19937 rng;
  // The lease it holds. Heartbeats carry it until the coordinator has
  // answered its completion, as the agent's do.
  std::optional<v1::Lease> lease;
  uint64_t generation = 0;   // which lease a job-end timer belongs to
  bool completing = false;   // its completion is in flight
  Clock::time_point job_start;
  double job_seconds = 0;
  std::optional<Clock::time_point> last_heartbeat_ok;
};

template <typename Request, typename Response>
struct Call {
  grpc::ClientContext ctx;
  Request request;
  Response response;
  Clock::time_point start;
};

class LoadTest {
 public:
  LoadTest(const Options& options, const std::string& address) : options_(options) {
    for (int i = 0; i < options.channels; ++i) {
      grpc::ChannelArguments args;
      args.SetInt("bitsweep.load_bench.channel", i);  // distinct arguments: distinct connections
      stubs_.push_back(
          v1::WorkerService::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args)));
    }
    workers_.reserve(static_cast<size_t>(options.slots));
    for (int i = 0; i < options.slots; ++i) {
      auto w = std::make_unique<SimWorker>();
      w->stub = stubs_[static_cast<size_t>(i % options.channels)].get();
      w->rng.seed(static_cast<uint32_t>(i + 1));
      workers_.push_back(std::move(w));
    }
  }

  // Registers every worker (all calls at once); false when one fails.
  bool RegisterAll() {
    std::atomic<int> failed{0};
    for (auto& owned : workers_) {
      SimWorker* w = owned.get();
      auto call = std::make_unique<Call<v1::RegisterRequest, v1::RegisterResponse>>();
      call->request.set_host("load-bench");
      call->request.add_devices("cpu");
      call->request.set_slots(1);
      call->request.set_version("load-bench");
      Launch(
          std::move(call), false,
          [w](auto* c, auto done) { w->stub->async()->Register(&c->ctx, &c->request, &c->response, std::move(done)); },
          [this, w, &failed](const grpc::Status& status, auto& c) {
            if (!status.ok()) {
              std::fprintf(stderr, "Register failed: %s\n", status.error_message().c_str());
              ++failed;
              return;
            }
            register_.Add(0, Ms(c.start));
            std::lock_guard<std::mutex> lock(w->mu);
            w->id = c.response.worker_id();
            heartbeat_ms_ = c.response.heartbeat_interval_ms();
          });
    }
    Drain(1e9);  // every call has a deadline
    return failed == 0;
  }

  // Starts the heartbeats, spread evenly over one interval (workers started
  // by hand would not tick in step).
  void StartHeartbeats(Clock::time_point zero) {
    zero_ = zero;
    std::uniform_real_distribution<double> phase(0.0, static_cast<double>(heartbeat_ms_));
    std::mt19937 rng(7);
    for (auto& w : workers_) {
      timers_.At(Clock::now() + std::chrono::microseconds(static_cast<int64_t>(phase(rng) * 1000)),
                 [this, w = w.get()] { Heartbeat(w); });
    }
  }

  // Every worker asks for its first job.
  void StartWork() {
    for (auto& w : workers_) Poll(w.get());
  }

  // Stops every worker: nothing new is sent, waiting lease polls are
  // cancelled, and calls in flight (completions above all) are answered.
  void Stop() {
    stop_ = true;
    timers_.Stop();
    {
      std::lock_guard<std::mutex> lock(inflight_mu_);
      for (const auto& [ctx, is_poll] : inflight_) {
        if (is_poll) ctx->TryCancel();
      }
    }
    if (!Drain(60)) {
      std::lock_guard<std::mutex> lock(inflight_mu_);
      for (const auto& [ctx, is_poll] : inflight_) ctx->TryCancel();
    }
    Drain(1e9);
  }

  int64_t acked() const { return acked_distinct_; }
  int64_t heartbeat_ms() const { return heartbeat_ms_; }

  // Job ids the workers saw acknowledged as succeeded, with how often.
  std::unordered_map<int64_t, int> Acked() const {
    std::lock_guard<std::mutex> lock(acked_mu_);
    return acked_;
  }

  Latencies register_, heartbeat_, lease_, complete_;
  std::atomic<int64_t> duplicate_acks_{0};     // a job acknowledged as succeeded twice
  std::atomic<int64_t> leased_after_ack_{0};   // a job leased again after its success was acknowledged
  std::atomic<int64_t> refused_completions_{0};
  std::atomic<int64_t> leases_lost_{0};        // LEASE_LOST/CANCEL directives for a lease still running
  std::atomic<int64_t> completions_retried_{0};
  std::atomic<int64_t> max_heartbeat_gap_us_{0};  // longest time between two answered heartbeats of a worker

 private:
  double Ms(Clock::time_point since) const { return Since(since) * 1000.0; }
  double Now() const { return Since(zero_); }

  // Starts one asynchronous call through `start` (which hands it to a
  // stub->async() method); `done` gets its status and the call. Lease polls
  // are cancellable at Stop; other calls are left to finish.
  template <typename Request, typename Response, typename Start, typename Done>
  void Launch(std::unique_ptr<Call<Request, Response>> owned, bool is_poll, Start start, Done done,
              int64_t deadline_ms = 30000) {
    auto* call = owned.release();
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
    {
      std::lock_guard<std::mutex> lock(inflight_mu_);
      inflight_[&call->ctx] = is_poll;
      ++pending_;  // before the call starts: its callback may run at once
    }
    call->start = Clock::now();
    start(call, [this, call, done](grpc::Status status) {
      {
        std::lock_guard<std::mutex> lock(inflight_mu_);
        inflight_.erase(&call->ctx);
      }
      done(status, *call);
      delete call;
      std::lock_guard<std::mutex> lock(inflight_mu_);
      --pending_;
      inflight_cv_.notify_all();
    });
  }

  // Waits until no call is in flight (or `seconds` pass).
  bool Drain(double seconds) {
    std::unique_lock<std::mutex> lock(inflight_mu_);
    return inflight_cv_.wait_for(lock, std::chrono::duration<double>(std::min(seconds, 1e6)),
                                 [&] { return pending_ <= 0; });
  }

  void Heartbeat(SimWorker* w) {
    if (stop_) return;
    auto call = std::make_unique<Call<v1::HeartbeatRequest, v1::HeartbeatResponse>>();
    {
      std::lock_guard<std::mutex> lock(w->mu);
      call->request.set_worker_id(w->id);
      if (w->lease) {
        auto* l = call->request.add_leases();
        l->set_job_id(w->lease->job_id());
        l->set_epoch(w->lease->epoch());
        // Progress in ten steps, as the synthetic task reports it.
        l->set_step(std::min<int64_t>(10, static_cast<int64_t>(10 * Since(w->job_start) / w->job_seconds)));
        l->set_total(10);
      }
    }
    const double at = Now();
    Launch(
        std::move(call), false,
        [w](auto* c, auto done) { w->stub->async()->Heartbeat(&c->ctx, &c->request, &c->response, std::move(done)); },
        [this, w, at](const grpc::Status& status, auto& c) {
          bool lost = false;
          if (!status.ok()) {
            heartbeat_.Fail(status.error_code());
          } else {
            heartbeat_.Add(at, Ms(c.start));
            std::lock_guard<std::mutex> lock(w->mu);
            const auto now = Clock::now();
            if (w->last_heartbeat_ok) {
              const int64_t gap =
                  std::chrono::duration_cast<std::chrono::microseconds>(now - *w->last_heartbeat_ok).count();
              int64_t seen = max_heartbeat_gap_us_;
              while (gap > seen && !max_heartbeat_gap_us_.compare_exchange_weak(seen, gap)) {
              }
            }
            w->last_heartbeat_ok = now;
            for (const auto& d : c.response.directives()) {
              // A lease whose result is on its way is settled by the
              // completion's answer, not here.
              if (d.kind() != v1::DIRECTIVE_CONTINUE && w->lease && !w->completing &&
                  w->lease->job_id() == d.job_id() && w->lease->epoch() == d.epoch()) {
                w->lease.reset();
                ++w->generation;
                ++leases_lost_;
                lost = true;
              }
            }
          }
          if (lost) Poll(w);
          // As the agent does: the next heartbeat one interval after this one.
          timers_.At(Clock::now() + std::chrono::milliseconds(heartbeat_ms_), [this, w] { Heartbeat(w); });
        });
  }

  // Asks for a job, waiting at the coordinator while none is queued (the
  // agent's long poll when all its slots are idle).
  void Poll(SimWorker* w) {
    if (stop_) return;
    constexpr int64_t kLongPollMs = 10000;
    auto call = std::make_unique<Call<v1::LeaseJobsRequest, v1::LeaseJobsResponse>>();
    {
      std::lock_guard<std::mutex> lock(w->mu);
      call->request.set_worker_id(w->id);
    }
    call->request.set_max_jobs(1);
    call->request.set_wait_ms(kLongPollMs);
    const double at = Now();
    Launch(
        std::move(call), true,
        [w](auto* c, auto done) { w->stub->async()->LeaseJobs(&c->ctx, &c->request, &c->response, std::move(done)); },
        [this, w, at](const grpc::Status& status, auto& c) {
          if (!status.ok()) {
            if (status.error_code() == grpc::StatusCode::CANCELLED) return;  // stopping
            lease_.Fail(status.error_code());
            timers_.At(Clock::now() + std::chrono::seconds(1), [this, w] { Poll(w); });
          } else if (c.response.leases_size() > 0) {
            // Only answers with a job: an empty one has waited on purpose.
            lease_.Add(at, Ms(c.start));
            StartJob(w, c.response.leases(0));
          } else {
            Poll(w);
          }
        },
        kLongPollMs + 30000);
  }

  void StartJob(SimWorker* w, const v1::Lease& lease) {
    if (stop_) return;
    {
      std::lock_guard<std::mutex> lock(acked_mu_);
      if (acked_.count(lease.job_id())) ++leased_after_ack_;
    }
    uint64_t generation;
    double seconds;
    {
      std::lock_guard<std::mutex> lock(w->mu);
      std::uniform_real_distribution<double> factor(1.0 - options_.jitter, 1.0 + options_.jitter);
      seconds = std::max(0.0, options_.job_seconds * factor(w->rng));
      w->lease = lease;
      w->job_start = Clock::now();
      w->job_seconds = std::max(seconds, 1e-3);
      w->completing = false;
      generation = ++w->generation;
    }
    timers_.At(Clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)),
               [this, w, generation] { FinishJob(w, generation); });
  }

  // Reports the job's result (as the synthetic task would) and asks for the
  // next job in the same call.
  void FinishJob(SimWorker* w, uint64_t generation) {
    if (stop_) return;
    auto call = std::make_unique<Call<v1::CompleteJobsRequest, v1::CompleteJobsResponse>>();
    {
      std::lock_guard<std::mutex> lock(w->mu);
      if (!w->lease || w->generation != generation) return;  // the lease was lost meanwhile
      w->completing = true;
      call->request.set_worker_id(w->id);
      auto* job = call->request.add_jobs();
      job->set_job_id(w->lease->job_id());
      job->set_epoch(w->lease->epoch());
      job->set_wall_seconds(w->job_seconds);
      job->set_model_bytes(13572);
      job->set_result_json(R"({"status":"completed","final_metrics":{"fid":20.0,"is":10.0,"kid":0.02},)"
                           R"("model_bytes":{"generator_packed":13572},"wall_seconds":)" +
                           std::to_string(w->job_seconds) + "}");
      for (const auto& [name, value] : {std::pair<const char*, double>{"fid", 20.0}, {"is", 10.0}, {"kid", 0.02}}) {
        auto* m = job->add_metrics();
        m->set_name(name);
        m->set_value(value);
        m->set_step(10);
        m->set_evaluator("synthetic");
        m->set_evaluator_hash("-");
      }
    }
    call->request.set_lease_next(1);
    const double at = Now();
    Launch(
        std::move(call), false,
        [w](auto* c, auto done) {
          w->stub->async()->CompleteJobs(&c->ctx, &c->request, &c->response, std::move(done));
        },
        [this, w, at, generation](const grpc::Status& status, auto& c) {
          if (!status.ok()) {
            // Results are done work: the agent retries them, so do we.
            complete_.Fail(status.error_code());
            ++completions_retried_;
            {
              std::lock_guard<std::mutex> lock(w->mu);
              w->completing = false;
            }
            timers_.At(Clock::now() + std::chrono::seconds(1), [this, w, generation] { FinishJob(w, generation); });
            return;
          }
          complete_.Add(at, Ms(c.start));
          {
            std::lock_guard<std::mutex> lock(w->mu);
            w->lease.reset();
            w->completing = false;
            ++w->generation;
          }
          for (const auto& ack : c.response.acks()) {
            if (ack.code() != 0) {
              ++refused_completions_;
              continue;
            }
            std::lock_guard<std::mutex> lock(acked_mu_);
            if (++acked_[ack.job_id()] == 1) {
              ++acked_distinct_;
            } else {
              ++duplicate_acks_;
            }
          }
          if (c.response.leases_size() > 0) {
            StartJob(w, c.response.leases(0));  // lease_next = 1: at most one
          } else {
            Poll(w);
          }
        });
  }

  const Options options_;
  std::vector<std::unique_ptr<v1::WorkerService::Stub>> stubs_;
  std::vector<std::unique_ptr<SimWorker>> workers_;
  std::atomic<int64_t> heartbeat_ms_{1000};
  Clock::time_point zero_ = Clock::now();
  std::atomic<bool> stop_{false};

  mutable std::mutex acked_mu_;
  std::unordered_map<int64_t, int> acked_;
  std::atomic<int64_t> acked_distinct_{0};

  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  std::map<grpc::ClientContext*, bool> inflight_;  // context -> is a lease poll
  int64_t pending_ = 0;                            // calls whose callback has not finished

  TimerQueue timers_;  // last: stopped before the rest goes away
};

// ------------------------------------------------------------- the store

// Runs `sql` with ?1 bound to `id`; `row` gets each result row.
bool Query(sqlite3* db, const char* sql, int64_t id, const std::function<void(sqlite3_stmt*)>& row) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "store query failed: %s\n", sqlite3_errmsg(db));
    return false;
  }
  sqlite3_bind_int64(stmt, 1, id);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) row(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) std::fprintf(stderr, "store query failed: %s\n", sqlite3_errmsg(db));
  return rc == SQLITE_DONE;
}

int64_t Count(sqlite3* db, const char* sql, int64_t id) {
  int64_t n = -1;
  Query(db, sql, id, [&](sqlite3_stmt* s) { n = sqlite3_column_int64(s, 0); });
  return n;
}

std::string Text(sqlite3_stmt* s, int column) {
  const auto* text = sqlite3_column_text(s, column);
  return text == nullptr ? "NULL" : reinterpret_cast<const char*>(text);
}

struct StoreFacts {
  bool read = false;
  std::map<std::string, int64_t> job_states;      // state -> jobs
  std::map<std::string, int64_t> attempt_outcomes;  // outcome (NULL: still running) -> attempts
  int64_t jobs = 0;
  int64_t success_count_mismatch = 0;  // jobs whose succeeded attempts are not 1 if SUCCEEDED, else 0
  int64_t jobs_retried = 0;            // attempts > 1
  int64_t retries_unexplained = 0;     // more attempts than 1 + expired leases
  std::vector<int64_t> succeeded_ids;
  std::string sweep_state;
};

StoreFacts ReadStore(const std::string& path, int64_t sweep_id) {
  StoreFacts f;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "cannot open the store %s: %s\n", path.c_str(), sqlite3_errmsg(db));
    sqlite3_close(db);
    return f;
  }
  bool ok = Query(db, "SELECT state, count(*) FROM jobs WHERE sweep_id = ?1 GROUP BY state", sweep_id,
                  [&](sqlite3_stmt* s) {
                    f.job_states[Text(s, 0)] = sqlite3_column_int64(s, 1);
                    f.jobs += sqlite3_column_int64(s, 1);
                  });
  ok &= Query(db,
              "SELECT a.outcome, count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id "
              "WHERE j.sweep_id = ?1 GROUP BY a.outcome",
              sweep_id, [&](sqlite3_stmt* s) { f.attempt_outcomes[Text(s, 0)] = sqlite3_column_int64(s, 1); });
  f.success_count_mismatch = Count(db,
                                   "SELECT count(*) FROM jobs j WHERE j.sweep_id = ?1 AND "
                                   "(SELECT count(*) FROM attempts a WHERE a.job_id = j.id AND a.outcome = 'succeeded')"
                                   " <> (j.state = 'SUCCEEDED')",
                                   sweep_id);
  f.jobs_retried = Count(db, "SELECT count(*) FROM jobs WHERE sweep_id = ?1 AND attempts > 1", sweep_id);
  f.retries_unexplained = Count(db,
                                "SELECT count(*) FROM jobs j WHERE j.sweep_id = ?1 AND j.attempts > 1 + "
                                "(SELECT count(*) FROM attempts a WHERE a.job_id = j.id AND a.outcome = 'expired')",
                                sweep_id);
  ok &= Query(db, "SELECT id FROM jobs WHERE sweep_id = ?1 AND state = 'SUCCEEDED'", sweep_id,
              [&](sqlite3_stmt* s) { f.succeeded_ids.push_back(sqlite3_column_int64(s, 0)); });
  ok &= Query(db, "SELECT state FROM sweeps WHERE id = ?1", sweep_id,
              [&](sqlite3_stmt* s) { f.sweep_state = Text(s, 0); });
  sqlite3_close(db);
  f.read = ok && f.success_count_mismatch >= 0 && f.jobs_retried >= 0 && f.retries_unexplained >= 0;
  return f;
}

// ----------------------------------------------------------------- main

std::string SyntheticSweep(int64_t jobs) {
  std::string seeds;
  seeds.reserve(static_cast<size_t>(jobs) * 7);
  for (int64_t i = 1; i <= jobs; ++i) seeds += (i > 1 ? "," : "") + std::to_string(i);
  return R"({"name": "load", "base": {"task": "synthetic"}, "strategy": {"kind": "grid", "axes": {"train.seed": [)" +
         seeds + "]}}}";
}

int64_t Get(const std::map<std::string, int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) {
      o->slots = 100;
      o->jobs = 5000;
      o->job_seconds = 0.2;
      o->seconds = 120;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--quick") continue;
    if (flag == "--keep") {
      o->keep = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: needs a value\n", flag.c_str());
      return false;
    }
    const std::string v = argv[++i];
    if (flag == "--binary") o->binary = v;
    else if (flag == "--jobs") o->jobs = std::stoll(v);
    else if (flag == "--slots") o->slots = std::stoi(v);
    else if (flag == "--seconds") o->seconds = std::stod(v);
    else if (flag == "--job-seconds") o->job_seconds = std::stod(v);
    else if (flag == "--jitter") o->jitter = std::stod(v);
    else if (flag == "--channels") o->channels = std::stoi(v);
    else if (flag == "--lease-ttl") o->lease_ttl = std::stod(v);
    else if (flag == "--heartbeat") o->heartbeat = std::stod(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return false;
    }
  }
  if (o->jobs < 1 || o->slots < 1 || o->channels < 1 || o->seconds <= 0 || o->jitter < 0 || o->jitter > 1) {
    std::fprintf(stderr, "--jobs, --slots, --channels, --seconds must be positive, --jitter within [0, 1]\n");
    return false;
  }
  o->channels = std::min(o->channels, o->slots);
  return true;
}

std::string Mib(int64_t kib) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(kib) / 1024.0);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseOptions(argc, argv, &o)) return 1;
  bitsweep::DisableMutexDeadlockDetection();

  std::string dir_template = (std::filesystem::temp_directory_path() / "bitsweep-load-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) return 1;
  const std::string dir = dir_template;
  const std::string db_path = dir + "/store.db";
  struct Cleanup {
    std::string dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (!keep) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir, o.keep};

  std::printf("load: %d simulated worker slots (1 slot per worker, %d connections), %lld synthetic jobs of %.2f s "
              "(+-%.0f%%), heartbeat %.2f s, lease TTL %.0f s, at most %.0f s\n",
              o.slots, o.channels, static_cast<long long>(o.jobs), o.job_seconds, o.jitter * 100, o.heartbeat,
              o.lease_ttl, o.seconds);
  std::printf("machine: %ld CPUs online, %s; load average at start: %s\n", sysconf(_SC_NPROCESSORS_ONLN),
              CpuModel().c_str(), FirstLine("/proc/loadavg").c_str());
  std::fflush(stdout);

  char ttl[32], heartbeat[32];
  std::snprintf(ttl, sizeof ttl, "%g", o.lease_ttl);
  std::snprintf(heartbeat, sizeof heartbeat, "%g", o.heartbeat);
  CoordinatorProcess coordinator;
  if (!coordinator.Start({o.binary, "coordinator", "--listen", "127.0.0.1:0", "--db", db_path, "--lease-ttl", ttl,
                          "--heartbeat", heartbeat},
                         dir + "/coordinator.log")) {
    std::fprintf(stderr, "cannot start %s\n", o.binary.c_str());
    return 1;
  }
  const int port = coordinator.WaitForPort(60);
  if (port == 0) {
    std::fprintf(stderr, "the coordinator did not start:\n%s\n", coordinator.Log().c_str());
    return 1;
  }
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto sweeps = v1::SweepService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));

  LoadTest load(o, address);
  auto t = Clock::now();
  if (!load.RegisterAll()) return 1;
  const auto reg = load.register_.Summarize(-1, 1);
  std::printf("registered %d workers in %.2f s (all at once; Register p50 %.1f ms, max %.1f ms)\n", o.slots, Since(t),
              reg.p50, reg.max);

  // Zero of every timestamp below: heartbeats start, then the sweep is submitted.
  const auto zero = Clock::now();
  auto since_zero = [&] { return Since(zero); };
  const ProcSample proc_zero = ReadProc(coordinator.pid());
  const auto machine_zero = MachineCpuSeconds();
  const double self_zero = SelfCpuSeconds();

  // The coordinator's CPU and memory every second.
  struct Sample {
    double at;
    ProcSample proc;
  };
  std::vector<Sample> samples{{0.0, proc_zero}};
  std::mutex samples_mu;
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      Sample s{since_zero(), ReadProc(coordinator.pid())};
      std::lock_guard<std::mutex> lock(samples_mu);
      samples.push_back(s);
    }
  });

  load.StartHeartbeats(zero);
  v1::SubmitSweepRequest submit;
  submit.set_spec_json(SyntheticSweep(o.jobs));
  v1::SubmitSweepResponse submitted;
  grpc::ClientContext submit_ctx;
  submit_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(600));
  const grpc::Status submit_status = sweeps->SubmitSweep(&submit_ctx, submit, &submitted);
  const double submit_end = since_zero();
  const ProcSample proc_submitted = ReadProc(coordinator.pid());
  bool crashed = false;
  if (!submit_status.ok() || submitted.job_count() != o.jobs) {
    std::fprintf(stderr, "submit failed: %s (%d jobs)\n", submit_status.error_message().c_str(), submitted.job_count());
    crashed = !coordinator.Running();
  }
  std::printf("submitted sweep %lld (%d jobs) in %.2f s; coordinator RSS %s\n",
              static_cast<long long>(submitted.sweep_id()), submitted.job_count(), submit_end,
              Mib(proc_submitted.rss_kib).c_str());
  std::fflush(stdout);

  // The run: until every job is acknowledged or the time is up.
  double end = submit_end;
  if (submit_status.ok()) {
    load.StartWork();
    double last_report = submit_end;
    int64_t last_acked = 0;
    while (load.acked() < o.jobs && since_zero() < o.seconds) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!coordinator.Running()) {
        crashed = true;
        break;
      }
      if (since_zero() - last_report >= 10) {
        const double now = since_zero();
        const auto hb = load.heartbeat_.Summarize(last_report, now);
        const ProcSample p = ReadProc(coordinator.pid());
        std::fprintf(stderr, "[%4.0f s] %lld/%lld done, %.0f jobs/s; last 10 s: heartbeat p99 %.1f ms max %.1f ms; "
                     "coordinator %.1f CPU-s so far, RSS %s; leases lost %lld\n",
                     now, static_cast<long long>(load.acked()), static_cast<long long>(o.jobs),
                     static_cast<double>(load.acked() - last_acked) / (now - last_report), hb.p99, hb.max,
                     p.cpu_seconds - proc_zero.cpu_seconds, Mib(p.rss_kib).c_str(),
                     static_cast<long long>(load.leases_lost_.load()));
        last_report = now;
        last_acked = load.acked();
      }
    }
    end = since_zero();
  }
  const bool finished = load.acked() >= o.jobs;
  ProcSample proc_end = ReadProc(coordinator.pid());
  if (crashed) {  // /proc has nothing left of it: its last sample
    std::lock_guard<std::mutex> lock(samples_mu);
    proc_end = samples.back().proc;
  }
  const auto machine_end = MachineCpuSeconds();
  const double self_end = SelfCpuSeconds();
  load.Stop();
  sampling = false;
  sampler.join();
  const int exit_code = coordinator.Stop();
  crashed |= exit_code != 0;

  // ---- the report
  const double run_s = end - submit_end;
  const double coord_cpu = proc_end.cpu_seconds - proc_zero.cpu_seconds;
  const double coord_run_cpu = proc_end.cpu_seconds - proc_submitted.cpu_seconds;
  const double machine_busy = machine_end.first - machine_zero.first;
  const double self_cpu = self_end - self_zero;
  double peak_cores = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    const double dt = samples[i].at - samples[i - 1].at;
    if (dt > 0.5 && samples[i].proc.cpu_seconds > 0) {
      peak_cores = std::max(peak_cores, (samples[i].proc.cpu_seconds - samples[i - 1].proc.cpu_seconds) / dt);
    }
  }
  const auto hb_all = load.heartbeat_.Summarize(0, 1e18);
  const auto hb_submit = load.heartbeat_.Summarize(0, submit_end);
  const auto hb_run = load.heartbeat_.Summarize(submit_end, 1e18);
  const auto lease = load.lease_.Summarize(0, 1e18);
  const auto complete = load.complete_.Summarize(0, 1e18);

  std::printf("\n%s after %.1f s: %lld of %lld jobs acknowledged as succeeded, %.0f jobs/s over the run "
              "(%.1f s from the submit's answer; %.0f jobs/s counting the submit)\n",
              finished ? "all done" : crashed ? "coordinator FAILED" : "time limit reached", end,
              static_cast<long long>(load.acked()), static_cast<long long>(o.jobs),
              run_s > 0 ? static_cast<double>(load.acked()) / run_s : 0.0, run_s,
              end > 0 ? static_cast<double>(load.acked()) / end : 0.0);
  auto line = [](const char* what, const Summary& s) {
    std::printf("  %-34s %9zu calls   p50 %8.1f ms   p99 %8.1f ms   max %8.1f ms\n", what, s.count, s.p50, s.p99,
                s.max);
  };
  std::printf("client-side latency:\n");
  line("Heartbeat (all)", hb_all);
  line("Heartbeat (during the submit)", hb_submit);
  line("Heartbeat (during the run)", hb_run);
  line("LeaseJobs (answered with a job)", lease);
  line("CompleteJobs (+ next lease)", complete);
  std::printf("  heartbeats answered in over 1 s: %zu; longest time between two answered heartbeats of one worker: "
              "%.2f s (lease TTL %.0f s); %.0f heartbeats/s\n",
              load.heartbeat_.CountOver(1000.0), static_cast<double>(load.max_heartbeat_gap_us_) / 1e6, o.lease_ttl,
              static_cast<double>(hb_all.count) / std::max(end, 1e-9));
  std::printf("  failed calls: Heartbeat %s; LeaseJobs %s; CompleteJobs %s (each retried)\n",
              load.heartbeat_.Failures().c_str(), load.lease_.Failures().c_str(), load.complete_.Failures().c_str());
  std::printf("coordinator (pid %d): %.1f CPU-s in %.1f s = %.2f cores on average (submit: %.1f CPU-s in %.1f s; "
              "run: %.1f CPU-s in %.1f s = %.2f cores); busiest second %.2f cores\n",
              coordinator.pid(), coord_cpu, end, coord_cpu / std::max(end, 1e-9),
              proc_submitted.cpu_seconds - proc_zero.cpu_seconds, submit_end, coord_run_cpu, run_s,
              coord_run_cpu / std::max(run_s, 1e-9), peak_cores);
  std::printf("  RSS: %s before the submit, %s after it, %s at the end, peak %s; exit code %d\n",
              Mib(proc_zero.rss_kib).c_str(), Mib(proc_submitted.rss_kib).c_str(), Mib(proc_end.rss_kib).c_str(),
              Mib(proc_end.hwm_kib).c_str(), exit_code);
  std::printf("simulated slots (this process): %.1f CPU-s = %.2f cores; whole machine busy %.2f of %ld cores "
              "(so %.2f cores went to other processes)\n",
              self_cpu, self_cpu / std::max(end, 1e-9), machine_busy / std::max(end, 1e-9),
              sysconf(_SC_NPROCESSORS_ONLN), std::max(0.0, machine_busy - coord_cpu - self_cpu) / std::max(end, 1e-9));
  std::printf("protocol: %lld leases lost (directive), %lld completions refused, %lld completions sent again\n",
              static_cast<long long>(load.leases_lost_.load()),
              static_cast<long long>(load.refused_completions_.load()),
              static_cast<long long>(load.completions_retried_.load()));
  if (crashed) std::printf("coordinator log:\n%s\n", coordinator.Log().c_str());

  // ---- exactly once, against the store
  bool ok = !crashed && submit_status.ok();
  auto check = [&](bool pass, const std::string& what) {
    std::printf("  [%s] %s\n", pass ? "ok" : "FAIL", what.c_str());
    ok &= pass;
  };
  std::printf("checks:\n");
  check(!crashed, "the coordinator ran throughout and exited cleanly");
  const StoreFacts store = ReadStore(db_path, submitted.sweep_id());
  check(store.read, "the store could be read");
  const auto acked = load.Acked();
  check(load.duplicate_acks_ == 0,
        "no job acknowledged as succeeded twice (" + std::to_string(load.duplicate_acks_.load()) + ")");
  check(load.leased_after_ack_ == 0,
        "no job leased again after its success (" + std::to_string(load.leased_after_ack_.load()) + ")");
  // A grid of more than 10,000 points gets its job rows as it runs: all of
  // them only once it has run to the end.
  if (load.acked() >= o.jobs || o.jobs <= 10000) {
    check(store.jobs == o.jobs, "the store holds the sweep's " + std::to_string(o.jobs) + " jobs (" +
                                    std::to_string(store.jobs) + ")");
  } else {
    check(store.jobs <= o.jobs && store.jobs >= static_cast<int64_t>(acked.size()),
          "the store holds between the acknowledged and all of the sweep's jobs (" + std::to_string(store.jobs) + ")");
  }
  check(store.success_count_mismatch == 0,
        "every SUCCEEDED job has exactly one succeeded attempt, others none (" +
            std::to_string(store.success_count_mismatch) + " do not)");
  bool same_ids = store.succeeded_ids.size() == acked.size();
  for (int64_t id : store.succeeded_ids) same_ids = same_ids && acked.count(id) == 1;
  check(same_ids, "SUCCEEDED in the store = acknowledged to the workers, job by job (" +
                      std::to_string(store.succeeded_ids.size()) + " vs " + std::to_string(acked.size()) + ")");
  check(store.retries_unexplained == 0, "a job has more than one attempt only after an expired lease (" +
                                            std::to_string(store.retries_unexplained) + " otherwise)");
  check(Get(store.attempt_outcomes, "failed") == 0 && Get(store.job_states, "FAILED") == 0, "no failed attempt");
  if (finished) {
    check(Get(store.job_states, "SUCCEEDED") == o.jobs && Get(store.job_states, "QUEUED") == 0 &&
              Get(store.job_states, "RUNNING") == 0 && store.sweep_state == "DONE",
          "every job SUCCEEDED, none QUEUED or RUNNING, the sweep DONE (" + store.sweep_state + ")");
  }
  std::printf("  store: jobs");
  for (const auto& [state, n] : store.job_states) std::printf(" %s %lld", state.c_str(), static_cast<long long>(n));
  std::printf("; attempts");
  for (const auto& [outcome, n] : store.attempt_outcomes) {
    std::printf(" %s %lld", outcome.c_str(), static_cast<long long>(n));
  }
  std::printf("; leases expired %lld, jobs with more than one attempt %lld\n",
              static_cast<long long>(Get(store.attempt_outcomes, "expired")),
              static_cast<long long>(store.jobs_retried));
  if (o.keep) std::printf("store kept: %s\n", db_path.c_str());
  if (!ok) return 1;
  return finished ? 0 : 2;
}
