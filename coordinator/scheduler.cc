#include "coordinator/scheduler.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/job_spec.h"
#include "common/layer_widths.h"
#include "common/sha256.h"
#include "common/sweep_spec.h"
#include "coordinator/artifact_folder.h"

namespace bitsweep::coordinator {
namespace {

namespace fs = std::filesystem;

// Uploaded artifacts' temporary files that will not be kept (a stale report,
// a failed rename); those already moved into place are gone from there.
void RemoveUploads(const std::vector<std::string>& temp_paths) {
  std::error_code ec;
  for (const auto& p : temp_paths) fs::remove(p, ec);
}

std::string JobName(int64_t job_id) { return "job " + std::to_string(job_id); }

// Artifact names become file names: keep them plain.
bool IsPlainFileName(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

JobRecord JobFromPlan(const JobPlan& plan, int64_t ordinal, int max_attempts) {
  JobRecord job;
  job.ordinal = ordinal;
  job.params_json = plan.params.dump();
  const auto& s = plan.spec;
  job.task = s["task"];
  job.method_g = s["quant"]["g"]["method"];
  job.bits_g = s["quant"]["g"]["bits"];
  job.method_d = s["quant"]["d"]["method"];
  job.bits_d = s["quant"]["d"]["bits"];
  job.loss = s["loss"];
  job.dataset = s["dataset"]["name"];
  job.seed = s["train"]["seed"];
  const WidthsSummary g = SummarizeWidths(s, "g"), d = SummarizeWidths(s, "d");
  job.widths_g = g.text;
  job.mean_bits_g = g.mean_bits;
  job.widths_d = d.text;
  job.mean_bits_d = d.mean_bits;
  job.max_attempts = max_attempts;
  return job;
}

}  // namespace

Result<std::unique_ptr<Scheduler>> Scheduler::Create(const Options& options, Store* store, Clock* clock) {
  std::unique_ptr<Scheduler> scheduler(new Scheduler(options, store, clock));
  std::lock_guard<std::mutex> lock(scheduler->mu_);
  BITSWEEP_RETURN_IF_ERROR(scheduler->Recover());
  return scheduler;
}

Status Scheduler::Recover() {
  const int64_t now = clock_->NowMs();
  active_.clear();
  queue_.clear();
  running_.clear();
  sweeps_.clear();
  workers_.clear();
  BITSWEEP_ASSIGN_OR_RETURN(auto workers, store_->ListWorkers());
  BITSWEEP_ASSIGN_OR_RETURN(next_worker_number_, store_->NextWorkerNumber());
  for (auto& w : workers) {
    if (w.id.rfind("w-", 0) == 0) {
      next_worker_number_ = std::max<int64_t>(next_worker_number_, std::atoll(w.id.c_str() + 2) + 1);
    }
    WorkerState state;
    state.last_seen_ms = w.last_seen_ms;
    state.record = std::move(w);
    workers_.emplace(state.record.id, std::move(state));
  }
  BITSWEEP_ASSIGN_OR_RETURN(auto max_ids, store_->MaxIds());
  next_sweep_id_ = max_ids.first + 1;
  next_job_id_ = max_ids.second + 1;
  BITSWEEP_ASSIGN_OR_RETURN(auto sweeps, store_->RunningSweeps());
  for (const auto& s : sweeps) {
    const std::string name = "sweep " + std::to_string(s.id);
    auto spec_json = nlohmann::json::parse(s.spec_json, nullptr, false);
    auto spec = spec_json.is_discarded() ? Result<SweepSpec>(Status::Corruption("not JSON"))
                                         : SweepSpec::FromJson(spec_json);
    if (!spec.ok()) {
      return Status::Corruption(store_->path() + ": " + name + " has an unreadable spec: " + spec.status().message());
    }
    BITSWEEP_ASSIGN_OR_RETURN(auto counts, store_->CountJobs(s.id));
    int total_jobs = 0;
    for (const auto& [state_name, n] : counts) total_jobs += n;
    nlohmann::json state;
    if (!s.strategy_state.empty()) {
      state = nlohmann::json::parse(s.strategy_state, nullptr, false);
      if (state.is_discarded()) return Status::Corruption(store_->path() + ": " + name + " has an unreadable strategy state");
    } else if (spec->strategy == "grid") {
      // A grid sweep from a store older than strategy states (version 2):
      // all its jobs were inserted at submit.
      state = {{"proposed", total_jobs}, {"total", total_jobs}};
    }
    auto strategy = CreateStrategy(spec.value(), state, &cache_);
    if (!strategy.ok()) {
      return Status::Corruption(store_->path() + ": " + name + ": cannot restore its strategy: " +
                                strategy.status().message());
    }
    RunningSweep& running = sweeps_[s.id];
    running.base = spec->base;
    running.priority = s.priority;
    running.max_attempts = s.max_attempts;
    running.strategy = std::move(strategy.value());
    running.saved_state = s.strategy_state;
    running.next_ordinal = total_jobs;
  }
  BITSWEEP_ASSIGN_OR_RETURN(auto jobs, store_->ActiveJobs());
  for (auto& record : jobs) {
    auto sweep = sweeps_.find(record.sweep_id);
    if (sweep == sweeps_.end()) {
      return Status::Corruption(store_->path() + ": " + JobName(record.id) + " is " + JobStateName(record.state) +
                                " but its sweep is not running");
    }
    ++sweep->second.unfinished;
    ActiveJob job;
    job.priority = sweep->second.priority;
    job.record = std::move(record);
    const int64_t id = job.record.id;
    if (job.record.state == JobState::kRunning) {
      // The worker may still be at it: give it a full TTL to heartbeat.
      job.lease_deadline_ms = now + options_.lease_ttl_ms;
      running_.insert(id);
      workers_[job.record.worker_id].leases.insert(id);
    } else {
      queue_.insert({-job.priority, id});
    }
    active_.emplace(id, std::move(job));
  }
  // A sweep whose jobs all finished and whose strategy wants nothing more,
  // but which is still RUNNING (possible only if a crash hit between two
  // transactions of an older version), is closed.
  for (auto it = sweeps_.begin(); it != sweeps_.end();) {
    if (it->second.unfinished == 0 && !it->second.Wanting()) {
      const int64_t id = it->first;
      BITSWEEP_RETURN_IF_ERROR(store_->InTransaction([&] { return store_->SetSweepState(id, SweepState::kDone, now); }));
      it = sweeps_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

void Scheduler::SetWorkAvailableListener(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(mu_);
  on_work_available_ = std::move(listener);
}

void Scheduler::NotifyWorkAvailable() {
  std::function<void()> listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    listener = on_work_available_;
  }
  if (listener) listener();
}

void Scheduler::Touch(int64_t sweep_id) {
  ++sweep_versions_[sweep_id];
  changed_.notify_all();
}

uint64_t Scheduler::Enqueue(Mutation mutation) {
  gathering_.push_back(std::move(mutation));
  return gathering_ticket_;
}

Status Scheduler::AwaitDurable(uint64_t ticket) {
  std::unique_lock<std::mutex> lock(mu_);
  while (durable_ticket_ < ticket) {
    if (committing_) {
      durable_cv_.wait(lock);
      continue;
    }
    // Become the committer of everything gathered so far.
    committing_ = true;
    std::vector<Mutation> batch;
    batch.swap(gathering_);
    const uint64_t batch_ticket = gathering_ticket_++;
    lock.unlock();
    Status committed;
    try {
      committed = store_->InTransaction([&]() -> Status {
        for (auto& mutation : batch) BITSWEEP_RETURN_IF_ERROR(mutation());
        return Status::Ok();
      });
    } catch (const std::exception& e) {
      committed = Status::Internal(std::string("store write failed: ") + e.what());
    }
    lock.lock();
    store_error_ = committed.ok() ? std::string() : committed.message();
    if (!committed.ok()) {
      // Memory ran ahead of a transaction that did not happen. The writes
      // gathered meanwhile were decided on that memory too: drop them, fail
      // their callers as well, and reload memory from the store, which is
      // the truth. UNAVAILABLE: the callers may retry.
      const Status failure = Status::Unavailable("the results store did not commit: " + committed.message());
      failed_commits_[batch_ticket] = failure;
      if (!gathering_.empty()) {
        gathering_.clear();
        failed_commits_[gathering_ticket_] = failure;
        durable_ticket_ = gathering_ticket_++;
      }
      Status reloaded = Recover();
      if (!reloaded.ok()) {
        // Serving on half-loaded memory could hand out jobs twice: stop.
        std::fprintf(stderr, "bitsweep coordinator: cannot reload from the store after a failed commit: %s\n",
                     reloaded.ToString().c_str());
        std::abort();
      }
    }
    durable_ticket_ = std::max(durable_ticket_, batch_ticket);
    committing_ = false;
    durable_cv_.notify_all();
  }
  auto failed = failed_commits_.find(ticket);
  if (failed == failed_commits_.end()) return Status::Ok();
  Status status = failed->second;
  // Keep only recent failures: every caller of a ticket has read it within
  // the many commits that follow it.
  while (!failed_commits_.empty() && failed_commits_.begin()->first + 1024 < durable_ticket_) {
    failed_commits_.erase(failed_commits_.begin());
  }
  return status;
}

std::string Scheduler::StoreError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return store_error_;
}

// ---------------------------------------------------------------- users

Result<std::pair<int64_t, int>> Scheduler::SubmitSweep(const nlohmann::json& spec_json) {
  BITSWEEP_ASSIGN_OR_RETURN(SweepSpec spec, SweepSpec::FromJson(spec_json));
  if (spec.strategy == "grid") {
    const int64_t points = GridPoints(spec.axes);
    if (points > options_.max_jobs_per_sweep) {
      const std::string count = points > static_cast<int64_t>(kMaxJobsPerSweep)
                                    ? "more than " + std::to_string(kMaxJobsPerSweep)
                                    : std::to_string(points);
      return Status::InvalidArgument("strategy.axes: the grid has " + count +
                                     " points, more than this coordinator's limit of " +
                                     std::to_string(options_.max_jobs_per_sweep) + " (--max-jobs-per-sweep)");
    }
  }
  BITSWEEP_ASSIGN_OR_RETURN(std::unique_ptr<Strategy> strategy, CreateStrategy(spec, nlohmann::json(), &cache_));

  SweepRecord sweep;
  sweep.name = spec.name;
  sweep.strategy = spec.strategy;
  sweep.spec_json = spec.ToJson().dump();
  sweep.priority = spec.priority;
  sweep.max_attempts = spec.max_attempts;
  // A strategy that proposes ahead (a grid) wants its first MaxInFlight
  // jobs now; the others propose theirs as workers ask for work. The grid's
  // jobs are planned here, before the lock: for 10,000 jobs that takes a
  // second that heartbeats and leases must not wait behind. (The strategy
  // is not shared yet, so calling it unlocked is safe.)
  std::optional<Result<std::vector<JobPlan>>> planned;
  std::vector<JobRecord> planned_jobs;
  if (strategy->ProposesAhead()) {
    planned = strategy->Propose(strategy->MaxInFlight());
    if (planned->ok()) planned_jobs = JobsFromPlans(&planned->value(), 0, spec.max_attempts);
  }
  int jobs_now = 0;
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sweep.id = next_sweep_id_++;
    sweep.created_ms = clock_->NowMs();
    RunningSweep& running = sweeps_[sweep.id];
    running.base = spec.base;
    running.priority = spec.priority;
    running.max_attempts = spec.max_attempts;
    running.strategy = std::move(strategy);
    ticket = Enqueue([this, sweep]() mutable {
      std::vector<JobRecord> none;
      return store_->InsertSweep(&sweep, &none);
    });
    if (planned.has_value()) {
      jobs_now = planned->ok() ? AddJobsLocked(sweep.id, &running, std::move(planned_jobs))
                               : RecordProposalErrorLocked(sweep.id, &running, planned->status());
    }
    SaveStrategyLocked(sweep.id, &running);
    Touch(sweep.id);
    jobs_now += static_cast<int>(running.strategy->Unproposed());
  }
  BITSWEEP_RETURN_IF_ERROR(AwaitDurable(ticket));
  if (jobs_now > 1000) trim_wanted_ = true;  // the plans' memory
  PrepareStrategies();
  NotifyWorkAvailable();
  return std::make_pair(sweep.id, jobs_now);
}

int Scheduler::ProposeLocked(int64_t sweep_id, RunningSweep* sweep, int max_new) {
  auto plans = sweep->strategy->Propose(max_new);
  if (sweep->strategy->ProposesAhead()) prepare_wanted_ = true;
  if (!plans.ok()) return RecordProposalErrorLocked(sweep_id, sweep, plans.status());
  return AddJobsLocked(sweep_id, sweep, JobsFromPlans(&plans.value(), sweep->next_ordinal, sweep->max_attempts));
}

int Scheduler::RecordProposalErrorLocked(int64_t sweep_id, RunningSweep* sweep, const Status& error) {
  // Strategies check at submit every job they may propose, so this should
  // not happen; if it does, the sweep says why and ends (rather than wait
  // for jobs that will never come).
  sweep->error = "the strategy could not propose jobs: " + error.ToString();
  std::fprintf(stderr, "bitsweep coordinator: sweep %lld: %s\n", static_cast<long long>(sweep_id),
               sweep->error.c_str());
  SaveStrategyLocked(sweep_id, sweep);
  return 0;
}

std::vector<JobRecord> Scheduler::JobsFromPlans(std::vector<JobPlan>* plans, int64_t first_ordinal,
                                                int max_attempts) {
  std::vector<JobRecord> jobs;
  jobs.reserve(plans->size());
  for (auto& plan : *plans) {
    jobs.push_back(JobFromPlan(plan, first_ordinal++, max_attempts));
    plan = JobPlan();  // the full spec is rebuilt from base + params when leased
  }
  return jobs;
}

int Scheduler::AddJobsLocked(int64_t sweep_id, RunningSweep* sweep, std::vector<JobRecord> jobs) {
  if (jobs.empty()) {
    SaveStrategyLocked(sweep_id, sweep);  // e.g. random's skipped draws
    return 0;
  }
  for (auto& record : jobs) {
    record.id = next_job_id_++;
    record.sweep_id = sweep_id;
    ActiveJob job;
    job.priority = sweep->priority;
    job.record = record;
    queue_.insert({-job.priority, record.id});
    active_.emplace(record.id, std::move(job));
  }
  sweep->next_ordinal += static_cast<int64_t>(jobs.size());
  sweep->unfinished += static_cast<int>(jobs.size());
  const int added = static_cast<int>(jobs.size());
  Enqueue([this, jobs = std::move(jobs)] { return store_->InsertJobs(jobs); });
  SaveStrategyLocked(sweep_id, sweep);
  Touch(sweep_id);
  return added;
}

void Scheduler::SaveStrategyLocked(int64_t sweep_id, RunningSweep* sweep) {
  std::string state = sweep->strategy->SaveState().dump();
  if (state == sweep->saved_state && sweep->error == sweep->saved_error) return;
  sweep->saved_state = state;
  sweep->saved_error = sweep->error;
  nlohmann::json outcome = sweep->strategy->Outcome();
  if (!sweep->error.empty()) outcome["error"] = sweep->error;
  Enqueue([this, sweep_id, state = std::move(state), outcome = outcome.dump()] {
    return store_->SaveStrategy(sweep_id, state, outcome);
  });
}

bool Scheduler::MaybeFinishLocked(int64_t sweep_id) {
  auto found = sweeps_.find(sweep_id);
  if (found == sweeps_.end() || found->second.unfinished > 0 || found->second.Wanting()) return false;
  sweeps_.erase(found);
  trim_wanted_ = true;
  const int64_t now = clock_->NowMs();
  Enqueue([this, sweep_id, now] { return store_->SetSweepState(sweep_id, SweepState::kDone, now); });
  Touch(sweep_id);
  return true;
}

int Scheduler::TopUpLocked(int wanted, int above) {
  std::vector<std::pair<int, int64_t>> order;  // (-priority, sweep id)
  for (const auto& [id, sweep] : sweeps_) {
    if (sweep.priority > above && sweep.unfinished < sweep.strategy->MaxInFlight() && sweep.Wanting()) {
      order.emplace_back(-sweep.priority, id);
    }
  }
  std::sort(order.begin(), order.end());
  int added = 0;
  for (const auto& [neg_priority, id] : order) {
    if (added >= wanted) break;
    RunningSweep& sweep = sweeps_.at(id);
    const int room = std::min(wanted - added, sweep.strategy->MaxInFlight() - sweep.unfinished);
    added += ProposeLocked(id, &sweep, room);
    MaybeFinishLocked(id);  // a strategy that failed to propose, with nothing running
  }
  return added;
}

void Scheduler::PrepareStrategies() {
  if (!prepare_wanted_.exchange(false)) return;
  std::vector<std::shared_ptr<Strategy>> strategies;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, sweep] : sweeps_) {
      if (sweep.strategy->ProposesAhead() && sweep.Wanting()) strategies.push_back(sweep.strategy);
    }
  }
  for (const auto& strategy : strategies) strategy->PrepareAhead();
}

