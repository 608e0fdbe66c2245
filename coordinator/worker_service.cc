#include "coordinator/worker_service.h"

#include <algorithm>

#include "proto/convert.h"
#include "proto/grpc_status.h"

namespace bitsweep::coordinator {
namespace {

// The longest a LeaseJobs call may park, whatever the worker asks for.
constexpr int64_t kMaxLongPollMs = 60000;
// The most jobs one call may lease.
constexpr int kMaxJobsPerLease = 256;

grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* ctx, const Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace

void LeaseToProto(const LeaseGrant& grant, v1::Lease* out) {
  out->set_job_id(grant.job_id);
  out->set_sweep_id(grant.sweep_id);
  out->set_attempt(grant.attempt);
  out->set_epoch(grant.epoch);
  out->set_spec_json(grant.spec_json);
  out->set_store_id(grant.store_id);
  out->set_ttl_ms(grant.ttl_ms);
}

WorkerServiceImpl::WorkerServiceImpl(Scheduler* scheduler, AccessControl access)
    : scheduler_(scheduler), access_(std::move(access)) {}

grpc::ServerUnaryReactor* WorkerServiceImpl::Register(grpc::CallbackServerContext* ctx,
                                                      const v1::RegisterRequest* request,
                                                      v1::RegisterResponse* response) {
  if (Status denied = access_.CheckWorker(*ctx); !denied.ok()) return Answer(ctx, denied);
  WorkerRecord record;
  record.id = request->worker_id();
  record.host = request->host();
  record.devices.assign(request->devices().begin(), request->devices().end());
  record.slots = request->slots();
  record.version = request->version();
  record.store_id = request->store_id();
  auto registration = scheduler_->RegisterWorker(std::move(record));
  if (registration.ok()) {
    response->set_worker_id(registration->worker_id);
    response->set_lease_ttl_ms(registration->lease_ttl_ms);
    response->set_heartbeat_interval_ms(registration->heartbeat_interval_ms);
    response->set_store_id(registration->store_id);
  }
  return Answer(ctx, registration.status());
}

grpc::ServerUnaryReactor* WorkerServiceImpl::LeaseJobs(grpc::CallbackServerContext* ctx,
                                                       const v1::LeaseJobsRequest* request,
                                                       v1::LeaseJobsResponse* response) {
  if (Status denied = access_.CheckWorker(*ctx); !denied.ok()) return Answer(ctx, denied);
  const int max_jobs = std::clamp(request->max_jobs(), 1, kMaxJobsPerLease);
  // First without this service's lock, so that concurrent polls share group
  // commits instead of queueing behind each other's.
  auto leases = scheduler_->TryLeaseMany(request->worker_id(), max_jobs);
  if (!leases.ok()) return Answer(ctx, leases.status());
  if (!leases->empty()) {
    for (const auto& grant : leases.value()) LeaseToProto(grant, response->add_leases());
    return Answer(ctx, Status::Ok());
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Again under the lock before parking: work submitted since the first try
  // is found here, or by DispatchWaiting once this poll is parked.
  leases = scheduler_->TryLeaseMany(request->worker_id(), max_jobs);
  if (!leases.ok()) return Answer(ctx, leases.status());
  if (!leases->empty()) {
    for (const auto& grant : leases.value()) LeaseToProto(grant, response->add_leases());
    return Answer(ctx, Status::Ok());
  }
  const int64_t wait_ms = std::clamp<int64_t>(request->wait_ms(), 0, kMaxLongPollMs);
  if (wait_ms == 0 || stop_parking_) return Answer(ctx, Status::Ok());
  // Park. Checking and parking under one lock means a submit that lands in
  // between still finds this poll in DispatchWaiting.
  auto* reactor = ctx->DefaultReactor();
  waiters_.push_back({ctx, reactor, response, request->worker_id(), max_jobs,
                      std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms)});
  return reactor;
}

void WorkerServiceImpl::DispatchWaiting() {
  // Leases granted to a poll whose worker went away meanwhile; handed back
  // after the lock is released (handing back offers work again, which comes
  // back here).
  std::vector<std::pair<std::string, LeaseGrant>> orphans;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Every parked poll gets a try, oldest first: what is left in the queue
    // may avoid one worker (a retry) but suit the next.
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->ctx->IsCancelled()) {  // the worker went away: do not hand it a job
        it->reactor->Finish(grpc::Status::CANCELLED);
        it = waiters_.erase(it);
        continue;
      }
      auto leases = scheduler_->TryLeaseMany(it->worker_id, it->max_jobs);
      if (leases.ok() && leases->empty()) {
        ++it;
        continue;
      }
      if (leases.ok() && it->ctx->IsCancelled()) {
        for (auto& grant : leases.value()) orphans.emplace_back(it->worker_id, std::move(grant));
        it->reactor->Finish(grpc::Status::CANCELLED);
        it = waiters_.erase(it);
        continue;
      }
      if (leases.ok()) {
        for (const auto& grant : leases.value()) LeaseToProto(grant, it->response->add_leases());
      }
      it->reactor->Finish(ToGrpcStatus(leases.status()));
      it = waiters_.erase(it);
    }
  }
  // Released, not failed: they spend no attempt.
  for (const auto& [worker_id, grant] : orphans) {
    (void)scheduler_->Fail(worker_id, grant.job_id, grant.epoch, "lease poll cancelled", true, /*released=*/true);
  }
}

