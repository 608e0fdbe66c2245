// WorkerService handlers: what workers call. Thin: parse the request, call
// the Scheduler, translate the Status.
//
// Uses gRPC's callback API so that a LeaseJobs long-poll parks its reactor
// instead of a thread: 64 idle worker slots cost 64 entries in a list, not
// 64 blocked threads. Parked polls are answered when work arrives (the
// scheduler's work-available listener) or when their wait runs out
// (ExpireWaits, called by the server's ticker).
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <string>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "coordinator/access_control.h"
#include "coordinator/scheduler.h"

namespace bitsweep::coordinator {

class WorkerServiceImpl final : public v1::WorkerService::CallbackService {
 public:
  WorkerServiceImpl(Scheduler* scheduler, AccessControl access);

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx, const v1::RegisterRequest* request,
                                     v1::RegisterResponse* response) override;
  grpc::ServerUnaryReactor* LeaseJobs(grpc::CallbackServerContext* ctx, const v1::LeaseJobsRequest* request,
                                      v1::LeaseJobsResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx, const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* CompleteJobs(grpc::CallbackServerContext* ctx, const v1::CompleteJobsRequest* request,
                                         v1::CompleteJobsResponse* response) override;
  grpc::ServerUnaryReactor* FailJob(grpc::CallbackServerContext* ctx, const v1::FailJobRequest* request,
                                    v1::FailJobResponse* response) override;

  /// Answers (empty) the parked polls whose wait ran out.
  void ExpireWaits();
  /// From now on polls are answered at once (never parked), and the parked
  /// ones are answered now: the server can then shut down.
  void StopParking();
  /// Offers work to parked polls, oldest first.
  void DispatchWaiting();

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Waiter {
    grpc::CallbackServerContext* ctx;
    grpc::ServerUnaryReactor* reactor;
    v1::LeaseJobsResponse* response;
    std::string worker_id;
    int max_jobs;
    SteadyTime deadline;
  };

  Scheduler* const scheduler_;
  const AccessControl access_;
  std::mutex mu_;
  std::deque<Waiter> waiters_;
  bool stop_parking_ = false;
};

/// Fills a wire lease from a grant.
void LeaseToProto(const LeaseGrant& grant, v1::Lease* out);

}  // namespace bitsweep::coordinator
