// Reliability end to end: real coordinator and worker processes on loopback,
// really killed, frozen, starved of disk and stopped. Each test fails if a
// job is lost, duplicated or left stuck.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <map>
#include <random>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "tests/e2e/e2e_fixture.h"

namespace bitsweep {
namespace {

using ReliabilityE2ETest = ServiceE2ETest;
using std::chrono::milliseconds;

int CountLines(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(ReliabilityE2ETest, AFrozenWorkersLateReportIsRefusedAndTheRerunsResultStands) {
  const std::string address = StartCoordinator({"--lease-ttl", "2", "--heartbeat", "0.5"});
  auto w1 = StartWorker(address, 1);
  int rc = 0;
  std::string out = Shell(kBinary + " submit --spec " + WriteSweep(SyntheticGrid("freeze", 1, 3.0)) +
                              " --coordinator " + address,
                          &rc);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_FALSE(w1->WaitForLog("(job 1 \\(attempt 1\\) leased)", 20).empty()) << w1->Log();
  const std::string frozen_id = Query("SELECT worker_id FROM jobs WHERE id = 1");
  const std::string frozen_epoch = Query("SELECT epoch FROM jobs WHERE id = 1");

  // Frozen past its lease: the job goes to the other worker and finishes.
  w1->Signal(SIGSTOP);
  auto w2 = StartWorker(address, 2);
  ASSERT_TRUE(WaitDone(1, 60)) << coordinator_->Log() << w2->Log();
  EXPECT_EQ(Query("SELECT state, attempts FROM jobs WHERE id = 1"), "SUCCEEDED|2");
  const std::string winner = Query("SELECT worker_id FROM jobs WHERE id = 1");
  EXPECT_NE(winner, frozen_id);
  const std::string result_before = Query("SELECT result_json FROM jobs WHERE id = 1");

  // Thawed: its job has run past its end while frozen, so it reports at once
  // (or first hears from a heartbeat that the lease is gone). Either way the
  // coordinator must keep the re-run's result.
  w1->Signal(SIGCONT);
  EXPECT_FALSE(w1->WaitForLog("(result not accepted: .*epoch|withdrew the lease)", 20).empty()) << w1->Log();

  // The late report itself, as the frozen worker would send it: refused by
  // epoch, and nothing changes.
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = v1::WorkerService::NewStub(channel);
  v1::CompleteJobsRequest late;
  late.set_worker_id(frozen_id);
  auto* job = late.add_jobs();
  job->set_job_id(1);
  job->set_epoch(std::stoll(frozen_epoch));
  job->set_result_json(R"({"late": true})");
  v1::CompleteJobsResponse answer;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status status = stub->CompleteJobs(&ctx, late, &answer);
  if (status.ok()) {
    ASSERT_EQ(answer.acks_size(), 1);
    EXPECT_EQ(answer.acks(0).code(), grpc::StatusCode::FAILED_PRECONDITION) << answer.acks(0).message();
    EXPECT_NE(answer.acks(0).message().find("epoch"), std::string::npos) << answer.acks(0).message();
  } else {
    // The frozen worker's registration may have expired with it.
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  }
  EXPECT_EQ(Query("SELECT state, attempts, worker_id FROM jobs WHERE id = 1"), "SUCCEEDED|2|" + winner);
  EXPECT_EQ(Query("SELECT result_json FROM jobs WHERE id = 1"), result_before);
  EXPECT_EQ(Query("SELECT COUNT(*) FROM results WHERE job = 1"), "1");
  EXPECT_EQ(Query("SELECT COUNT(*) FROM metrics WHERE job_id = 1 AND name = 'fid'"), "1");
}

TEST_F(ReliabilityE2ETest, CoordinatorKilledTwentyTimesLosesAndRepeatsNothing) {
  const std::vector<std::string> fast = {"--lease-ttl", "3", "--heartbeat", "0.5"};
  std::string address = StartCoordinator(fast);
  const std::string port = address.substr(address.rfind(':') + 1);
  auto w1 = StartWorker(address, 1);
  auto w2 = StartWorker(address, 2);
  constexpr int kJobs = 150;
  int rc = 0;
  std::string out = Shell(kBinary + " submit --spec " + WriteSweep(SyntheticGrid("kill-coordinator", kJobs, 0.25)) +
                              " --coordinator " + address,
                          &rc);
  ASSERT_EQ(rc, 0) << out;

  // SIGKILL at random moments (seeded), restart on the same file and port.
  std::mt19937 rng(20261127);
  std::uniform_int_distribution<int> wait_ms(150, 900);
  int kills = 0;
  while (kills < 24 && Query("SELECT state FROM sweeps WHERE id = 1") == "RUNNING") {
    std::this_thread::sleep_for(milliseconds(wait_ms(rng)));
    coordinator_->Signal(SIGKILL);
    coordinator_->Wait();
    ++kills;
    StartCoordinator(fast, "127.0.0.1:" + port);
  }
  EXPECT_GE(kills, 20) << "the sweep ended before the coordinator was killed 20 times";
  ASSERT_TRUE(WaitDone(1, 300)) << coordinator_->Log() << w1->Log() << w2->Log();

  // Every job has exactly one final result; none lost, none run as two jobs.
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE sweep_id = 1"), std::to_string(kJobs));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE state = 'SUCCEEDED'"), std::to_string(kJobs));
  EXPECT_EQ(Query("SELECT COUNT(DISTINCT params_json) FROM jobs"), std::to_string(kJobs));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM results"), std::to_string(kJobs));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM metrics WHERE name = 'fid'"), std::to_string(kJobs));
  // At most one attempt per job ended in success.
  EXPECT_EQ(Query("SELECT COUNT(*) FROM (SELECT job_id FROM attempts WHERE outcome = 'succeeded' GROUP BY job_id "
                  "HAVING COUNT(*) > 1)"),
            "0");
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE attempts > max_attempts"), "0");
  // The workers found every new coordinator by themselves.
  EXPECT_TRUE(Running(w1->pid())) << w1->Log();
  EXPECT_TRUE(Running(w2->pid())) << w2->Log();
}