void Scheduler::WakeIfStrategiesMayPropose() {
  PrepareStrategies();
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake = strategy_wakeup_;
    strategy_wakeup_ = false;
  }
  if (wake) NotifyWorkAvailable();
}

Result<int> Scheduler::CancelSweep(int64_t sweep_id) {
  BITSWEEP_RETURN_IF_ERROR(store_->GetSweep(sweep_id).status());
  uint64_t ticket = 0;
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sweeps_.count(sweep_id) == 0) return 0;  // already finished: nothing to do
    const int64_t now = clock_->NowMs();
    std::vector<JobRecord> running;
    for (const auto& [id, job] : active_) {
      if (job.record.sweep_id != sweep_id) continue;
      ids.push_back(id);
      if (job.record.state == JobState::kRunning) {
        JobRecord updated = job.record;
        updated.state = JobState::kCancelled;
        updated.last_error = "cancelled by user";
        running.push_back(std::move(updated));
      }
    }
    for (int64_t id : ids) {
      const ActiveJob& job = active_.at(id);
      queue_.erase({-job.priority, id});
      running_.erase(id);
      auto w = workers_.find(job.record.worker_id);
      if (w != workers_.end()) w->second.leases.erase(id);
      active_.erase(id);
    }
    sweeps_.erase(sweep_id);
    trim_wanted_ = true;
    Touch(sweep_id);
    ticket = Enqueue([this, sweep_id, now, running = std::move(running)]() -> Status {
      BITSWEEP_RETURN_IF_ERROR(store_->MarkSweepQueuedCancelled(sweep_id, now));
      for (const auto& job : running) {
        BITSWEEP_RETURN_IF_ERROR(store_->MarkAttemptEnded(job, "cancelled", "cancelled by user", now));
      }
      return store_->SetSweepState(sweep_id, SweepState::kCancelled, now);
    });
  }
  BITSWEEP_RETURN_IF_ERROR(AwaitDurable(ticket));
  return static_cast<int>(ids.size());
}

