// Security end to end: a real coordinator with TLS, worker certificates
// (mutual TLS) and a user token; the read-only query path; request size
// limits; and the rule that a worker reports only for the jobs it holds.
// Certificates are made for each test with the openssl command.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <csignal>
#include <filesystem>

#include <grpcpp/grpcpp.h>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "tests/e2e/e2e_fixture.h"

namespace bitsweep {
namespace {

class SecurityE2ETest : public ServiceE2ETest {
 protected:
  // A CA, a coordinator certificate for 127.0.0.1 and a worker certificate
  // signed by it, and a rogue CA with a worker certificate of its own.
  void MakeCertificates() {
    const std::string d = dir_.File("pki");
    std::filesystem::create_directories(d);
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script =
        "set -e; cd " + d + "\n" +
        "openssl req -x509" + key + " -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca\n" +
        "openssl req -x509" + key + " -keyout rogue-ca.key -out rogue-ca.pem -days 2 -subj /CN=rogue-ca\n" +
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext\n"
        "openssl req" + key + " -keyout server.key -out server.csr -subj /CN=coordinator\n" +
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext "
        "-out server.pem\n"
        "openssl req" + key + " -keyout worker.key -out worker.csr -subj /CN=worker\n" +
        "openssl x509 -req -in worker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out worker.pem\n"
        "openssl req" + key + " -keyout rogue.key -out rogue.csr -subj /CN=rogue\n" +
        "openssl x509 -req -in rogue.csr -CA rogue-ca.pem -CAkey rogue-ca.key -CAcreateserial -days 2 "
        "-out rogue.pem\n"
        "printf 's3cret-token\\n' > token; printf 'guess\\n' > wrong-token\n";
    testing::WriteFile(dir_.File("pki.sh"), script);
    int rc = 0;
    std::string out = Shell("bash " + dir_.File("pki.sh"), &rc);
    ASSERT_EQ(rc, 0) << out;
  }
  std::string Pki(const std::string& name) { return dir_.File("pki/" + name); }

  std::string SubmitCommand(const std::string& address, const std::string& spec) {
    return kBinary + " submit --spec " + spec + " --coordinator " + address;
  }
};

nlohmann::json SmallSweep(const std::string& name, int jobs) {
  std::vector<int> seeds;
  for (int i = 1; i <= jobs; ++i) seeds.push_back(i);
  return {{"name", name},
          {"base", {{"task", "synthetic"}, {"synthetic", {{"seconds", 0.1}}}}},
          {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", seeds}}}}}};
}

TEST_F(SecurityE2ETest, MutualTlsForWorkersAndATokenForUsers) {
  MakeCertificates();
  const std::string address =
      StartCoordinator({"--tls-cert", Pki("server.pem"), "--tls-key", Pki("server.key"), "--tls-client-ca",
                        Pki("ca.pem"), "--token-file", Pki("token")});
  EXPECT_NE(coordinator_->Log().find("TLS, workers need client certificates, token required"), std::string::npos)
      << coordinator_->Log();
  const std::string spec = WriteSweep(SmallSweep("secure", 3));
  const std::string tls = " --tls-ca " + Pki("ca.pem");
  int rc = 0;

  // Users: TLS and the token, or nothing.
  std::string out = Shell(SubmitCommand(address, spec) + tls, &rc);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("UNAUTHENTICATED"), std::string::npos) << out;
  EXPECT_NE(out.find("--token-file"), std::string::npos) << out;
  out = Shell(SubmitCommand(address, spec) + tls + " --token-file " + Pki("wrong-token"), &rc);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("wrong token"), std::string::npos) << out;
  out = Shell(SubmitCommand(address, spec) + " --token-file " + Pki("token"), &rc);  // plain text
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("UNAVAILABLE"), std::string::npos) << out;
  out = Shell(kBinary + " status --coordinator " + address + tls + " --token-file " + Pki("token"), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Lines(out).size(), 1u) << "nothing was submitted: " << out;