TEST_F(ReliabilityE2ETest, APoisonJobFailsAfterItsAttemptsWithoutStoppingTheSweep) {
  const std::string address = StartCoordinator({"--lease-ttl", "2", "--heartbeat", "0.5"});
  // Workers under a supervisor that restarts them, as Compose or systemd do.
  auto supervised = [&](int n) {
    const std::string script = "ulimit -c 0; while true; do echo supervisor: start; " + kBinary +
                               " worker --coordinator " + address + " --threads 1 --work-dir " +
                               dir_.File("worker" + std::to_string(n)) + "; sleep 0.2; done";
    return std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/bash", "-c", script},
                                          dir_.File("supervised" + std::to_string(n) + ".log"));
  };
  auto s1 = supervised(1);
  auto s2 = supervised(2);
  nlohmann::json poison = SyntheticGrid("poison", 1, 0.1);
  poison["base"]["synthetic"]["crash"] = true;
  poison["priority"] = 10;  // leased first
  int rc = 0;
  std::string out = Shell(kBinary + " submit --spec " + WriteSweep(poison) + " --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  out = Shell(kBinary + " submit --spec " + WriteSweep(SyntheticGrid("healthy", 8, 0.3)) + " --coordinator " + address,
              &rc);
  ASSERT_EQ(rc, 0) << out;

  ASSERT_TRUE(WaitDone(1, 90)) << coordinator_->Log() << s1->Log() << s2->Log();
  ASSERT_TRUE(WaitDone(2, 90)) << coordinator_->Log() << s1->Log() << s2->Log();
  EXPECT_EQ(Query("SELECT state, attempts FROM jobs WHERE sweep_id = 1"), "FAILED|3");
  EXPECT_NE(Query("SELECT last_error FROM jobs WHERE sweep_id = 1").find("no heartbeat"), std::string::npos);
  EXPECT_EQ(Query("SELECT COUNT(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.sweep_id = 1 AND "
                  "a.error LIKE 'lease expired%'"),
            "3");
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE sweep_id = 2 AND state = 'SUCCEEDED'"), "8");

  // Three attempts crashed three workers; once the job had FAILED nothing
  // crashed again.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::string logs = s1->Log() + s2->Log();
  EXPECT_EQ(CountLines(logs, "crash requested"), 3) << logs;
  EXPECT_EQ(CountLines(logs, "supervisor: start"), 2 + 3) << logs;
  // Stop the supervisors first (so they restart nothing), then their workers.
  for (auto* supervisor : {s1.get(), s2.get()}) {
    supervisor->Signal(SIGSTOP);
    Shell("pkill -KILL -P " + std::to_string(supervisor->pid()), &rc);
    supervisor->Signal(SIGKILL);
  }
}