Result<int> Scheduler::CancelJob(int64_t job_id) {
  BITSWEEP_RETURN_IF_ERROR(store_->GetJob(job_id).status());
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(job_id);
    if (it == active_.end()) return 0;  // already finished
    const int64_t now = clock_->NowMs();
    JobRecord updated = it->second.record;
    const bool was_running = updated.state == JobState::kRunning;
    updated.state = JobState::kCancelled;
    updated.last_error = "cancelled by user";
    ticket = Enqueue([this, updated, was_running, now]() -> Status {
      if (was_running) return store_->MarkAttemptEnded(updated, "cancelled", "cancelled by user", now);
      return store_->MarkQueuedCancelled(updated.id, now);
    });
    TrialResult result;
    result.job_id = job_id;
    result.params = nlohmann::json::parse(updated.params_json);
    result.error = "cancelled by user";
    result.cancelled = true;
    Retire(job_id, result);
  }
  BITSWEEP_RETURN_IF_ERROR(AwaitDurable(ticket));
  WakeIfStrategiesMayPropose();
  return 1;
}

Result<SweepView> Scheduler::WithCounts(SweepRecord sweep) {
  SweepView view;
  // A sweep read as finished had every change committed with or before
  // the state that says so.
  const bool finished = sweep.state != SweepState::kRunning;
  bool cached = false;
  if (finished) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = finished_counts_.find(sweep.id);
    if (it != finished_counts_.end()) {
      std::tie(view.counts, view.slot_seconds) = it->second;
      cached = true;
    }
  }
  if (!cached) {
    BITSWEEP_ASSIGN_OR_RETURN(view.counts, store_->CountJobs(sweep.id));
    BITSWEEP_ASSIGN_OR_RETURN(view.slot_seconds, store_->SweepSlotSeconds(sweep.id));
    if (finished) {
      std::lock_guard<std::mutex> lock(mu_);
      finished_counts_[sweep.id] = {view.counts, view.slot_seconds};
    }
  }
  {
    // A large grid's points not yet made into jobs are queued all the same.
    std::lock_guard<std::mutex> lock(mu_);
    auto running = sweeps_.find(sweep.id);
    if (running != sweeps_.end()) {
      const int64_t later = running->second.strategy->Unproposed();
      if (later > 0) view.counts[JobState::kQueued] += static_cast<int>(later);
    }
  }
  for (const auto& [state, n] : view.counts) view.total += n;
  view.sweep = std::move(sweep);
  return view;
}

