// The scheduler core, driven directly (no gRPC) with a hand-moved clock, on
// a real SQLite file.
#include "coordinator/scheduler.h"

#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include <filesystem>

#include <SQLiteCpp/SQLiteCpp.h>

#include "coordinator/result_rows.h"
#include "coordinator/strategies/grid_strategy.h"
#include "tests/test_util.h"

namespace bitsweep::coordinator {
namespace {

using bitsweep::testing::TempDir;

constexpr int64_t kTtlMs = 10000;

nlohmann::json SyntheticSweep(int jobs, int priority = 0, int max_attempts = 3, const std::string& name = "s") {
  std::vector<int> seeds;
  for (int i = 1; i <= jobs; ++i) seeds.push_back(i);
  return {{"name", name},
          {"base", {{"task", "synthetic"}}},
          {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", seeds}}}}},
          {"priority", priority},
          {"max_attempts", max_attempts}};
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    scheduler_.reset();
    store_.reset();
    auto store = Store::Open(dir_.File("store.db"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store.value());
    Scheduler::Options options;
    options.lease_ttl_ms = kTtlMs;
    options.heartbeat_interval_ms = 1000;
    options.worker_timeout_ms = 3 * kTtlMs;
    options.artifacts_dir = dir_.File("artifacts");
    auto scheduler = Scheduler::Create(options, store_.get(), &clock_);
    ASSERT_TRUE(scheduler.ok()) << scheduler.status().ToString();
    scheduler_ = std::move(scheduler.value());
  }

  std::string Register() {
    WorkerRecord w;
    w.host = "test";
    w.devices = {"cpu"};
    auto r = scheduler_->RegisterWorker(w);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r->worker_id;
  }

  int64_t Submit(const nlohmann::json& spec) {
    auto r = scheduler_->SubmitSweep(spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->first : 0;
  }

  LeaseGrant Lease(const std::string& worker) {
    auto lease = scheduler_->TryLease(worker);
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    EXPECT_TRUE(lease->has_value()) << "no job for " << worker;
    return lease->value_or(LeaseGrant{});
  }

  CompletionReport Report(const LeaseGrant& lease, double fid) {
    CompletionReport r;
    r.job_id = lease.job_id;
    r.epoch = lease.epoch;
    r.result_json = "{}";
    MetricValue m;
    m.metric = "fid";
    m.value = fid;
    m.step = 10;
    m.n_samples = 100;
    m.evaluator = "test";
    m.evaluator_hash = "h";
    r.metrics = {m};
    r.artifacts = {{"samples.png", "png bytes"}};
    r.model_bytes = 1234;
    return r;
  }

  // Leases and completes jobs for `worker` until none is left; calls
  // `after_each(n)` after the n-th (from 0). Returns how many ran.
  int RunAll(const std::string& worker, const std::function<void(int)>& after_each = {}) {
    for (int n = 0;; ++n) {
      auto lease = scheduler_->TryLease(worker);
      EXPECT_TRUE(lease.ok()) << lease.status().ToString();
      if (!lease.ok() || !lease->has_value()) return n;
      EXPECT_TRUE(scheduler_->Complete(worker, Report(**lease, 1.0)).ok());
      if (after_each) after_each(n);
    }
  }

  JobRecord Job(int64_t id) {
    auto job = store_->GetJob(id);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? job.value() : JobRecord{};
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, LeaseCompleteAndSweepFinishes) {
  const std::string w = Register();
  const int64_t sweep = Submit(SyntheticSweep(2));
  LeaseGrant a = Lease(w);
  LeaseGrant b = Lease(w);
  EXPECT_EQ(a.attempt, 1);
  EXPECT_NE(a.job_id, b.job_id);
  EXPECT_FALSE(scheduler_->TryLease(w).value().has_value());  // queue empty
  auto spec = nlohmann::json::parse(a.spec_json);
  EXPECT_EQ(spec["task"], "synthetic");

  ASSERT_TRUE(scheduler_->Complete(w, Report(a, 10.0)).ok());
  EXPECT_EQ(store_->GetSweep(sweep)->state, SweepState::kRunning);
  ASSERT_TRUE(scheduler_->Complete(w, Report(b, 20.0)).ok());
  EXPECT_EQ(store_->GetSweep(sweep)->state, SweepState::kDone);

  auto rows = store_->QueryResults(sweep);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_DOUBLE_EQ((*rows)[0].fid, 10.0);
  EXPECT_EQ((*rows)[0].model_bytes, 1234);
  // The row names the file relative to the store's artifact folder; the
  // scheduler hands out where it is.
  auto stored = store_->ListArtifacts(a.job_id, 0);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].path, "job-" + std::to_string(a.job_id) + "/samples.png");
  auto artifacts = scheduler_->ListArtifacts(a.job_id, 0);
  ASSERT_EQ(artifacts->size(), 1u);
  EXPECT_EQ((*artifacts)[0].path, dir_.File("artifacts") + "/" + (*stored)[0].path);
  EXPECT_EQ(bitsweep::testing::ReadFile((*artifacts)[0].path), "png bytes");
}

TEST_F(SchedulerTest, ExpiredLeaseGoesBackToTheQueueAndToAnotherWorker) {
  const std::string w1 = Register();
  const std::string w2 = Register();
  Submit(SyntheticSweep(1));
  LeaseGrant first = Lease(w1);

  clock_.Advance(kTtlMs - 1);
  // A heartbeat renews the lease.
  auto hb = scheduler_->Heartbeat(w1, {{first.job_id, first.epoch, 5, 10, 0.0, {}}});
  ASSERT_TRUE(hb.ok());
  EXPECT_EQ(hb->at(0).kind, DirectiveKind::kContinue);
  clock_.Advance(kTtlMs - 1);
  EXPECT_EQ(scheduler_->ExpireLeases().value(), 0);
  (void)scheduler_->Heartbeat(w2, {});  // w2 stays alive; w1 goes silent
  clock_.Advance(2);
  EXPECT_EQ(scheduler_->ExpireLeases().value(), 1);

  JobRecord job = Job(first.job_id);
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_NE(job.last_error.find("lease expired"), std::string::npos) << job.last_error;
  // The retry avoids the worker that lost it while another is alive.
  EXPECT_FALSE(scheduler_->TryLease(w1).value().has_value());
  LeaseGrant second = Lease(w2);
  EXPECT_EQ(second.job_id, first.job_id);
  EXPECT_EQ(second.attempt, 2);
  EXPECT_GT(second.epoch, first.epoch);

  // The old lease hears that it was lost.
  auto stale = scheduler_->Heartbeat(w1, {{first.job_id, first.epoch, 6, 10, 0.0, {}}});
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->at(0).kind, DirectiveKind::kLeaseLost);
}

TEST_F(SchedulerTest, StaleEpochIsRefusedAndChangesNothing) {
  const std::string w1 = Register();
  const std::string w2 = Register();
  const int64_t sweep = Submit(SyntheticSweep(1));
  LeaseGrant first = Lease(w1);
  clock_.Advance(kTtlMs + 1);
  (void)scheduler_->Heartbeat(w2, {});
  ASSERT_EQ(scheduler_->ExpireLeases().value(), 1);
  LeaseGrant second = Lease(w2);
  ASSERT_TRUE(scheduler_->Complete(w2, Report(second, 42.0)).ok());

  // The first worker comes back late with its own result.
  Status late = scheduler_->Complete(w1, Report(first, 99.0));
  EXPECT_EQ(late.code(), StatusCode::kFailedPrecondition) << late.ToString();
  Status late_fail = scheduler_->Fail(w1, first.job_id, first.epoch, "boom", true);
  EXPECT_EQ(late_fail.code(), StatusCode::kFailedPrecondition);
  auto rows = store_->QueryResults(sweep);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_DOUBLE_EQ((*rows)[0].fid, 42.0);
  EXPECT_EQ(Job(first.job_id).state, JobState::kSucceeded);
  // And a report on the right epoch from the wrong worker is refused too.
  Submit(SyntheticSweep(1, 0, 3, "other"));
  LeaseGrant third = Lease(w1);
  EXPECT_EQ(scheduler_->Complete(w2, Report(third, 1.0)).code(), StatusCode::kFailedPrecondition);
}

TEST_F(SchedulerTest, AttemptsAreBoundedAndTheLastErrorIsKept) {
  const std::string w = Register();
  const int64_t sweep = Submit(SyntheticSweep(1, 0, /*max_attempts=*/2));
  LeaseGrant a = Lease(w);
  ASSERT_TRUE(scheduler_->Fail(w, a.job_id, a.epoch, "out of memory", /*retryable=*/true).ok());
  EXPECT_EQ(Job(a.job_id).state, JobState::kQueued);
  LeaseGrant b = Lease(w);  // the only worker: the retry may come back to it
  EXPECT_EQ(b.attempt, 2);
  ASSERT_TRUE(scheduler_->Fail(w, b.job_id, b.epoch, "out of memory again", true).ok());
  JobRecord job = Job(a.job_id);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_EQ(job.attempts, 2);
  EXPECT_NE(job.last_error.find("attempt 2/2"), std::string::npos) << job.last_error;
  EXPECT_NE(job.last_error.find("out of memory again"), std::string::npos);
  EXPECT_EQ(store_->GetSweep(sweep)->state, SweepState::kDone);
}

TEST_F(SchedulerTest, NonRetryableFailureFailsAtOnce) {
  const std::string w = Register();
  Submit(SyntheticSweep(1));
  LeaseGrant a = Lease(w);
  ASSERT_TRUE(scheduler_->Fail(w, a.job_id, a.epoch, "bad spec", /*retryable=*/false).ok());
  EXPECT_EQ(Job(a.job_id).state, JobState::kFailed);
  EXPECT_EQ(Job(a.job_id).attempts, 1);
}

TEST_F(SchedulerTest, CancelStopsQueuedAndRunningJobs) {
  const std::string w = Register();
  const int64_t sweep = Submit(SyntheticSweep(3));
  LeaseGrant running = Lease(w);
  auto cancelled = scheduler_->CancelSweep(sweep);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled.value(), 3);
  EXPECT_EQ(store_->GetSweep(sweep)->state, SweepState::kCancelled);
  auto counts = store_->CountJobs(sweep).value();
  EXPECT_EQ(counts[JobState::kCancelled], 3);
  EXPECT_FALSE(scheduler_->TryLease(w).value().has_value());
  // The running attempt is told to stop, and its late result is refused.
  auto hb = scheduler_->Heartbeat(w, {{running.job_id, running.epoch, 1, 10, 0.0, {}}});
  EXPECT_EQ(hb->at(0).kind, DirectiveKind::kCancel);
  EXPECT_EQ(scheduler_->Complete(w, Report(running, 1.0)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Job(running.job_id).state, JobState::kCancelled);
  // Cancelling again is a no-op.
  EXPECT_EQ(scheduler_->CancelSweep(sweep).value(), 0);
}

// Finished sweeps' counts are kept in memory after the first read; a read
// while the sweep ran must not be kept.
TEST_F(SchedulerTest, ASweepsCountsFollowItToTheEndAndStayRightAfterwards) {
  const std::string w = Register();
  const int64_t done = Submit(SyntheticSweep(2, 0, 3, "done"));
  const int64_t cancelled = Submit(SyntheticSweep(2, 0, 3, "cancelled"));
  LeaseGrant a = Lease(w);
  auto during = scheduler_->GetSweep(done).value();
  EXPECT_EQ(during.counts[JobState::kRunning], 1);
  EXPECT_EQ(during.counts[JobState::kQueued], 1);
  EXPECT_EQ(during.slot_seconds, 0.0);
  clock_.Advance(3000);
  ASSERT_TRUE(scheduler_->Complete(w, Report(a, 1.0)).ok());
  LeaseGrant b = Lease(w);
  clock_.Advance(1000);
  ASSERT_TRUE(scheduler_->Complete(w, Report(b, 1.0)).ok());
  for (int read = 0; read < 2; ++read) {
    auto after = scheduler_->GetSweep(done).value();
    EXPECT_EQ(after.sweep.state, SweepState::kDone);
    EXPECT_EQ(after.counts[JobState::kSucceeded], 2) << "read " << read;
    EXPECT_EQ(after.counts.count(JobState::kRunning) ? after.counts[JobState::kRunning] : 0, 0) << "read " << read;
    EXPECT_DOUBLE_EQ(after.slot_seconds, 4.0) << "read " << read;
  }

  LeaseGrant c = Lease(w);
  ASSERT_EQ(c.sweep_id, cancelled);
  EXPECT_EQ(scheduler_->GetSweep(cancelled)->counts[JobState::kRunning], 1);
  clock_.Advance(2000);
  ASSERT_TRUE(scheduler_->CancelSweep(cancelled).ok());
  auto listed = scheduler_->ListSweeps().value();
  ASSERT_EQ(listed.size(), 2u);
  for (const auto& view : listed) {
    if (view.sweep.id != cancelled) continue;
    EXPECT_EQ(view.counts.at(JobState::kCancelled), 2);
    EXPECT_EQ(view.total, 2);
    EXPECT_DOUBLE_EQ(view.slot_seconds, 2.0);  // the cancelled attempt's time
  }
  // A new coordinator on the same store reads the same.
  Open();
  EXPECT_EQ(scheduler_->GetSweep(done)->counts[JobState::kSucceeded], 2);
  EXPECT_EQ(scheduler_->GetSweep(cancelled)->counts[JobState::kCancelled], 2);
}

TEST_F(SchedulerTest, ResultRowsStreamInChunksAndStopWhenTheClientLeaves) {
  const std::string w = Register();
  const int64_t sweep = Submit(SyntheticSweep(5));
  ASSERT_EQ(RunAll(w), 5);
  std::vector<int64_t> jobs;
  std::vector<int> sizes;
  ASSERT_TRUE(StreamResultRows(store_.get(), sweep, 2, [&](const v1::QueryResultsResponse& chunk) {
                sizes.push_back(chunk.rows_size());
                for (const auto& row : chunk.rows()) jobs.push_back(row.job_id());
                return true;
              }).ok());
  EXPECT_EQ(sizes, (std::vector<int>{2, 2, 1}));
  std::vector<int64_t> expected;
  for (const auto& row : store_->QueryResults(sweep).value()) expected.push_back(row.job_id);
  EXPECT_EQ(jobs, expected);
  // A client that leaves after the first chunk is sent nothing more.
  int writes = 0;
  ASSERT_TRUE(StreamResultRows(store_.get(), sweep, 2, [&](const v1::QueryResultsResponse&) {
                ++writes;
                return false;
              }).ok());
  EXPECT_EQ(writes, 1);
}

TEST_F(SchedulerTest, CancelOneJob) {
  const std::string w = Register();
  const int64_t sweep = Submit(SyntheticSweep(2));
  auto jobs = store_->ListJobs(sweep).value();
  ASSERT_EQ(scheduler_->CancelJob(jobs[0].id).value(), 1);
  LeaseGrant only = Lease(w);
  EXPECT_EQ(only.job_id, jobs[1].id);
  EXPECT_EQ(scheduler_->CancelJob(12345).status().code(), StatusCode::kNotFound);
}

TEST_F(SchedulerTest, HigherPriorityLeasesFirstThenSubmissionOrder) {
  const std::string w = Register();
  const int64_t low = Submit(SyntheticSweep(2, 0, 3, "low"));
  const int64_t high = Submit(SyntheticSweep(2, 5, 3, "high"));
  const int64_t low2 = Submit(SyntheticSweep(1, 0, 3, "low2"));
  std::vector<int64_t> order;
  for (int i = 0; i < 5; ++i) order.push_back(Lease(w).sweep_id);
  EXPECT_EQ(order, (std::vector<int64_t>{high, high, low, low, low2}));
}

TEST_F(SchedulerTest, InvalidSpecWritesNothing) {
  nlohmann::json bad = SyntheticSweep(2);
  bad["strategy"]["axes"]["quant.g.bits"] = {3, 0};
  auto r = scheduler_->SubmitSweep(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("quant.g.bits"), std::string::npos) << r.status().message();
  EXPECT_TRUE(store_->ListSweeps().value().empty());
  EXPECT_EQ(scheduler_->GetSweep(1).status().code(), StatusCode::kNotFound);
}

TEST_F(SchedulerTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(scheduler_->CancelSweep(7).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(scheduler_->ListJobs(7).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(scheduler_->TryLease("w-99").status().code(), StatusCode::kNotFound);
  const std::string w = Register();
  EXPECT_EQ(scheduler_->Complete(w, CompletionReport{}).code(), StatusCode::kNotFound);
}

TEST_F(SchedulerTest, ArtifactNamesMustBePlain) {
  const std::string w = Register();
  Submit(SyntheticSweep(1));
  LeaseGrant a = Lease(w);
  CompletionReport r = Report(a, 1.0);
  r.artifacts = {{"../escape.png", "x"}};
  EXPECT_EQ(scheduler_->Complete(w, r).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Job(a.job_id).state, JobState::kRunning);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("escape.png")));
}

TEST_F(SchedulerTest, RestartKeepsQueueLeasesAndResults) {
  const std::string w = Register();
  const int64_t sweep = Submit(SyntheticSweep(3));
  LeaseGrant done = Lease(w);
  ASSERT_TRUE(scheduler_->Complete(w, Report(done, 5.0)).ok());
  LeaseGrant running = Lease(w);

  Open();  // a new coordinator on the same file

  // The running lease survives and can still report; the queued job is there.
  ASSERT_TRUE(scheduler_->Heartbeat(w, {{running.job_id, running.epoch, 1, 2, 0.0, {}}}).ok());
  LeaseGrant queued = Lease(w);
  EXPECT_NE(queued.job_id, running.job_id);
  EXPECT_NE(queued.job_id, done.job_id);
  ASSERT_TRUE(scheduler_->Complete(w, Report(running, 6.0)).ok());
  ASSERT_TRUE(scheduler_->Complete(w, Report(queued, 7.0)).ok());
  auto rows = store_->QueryResults(sweep).value();
  ASSERT_EQ(rows.size(), 3u);  // one per job: nothing lost, nothing twice
  EXPECT_EQ(store_->GetSweep(sweep)->state, SweepState::kDone);
  // A new worker gets a fresh id.
  EXPECT_NE(Register(), w);
}

TEST_F(SchedulerTest, WorkerIdsAreNeverHandedOutTwiceAcrossRestarts) {
  const std::string first = Register();
  const std::string second = Register();
  Submit(SyntheticSweep(1));
  LeaseGrant lease = Lease(second);  // an attempt now names the second worker
  EXPECT_EQ(lease.store_id, store_->store_id());
  Open();
  {
    // Even with the workers table emptied (an older store, or rows pruned),
    // the ids that attempts name stay taken.
    SQLite::Database db(dir_.File("store.db"), SQLite::OPEN_READWRITE);
    db.exec("DELETE FROM workers");
  }
  Open();
  const std::string third = Register();
  EXPECT_NE(third, first);
  EXPECT_NE(third, second);
  EXPECT_EQ(third, "w-3");
}

TEST_F(SchedulerTest, AWorkerKeepsItsIdOnlyFromTheStoreThatIssuedIt) {
  const std::string id = Register();
  WorkerRecord again;
  again.host = "test";
  again.id = id;
  again.store_id = store_->store_id();
  EXPECT_EQ(scheduler_->RegisterWorker(again)->worker_id, id);
  // The same name issued by another store is another worker.
  again.store_id = "0123456789abcdef0123456789abcdef";
  auto other = scheduler_->RegisterWorker(again);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->worker_id, id);
  EXPECT_EQ(other->store_id, store_->store_id());
}

TEST_F(SchedulerTest, InterimMetricsFromHeartbeatsAreStored) {
  const std::string w = Register();
  Submit(SyntheticSweep(1));
  LeaseGrant a = Lease(w);
  MetricValue m;
  m.metric = "fid";
  m.value = 80.0;
  m.step = 5;
  m.n_samples = 10;
  m.evaluator = "t";
  m.evaluator_hash = "h";
  ASSERT_TRUE(scheduler_->Heartbeat(w, {{a.job_id, a.epoch, 5, 10, 0.0, {m}}}).ok());
  auto jobs = scheduler_->ListJobs(a.sweep_id).value();
  EXPECT_EQ(jobs[0].step, 5);
  EXPECT_EQ(jobs[0].total, 10);
  ASSERT_TRUE(scheduler_->Complete(w, Report(a, 40.0)).ok());
  auto metrics = store_->JobMetrics(a.job_id).value();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0].step, 5);
  // The results view shows the latest step.
  EXPECT_DOUBLE_EQ(store_->QueryResults(a.sweep_id).value()[0].fid, 40.0);
}

}  // namespace
}  // namespace bitsweep::coordinator

