// SweepService handlers: what users call. Thin: parse, call the Scheduler
// or read the store, translate. Synchronous API: these calls are few and
// short, except WatchSweep, which waits on the scheduler's change signal.
#pragma once

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "coordinator/access_control.h"
#include "coordinator/scheduler.h"
#include "coordinator/sql_query.h"

namespace bitsweep::coordinator {

class SweepServiceImpl final : public v1::SweepService::Service {
 public:
  SweepServiceImpl(Scheduler* scheduler, AccessControl access, QueryLimits query_limits)
      : scheduler_(scheduler), access_(std::move(access)), query_limits_(query_limits) {}

  grpc::Status SubmitSweep(grpc::ServerContext*, const v1::SubmitSweepRequest*, v1::SubmitSweepResponse*) override;
  grpc::Status GetSweep(grpc::ServerContext*, const v1::GetSweepRequest*, v1::Sweep*) override;
  grpc::Status ListSweeps(grpc::ServerContext*, const v1::ListSweepsRequest*, v1::ListSweepsResponse*) override;
  grpc::Status ListJobs(grpc::ServerContext*, const v1::ListJobsRequest*, v1::ListJobsResponse*) override;
  grpc::Status CancelSweep(grpc::ServerContext*, const v1::CancelSweepRequest*, v1::CancelResponse*) override;
  grpc::Status CancelJob(grpc::ServerContext*, const v1::CancelJobRequest*, v1::CancelResponse*) override;
  grpc::Status QueryResults(grpc::ServerContext*, const v1::QueryResultsRequest*, v1::QueryResultsResponse*) override;
  grpc::Status StreamResults(grpc::ServerContext*, const v1::QueryResultsRequest*,
                             grpc::ServerWriter<v1::QueryResultsResponse>*) override;
  grpc::Status WatchSweep(grpc::ServerContext*, const v1::WatchSweepRequest*,
                          grpc::ServerWriter<v1::SweepEvent>*) override;
  grpc::Status ListWorkers(grpc::ServerContext*, const v1::ListWorkersRequest*, v1::ListWorkersResponse*) override;
  grpc::Status ListArtifacts(grpc::ServerContext*, const v1::ListArtifactsRequest*,
                             v1::ListArtifactsResponse*) override;
  grpc::Status GetArtifact(grpc::ServerContext*, const v1::GetArtifactRequest*,
                           grpc::ServerWriter<v1::ArtifactChunk>*) override;
  grpc::Status Query(grpc::ServerContext*, const v1::QueryRequest*, v1::QueryResponse*) override;

  /// Ends open watches (server shutdown).
  void Stop() { stopping_ = true; }

 private:
  Scheduler* const scheduler_;
  const AccessControl access_;
  const QueryLimits query_limits_;
  std::atomic<bool> stopping_{false};
};

void SweepToProto(const SweepView& view, v1::Sweep* out);
void JobToProto(const JobView& view, v1::Job* out);

}  // namespace bitsweep::coordinator