  // Workers: a certificate from the worker CA, or nothing.
  ChildProcess no_certificate({kBinary, "worker", "--coordinator", address, "--tls-ca", Pki("ca.pem"), "--work-dir",
                               dir_.File("w-none")},
                              dir_.File("no-certificate.log"));
  EXPECT_EQ(no_certificate.Wait(), 1) << no_certificate.Log();
  EXPECT_NE(no_certificate.Log().find("workers need a client certificate"), std::string::npos)
      << no_certificate.Log();
  ChildProcess rogue({kBinary, "worker", "--coordinator", address, "--tls-ca", Pki("ca.pem"), "--tls-cert",
                      Pki("rogue.pem"), "--tls-key", Pki("rogue.key"), "--work-dir", dir_.File("w-rogue")},
                     dir_.File("rogue.log"));
  auto worker = StartWorker(address, 1,
                            {"--tls-ca", Pki("ca.pem"), "--tls-cert", Pki("worker.pem"), "--tls-key", Pki("worker.key")});

  out = Shell(SubmitCommand(address, spec) + tls + " --token-file " + Pki("token") + " --watch", &rc);
  ASSERT_EQ(rc, 0) << out << worker->Log();
  EXPECT_NE(out.find("3 succeeded"), std::string::npos) << out;
  EXPECT_TRUE(rogue.WaitForLog("(registered)", 0.5).empty()) << rogue.Log();
  EXPECT_EQ(Query("SELECT COUNT(*) FROM workers"), "1") << "only the worker with a good certificate got in";
  rogue.Signal(SIGKILL);

  // Health checks need TLS but no token (container probes have none).
  out = Shell(kBinary + " health --coordinator " + address + tls, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("SERVING"), std::string::npos) << out;
}

TEST_F(SecurityE2ETest, TheQueryPathReadsAndNothingElse) {
  const std::string address = StartCoordinator({"--query-timeout", "0.5"});
  auto worker = StartWorker(address, 1);
  int rc = 0;
  std::string out = Shell(SubmitCommand(address, WriteSweep(SmallSweep("query", 5))) + " --watch", &rc);
  ASSERT_EQ(rc, 0) << out;
  auto query = [&](const std::string& sql, const std::string& extra = "") {
    return Shell(kBinary + " query \"" + sql + "\" --coordinator " + address + extra, &rc);
  };

  out = query("SELECT seed, fid FROM results ORDER BY seed", " --format json");
  ASSERT_EQ(rc, 0) << out;
  auto rows = nlohmann::json::parse(out);
  ASSERT_EQ(rows.size(), 5u) << out;
  EXPECT_EQ(rows[4]["seed"], 5);
  EXPECT_GT(rows[0]["fid"].get<double>(), 0.0);

  out = query("SELECT id FROM jobs", " --max-rows 2 --format csv");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(Lines(out).size(), 1u + 2u + 1u) << "header, two rows, the note that more were left out: " << out;

  const std::string outside = dir_.File("outside.db");
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"DELETE FROM jobs", "DELETE"},
      {"UPDATE jobs SET state = 'FAILED'", "UPDATE"},
      {"ATTACH DATABASE '" + outside + "' AS x", "ATTACH"},
      {"PRAGMA writable_schema = 1", "PRAGMA"},
      {"SELECT 1; DELETE FROM jobs", "one statement"},
      {"SELECT load_extension('x')", "load_extension"},
      {"CREATE TABLE t (x)", "read-only"},
  };
  for (const auto& [sql, why] : refused) {
    out = query(sql);
    EXPECT_EQ(rc, 2) << sql << ": " << out;
    EXPECT_NE(out.find(why), std::string::npos) << sql << ": " << out;
  }
  EXPECT_FALSE(std::filesystem::exists(outside));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE state = 'SUCCEEDED'"), "5");

  // An endless query is stopped at the coordinator's time limit.
  const auto start = std::chrono::steady_clock::now();
  out = query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("DEADLINE_EXCEEDED"), std::string::npos) << out;
  EXPECT_LT(seconds, 10.0);
  // And the coordinator still serves.
  out = query("SELECT COUNT(*) AS n FROM sweeps", " --format csv");
  EXPECT_EQ(out, "n\n1\n");
}