namespace bitsweep::coordinator {
namespace {

TEST_F(SchedulerTest, BatchedCompletionsAreJudgedOneByOneAndBringLeases) {
  const std::string w = Register();
  const int64_t sweep = Submit(SyntheticSweep(5));
  auto leases = scheduler_->TryLeaseMany(w, 3);
  ASSERT_TRUE(leases.ok());
  ASSERT_EQ(leases->size(), 3u);
  CompletionReport stale = Report((*leases)[1], 2.0);
  stale.epoch += 7;  // not the lease's epoch
  auto outcome = scheduler_->CompleteMany(w, {Report((*leases)[0], 1.0), stale, Report((*leases)[2], 3.0)}, 4);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const auto& [statuses, next] = outcome.value();
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(statuses[2].ok());
  EXPECT_EQ(next.size(), 2u);  // only two jobs were still queued
  EXPECT_EQ(Job((*leases)[1].job_id).state, JobState::kRunning);  // the refused one is untouched
  EXPECT_EQ(store_->QueryResults(sweep).value().size(), 2u);
  EXPECT_EQ(scheduler_->CompleteMany("w-404", {}, 1).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace bitsweep::coordinator

namespace bitsweep::coordinator {
namespace {

TEST_F(SchedulerTest, AReleasedJobIsRequeuedWithoutSpendingAnAttempt) {
  const std::string w = Register();
  Submit(SyntheticSweep(1, 0, /*max_attempts=*/1));
  LeaseGrant a = Lease(w);
  ASSERT_TRUE(scheduler_->Fail(w, a.job_id, a.epoch, "worker stopped", true, /*released=*/true).ok());
  EXPECT_EQ(Job(a.job_id).state, JobState::kQueued);
  LeaseGrant b = Lease(w);  // the same worker may take it back
  EXPECT_EQ(b.job_id, a.job_id);
  EXPECT_EQ(b.attempt, 1);
  EXPECT_GT(b.epoch, a.epoch);
}


// A grid larger than the window: submitted at once, at most kWindow of its
// jobs exist at a time, and running it to the end makes exactly the jobs a
// whole expansion would, in the same order (coinciding points once).
TEST_F(SchedulerTest, ALargeGridIsPlannedAsItRunsAndMakesExactlyItsPoints) {
  std::vector<int> seeds;
  for (int i = 1; i <= 1200; ++i) seeds.push_back(i);
  // (Axes vary in the order of their names: bits slowest, seed fastest.)
  const nlohmann::json spec = {
      {"name", "big"},
      {"base", {{"task", "synthetic"}}},
      {"strategy", {{"kind", "grid"},
                    {"axes", {{"quant.g.method", {"none", "em", "minmax"}},
                              {"train.seed", seeds},
                              {"quant.g.bits", {1, 2, 4, 8}}}}}}};
  auto expected = ExpandGrid(SweepSpec::FromJson(spec).value());
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  ASSERT_EQ(expected->size(), 1200u * 9);  // method none runs once per seed, at 32 bits

  const std::string w = Register();
  auto submitted = scheduler_->SubmitSweep(spec);
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  const int64_t sweep = submitted->first;
  // Every raw point counts as queued until it is reached.
  // Points not yet reached count raw (those that will coincide too); here
  // the ones past the first window are all distinct.
  EXPECT_EQ(submitted->second, 1200 * 9);
  EXPECT_EQ(store_->ListJobs(sweep)->size(), static_cast<size_t>(GridStrategy::kWindow));
  auto view = scheduler_->GetSweep(sweep);
  ASSERT_TRUE(view.ok());
  EXPECT_GT(view->total, GridStrategy::kWindow);

  size_t most_queued = 0;
  RunAll(w, [&](int n) {
    if (n % 500 != 0) return;
    size_t queued = 0;
    const auto listed = store_->ListJobs(sweep).value();
    for (const auto& j : listed) queued += j.state == JobState::kQueued ? 1 : 0;
    most_queued = std::max(most_queued, queued);
  });
  EXPECT_EQ(store_->GetSweep(sweep)->state, SweepState::kDone);
  EXPECT_LE(most_queued, static_cast<size_t>(GridStrategy::kWindow));
  EXPECT_GT(most_queued, 0u);
  auto jobs = store_->ListJobs(sweep).value();
  ASSERT_EQ(jobs.size(), expected->size());
  std::sort(jobs.begin(), jobs.end(), [](const JobRecord& a, const JobRecord& b) { return a.ordinal < b.ordinal; });
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_EQ(jobs[i].ordinal, static_cast<int64_t>(i));
    ASSERT_EQ(nlohmann::json::parse(jobs[i].params_json), (*expected)[i].params) << i;
    ASSERT_EQ(jobs[i].state, JobState::kSucceeded) << i;
  }
}

// Beyond the window a point invalid only in combination (binary is 1 bit)
// is found when reached: the jobs before it run, the sweep ends saying why.
TEST_F(SchedulerTest, ALargeGridsInvalidPointEndsItWithTheReasonAfterTheJobsBefore) {
  std::vector<int> seeds;
  for (int i = 1; i <= 3334; ++i) seeds.push_back(i);
  const nlohmann::json spec = {
      {"name", "big"},
      {"base", {{"task", "synthetic"}}},
      {"strategy", {{"kind", "grid"},
                    {"axes", {{"quant.g.method", {"em", "binary"}}, {"train.seed", seeds}, {"quant.g.bits", {1, 2}}}}}}};
  const std::string w = Register();
  const int64_t sweep = Submit(spec);
  const int ran = RunAll(w);
  // In grid order (bits, method, seed): every point at 1 bit, then em at 2
  // bits; binary at 2 bits (point 10,002) is the first invalid one.
  EXPECT_EQ(ran, 3334 * 3);
  EXPECT_EQ(store_->GetSweep(sweep)->state, SweepState::kDone);
  const auto outcome = nlohmann::json::parse(store_->GetSweep(sweep)->strategy_outcome);
  const std::string error = outcome.value("error", "");
  EXPECT_NE(error.find("point {quant.g.bits=2, quant.g.method=\"binary\", train.seed=1}"), std::string::npos)
      << error;
}

TEST_F(SchedulerTest, AGridOverTheCoordinatorsLimitIsRefusedBeforeAnythingIsPlanned) {
  scheduler_.reset();
  Scheduler::Options options;
  options.artifacts_dir = dir_.File("artifacts");
  options.max_jobs_per_sweep = 100;
  auto limited = Scheduler::Create(options, store_.get(), &clock_);
  ASSERT_TRUE(limited.ok());
  auto refused = (*limited)->SubmitSweep(SyntheticSweep(101));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("the grid has 101 points, more than this coordinator's limit of 100"),
            std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(store_->ListSweeps()->empty());
  EXPECT_TRUE((*limited)->SubmitSweep(SyntheticSweep(100)).ok());
  // Nineteen axes of ten values: 10^19 points, past any 64-bit product,
  // refused whole (the values are never looked at).
  nlohmann::json ten = nlohmann::json::array();
  for (int v = 1; v <= 10; ++v) ten.push_back(v);
  nlohmann::json huge = SyntheticSweep(1);
  huge["strategy"]["axes"] = nlohmann::json::object();
  for (const char* path : {"train.iterations", "train.batch_size", "train.lr_g", "train.lr_d", "train.n_critic",
                           "train.seed", "train.checkpoint_every", "train.log_every", "train.gp_weight", "model.nz",
                           "model.ngf", "model.ndf", "synthetic.seconds", "synthetic.fid_full_precision",
                           "synthetic.sensitivity_g", "synthetic.sensitivity_d", "synthetic.noise",
                           "synthetic.failure_rate", "runtime.threads"}) {
    huge["strategy"]["axes"][path] = ten;
  }
  auto too_big = (*limited)->SubmitSweep(huge);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("the grid has more than 1000000 points"), std::string::npos)
      << too_big.status().message();
}

}  // namespace
}  // namespace bitsweep::coordinator
