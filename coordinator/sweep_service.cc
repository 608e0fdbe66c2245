#include "coordinator/sweep_service.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <utility>

#include "common/sha256.h"
#include "coordinator/result_rows.h"
#include "coordinator/sql_query.h"
#include "proto/grpc_status.h"

namespace bitsweep::coordinator {
namespace {

constexpr size_t kArtifactChunkBytes = 1 << 20;
// StreamResults' rows per message: about 1.6 MB of a synthetic sweep's rows.
constexpr int kDefaultChunkRows = 10000;
constexpr int kMostChunkRows = 100000;
// A watch re-reads the sweep at most this often, however busy it is, and
// waits at least kWatchReadsPerInterval times what its last read took: the
// snapshot and early re-reads of a 100,000-job sweep take a good part of a
// second, and a watcher must not take the coordinator's cores from the jobs.
constexpr auto kWatchMinInterval = std::chrono::milliseconds(250);
constexpr int kWatchReadsPerInterval = 4;

v1::SweepState ToProto(SweepState s) {
  switch (s) {
    case SweepState::kRunning: return v1::SWEEP_RUNNING;
    case SweepState::kDone: return v1::SWEEP_DONE;
    case SweepState::kCancelled: return v1::SWEEP_CANCELLED;
  }
  return v1::SWEEP_STATE_UNSPECIFIED;
}

v1::JobState ToProto(JobState s) {
  switch (s) {
    case JobState::kQueued: return v1::JOB_QUEUED;
    case JobState::kRunning: return v1::JOB_RUNNING;
    case JobState::kSucceeded: return v1::JOB_SUCCEEDED;
    case JobState::kFailed: return v1::JOB_FAILED;
    case JobState::kCancelled: return v1::JOB_CANCELLED;
  }
  return v1::JOB_STATE_UNSPECIFIED;
}

int Count(const SweepView& v, JobState s) {
  auto it = v.counts.find(s);
  return it == v.counts.end() ? 0 : it->second;
}

}  // namespace

void SweepToProto(const SweepView& view, v1::Sweep* out) {
  const SweepRecord& s = view.sweep;
  out->set_id(s.id);
  out->set_name(s.name);
  out->set_state(ToProto(s.state));
  out->set_strategy(s.strategy);
  out->set_priority(s.priority);
  out->set_created_unix_ms(s.created_ms);
  out->set_finished_unix_ms(s.finished_ms);
  out->set_jobs_total(view.total);
  out->set_jobs_queued(Count(view, JobState::kQueued));
  out->set_jobs_running(Count(view, JobState::kRunning));
  out->set_jobs_succeeded(Count(view, JobState::kSucceeded));
  out->set_jobs_failed(Count(view, JobState::kFailed));
  out->set_jobs_cancelled(Count(view, JobState::kCancelled));
  out->set_spec_json(s.spec_json);
  out->set_strategy_outcome_json(s.strategy_outcome);
  out->set_slot_seconds(view.slot_seconds);
}

void JobToProto(const JobView& view, v1::Job* out) {
  const JobRecord& j = view.job;
  out->set_id(j.id);
  out->set_sweep_id(j.sweep_id);
  out->set_state(ToProto(j.state));
  out->set_params_json(j.params_json);
  out->set_attempts(j.attempts);
  out->set_max_attempts(j.max_attempts);
  out->set_epoch(j.epoch);
  out->set_worker_id(j.worker_id);
  out->set_last_error(j.last_error);
  out->set_step(view.step);
  out->set_total(view.total);
  out->set_wall_seconds(j.wall_seconds);
  out->set_started_unix_ms(j.started_ms);
  out->set_finished_unix_ms(j.finished_ms);
}

grpc::Status SweepServiceImpl::SubmitSweep(grpc::ServerContext* ctx, const v1::SubmitSweepRequest* request,
                                           v1::SubmitSweepResponse* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  nlohmann::json spec = nlohmann::json::parse(request->spec_json(), nullptr, /*allow_exceptions=*/false);
  if (spec.is_discarded()) return ToGrpcStatus(Status::InvalidArgument("spec_json: not valid JSON"));
  auto submitted = scheduler_->SubmitSweep(spec);
  if (!submitted.ok()) return ToGrpcStatus(submitted.status());
  response->set_sweep_id(submitted->first);
  response->set_job_count(submitted->second);
  return grpc::Status::OK;
}

grpc::Status SweepServiceImpl::GetSweep(grpc::ServerContext* ctx, const v1::GetSweepRequest* request, v1::Sweep* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  auto view = scheduler_->GetSweep(request->sweep_id());
  if (view.ok()) SweepToProto(view.value(), response);
  return ToGrpcStatus(view.status());
}

grpc::Status SweepServiceImpl::ListSweeps(grpc::ServerContext* ctx, const v1::ListSweepsRequest*,
                                          v1::ListSweepsResponse* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  auto views = scheduler_->ListSweeps();
  if (views.ok()) {
    for (const auto& v : views.value()) SweepToProto(v, response->add_sweeps());
  }
  return ToGrpcStatus(views.status());
}

grpc::Status SweepServiceImpl::ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* request,
                                        v1::ListJobsResponse* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  if (request->offset() < 0) return ToGrpcStatus(Status::InvalidArgument("offset: must be >= 0"));
  if (request->limit() < 0) return ToGrpcStatus(Status::InvalidArgument("limit: must be >= 0 (0: every job)"));
  JobRange range;
  range.offset = request->offset();
  range.limit = request->limit();
  Status listed = scheduler_->VisitJobs(request->sweep_id(), range,
                                        [&](const JobView& job) { JobToProto(job, response->add_jobs()); });
  if (!listed.ok()) return ToGrpcStatus(listed);
  if (range.offset == 0 && (range.limit == 0 || response->jobs_size() < range.limit)) {
    response->set_total(response->jobs_size());  // every job was listed
  } else {
    auto total = scheduler_->store()->CountJobRows(request->sweep_id());
    if (!total.ok()) return ToGrpcStatus(total.status());
    response->set_total(total.value());
  }
  return grpc::Status::OK;
}