Result<SweepView> Scheduler::GetSweep(int64_t sweep_id) {
  BITSWEEP_ASSIGN_OR_RETURN(SweepRecord sweep, store_->GetSweep(sweep_id));
  return WithCounts(std::move(sweep));
}

Result<std::vector<SweepView>> Scheduler::ListSweeps() {
  BITSWEEP_ASSIGN_OR_RETURN(auto sweeps, store_->ListSweeps());
  std::vector<SweepView> views;
  for (auto& s : sweeps) {
    BITSWEEP_ASSIGN_OR_RETURN(SweepView view, WithCounts(std::move(s)));
    views.push_back(std::move(view));
  }
  return views;
}

Result<std::vector<JobView>> Scheduler::ListJobs(int64_t sweep_id) {
  std::vector<JobView> views;
  BITSWEEP_RETURN_IF_ERROR(VisitJobs(sweep_id, {}, [&](const JobView& view) { views.push_back(view); }));
  return views;
}

Status Scheduler::VisitJobs(int64_t sweep_id, const JobRange& range, const std::function<void(const JobView&)>& visit) {
  BITSWEEP_RETURN_IF_ERROR(store_->GetSweep(sweep_id).status());
  JobView view;
  return store_->VisitJobs(sweep_id, range, [&](JobRecord& job) {
    view.step = 0;
    view.total = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = active_.find(job.id);
      if (it != active_.end() && it->second.record.state == JobState::kRunning) {
        view.step = it->second.step;
        view.total = it->second.total;
      }
    }
    view.job = std::move(job);
    visit(view);
  });
}