// Jobs in their own processes (worker --isolate): a job that segfaults, one
// that allocates until its memory limit and one that hangs past its wall
// time each fail alone, at once (the lease TTL is 60 s), with the reason and
// the end of their output, and count their attempts; the other slot's jobs
// finish on the same worker process; a cancelled job's process is stopped.
TEST_F(ReliabilityE2ETest, AJobThatCrashesExhaustsMemoryOrHangsFailsAloneAndAtOnce) {
  const std::string address = StartCoordinator({"--lease-ttl", "60", "--heartbeat", "0.5"});
  auto w = StartWorker(address, 1, {"--slots", "2", "--isolate", "all"});
  auto submit = [&](const nlohmann::json& sweep) {
    int rc = 0;
    const std::string out = Shell(kBinary + " submit --spec " + WriteSweep(sweep) + " --coordinator " + address, &rc);
    EXPECT_EQ(rc, 0) << out;
  };
  submit(SyntheticGrid("healthy", 6, 1.0));  // sweep 1
  for (const std::string fault : {"segfault", "allocate", "hang"}) {  // sweeps 2-4
    nlohmann::json sweep = SyntheticGrid(fault, 1, 1.0);
    sweep["base"]["synthetic"]["fault"] = fault;
    // Each its own limit (a loaded machine must not make the allocating job
    // reach a wall-time limit first).
    if (fault == "allocate") sweep["base"]["runtime"] = {{"max_memory_mb", 300}};
    if (fault == "hang") sweep["base"]["runtime"] = {{"max_wall_seconds", 3}};
    sweep["max_attempts"] = 2;
    submit(sweep);
  }
  for (int sweep = 1; sweep <= 4; ++sweep) {
    // Two attempts of each fault through a TTL would take two minutes.
    ASSERT_TRUE(WaitDone(sweep, 50)) << sweep << coordinator_->Log() << w->Log();
  }
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE sweep_id = 1 AND state = 'SUCCEEDED'"), "6");
  const std::map<int, std::vector<std::string>> expected = {
      {2, {"killed by signal 11 (SIGSEGV", "fault \"segfault\" requested"}},
      {3, {"exceeded its memory limit", "> runtime.max_memory_mb 300", "fault \"allocate\" requested"}},
      {4, {"exceeded its wall-time limit (runtime.max_wall_seconds 3", "fault \"hang\" requested"}},
  };
  for (const auto& [sweep, phrases] : expected) {
    const std::string where = " FROM jobs WHERE sweep_id = " + std::to_string(sweep);
    EXPECT_EQ(Query("SELECT state, attempts" + where), "FAILED|2") << sweep;
    const std::string error = Query("SELECT last_error" + where);
    for (const auto& phrase : phrases) EXPECT_NE(error.find(phrase), std::string::npos) << error;
    // Each attempt ended within seconds of its start, not at a lease expiry.
    const std::string slowest = Query("SELECT MAX(ended_ms - started_ms) FROM attempts WHERE job_id IN (SELECT id" +
                                      where + ")");
    EXPECT_LT(std::stoll(slowest), 15000) << sweep;
  }
  // The failed attempt's whole output is kept as the job's log.txt.
  {
    int rc = 0;
    const std::string log = dir_.File("segfault-log.txt");
    const std::string out =
        Shell(kBinary + " artifacts get --job 7 log.txt -o " + log + " --coordinator " + address, &rc);
    ASSERT_EQ(rc, 0) << out;
    const std::string text = testing::ReadFile(log);
    EXPECT_NE(text.find("job 7 attempt 2: task synthetic"), std::string::npos) << text;
    EXPECT_NE(text.find("fault \"segfault\" requested"), std::string::npos) << text;
  }
  // One worker process did all of it, and is still there.
  EXPECT_TRUE(Running(w->pid())) << w->Log();
  EXPECT_EQ(Query("SELECT COUNT(*) FROM workers"), "1");

  // A cancelled job's process is stopped (SIGTERM) and the slot freed.
  submit(SyntheticGrid("long", 1, 120.0));  // sweep 5, job 10
  ASSERT_FALSE(w->WaitForLog("(job 10 started)", 30).empty()) << w->Log();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the child is up
  int rc = 0;
  // ([d]: the pattern must not match the shell that runs pgrep.)
  const std::string children = "pgrep -f 'job-chil[d] --dir .*job-10/attempt-1'";
  std::string out = Shell(children, &rc);
  ASSERT_EQ(rc, 0) << "no process for job 10: " << out << w->Log();
  out = Shell(kBinary + " cancel 5 --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Shell(children, &rc);
    gone = rc != 0;
  }
  EXPECT_TRUE(gone) << w->Log();
  EXPECT_EQ(Query("SELECT state FROM jobs WHERE id = 10"), "CANCELLED");
  EXPECT_TRUE(Running(w->pid())) << w->Log();
}