TEST_F(SecurityE2ETest, OversizedRequestsAreRefusedAndNothingIsStored) {
  const std::string address = StartCoordinator({"--max-request-mb", "1"});
  nlohmann::json sweep = SmallSweep(std::string(2 << 20, 'x'), 1);  // a 2 MiB name
  int rc = 0;
  std::string out = Shell(SubmitCommand(address, WriteSweep(sweep)), &rc);
  EXPECT_NE(rc, 0) << out.substr(0, 2000);
  EXPECT_NE(out.find("RESOURCE_EXHAUSTED"), std::string::npos) << out.substr(0, 2000);
  out = Shell(kBinary + " status --coordinator " + address, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(Lines(out).size(), 1u) << out;
}

TEST_F(SecurityE2ETest, AWorkerCannotReportForAJobItDoesNotHold) {
  const std::string address = StartCoordinator({"--lease-ttl", "30", "--heartbeat", "1"});
  int rc = 0;
  std::string out = Shell(SubmitCommand(address, WriteSweep(SmallSweep("hold", 1))), &rc);
  ASSERT_EQ(rc, 0) << out;
  auto stub = v1::WorkerService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  auto call = [](auto method) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return method(&ctx);
  };
  auto register_worker = [&](const std::string& host) {
    v1::RegisterRequest request;
    request.set_host(host);
    request.set_slots(1);
    v1::RegisterResponse response;
    EXPECT_TRUE(call([&](grpc::ClientContext* c) { return stub->Register(c, request, &response); }).ok());
    return response.worker_id();
  };
  const std::string holder = register_worker("holder"), other = register_worker("other");
  v1::LeaseJobsRequest lease_request;
  lease_request.set_worker_id(holder);
  lease_request.set_max_jobs(1);
  v1::LeaseJobsResponse leased;
  ASSERT_TRUE(call([&](grpc::ClientContext* c) { return stub->LeaseJobs(c, lease_request, &leased); }).ok());
  ASSERT_EQ(leased.leases_size(), 1);
  const v1::Lease lease = leased.leases(0);

  // The other worker, with the right job and epoch, is refused every way.
  auto complete = [&](const std::string& worker_id) {
    v1::CompleteJobsRequest request;
    request.set_worker_id(worker_id);
    auto* job = request.add_jobs();
    job->set_job_id(lease.job_id());
    job->set_epoch(lease.epoch());
    job->set_result_json(R"({"by": ")" + worker_id + R"("})");
    v1::CompleteJobsResponse response;
    EXPECT_TRUE(call([&](grpc::ClientContext* c) { return stub->CompleteJobs(c, request, &response); }).ok());
    return response.acks_size() == 1 ? response.acks(0) : v1::CompletionAck();
  };
  const v1::CompletionAck stolen = complete(other);
  EXPECT_EQ(stolen.code(), grpc::StatusCode::FAILED_PRECONDITION) << stolen.message();
  v1::FailJobRequest fail;
  fail.set_worker_id(other);
  fail.set_job_id(lease.job_id());
  fail.set_epoch(lease.epoch());
  fail.set_error("not mine");
  v1::FailJobResponse failed;
  grpc::Status status = call([&](grpc::ClientContext* c) { return stub->FailJob(c, fail, &failed); });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_EQ(Query("SELECT state, worker_id FROM jobs WHERE id = 1"), "RUNNING|" + holder);

  // The holder's report stands.
  EXPECT_EQ(complete(holder).code(), 0);
  EXPECT_EQ(Query("SELECT state, worker_id FROM jobs WHERE id = 1"), "SUCCEEDED|" + holder);
  EXPECT_EQ(nlohmann::json::parse(Query("SELECT result_json FROM jobs WHERE id = 1"))["by"], holder);
}

}  // namespace
}  // namespace bitsweep