Result<std::vector<WorkerView>> Scheduler::ListWorkers() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_->NowMs();
  std::vector<WorkerView> views;
  for (const auto& [id, w] : workers_) {
    WorkerView view;
    view.worker = w.record;
    view.worker.last_seen_ms = w.last_seen_ms;
    view.alive = now - w.last_seen_ms < options_.worker_timeout_ms;
    view.running_jobs = static_cast<int>(w.leases.size());
    views.push_back(std::move(view));
  }
  std::sort(views.begin(), views.end(),
            [](const WorkerView& a, const WorkerView& b) { return a.worker.registered_ms < b.worker.registered_ms ||
                                                                  (a.worker.registered_ms == b.worker.registered_ms &&
                                                                   a.worker.id < b.worker.id); });
  return views;
}

uint64_t Scheduler::WaitForSweepChange(int64_t sweep_id, uint64_t seen, int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [&] { return sweep_versions_[sweep_id] != seen; });
  return sweep_versions_[sweep_id];
}

// ---------------------------------------------------------------- workers

Result<WorkerRegistration> Scheduler::RegisterWorker(WorkerRecord record) {
  if (record.slots < 1) return Status::InvalidArgument("slots: must be at least 1, got " + std::to_string(record.slots));
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_->NowMs();
    auto known = workers_.find(record.id);
    // An id is kept only when this store issued it: another store's "w-3"
    // is a different worker from ours.
    const bool ours = record.store_id.empty() || record.store_id == store_->store_id();
    if (record.id.empty() || known == workers_.end() || !ours) {
      record.id = "w-" + std::to_string(next_worker_number_++);
      record.registered_ms = now;
    } else {
      record.registered_ms = known->second.record.registered_ms;
    }
    record.last_seen_ms = now;
    WorkerState& state = workers_[record.id];
    state.record = record;
    state.last_seen_ms = now;
    ticket = Enqueue([this, record, next = next_worker_number_] { return store_->UpsertWorker(record, next); });
  }
  BITSWEEP_RETURN_IF_ERROR(AwaitDurable(ticket));
  return WorkerRegistration{record.id, options_.lease_ttl_ms, options_.heartbeat_interval_ms, store_->store_id()};
}

bool Scheduler::OtherLiveWorker(const std::string& worker_id, int64_t now) const {
  for (const auto& [id, w] : workers_) {
    if (id != worker_id && now - w.last_seen_ms < options_.worker_timeout_ms) return true;
  }
  return false;
}

Result<std::optional<LeaseGrant>> Scheduler::TryLease(const std::string& worker_id) {
  BITSWEEP_ASSIGN_OR_RETURN(std::vector<LeaseGrant> leases, TryLeaseMany(worker_id, 1));
  if (leases.empty()) return std::optional<LeaseGrant>();
  return std::optional<LeaseGrant>(std::move(leases.front()));
}

Result<std::vector<LeaseGrant>> Scheduler::TryLeaseMany(const std::string& worker_id, int max_jobs) {
  uint64_t ticket = 0;
  Result<std::vector<LeaseGrant>> leases = std::vector<LeaseGrant>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    leases = LeaseLocked(worker_id, max_jobs, &ticket);
  }
  if (ticket != 0) BITSWEEP_RETURN_IF_ERROR(AwaitDurable(ticket));
  return leases;
}

Result<std::vector<LeaseGrant>> Scheduler::LeaseLocked(const std::string& worker_id, int max_jobs, uint64_t* ticket) {
  auto worker = workers_.find(worker_id);
  if (worker == workers_.end()) return Status::NotFound("worker " + worker_id + " is not registered");
  const int64_t now = clock_->NowMs();
  worker->second.last_seen_ms = now;

  std::vector<LeaseGrant> grants;
  bool others_checked = false, others_alive = false;
  auto lease_from_queue = [&] {
    for (auto key = queue_.begin(); key != queue_.end() && static_cast<int>(grants.size()) < max_jobs;) {
      ActiveJob& chosen = active_.at(key->second);
      if (!chosen.record.avoid_worker.empty() && chosen.record.avoid_worker == worker_id) {
        if (!others_checked) {
          others_alive = OtherLiveWorker(worker_id, now);
          others_checked = true;
        }
        if (others_alive) {  // leave it for another worker
          ++key;
          continue;
        }
      }
      key = queue_.erase(key);
      JobRecord& job = chosen.record;
      job.state = JobState::kRunning;
      job.attempts += 1;
      job.epoch += 1;
      job.worker_id = worker_id;
      job.started_ms = now;
      running_.insert(job.id);
      worker->second.leases.insert(job.id);
      chosen.lease_deadline_ms = now + options_.lease_ttl_ms;
      chosen.step = 0;
      chosen.total = 0;
      Touch(job.sweep_id);
      *ticket = Enqueue([this, job, now] { return store_->MarkLeased(job, now); });

      LeaseGrant grant;
      grant.job_id = job.id;
      grant.sweep_id = job.sweep_id;
      grant.attempt = job.attempts;
      grant.epoch = job.epoch;
      grant.ttl_ms = options_.lease_ttl_ms;
      grant.store_id = store_->store_id();
      grant.spec_json = ApplyParams(sweeps_.at(job.sweep_id).base, nlohmann::json::parse(job.params_json)).dump();
      grants.push_back(std::move(grant));
    }
  };
  // Searches of higher priority than anything queued propose first (their
  // jobs then lead the queue); then the queue; then, for slots still idle,
  // whatever the other searches propose (this is where a search
  // speculates: only with slots that would idle).
  const int queued_priority = queue_.empty() ? INT_MIN : -queue_.begin()->first;
  if (TopUpLocked(max_jobs, queued_priority) > 0) *ticket = gathering_ticket_;
  lease_from_queue();
  const int idle = max_jobs - static_cast<int>(grants.size());
  if (idle > 0 && TopUpLocked(idle, INT_MIN) > 0) {
    *ticket = gathering_ticket_;  // the proposals must be durable before anyone acts on them
    lease_from_queue();
  }
  return grants;
}

