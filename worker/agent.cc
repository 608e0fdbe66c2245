#include "worker/agent.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include <grpcpp/grpcpp.h>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "common/host.h"
#include "common/store_paths.h"
#include "common/version.h"
#include "proto/convert.h"
#include "proto/grpc_status.h"
#include "proto/transport_security.h"

namespace bitsweep::worker {
namespace {

using std::chrono::milliseconds;
constexpr int kMaxMessageBytes = 256 << 20;
// How often the exchange asks for work for idle slots while other slots run.
constexpr int64_t kBusyPollMs = 200;

}  // namespace

bool IsRetryable(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kCorruption:
    case StatusCode::kDataLoss:
    case StatusCode::kFailedPrecondition:
      return false;
    default:
      return true;
  }
}

// One lease being worked on.
struct ActiveLease {
  v1::Lease lease;
  std::atomic<bool> cancel{false};
  /// Set by a directive: the coordinator no longer wants a report.
  std::atomic<bool> abandoned{false};
  std::mutex mu;
  TaskProgress progress;
  std::vector<MetricValue> unsent_metrics;
};

class Agent::Impl {
 public:
  explicit Impl(AgentOptions options) : options_(std::move(options)) {
    DisableMutexDeadlockDetection();
    if (options_.devices.empty()) options_.devices = {"cpu"};
    if (options_.host.empty()) options_.host = HostName();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    auto credentials = MakeChannelCredentials(options_.tls);
    credentials_error_ = credentials.status();
    channel_ = grpc::CreateCustomChannel(
        options_.coordinator, credentials.ok() ? credentials.value() : grpc::InsecureChannelCredentials(), args);
    stub_ = v1::WorkerService::NewStub(channel_);
    sweeps_stub_ = v1::SweepService::NewStub(channel_);
  }

  Status Run(const std::atomic<bool>& stop) {
    stop_ = &stop;
    BITSWEEP_RETURN_IF_ERROR(credentials_error_);
    BITSWEEP_RETURN_IF_ERROR(Register());
    std::vector<std::thread> slots;
    for (size_t i = 0; i < options_.devices.size(); ++i) {
      slots.emplace_back([this, i] { SlotLoop(static_cast<int>(i)); });
    }
    std::thread exchange([this] { ExchangeLoop(); });
    HeartbeatLoop();
    for (auto& t : slots) t.join();
    {
      std::lock_guard<std::mutex> lock(exchange_mu_);
      slots_done_ = true;
    }
    exchange_cv_.notify_all();
    exchange.join();
    return Status::Ok();
  }

  std::atomic<int64_t> succeeded{0};
  std::atomic<int64_t> failed{0};

 private:
  bool stopping() const { return stop_->load(); }

  void Log(const std::string& line) {
    if (!options_.verbose) return;
    std::lock_guard<std::mutex> lock(log_mu_);
    std::fprintf(stderr, "[worker %s] %s\n", worker_id().c_str(), line.c_str());
  }

  std::string worker_id() {
    std::lock_guard<std::mutex> lock(id_mu_);
    return worker_id_;
  }