TEST_F(ReliabilityE2ETest, AFullDiskMakesTheCoordinatorRefuseWorkUntilThereIsRoom) {
  const std::string address = StartCoordinator({"--lease-ttl", "5", "--heartbeat", "0.5"});
  auto w1 = StartWorker(address, 1);
  constexpr int kJobs = 12;
  int rc = 0;
  std::string out = Shell(kBinary + " submit --spec " + WriteSweep(SyntheticGrid("disk", kJobs, 0.4)) +
                              " --coordinator " + address,
                          &rc);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_FALSE(w1->WaitForLog("(job 3 succeeded)", 30).empty()) << w1->Log();

  // The disk fills: no file of the coordinator may grow past 1 byte (the
  // soft limit: raising a hard one back needs a privilege).
  const std::string pid = std::to_string(coordinator_->pid());
  out = Shell("prlimit --pid " + pid + " --fsize=1:unlimited", &rc);
  ASSERT_EQ(rc, 0) << out;
  const std::string health = kBinary + " health --coordinator " + address;
  bool refused = false;
  for (int i = 0; i < 50 && !refused; ++i) {
    std::this_thread::sleep_for(milliseconds(200));
    out = Shell(health, &rc);
    refused = rc == 1 && out.find("NOT_SERVING") != std::string::npos;
  }
  EXPECT_TRUE(refused) << out;
  // While it is full, nothing is acknowledged that the store did not keep:
  // the worker holds its result and retries.
  const std::string succeeded_while_full = Query("SELECT COUNT(*) FROM jobs WHERE state = 'SUCCEEDED'");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE state = 'SUCCEEDED'"), succeeded_while_full);
  EXPECT_LT(std::stoi(succeeded_while_full), kJobs);
  EXPECT_FALSE(w1->WaitForLog("(the results store did not commit: [^\\n]*)", 10).empty()) << w1->Log();
  const int acked_while_full = CountLines(w1->Log(), " succeeded\n");

  // Room again: everything is stored, each job once.
  out = Shell("prlimit --pid " + pid + " --fsize=unlimited:unlimited", &rc);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(WaitDone(1, 60)) << w1->Log();
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE state = 'SUCCEEDED'"), std::to_string(kJobs));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM metrics WHERE name = 'fid'"), std::to_string(kJobs));
  EXPECT_EQ(std::stoi(succeeded_while_full), acked_while_full) << "the worker was told 'succeeded' only for stored results";
  out = Shell(health, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(Query("PRAGMA integrity_check"), "ok");
}