Result<Scheduler::ActiveJob*> Scheduler::FindLease(const std::string& worker_id, int64_t job_id, int64_t epoch) {
  auto worker = workers_.find(worker_id);
  if (worker == workers_.end()) return Status::NotFound("worker " + worker_id + " is not registered");
  worker->second.last_seen_ms = clock_->NowMs();
  auto it = active_.find(job_id);
  if (it == active_.end() || it->second.record.state != JobState::kRunning) {
    auto stored = store_->GetJob(job_id);
    if (!stored.ok()) return stored.status();
    return Status::FailedPrecondition(JobName(job_id) + ": lease epoch " + std::to_string(epoch) +
                                      " is not current (the job is " + JobStateName(stored->state) + ")");
  }
  const JobRecord& job = it->second.record;
  if (job.epoch != epoch || job.worker_id != worker_id) {
    return Status::FailedPrecondition(JobName(job_id) + ": lease epoch " + std::to_string(epoch) + " of " + worker_id +
                                      " is stale (current: epoch " + std::to_string(job.epoch) + " on " +
                                      job.worker_id + ")");
  }
  return &it->second;
}

Result<std::vector<Directive>> Scheduler::Heartbeat(const std::string& worker_id,
                                                    const std::vector<LeaseReport>& leases) {
  std::vector<Directive> directives;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto worker = workers_.find(worker_id);
    if (worker == workers_.end()) return Status::NotFound("worker " + worker_id + " is not registered");
    const int64_t now = clock_->NowMs();
    worker->second.last_seen_ms = now;

    std::vector<std::pair<int64_t, std::vector<MetricValue>>> interim;
    for (const auto& report : leases) {
      Directive d{report.job_id, report.epoch, DirectiveKind::kContinue, ""};
      auto lease = FindLease(worker_id, report.job_id, report.epoch);
      if (lease.ok()) {
        ActiveJob* job = lease.value();
        job->lease_deadline_ms = now + options_.lease_ttl_ms;
        job->step = report.step;
        job->total = report.total;
        if (!report.interim_metrics.empty()) interim.emplace_back(report.job_id, report.interim_metrics);
        Touch(job->record.sweep_id);
      } else {
        auto stored = store_->GetJob(report.job_id);
        bool cancelled = stored.ok() && stored->state == JobState::kCancelled;
        d.kind = cancelled ? DirectiveKind::kCancel : DirectiveKind::kLeaseLost;
        d.reason = cancelled ? "cancelled by user" : lease.status().message();
      }
      directives.push_back(std::move(d));
    }
    // What a heartbeat writes (when the worker was last seen, interim
    // metrics) rides with the next commit; the lease it renews lives in
    // memory. So the answer does not wait for the disk: behind a large
    // commit (the jobs of a 100,000-point grid) every heartbeat would wait
    // seconds, and leases could expire for it. Flush() commits these writes
    // when nothing else does.
    Enqueue([this, worker_id, now, interim = std::move(interim)]() -> Status {
      for (const auto& [job_id, metrics] : interim) BITSWEEP_RETURN_IF_ERROR(store_->InsertMetrics(job_id, metrics));
      return store_->TouchWorker(worker_id, now);
    });
  }
  return directives;
}

Status Scheduler::Flush() {
  // Memory malloc keeps after a sweep's jobs are gone goes back to the
  // system (otherwise a coordinator stays at its largest sweep's size).
  if (trim_wanted_.exchange(false)) malloc_trim(0);
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (gathering_.empty() || committing_) return Status::Ok();
    ticket = gathering_ticket_;
  }
  return AwaitDurable(ticket);
}

Status Scheduler::RenewStoreOwnership() {
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ticket = Enqueue([this, now = clock_->NowMs()] { return store_->RenewOwnership(now); });
  }
  return AwaitDurable(ticket);
}