  // Sleeps up to `ms`, waking early when the agent stops.
  void Nap(int64_t ms) {
    const auto until = std::chrono::steady_clock::now() + milliseconds(ms);
    while (!stopping() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(milliseconds(20));
  }

  int64_t Jittered(int64_t ms) {
    std::lock_guard<std::mutex> lock(rng_mu_);
    return std::uniform_int_distribution<int64_t>(ms / 2, ms)(rng_);
  }

  // An artifact of another job (a checkpoint to continue from), in chunks.
  Result<std::string> FetchArtifact(int64_t job_id, const std::string& name) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, std::max<int64_t>(options_.rpc_timeout_ms, 300000));
    v1::GetArtifactRequest request;
    request.set_job_id(job_id);
    request.set_name(name);
    auto reader = sweeps_stub_->GetArtifact(&ctx, request);
    std::string content;
    v1::ArtifactChunk chunk;
    while (reader->Read(&chunk)) content += chunk.data();
    BITSWEEP_RETURN_IF_ERROR(FromGrpcStatus(reader->Finish(), "GetArtifact"));
    return content;
  }

  // Every call goes through here: its deadline, and the token when the
  // coordinator wants one.
  void SetDeadline(grpc::ClientContext* ctx, int64_t ms) {
    ctx->set_deadline(std::chrono::system_clock::now() + milliseconds(ms));
    if (!options_.token.empty()) ctx->AddMetadata("authorization", "Bearer " + options_.token);
  }

  // Registers (again). `stale_id` is the id the caller saw refused: when
  // another thread has registered since, there is nothing left to do (every
  // thread registering anew would make the coordinator hand out several ids).
  Status Register(const std::string& stale_id = "") {
    std::lock_guard<std::mutex> registering(register_mu_);
    if (!stale_id.empty() && worker_id() != stale_id) return Status::Ok();
    int64_t backoff = options_.min_backoff_ms;
    while (!stopping()) {
      v1::RegisterRequest request;
      request.set_host(options_.host);
      for (const auto& d : options_.devices) request.add_devices(d);
      request.set_slots(static_cast<int>(options_.devices.size()));
      request.set_version(kVersion);
      request.set_worker_id(worker_id());
      request.set_store_id(registered_store_id_);
      v1::RegisterResponse response;
      grpc::ClientContext ctx;
      SetDeadline(&ctx, options_.rpc_timeout_ms);
      Status s = FromGrpcStatus(stub_->Register(&ctx, request, &response), "Register");
      if (s.ok()) {
        {
          std::lock_guard<std::mutex> lock(id_mu_);
          worker_id_ = response.worker_id();
        }
        registered_store_id_ = response.store_id();
        heartbeat_interval_ms_ = std::max<int64_t>(10, response.heartbeat_interval_ms());
        Log("registered with " + options_.coordinator + " (" + std::to_string(options_.devices.size()) + " slot(s))");
        return Status::Ok();
      }
      if (s.code() != StatusCode::kUnavailable && s.code() != StatusCode::kDeadlineExceeded) return s;
      Log("coordinator unreachable (" + s.message() + "); retrying in " + std::to_string(backoff) + " ms");
      Nap(Jittered(backoff));
      backoff = std::min(backoff * 2, options_.max_backoff_ms);
    }
    return Status::Cancelled("stopped before registering");
  }

  // Calls `call` until it succeeds or fails for a reason retrying cannot
  // fix; reconnects and re-registers on the way. `call` makes one RPC with a
  // fresh context.
  // `tries_when_stopping`: how often to try once the agent is stopping
  // (results are done work and worth a few more tries; polls are not).
  template <typename Call>
  Status WithRetry(const char* method, int64_t deadline_ms, Call call, int tries_when_stopping = 1) {
    int64_t backoff = options_.min_backoff_ms;
    int tries_stopping = 0;
    while (true) {
      grpc::ClientContext ctx;
      SetDeadline(&ctx, deadline_ms);
      const std::string id_used = worker_id();
      Status s = FromGrpcStatus(call(&ctx), method);
      if (s.ok()) return s;
      if (s.code() == StatusCode::kNotFound && s.message().find("is not registered") != std::string::npos) {
        Log("the coordinator does not know this worker; registering again");
        BITSWEEP_RETURN_IF_ERROR(Register(id_used));
        continue;
      }
      const bool transient = s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded ||
                             s.code() == StatusCode::kResourceExhausted;
      if (!transient) return s;
      if (stopping() && ++tries_stopping >= tries_when_stopping) return s;
      Log(s.message() + "; retrying in " + std::to_string(backoff) + " ms");
      if (stopping()) {
        std::this_thread::sleep_for(milliseconds(Jittered(backoff)));
      } else {
        Nap(Jittered(backoff));
      }
      backoff = std::min(backoff * 2, options_.max_backoff_ms);
    }
  }

  // ---- the exchange: one thread per agent talks to the coordinator for all
  // slots, so that under load one CompleteJobs call reports every job that
  // finished since the last call and brings a lease for every idle slot.

  // A slot waits here for its next lease; nullopt when the agent stops.
  std::optional<v1::Lease> TakeLease() {
    const auto idle_since = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(exchange_mu_);
    ++idle_slots_;
    exchange_cv_.notify_one();
    slots_cv_.wait(lock, [&] { return !ready_.empty() || stopping(); });
    --idle_slots_;
    if (ready_.empty() || stopping()) return std::nullopt;
    v1::Lease lease = std::move(ready_.front());
    ready_.pop_front();
    ++busy_slots_;
    if (options_.on_lease_wait) {
      options_.on_lease_wait(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - idle_since).count());
    }
    return lease;
  }

  void SlotDone(std::optional<v1::JobCompletion> completion) {
    std::lock_guard<std::mutex> lock(exchange_mu_);
    --busy_slots_;
    if (completion) outbox_.push_back(std::move(*completion));
    exchange_cv_.notify_one();
  }

  void GiveLeases(const google::protobuf::RepeatedPtrField<v1::Lease>& leases) {
    if (leases.empty()) return;
    std::lock_guard<std::mutex> lock(exchange_mu_);
    for (const auto& l : leases) {
      ready_.push_back(l);
      slots_cv_.notify_one();
    }
  }

  void ExchangeLoop() {
    while (true) {
      std::vector<v1::JobCompletion> batch;
      int wanted = 0;
      bool anything_running = false;
      {
        std::unique_lock<std::mutex> lock(exchange_mu_);
        auto want = [&] { return stopping() ? 0 : idle_slots_ - static_cast<int>(ready_.size()); };
        exchange_cv_.wait(lock, [&] { return !outbox_.empty() || want() > 0 || slots_done_; });
        if (outbox_.empty() && slots_done_) break;
        batch.swap(outbox_);
        wanted = std::max(0, want());
        // Leases handed out but not yet picked up by a slot will run too.
        anything_running = busy_slots_ > 0 || !ready_.empty();
      }
      if (!batch.empty()) {
        SendCompletions(&batch, wanted);
      } else if (wanted > 0) {
        // With nothing running no result can come in meanwhile, so a long
        // poll costs nothing; otherwise ask once and look again shortly.
        const bool found = LeaseMore(wanted, anything_running ? 0 : options_.long_poll_ms);
        if (!found && anything_running) {
          std::unique_lock<std::mutex> lock(exchange_mu_);
          exchange_cv_.wait_for(lock, milliseconds(kBusyPollMs), [&] { return !outbox_.empty() || slots_done_; });
        }
      }
    }
    ReturnUnstartedLeases();
  }

  bool LeaseMore(int wanted, int64_t wait_ms) {
    v1::LeaseJobsRequest request;
    request.set_max_jobs(wanted);
    request.set_wait_ms(wait_ms);
    v1::LeaseJobsResponse response;
    Status s = WithRetry("LeaseJobs", wait_ms + options_.rpc_timeout_ms, [&](grpc::ClientContext* ctx) {
      request.set_worker_id(worker_id());
      {
        std::lock_guard<std::mutex> lock(polls_mu_);
        if (stopping()) return grpc::Status::CANCELLED;
        polls_.insert(ctx);
      }
      grpc::Status status = stub_->LeaseJobs(ctx, request, &response);
      std::lock_guard<std::mutex> lock(polls_mu_);
      polls_.erase(ctx);
      return status;
    });
    if (!s.ok()) {
      if (!stopping()) {
        Log(s.ToString());
        Nap(options_.max_backoff_ms);
      }
      return false;
    }
    for (const auto& l : response.leases()) {
      Log("job " + std::to_string(l.job_id()) + " (attempt " + std::to_string(l.attempt()) + ") leased");
    }
    GiveLeases(response.leases());
    return response.leases_size() > 0;
  }

  void SendCompletions(std::vector<v1::JobCompletion>* batch, int wanted) {
    v1::CompleteJobsRequest request;
    for (auto& c : *batch) *request.add_jobs() = std::move(c);
    request.set_lease_next(wanted);
    v1::CompleteJobsResponse response;
    // Results are worth retrying for even while stopping: they are done work.
    Status s = WithRetry(
        "CompleteJobs", options_.rpc_timeout_ms,
        [&](grpc::ClientContext* ctx) {
          request.set_worker_id(worker_id());
          return stub_->CompleteJobs(ctx, request, &response);
        },
        /*tries_when_stopping=*/5);
    // Delivered or given up on: these leases need no more heartbeats.
    {
      std::lock_guard<std::mutex> lock(leases_mu_);
      for (const auto& job : request.jobs()) {
        auto it = leases_.find(job.job_id());
        if (it != leases_.end() && it->second->lease.epoch() == job.epoch()) leases_.erase(it);
      }
    }
    if (!s.ok()) {
      Log(std::to_string(request.jobs_size()) + " result(s) not delivered: " + s.ToString());
      return;
    }
    for (const auto& ack : response.acks()) {
      const std::string job = "job " + std::to_string(ack.job_id());
      if (ack.code() == 0) {
        ++succeeded;
        Log(job + " succeeded");
      } else {
        Log(job + ": result not accepted: " + ack.message());
      }
    }
    for (const auto& l : response.leases()) {
      Log("job " + std::to_string(l.job_id()) + " (attempt " + std::to_string(l.attempt()) + ") leased");
    }
    GiveLeases(response.leases());
  }

  // Leases no slot started (the agent is stopping) go straight back.
  void ReturnUnstartedLeases() {
    std::deque<v1::Lease> left;
    {
      std::lock_guard<std::mutex> lock(exchange_mu_);
      left.swap(ready_);
    }
    for (const auto& lease : left) {
      ReportFailure(lease, "worker stopped before starting it", /*retryable=*/true, /*released=*/true);
    }
  }

  void SlotLoop(int slot) {
    while (auto lease = TakeLease()) RunLease(slot, *lease);
  }

  // Runs one lease to its end and hands its result to the exchange (or
  // reports its failure).
  void RunLease(int slot, const v1::Lease& lease) {
    auto active = std::make_shared<ActiveLease>();
    active->lease = lease;
    {
      std::lock_guard<std::mutex> lock(leases_mu_);
      auto& slot_entry = leases_[lease.job_id()];
      if (slot_entry) {
        // The same job again under a newer lease (the old one expired while
        // this worker was cut off): the old run must stop.
        slot_entry->abandoned = true;
        slot_entry->cancel = true;
      }
      slot_entry = active;
      // A stop that came just before this lease was registered still applies.
      if (stopping()) active->cancel = true;
    }
    const std::string job = "job " + std::to_string(lease.job_id());
    Log(job + " started on slot " + std::to_string(slot) + " [" + options_.devices[static_cast<size_t>(slot)] + "]");
    // Per store and job: another store's job of the same id must never
    // resume from this one's checkpoint.
    std::filesystem::path work = std::filesystem::path(options_.work_dir) / StoreFolderName(lease.store_id()) /
                                 ("job-" + std::to_string(lease.job_id()));

    Result<TaskOutcome> outcome = Status::Internal("not run");
    auto spec_json = nlohmann::json::parse(lease.spec_json(), nullptr, false);
    auto spec = spec_json.is_discarded() ? Result<JobSpec>(Status::InvalidArgument("lease spec is not valid JSON"))
                                         : JobSpec::FromJson(spec_json);
    if (!spec.ok()) {
      outcome = spec.status().WithContext("job spec");
    } else if (options_.runners.count(spec->task) == 0) {
      outcome = Status::FailedPrecondition("this worker cannot run task \"" + spec->task + "\"");
    } else {
      TaskContext context;
      context.job_id = lease.job_id();
      context.attempt = lease.attempt();
      context.work_dir = work.string();
      context.device = options_.devices[static_cast<size_t>(slot)];
      context.threads = ThreadsPerJob();
      context.cache_dir = options_.cache_dir;
      context.cancel = &active->cancel;
      context.fetch_artifact = [this](int64_t job_id, const std::string& name) { return FetchArtifact(job_id, name); };
      context.on_progress = [active](const TaskProgress& p) {
        std::lock_guard<std::mutex> lock(active->mu);
        active->progress.step = p.step;
        active->progress.total = p.total;
        active->progress.images_per_second = p.images_per_second;
        for (const auto& m : p.metrics) active->unsent_metrics.push_back(m);
      };
      // The task creates the folder if it needs one (synthetic jobs do not).
      outcome = options_.runners.at(spec->task)(spec.value(), context);
    }
    if (!outcome.ok() || active->abandoned) {
      // A finished job keeps heartbeating (its lease alive) until its result
      // is delivered; see SendCompletions.
      std::lock_guard<std::mutex> lock(leases_mu_);
      auto it = leases_.find(lease.job_id());
      if (it != leases_.end() && it->second == active) leases_.erase(it);
    }

    std::optional<v1::JobCompletion> completion;
    if (active->abandoned) {
      Log(job + " stopped: the coordinator withdrew the lease");
    } else if (outcome.ok()) {
      completion = ToCompletion(lease, outcome.value());
      std::error_code ec;
      if (!options_.keep_work && std::filesystem::exists(work, ec)) std::filesystem::remove_all(work, ec);
    } else {
      const Status& error = outcome.status();
      if (stopping()) {
        // Stopped because this worker is stopping: back to the queue, and
        // the attempt does not count (a qgan job resumes from its checkpoint).
        ReportFailure(lease, "worker stopped", /*retryable=*/true, /*released=*/true);
      } else {
        ReportFailure(lease, error.ToString(), IsRetryable(error), /*released=*/false, AttemptLog(work, lease));
      }
    }
    SlotDone(std::move(completion));
  }

  int ThreadsPerJob() const {
    if (options_.threads > 0) return options_.threads;
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, cores / static_cast<int>(options_.devices.size()));
  }

  static v1::JobCompletion ToCompletion(const v1::Lease& lease, const TaskOutcome& outcome) {
    v1::JobCompletion c;
    c.set_job_id(lease.job_id());
    c.set_epoch(lease.epoch());
    c.set_result_json(outcome.result_json);
    for (const auto& m : outcome.metrics) MetricToProto(m, c.add_metrics());
    for (const auto& a : outcome.artifacts) {
      auto* out = c.add_artifacts();
      out->set_name(a.name);
      out->set_content(a.content);
    }
    c.set_wall_seconds(outcome.wall_seconds);
    c.set_model_bytes(outcome.model_bytes);
    return c;
  }

  // The output of a job that ran in a process of its own (see
  // worker/job_process.h), its last MiB at most; "" when there is none.
  static std::string AttemptLog(const std::filesystem::path& work, const v1::Lease& lease) {
    const std::filesystem::path log = work / ("attempt-" + std::to_string(lease.attempt())) / "log.txt";
    std::ifstream in(log, std::ios::binary | std::ios::ate);
    if (!in) return "";
    constexpr std::streamoff kMaxBytes = 1 << 20;
    const std::streamoff size = in.tellg();
    in.seekg(std::max<std::streamoff>(0, size - kMaxBytes));
    std::string content(static_cast<size_t>(std::min(size, kMaxBytes)), '\0');
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    return content;
  }

  void ReportFailure(const v1::Lease& lease, const std::string& error, bool retryable, bool released = false,
                     const std::string& log = "") {
    v1::FailJobRequest request;
    if (!log.empty()) {
      auto* artifact = request.add_artifacts();
      artifact->set_name("log.txt");
      artifact->set_content(log);
    }
    request.set_job_id(lease.job_id());
    request.set_epoch(lease.epoch());
    request.set_error(error);
    request.set_retryable(retryable);
    request.set_released(released);
    v1::FailJobResponse response;
    Status s = WithRetry("FailJob", options_.rpc_timeout_ms, [&](grpc::ClientContext* ctx) {
      request.set_worker_id(worker_id());
      return stub_->FailJob(ctx, request, &response);
    });
    ++failed;
    Log("job " + std::to_string(lease.job_id()) + " failed" + (retryable ? " (retryable)" : "") + ": " + error +
        (s.ok() ? "" : " [report not accepted: " + s.ToString() + "]"));
  }

  void HeartbeatLoop() {
    while (!stopping()) {
      Nap(heartbeat_interval_ms_);
      if (stopping()) break;
      SendHeartbeat();
    }
    // Stopping: waiting polls end now; running jobs checkpoint and end, and
    // their slots report them.
    {
      std::lock_guard<std::mutex> lock(polls_mu_);
      for (auto* ctx : polls_) ctx->TryCancel();
    }
    {
      std::lock_guard<std::mutex> lock(leases_mu_);
      for (auto& [id, lease] : leases_) lease->cancel = true;
    }
    std::lock_guard<std::mutex> lock(exchange_mu_);
    exchange_cv_.notify_all();
    slots_cv_.notify_all();
  }

  void SendHeartbeat() {
    v1::HeartbeatRequest request;
    std::vector<std::shared_ptr<ActiveLease>> reported;
    {
      std::lock_guard<std::mutex> lock(leases_mu_);
      for (auto& [id, active] : leases_) {
        std::lock_guard<std::mutex> progress_lock(active->mu);
        auto* l = request.add_leases();
        l->set_job_id(active->lease.job_id());
        l->set_epoch(active->lease.epoch());
        l->set_step(active->progress.step);
        l->set_total(active->progress.total);
        l->set_images_per_second(active->progress.images_per_second);
        for (const auto& m : active->unsent_metrics) MetricToProto(m, l->add_interim_metrics());
        active->unsent_metrics.clear();
        reported.push_back(active);
      }
    }
    v1::HeartbeatResponse response;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, options_.rpc_timeout_ms);
    request.set_worker_id(worker_id());
    Status s = FromGrpcStatus(stub_->Heartbeat(&ctx, request, &response), "Heartbeat");
    if (!s.ok()) {
      if (s.code() == StatusCode::kNotFound) {
        (void)Register(request.worker_id());
      } else {
        Log(s.ToString());
      }
      return;
    }
    for (const auto& d : response.directives()) {
      if (d.kind() == v1::DIRECTIVE_CONTINUE) continue;
      for (auto& active : reported) {
        if (active->lease.job_id() == d.job_id() && active->lease.epoch() == d.epoch()) {
          Log("job " + std::to_string(d.job_id()) + ": stopping: " + d.reason());
          active->abandoned = true;
          active->cancel = true;
        }
      }
    }
  }

  AgentOptions options_;
  const std::atomic<bool>* stop_ = nullptr;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WorkerService::Stub> stub_;
  std::unique_ptr<v1::SweepService::Stub> sweeps_stub_;
  std::mutex register_mu_;
  std::mutex id_mu_;
  std::string worker_id_;
  // The store that issued worker_id_ (written under register_mu_).
  std::string registered_store_id_;
  std::atomic<int64_t> heartbeat_interval_ms_{1000};
  std::mutex leases_mu_;
  std::unordered_map<int64_t, std::shared_ptr<ActiveLease>> leases_;
  std::mutex polls_mu_;
  std::set<grpc::ClientContext*> polls_;
  Status credentials_error_;  // LeaseJobs calls in flight
  // The exchange between slots and the coordinator.
  std::mutex exchange_mu_;
  std::condition_variable exchange_cv_;  // wakes the exchange thread
  std::condition_variable slots_cv_;     // wakes slots waiting for a lease
  std::deque<v1::Lease> ready_;             // leased, not yet started
  std::vector<v1::JobCompletion> outbox_;   // finished, not yet reported
  int idle_slots_ = 0;
  int busy_slots_ = 0;
  bool slots_done_ = false;
  std::mutex log_mu_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_{std::random_device{}()};
};

Agent::Agent(AgentOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Agent::~Agent() = default;
Status Agent::Run(const std::atomic<bool>& stop) { return impl_->Run(stop); }
int64_t Agent::jobs_succeeded() const { return impl_->succeeded; }
int64_t Agent::jobs_failed() const { return impl_->failed; }

}  // namespace bitsweep::worker