TEST_F(ReliabilityE2ETest, AReadOnlyStoreIsRefusedWithAClearError) {
  StartCoordinator();
  coordinator_->Signal(SIGTERM);
  ASSERT_EQ(coordinator_->Wait(), 0) << coordinator_->Log();
  ASSERT_EQ(chmod(dir_.File("store.db").c_str(), 0444), 0);
  // Root may write any file; drop that power so the permission counts.
  std::vector<std::string> argv;
  if (geteuid() == 0) argv = {"/usr/bin/setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"};
  for (const std::string& arg : {kBinary, std::string("coordinator"), std::string("--listen"),
                                 std::string("127.0.0.1:0"), std::string("--db"), dir_.File("store.db")}) {
    argv.push_back(arg);
  }
  ChildProcess coordinator(argv, dir_.File("read-only.log"));
  EXPECT_EQ(coordinator.Wait(), 1) << coordinator.Log();
  EXPECT_NE(coordinator.Log().find("the results store is read-only"), std::string::npos) << coordinator.Log();
  EXPECT_EQ(coordinator.Log().find("listening"), std::string::npos) << coordinator.Log();
}

TEST_F(ReliabilityE2ETest, SigtermStopsAWorkerAtACheckpointAndTheCoordinatorCleanly) {
  const std::string address = StartCoordinator({"--lease-ttl", "5", "--heartbeat", "0.5"});
  auto w1 = StartWorker(address, 1, {"--keep-work"});
  nlohmann::json base = testing::TinyJobJson(/*iterations=*/600, /*limit=*/512);
  int rc = 0;
  std::string out = Shell(kBinary + " submit --spec " +
                              WriteSweep({{"name", "sigterm"},
                                          {"base", base},
                                          {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", {1}}}}}}}) +
                              " --coordinator " + address,
                          &rc);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_FALSE(w1->WaitForLog("(job 1 started)", 30).empty()) << w1->Log();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // some training steps

  // The worker checkpoints, hands the lease back (the attempt does not
  // count) and exits.
  w1->Signal(SIGTERM);
  EXPECT_EQ(w1->Wait(), 130) << w1->Log();
  EXPECT_EQ(Query("SELECT state, attempts FROM jobs WHERE id = 1"), "QUEUED|0");
  EXPECT_EQ(Query("SELECT outcome FROM attempts WHERE job_id = 1"), "released");
  EXPECT_FALSE(
      testing::ReadFile(dir_.File("worker1/" + StoreFolderOf(dir_.File("store.db")) + "/job-1/checkpoint.pt")).empty());

  // A worker on the same folder continues from that checkpoint.
  auto w1_again = StartWorker(address, 1);
  ASSERT_TRUE(WaitDone(1, 300)) << w1_again->Log();
  const auto result = nlohmann::json::parse(Query("SELECT result_json FROM jobs WHERE id = 1"));
  EXPECT_GT(result["resumed_from_step"].get<int64_t>(), 0) << result.dump();
  EXPECT_EQ(result["steps"], 600);

  // The coordinator stops cleanly, its store intact, and starts again on it.
  coordinator_->Signal(SIGTERM);
  EXPECT_EQ(coordinator_->Wait(), 0) << coordinator_->Log();
  EXPECT_NE(coordinator_->Log().find("shutting down"), std::string::npos);
  EXPECT_EQ(Query("PRAGMA integrity_check"), "ok");
  const std::string again = StartCoordinator();
  out = Shell(kBinary + " status 1 --coordinator " + again, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("DONE  1 jobs: 1 succeeded"), std::string::npos) << out;
  w1_again->Signal(SIGTERM);
  EXPECT_EQ(w1_again->Wait(), 130) << w1_again->Log();
}

}  // namespace
}  // namespace bitsweep