Result<std::vector<std::string>> Scheduler::WriteArtifacts(int64_t job_id,
                                                           const std::vector<ArtifactUpload>& artifacts,
                                                           std::vector<ArtifactRecord>* records) {
  std::vector<std::string> temp_paths;
  if (artifacts.empty()) return temp_paths;
  const fs::path dir = fs::path(options_.artifacts_dir) / ArtifactJobFolder(job_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError(dir.string() + ": cannot create artifact folder: " + ec.message());
  for (const auto& a : artifacts) {
    // A unique temporary name: two reports of one job (a retry, a stale
    // worker) must not write or discard each other's files.
    static std::atomic<uint64_t> upload_number{0};
    fs::path temp_path = dir / ("." + a.name + "." + std::to_string(++upload_number) + ".partial");
    std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
    out.write(a.content.data(), static_cast<std::streamsize>(a.content.size()));
    out.close();
    if (!out) return Status::IoError(temp_path.string() + ": cannot write artifact");
    temp_paths.push_back(temp_path.string());
    records->push_back({job_id, a.name, StoredArtifactPath(job_id, a.name), static_cast<int64_t>(a.content.size()),
                        Sha256Hex(a.content)});
  }
  return temp_paths;
}

Result<std::vector<ArtifactRecord>> Scheduler::ListArtifacts(int64_t job_id, int64_t sweep_id) {
  BITSWEEP_ASSIGN_OR_RETURN(auto artifacts, store_->ListArtifacts(job_id, sweep_id));
  for (auto& a : artifacts) a.path = ArtifactFile(options_.artifacts_dir, a.path);
  return artifacts;
}

Status Scheduler::Complete(const std::string& worker_id, const CompletionReport& report) {
  BITSWEEP_ASSIGN_OR_RETURN(auto outcome, CompleteMany(worker_id, {report}, 0));
  return outcome.first.front();
}

Result<std::pair<std::vector<Status>, std::vector<LeaseGrant>>> Scheduler::CompleteMany(
    const std::string& worker_id, const std::vector<CompletionReport>& reports, int lease_next) {
  std::vector<Status> statuses(reports.size());
  {
    // Refuse stale reports (and unknown workers) before writing any file.
    std::lock_guard<std::mutex> lock(mu_);
    if (workers_.count(worker_id) == 0) return Status::NotFound("worker " + worker_id + " is not registered");
    for (size_t i = 0; i < reports.size(); ++i) {
      statuses[i] = FindLease(worker_id, reports[i].job_id, reports[i].epoch).status();
    }
  }
  std::vector<std::vector<ArtifactRecord>> stored(reports.size());
  std::vector<std::vector<std::string>> temp_paths(reports.size());
  for (size_t i = 0; i < reports.size(); ++i) {
    if (!statuses[i].ok()) continue;
    const CompletionReport& report = reports[i];
    for (const auto& a : report.artifacts) {
      if (!IsPlainFileName(a.name)) {
        statuses[i] = Status::InvalidArgument("artifacts: \"" + a.name + "\" is not a plain file name");
      }
    }
    if (!statuses[i].ok()) continue;
    // Files go to temporary names outside the lock (they can be large) and
    // are renamed into place only once the lease is confirmed current.
    auto written = WriteArtifacts(report.job_id, report.artifacts, &stored[i]);
    if (written.ok()) {
      temp_paths[i] = std::move(written.value());
    } else {
      statuses[i] = written.status();
    }
  }
  uint64_t ticket = 0;
  Result<std::vector<LeaseGrant>> leases = std::vector<LeaseGrant>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < reports.size(); ++i) {
      if (!statuses[i].ok()) continue;
      uint64_t t = 0;
      statuses[i] = CompleteLocked(worker_id, reports[i], temp_paths[i], std::move(stored[i]), &t);
      ticket = std::max(ticket, t);
    }
    if (lease_next > 0) {
      uint64_t t = 0;
      leases = LeaseLocked(worker_id, lease_next, &t);
      ticket = std::max(ticket, t);
    }
  }
  if (ticket != 0) BITSWEEP_RETURN_IF_ERROR(AwaitDurable(ticket));
  BITSWEEP_RETURN_IF_ERROR(leases.status());
  WakeIfStrategiesMayPropose();
  return std::make_pair(std::move(statuses), std::move(leases.value()));
}

Status Scheduler::CompleteLocked(const std::string& worker_id, const CompletionReport& report,
                                 const std::vector<std::string>& temp_paths, std::vector<ArtifactRecord> artifacts,
                                 uint64_t* ticket) {
  auto discard = [&] { RemoveUploads(temp_paths); };
  auto lease = FindLease(worker_id, report.job_id, report.epoch);
  if (!lease.ok()) {
    discard();
    return lease.status();
  }
  for (size_t i = 0; i < temp_paths.size(); ++i) {
    std::error_code ec;
    const std::string file = ArtifactFile(options_.artifacts_dir, artifacts[i].path);
    fs::rename(temp_paths[i], file, ec);
    if (ec) {
      discard();
      return Status::IoError(file + ": cannot store artifact: " + ec.message());
    }
  }
  const int64_t now = clock_->NowMs();
  JobRecord updated = lease.value()->record;
  updated.state = JobState::kSucceeded;
  // The files are on disk now: the queued write keeps the report without
  // their bytes.
  CompletionReport result{report.job_id,  report.epoch,        report.result_json, report.metrics,
                          /*artifacts=*/{}, report.wall_seconds, report.model_bytes};
  std::map<std::string, std::string> artifact_sha256;
  for (const auto& a : artifacts) artifact_sha256[a.name] = a.sha256;
  *ticket = Enqueue([this, updated, result = std::move(result), artifacts = std::move(artifacts), now] {
    return store_->MarkSucceeded(updated, result, artifacts, now);
  });
  TrialResult trial;
  trial.job_id = updated.id;
  trial.params = nlohmann::json::parse(updated.params_json);
  trial.succeeded = true;
  trial.metrics = report.metrics;
  trial.model_bytes = report.model_bytes;
  trial.artifact_sha256 = std::move(artifact_sha256);
  Retire(updated.id, trial);
  return Status::Ok();
}

Status Scheduler::Fail(const std::string& worker_id, int64_t job_id, int64_t epoch, const std::string& error,
                       bool retryable, bool released, const std::vector<ArtifactUpload>& artifacts) {
  bool requeued = false;
  uint64_t ticket = 0;
  // The files are written before the lock (and before the lease is known to
  // be current), like a completion's; a stale report's are discarded.
  std::vector<ArtifactRecord> records;
  std::vector<std::string> temp_paths;
  if (!artifacts.empty()) {
    auto written = WriteArtifacts(job_id, artifacts, &records);
    if (!written.ok()) return written.status();
    temp_paths = std::move(written.value());
  }
  auto discard = [&] { RemoveUploads(temp_paths); };
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto job = FindLease(worker_id, job_id, epoch);
    if (!job.ok()) {
      discard();
      return job.status();
    }
    for (size_t i = 0; i < temp_paths.size(); ++i) {
      std::error_code ec;
      fs::rename(temp_paths[i], ArtifactFile(options_.artifacts_dir, records[i].path), ec);
      if (ec) records[i].path.clear();  // the log is a courtesy; the failure is what must be recorded
    }
    records.erase(std::remove_if(records.begin(), records.end(), [](const ArtifactRecord& r) { return r.path.empty(); }),
                  records.end());
    if (!records.empty()) {
      Enqueue([this, job_id, records, now = clock_->NowMs()] { return store_->InsertArtifacts(job_id, records, now); });
    }
    ticket = EndAttempt(job.value(), released ? "released" : "failed", error, retryable, &requeued, released);
  }
  discard();  // what could not be renamed
  BITSWEEP_RETURN_IF_ERROR(AwaitDurable(ticket));
  if (requeued) NotifyWorkAvailable();
  WakeIfStrategiesMayPropose();
  return Status::Ok();
}