void WorkerServiceImpl::StopParking() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_parking_ = true;
  }
  ExpireWaits();
}

void WorkerServiceImpl::ExpireWaits() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (stop_parking_ || it->deadline <= now || it->ctx->IsCancelled()) {
      it->reactor->Finish(it->ctx->IsCancelled() ? grpc::Status::CANCELLED : grpc::Status::OK);
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

grpc::ServerUnaryReactor* WorkerServiceImpl::Heartbeat(grpc::CallbackServerContext* ctx,
                                                       const v1::HeartbeatRequest* request,
                                                       v1::HeartbeatResponse* response) {
  if (Status denied = access_.CheckWorker(*ctx); !denied.ok()) return Answer(ctx, denied);
  std::vector<LeaseReport> reports;
  reports.reserve(static_cast<size_t>(request->leases_size()));
  for (const auto& l : request->leases()) {
    LeaseReport r;
    r.job_id = l.job_id();
    r.epoch = l.epoch();
    r.step = l.step();
    r.total = l.total();
    r.images_per_second = l.images_per_second();
    for (const auto& m : l.interim_metrics()) r.interim_metrics.push_back(MetricFromProto(m));
    reports.push_back(std::move(r));
  }
  auto directives = scheduler_->Heartbeat(request->worker_id(), reports);
  if (directives.ok()) {
    for (const auto& d : directives.value()) {
      auto* out = response->add_directives();
      out->set_job_id(d.job_id);
      out->set_epoch(d.epoch);
      out->set_kind(d.kind == DirectiveKind::kContinue ? v1::DIRECTIVE_CONTINUE
                    : d.kind == DirectiveKind::kCancel ? v1::DIRECTIVE_CANCEL
                                                       : v1::DIRECTIVE_LEASE_LOST);
      out->set_reason(d.reason);
    }
  }
  return Answer(ctx, directives.status());
}

grpc::ServerUnaryReactor* WorkerServiceImpl::CompleteJobs(grpc::CallbackServerContext* ctx,
                                                          const v1::CompleteJobsRequest* request,
                                                          v1::CompleteJobsResponse* response) {
  if (Status denied = access_.CheckWorker(*ctx); !denied.ok()) return Answer(ctx, denied);
  std::vector<CompletionReport> reports;
  reports.reserve(static_cast<size_t>(request->jobs_size()));
  for (const auto& job : request->jobs()) {
    CompletionReport report;
    report.job_id = job.job_id();
    report.epoch = job.epoch();
    report.result_json = job.result_json();
    for (const auto& m : job.metrics()) report.metrics.push_back(MetricFromProto(m));
    for (const auto& a : job.artifacts()) report.artifacts.push_back({a.name(), a.content()});
    report.wall_seconds = job.wall_seconds();
    report.model_bytes = job.model_bytes();
    reports.push_back(std::move(report));
  }
  const int lease_next = std::clamp(request->lease_next(), 0, kMaxJobsPerLease);
  auto outcome = scheduler_->CompleteMany(request->worker_id(), reports, lease_next);
  if (outcome.ok()) {
    for (size_t i = 0; i < reports.size(); ++i) {
      auto* ack = response->add_acks();
      ack->set_job_id(reports[i].job_id);
      const grpc::Status status = ToGrpcStatus(outcome->first[i]);
      ack->set_code(static_cast<int>(status.error_code()));
      ack->set_message(status.error_message());
    }
    for (const auto& grant : outcome->second) LeaseToProto(grant, response->add_leases());
  }
  return Answer(ctx, outcome.status());
}

grpc::ServerUnaryReactor* WorkerServiceImpl::FailJob(grpc::CallbackServerContext* ctx,
                                                     const v1::FailJobRequest* request, v1::FailJobResponse*) {
  if (Status denied = access_.CheckWorker(*ctx); !denied.ok()) return Answer(ctx, denied);
  std::vector<ArtifactUpload> artifacts;
  for (const auto& a : request->artifacts()) artifacts.push_back({a.name(), a.content()});
  return Answer(ctx, scheduler_->Fail(request->worker_id(), request->job_id(), request->epoch(), request->error(),
                                      request->retryable(), request->released(), artifacts));
}

}  // namespace bitsweep::coordinator