grpc::Status SweepServiceImpl::CancelSweep(grpc::ServerContext* ctx, const v1::CancelSweepRequest* request,
                                           v1::CancelResponse* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  auto n = scheduler_->CancelSweep(request->sweep_id());
  if (n.ok()) response->set_jobs_cancelled(n.value());
  return ToGrpcStatus(n.status());
}

grpc::Status SweepServiceImpl::CancelJob(grpc::ServerContext* ctx, const v1::CancelJobRequest* request,
                                         v1::CancelResponse* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  auto n = scheduler_->CancelJob(request->job_id());
  if (n.ok()) response->set_jobs_cancelled(n.value());
  return ToGrpcStatus(n.status());
}

grpc::Status SweepServiceImpl::QueryResults(grpc::ServerContext* ctx, const v1::QueryResultsRequest* request,
                                            v1::QueryResultsResponse* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  if (request->sweep_id() != 0) {
    auto sweep = scheduler_->store()->GetSweep(request->sweep_id());
    if (!sweep.ok()) return ToGrpcStatus(sweep.status());
  }
  // Each row goes straight into the response: no second copy of 100,000 rows.
  Status read = scheduler_->store()->VisitResults(
      request->sweep_id(), [&](ResultRecord& row) { ResultToProto(row, response->add_rows()); });
  return ToGrpcStatus(read);
}

grpc::Status SweepServiceImpl::StreamResults(grpc::ServerContext* ctx, const v1::QueryResultsRequest* request,
                                             grpc::ServerWriter<v1::QueryResultsResponse>* writer) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  if (request->chunk_rows() < 0 || request->chunk_rows() > kMostChunkRows) {
    return ToGrpcStatus(Status::InvalidArgument("chunk_rows: must be within 0.." + std::to_string(kMostChunkRows) +
                                                " (0: " + std::to_string(kDefaultChunkRows) + ")"));
  }
  if (request->sweep_id() != 0) {
    auto sweep = scheduler_->store()->GetSweep(request->sweep_id());
    if (!sweep.ok()) return ToGrpcStatus(sweep.status());
  }
  const int chunk_rows = request->chunk_rows() > 0 ? request->chunk_rows() : kDefaultChunkRows;
  return ToGrpcStatus(StreamResultRows(scheduler_->store(), request->sweep_id(), chunk_rows,
                                       [&](const v1::QueryResultsResponse& chunk) { return writer->Write(chunk); }));
}