uint64_t Scheduler::EndAttempt(ActiveJob* job, const std::string& outcome, const std::string& error, bool retryable,
                               bool* requeued, bool released) {
  const int64_t now = clock_->NowMs();
  JobRecord updated = job->record;
  *requeued = released || (retryable && updated.attempts < updated.max_attempts);
  updated.last_error = "attempt " + std::to_string(updated.attempts) + "/" + std::to_string(updated.max_attempts) +
                       " on " + updated.worker_id + ": " + error;
  if (!released) updated.avoid_worker = updated.worker_id;
  updated.state = *requeued ? JobState::kQueued : JobState::kFailed;
  if (*requeued) updated.worker_id.clear();
  // A released attempt does not count: the next lease reuses its number
  // (and its row in the attempts table).
  const int counted_attempts = released ? updated.attempts - 1 : updated.attempts;
  const uint64_t ticket = Enqueue([this, updated, outcome, error, now, counted_attempts] {
    return store_->MarkAttemptEnded(updated, outcome, error, now, counted_attempts);
  });
  updated.attempts = counted_attempts;
  running_.erase(updated.id);
  auto w = workers_.find(job->record.worker_id);
  if (w != workers_.end()) w->second.leases.erase(updated.id);
  if (*requeued) {
    job->record = updated;
    job->step = job->total = 0;
    queue_.insert({-job->priority, updated.id});
    Touch(updated.sweep_id);
    return ticket;
  }
  job->record = updated;
  TrialResult trial;
  trial.job_id = updated.id;
  trial.params = nlohmann::json::parse(updated.params_json);
  trial.error = updated.last_error;
  Retire(updated.id, trial);
  return ticket;
}

void Scheduler::Retire(int64_t job_id, const TrialResult& result) {
  auto it = active_.find(job_id);
  if (it == active_.end()) return;
  const ActiveJob& job = it->second;
  const int64_t sweep_id = job.record.sweep_id;
  queue_.erase({-job.priority, job_id});
  running_.erase(job_id);
  auto w = workers_.find(job.record.worker_id);
  if (w != workers_.end()) w->second.leases.erase(job_id);
  active_.erase(it);
  Touch(sweep_id);
  auto found = sweeps_.find(sweep_id);
  if (found == sweeps_.end()) return;
  RunningSweep& sweep = found->second;
  --sweep.unfinished;
  sweep.strategy->Observe(result);
  // Measurements worth keeping beyond this sweep, written with the result.
  std::vector<PtqMeasurement> measurements = sweep.strategy->TakeMeasurements();
  if (!measurements.empty()) {
    Enqueue([this, measurements = std::move(measurements), now = clock_->NowMs()] {
      return store_->PutMeasurements(measurements, now);
    });
  }
  // A grid keeps its window full, in batches small enough that planning
  // them under the lock never holds up a heartbeat for long.
  constexpr int kRefillBatch = 256;
  if (sweep.strategy->ProposesAhead() && sweep.Wanting() &&
      sweep.unfinished <= sweep.strategy->MaxInFlight() - kRefillBatch) {
    ProposeLocked(sweep_id, &sweep, kRefillBatch);
    strategy_wakeup_ = true;
  }
  // Nothing left running and nothing asked for yet: ask now, so that the
  // sweep never waits for an idle worker's poll to learn it is done.
  if (sweep.unfinished == 0 && sweep.Wanting()) {
    ProposeLocked(sweep_id, &sweep, sweep.strategy->MaxInFlight());
    if (sweep.unfinished == 0 && sweep.Wanting()) {
      // Not done, yet nothing to run: a strategy bug. Say so and end the
      // sweep rather than leave it RUNNING with nothing to do.
      sweep.error = "the strategy proposed no job though it is not done";
    }
  }
  SaveStrategyLocked(sweep_id, &sweep);
  if (sweep.Wanting()) strategy_wakeup_ = true;
  MaybeFinishLocked(sweep_id);
}

Result<int> Scheduler::ExpireLeases() {
  int expired = 0;
  bool requeued_any = false;
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_->NowMs();
    std::vector<int64_t> due;
    for (int64_t id : running_) {
      if (active_.at(id).lease_deadline_ms <= now) due.push_back(id);
    }
    std::sort(due.begin(), due.end());
    for (int64_t id : due) {
      ActiveJob& job = active_.at(id);
      char ttl[32];
      std::snprintf(ttl, sizeof ttl, "%.1f", static_cast<double>(options_.lease_ttl_ms) / 1000.0);
      const std::string error = "lease expired: no heartbeat from " + job.record.worker_id + " within " + ttl + " s";
      bool requeued = false;
      ticket = EndAttempt(&job, "expired", error, /*retryable=*/true, &requeued);
      requeued_any |= requeued;
      ++expired;
    }
  }
  if (ticket != 0) BITSWEEP_RETURN_IF_ERROR(AwaitDurable(ticket));
  if (requeued_any) NotifyWorkAvailable();
  WakeIfStrategiesMayPropose();
  return expired;
}

}  // namespace bitsweep::coordinator
