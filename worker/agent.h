// Agent: a worker process's main loop. Registers with the coordinator,
// leases jobs for its slots (long-poll when all are idle), runs them with the
// task runner of their kind, reports results in batches that also bring the
// next leases (one call for many jobs under load), heartbeats progress, honours cancel and lease-lost directives
// and reports results. When the coordinator is away it retries with
// exponential backoff; when the coordinator no longer knows it (restarted on
// a fresh store) it registers again.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/transport_security.h"
#include "worker/task.h"

namespace bitsweep::worker {

struct AgentOptions {
  /// host:port of the coordinator.
  std::string coordinator = "localhost:50051";
  /// TLS to the coordinator (and this worker's certificate for mutual TLS);
  /// plain text when tls.ca is empty.
  ClientTlsFiles tls;
  /// The coordinator's shared token, when it wants one from workers.
  std::string token;
  /// Devices, one slot each ("cpu", "cuda:0", ...). Empty = one "cpu" slot.
  std::vector<std::string> devices;
  /// Intra-op threads per job (0 = the cores divided among the slots).
  int threads = 0;
  /// Job folders (checkpoints, outputs) go under it.
  std::string work_dir = "bitsweep-work";
  /// Reference-feature cache ("" = default).
  std::string cache_dir;
  /// Reported to the coordinator ("" = this machine's host name).
  std::string host;
  /// Task kind -> runner. A lease of a kind not here fails, not retryable.
  std::map<std::string, TaskRunner> runners;
  /// How long one LeaseJob call may wait for work.
  int64_t long_poll_ms = 10000;
  /// Deadline of every other call.
  int64_t rpc_timeout_ms = 30000;
  int64_t min_backoff_ms = 100;
  int64_t max_backoff_ms = 5000;
  /// Keep a job's folder after its result is uploaded.
  bool keep_work = false;
  /// Called with how long (ms) a slot waited for its next lease after it
  /// became idle (for benchmarks).
  std::function<void(double)> on_lease_wait;
  /// Log lines on stderr (leases, failures, reconnects).
  bool verbose = true;
};

class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();

  /// Runs until `stop` is set, then stops the running jobs (they checkpoint
  /// and are handed back to the queue) and returns.
  Status Run(const std::atomic<bool>& stop);

  /// Jobs this agent reported as succeeded / failed (for tests and logs).
  int64_t jobs_succeeded() const;
  int64_t jobs_failed() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitsweep::worker