grpc::Status SweepServiceImpl::WatchSweep(grpc::ServerContext* ctx, const v1::WatchSweepRequest* request,
                                          grpc::ServerWriter<v1::SweepEvent>* writer) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  const int64_t sweep_id = request->sweep_id();
  uint64_t version = 0;
  // What the client has seen of each job: (state, step, attempts).
  std::map<int64_t, std::tuple<int, int64_t, int>> sent;
  // A finished job never changes again, and a sweep's new jobs get higher
  // ids than its old ones: each read after the snapshot starts at the
  // first job the last read saw unfinished, not at the sweep's first job.
  int64_t read_from_id = 0;
  bool first = true;
  while (!ctx->IsCancelled() && !stopping_) {
    const auto read_start = std::chrono::steady_clock::now();
    auto view = scheduler_->GetSweep(sweep_id);
    if (!view.ok()) return ToGrpcStatus(view.status());
    v1::SweepEvent event;
    event.set_kind(first ? v1::EVENT_SNAPSHOT : v1::EVENT_JOB);
    SweepToProto(view.value(), event.mutable_sweep());
    int64_t first_unfinished = 0, last_id = 0;
    JobRange range;
    range.from_id = read_from_id;
    Status read = scheduler_->VisitJobs(sweep_id, range, [&](const JobView& j) {
      last_id = std::max(last_id, j.job.id);
      if (!IsFinished(j.job.state) && (first_unfinished == 0 || j.job.id < first_unfinished)) {
        first_unfinished = j.job.id;
      }
      auto key = std::make_tuple(static_cast<int>(j.job.state), j.step, j.job.attempts);
      auto [it, added] = sent.try_emplace(j.job.id, key);
      if (!added) {
        if (it->second == key) return;
        it->second = key;
      }
      JobToProto(j, event.add_jobs());
    });
    if (!read.ok()) return ToGrpcStatus(read);
    if (first_unfinished != 0) {
      read_from_id = first_unfinished;
    } else if (last_id != 0) {
      read_from_id = last_id + 1;
    }
    if ((first || event.jobs_size() > 0) && !writer->Write(event)) return grpc::Status::OK;
    first = false;
    if (view->sweep.state != SweepState::kRunning) {
      v1::SweepEvent end;
      end.set_kind(v1::EVENT_END);
      SweepToProto(view.value(), end.mutable_sweep());
      writer->Write(end);
      return grpc::Status::OK;
    }
    const auto read_took = std::chrono::steady_clock::now() - read_start;
    version = scheduler_->WaitForSweepChange(sweep_id, version, 1000);
    std::this_thread::sleep_for(std::max<std::chrono::steady_clock::duration>(
        kWatchMinInterval, kWatchReadsPerInterval * read_took));
  }
  return grpc::Status::OK;
}

grpc::Status SweepServiceImpl::ListWorkers(grpc::ServerContext* ctx, const v1::ListWorkersRequest*,
                                           v1::ListWorkersResponse* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  auto workers = scheduler_->ListWorkers();
  if (!workers.ok()) return ToGrpcStatus(workers.status());
  for (const auto& w : workers.value()) {
    auto* out = response->add_workers();
    out->set_id(w.worker.id);
    out->set_host(w.worker.host);
    for (const auto& d : w.worker.devices) out->add_devices(d);
    out->set_slots(w.worker.slots);
    out->set_version(w.worker.version);
    out->set_registered_unix_ms(w.worker.registered_ms);
    out->set_last_seen_unix_ms(w.worker.last_seen_ms);
    out->set_alive(w.alive);
    out->set_running_jobs(w.running_jobs);
  }
  return grpc::Status::OK;
}

grpc::Status SweepServiceImpl::ListArtifacts(grpc::ServerContext* ctx, const v1::ListArtifactsRequest* request,
                                             v1::ListArtifactsResponse* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  if (request->job_id() != 0) {
    auto job = scheduler_->store()->GetJob(request->job_id());
    if (!job.ok()) return ToGrpcStatus(job.status());
  } else {
    auto sweep = scheduler_->store()->GetSweep(request->sweep_id());
    if (!sweep.ok()) return ToGrpcStatus(sweep.status());
  }
  auto artifacts = scheduler_->ListArtifacts(request->job_id(), request->sweep_id());
  if (!artifacts.ok()) return ToGrpcStatus(artifacts.status());
  for (const auto& a : artifacts.value()) {
    auto* out = response->add_artifacts();
    out->set_job_id(a.job_id);
    out->set_name(a.name);
    out->set_bytes(a.bytes);
    out->set_path(a.path);
    out->set_sha256(a.sha256);
  }
  return grpc::Status::OK;
}

grpc::Status SweepServiceImpl::GetArtifact(grpc::ServerContext* ctx, const v1::GetArtifactRequest* request,
                                           grpc::ServerWriter<v1::ArtifactChunk>* writer) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  auto artifacts = scheduler_->ListArtifacts(request->job_id(), 0);
  if (!artifacts.ok()) return ToGrpcStatus(artifacts.status());
  for (const auto& a : artifacts.value()) {
    if (a.name != request->name()) continue;
    std::ifstream in(a.path, std::ios::binary);
    if (!in) return ToGrpcStatus(Status::IoError(a.path + ": artifact file is missing"));
    // A file of the wrong size is refused before a byte goes out; one with
    // the wrong content when its hash is known, at the end (the stream then
    // ends with DATA_LOSS and the reader discards what it got).
    std::error_code ec;
    const auto size = static_cast<int64_t>(std::filesystem::file_size(a.path, ec));
    if (!ec && size != a.bytes) {
      return ToGrpcStatus(Status::DataLoss(a.path + ": the artifact file has " + std::to_string(size) + " bytes, the store recorded " +
                                                std::to_string(a.bytes) + " (it was replaced or damaged)"));
    }
    Sha256 hash;
    std::string buffer(kArtifactChunkBytes, '\0');
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto got = static_cast<size_t>(in.gcount());
      hash.Update(buffer.data(), got);
      v1::ArtifactChunk chunk;
      chunk.set_data(buffer.data(), got);
      if (got > 0 && !writer->Write(chunk)) return grpc::Status::CANCELLED;
    }
    // Stopped by a read error rather than the end of the file: the reader
    // must not take what it got for the whole artifact.
    if (in.bad() || !in.eof()) return ToGrpcStatus(Status::IoError(a.path + ": read error in the artifact file"));
    if (!a.sha256.empty()) {
      const std::string found = hash.HexDigest();
      if (found != a.sha256) {
        return ToGrpcStatus(Status::DataLoss(a.path + ": the artifact file's SHA-256 is " + found +
                                             ", the store recorded " + a.sha256 + " (it was replaced or damaged)"));
      }
    }
    return grpc::Status::OK;
  }
  return ToGrpcStatus(Status::NotFound("job " + std::to_string(request->job_id()) + " has no artifact \"" +
                                       request->name() + "\""));
}

grpc::Status SweepServiceImpl::Query(grpc::ServerContext* ctx, const v1::QueryRequest* request,
                                     v1::QueryResponse* response) {
  if (Status denied = access_.CheckUser(*ctx); !denied.ok()) return ToGrpcStatus(denied);
  QueryLimits limits = query_limits_;
  if (request->max_rows() > 0) limits.max_rows = std::min(limits.max_rows, request->max_rows());
  auto table = RunReadOnlyQuery(scheduler_->store()->path(), request->sql(), limits);
  if (!table.ok()) return ToGrpcStatus(table.status());
  for (const auto& column : table->columns) response->add_columns(column);
  for (const auto& row : table->rows) {
    auto* out = response->add_rows();
    for (const auto& cell : row) {
      auto* value = out->add_values();
      switch (cell.kind) {
        case QueryCell::Kind::kNull: value->set_is_null(true); break;
        case QueryCell::Kind::kInteger: value->set_integer(cell.integer); break;
        case QueryCell::Kind::kReal: value->set_real(cell.real); break;
        case QueryCell::Kind::kText: value->set_text(cell.text); break;
        case QueryCell::Kind::kBlob: value->set_blob_bytes(cell.integer); break;
      }
    }
  }
  response->set_truncated(table->truncated);
  return grpc::Status::OK;
}

}  // namespace bitsweep::coordinator
