#include "coordinator/store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <unistd.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "common/host.h"
#include "coordinator/layer_widths_backfill.h"
#include "coordinator/schema.h"
#include "coordinator/store_lock.h"

namespace bitsweep::coordinator {
namespace {

constexpr int kBusyTimeoutMs = 5000;
// Reads that can run at once (each its own connection): a long one, say
// every result of a large sweep, leaves the others free.
constexpr int kReaders = 4;

constexpr const char* kJobColumns =
    "id, sweep_id, ordinal, params_json, task, method_g, bits_g, method_d, bits_d, loss, dataset, seed, state, "
    "attempts, max_attempts, epoch, worker_id, last_error, avoid_worker, started_ms, finished_ms, wall_seconds, "
    "model_bytes";

constexpr const char* kSweepColumns =
    "id, name, strategy, spec_json, state, priority, max_attempts, created_ms, finished_ms, strategy_state, "
    "strategy_outcome";

std::string TextOrEmpty(const SQLite::Column& c) { return c.isNull() ? std::string() : c.getString(); }

JobRecord ReadJob(SQLite::Statement& q) {
  JobRecord j;
  j.id = q.getColumn(0).getInt64();
  j.sweep_id = q.getColumn(1).getInt64();
  j.ordinal = q.getColumn(2).getInt64();
  j.params_json = q.getColumn(3).getString();
  j.task = q.getColumn(4).getString();
  j.method_g = q.getColumn(5).getString();
  j.bits_g = q.getColumn(6).getInt();
  j.method_d = q.getColumn(7).getString();
  j.bits_d = q.getColumn(8).getInt();
  j.loss = q.getColumn(9).getString();
  j.dataset = q.getColumn(10).getString();
  j.seed = q.getColumn(11).getInt64();
  auto state = ParseJobState(q.getColumn(12).getString());
  if (!state.ok()) throw SQLite::Exception(state.status().message());
  j.state = state.value();
  j.attempts = q.getColumn(13).getInt();
  j.max_attempts = q.getColumn(14).getInt();
  j.epoch = q.getColumn(15).getInt64();
  j.worker_id = TextOrEmpty(q.getColumn(16));
  j.last_error = TextOrEmpty(q.getColumn(17));
  j.avoid_worker = TextOrEmpty(q.getColumn(18));
  j.started_ms = q.getColumn(19).getInt64();
  j.finished_ms = q.getColumn(20).getInt64();
  j.wall_seconds = q.getColumn(21).getDouble();
  j.model_bytes = q.getColumn(22).getInt64();
  return j;
}

SweepRecord ReadSweep(SQLite::Statement& q) {
  SweepRecord s;
  s.id = q.getColumn(0).getInt64();
  s.name = q.getColumn(1).getString();
  s.strategy = q.getColumn(2).getString();
  s.spec_json = q.getColumn(3).getString();
  auto state = ParseSweepState(q.getColumn(4).getString());
  if (!state.ok()) throw SQLite::Exception(state.status().message());
  s.state = state.value();
  s.priority = q.getColumn(5).getInt();
  s.max_attempts = q.getColumn(6).getInt();
  s.created_ms = q.getColumn(7).getInt64();
  s.finished_ms = q.getColumn(8).getInt64();
  s.strategy_state = TextOrEmpty(q.getColumn(9));
  s.strategy_outcome = TextOrEmpty(q.getColumn(10));
  return s;
}

void BindText(SQLite::Statement& q, int index, const std::string& text) {
  if (text.empty()) {
    q.bind(index);  // NULL
  } else {
    q.bind(index, text);
  }
}

// Leaves a cached statement ready for the next use when it goes out of
// scope, also when the use failed (a statement left halted would refuse
// every later bind).
struct Rearm {
  SQLite::Statement& q;
  ~Rearm() {
    q.tryReset();
    q.clearBindings();
  }
};

void Run(SQLite::Statement& q) {
  Rearm rearm{q};
  q.exec();
}

}  // namespace

// The statements of the hot paths (lease, complete, fail), compiled once.
struct Store::Statements {
  explicit Statements(SQLite::Database& db)
      : begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        rollback(db, "ROLLBACK"),
        lease_job(db,
                  "UPDATE jobs SET state = 'RUNNING', attempts = ?2, epoch = ?3, worker_id = ?4, started_ms = ?5 "
                  "WHERE id = ?1"),
        insert_attempt(db,
                       "INSERT OR REPLACE INTO attempts (job_id, attempt, epoch, worker_id, started_ms) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)"),
        end_attempt(db, "UPDATE attempts SET ended_ms = ?3, outcome = ?4, error = ?5 WHERE job_id = ?1 AND attempt = ?2"),
        succeed_job(db,
                    "UPDATE jobs SET state = 'SUCCEEDED', finished_ms = ?2, wall_seconds = ?3, model_bytes = ?4, "
                    "result_json = ?5, last_error = NULL WHERE id = ?1"),
        end_job_attempt(db,
                        "UPDATE jobs SET state = ?2, last_error = ?3, avoid_worker = ?4, finished_ms = ?5, "
                        "worker_id = ?6, attempts = ?7 WHERE id = ?1"),
        insert_metric(db,
                      "INSERT OR REPLACE INTO metrics (job_id, name, step, value, std, n_samples, evaluator, "
                      "evaluator_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        insert_artifact(db,
                        "INSERT OR REPLACE INTO artifacts (job_id, name, path, bytes, created_ms, sha256) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        touch_worker(db, "UPDATE workers SET last_seen_ms = ?2 WHERE id = ?1"),
        owner_epoch(db, "SELECT epoch FROM store_owner WHERE singleton = 1") {}

  SQLite::Statement begin, commit, rollback;
  SQLite::Statement lease_job, insert_attempt, end_attempt, succeed_job, end_job_attempt;
  SQLite::Statement insert_metric, insert_artifact, touch_worker;
  SQLite::Statement owner_epoch;
};

std::string StoreOwner::Describe() const {
  return "pid " + std::to_string(pid) + " on host " + host + ", since " + FormatUtc(started_ms);
}

Store::~Store() {
  if (owner_epoch_ != 0 && !fenced_) {
    // A clean stop: a coordinator on another host need not wait for this
    // owner's heartbeat to go stale.
    (void)Guard("give up ownership", [&] {
      SQLite::Statement u(*writer_, "UPDATE store_owner SET heartbeat_ms = 0 WHERE epoch = ?");
      u.bind(1, owner_epoch_);
      u.exec();
    });
  }
  statements_.reset();
  readers_.reset();
  writer_.reset();
  lock_.reset();  // last: nobody else may open the file for writing before it is closed
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const OwnerOptions& owner) {
  // The lock comes first: two coordinators must not even migrate at once.
  BITSWEEP_ASSIGN_OR_RETURN(std::unique_ptr<StoreLock> lock, StoreLock::Acquire(path));
  BITSWEEP_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenImpl(path, LatestSchemaVersion()));
  store->lock_ = std::move(lock);
  BITSWEEP_RETURN_IF_ERROR(store->ClaimOwnership(owner));
  return store;
}

Status Store::ClaimOwnership(const OwnerOptions& options) {
  const int64_t now = UnixNowMs();
  const std::string host = HostName();
  return InTransaction([&]() -> Status {
    BITSWEEP_ASSIGN_OR_RETURN(StoreOwner owner, Owner());
    // The lock proved that no process on this host holds the store; on
    // another host, only the owner's heartbeat can tell whether it is alive.
    const bool alive_elsewhere = owner.heartbeat_ms != 0 && owner.host != host && now - owner.heartbeat_ms < options.stale_ms;
    if (alive_elsewhere && !options.take_over) {
      return Status::FailedPrecondition(
          path_ + ": the results store is owned by the bitsweep coordinator " + owner.Describe() + ", alive " +
          std::to_string((now - owner.heartbeat_ms) / 1000) + " s ago; one coordinator at a time may own a store "
          "(stop that one; if it is gone, wait " + std::to_string(options.stale_ms / 1000) +
          " s after its last heartbeat or start with --take-over)");
    }
    return Guard("take ownership", [&] {
      SQLite::Statement u(*writer_,
                          "UPDATE store_owner SET epoch = epoch + 1, host = ?1, pid = ?2, started_ms = ?3, "
                          "heartbeat_ms = ?3 WHERE singleton = 1 RETURNING epoch");
      u.bind(1, host);
      u.bind(2, static_cast<int64_t>(getpid()));
      u.bind(3, now);
      if (!u.executeStep()) throw SQLite::Exception("the store_owner row is missing");
      owner_epoch_ = u.getColumn(0).getInt64();
    });
  });
}

Status Store::CheckOwnership() {
  if (fenced_) return Status::FailedPrecondition(fence_error());
  if (owner_epoch_ == 0) return Status::Ok();
  int64_t epoch = 0;
  BITSWEEP_RETURN_IF_ERROR(Guard("check ownership", [&] {
    auto& q = statements_->owner_epoch;
    Rearm rearm{q};
    if (q.executeStep()) epoch = q.getColumn(0).getInt64();
  }));
  if (epoch == owner_epoch_) return Status::Ok();
  auto owner = Owner();
  const std::string who = owner.ok() ? "the bitsweep coordinator " + owner->Describe() : "another coordinator";
  {
    std::lock_guard<std::mutex> lock(fence_mutex_);
    fence_error_ = path_ + ": the results store was taken over by " + who +
                   "; this coordinator no longer owns it and stops writing it";
  }
  fenced_ = true;
  return Status::FailedPrecondition(fence_error());
}

std::string Store::fence_error() const {
  std::lock_guard<std::mutex> lock(fence_mutex_);
  return fence_error_;
}

Status Store::RenewOwnership(int64_t now_ms) {
  return Guard("renew ownership", [&] {
    SQLite::Statement u(*writer_, "UPDATE store_owner SET heartbeat_ms = ?2 WHERE epoch = ?1");
    u.bind(1, owner_epoch_);
    u.bind(2, now_ms);
    u.exec();
  });
}

Result<StoreOwner> Store::Owner() {
  StoreOwner owner;
  BITSWEEP_RETURN_IF_ERROR(Guard("read the owner", [&] {
    SQLite::Statement q(*writer_, "SELECT epoch, host, pid, started_ms, heartbeat_ms FROM store_owner");
    if (!q.executeStep()) return;
    owner.epoch = q.getColumn(0).getInt64();
    owner.host = q.getColumn(1).getString();
    owner.pid = q.getColumn(2).getInt64();
    owner.started_ms = q.getColumn(3).getInt64();
    owner.heartbeat_ms = q.getColumn(4).getInt64();
  }));
  return owner;
}

Result<int64_t> Store::NextWorkerNumber() {
  int64_t next = 1;
  BITSWEEP_RETURN_IF_ERROR(Guard("read the worker-id counter", [&] {
    SQLite::Statement q(*writer_, "SELECT CAST(value AS INTEGER) FROM store_info WHERE key = 'next_worker_number'");
    if (q.executeStep()) next = q.getColumn(0).getInt64();
  }));
  return next;
}

Result<std::unique_ptr<Store>> Store::OpenAtVersion(const std::string& path, int version) {
  return OpenImpl(path, version);
}

Result<std::unique_ptr<Store>> Store::OpenImpl(const std::string& path, int target_version) {
  std::unique_ptr<Store> store(new Store());
  store->path_ = path;
  Status opened = store->Guard("open", [&] {
    store->writer_ = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                                                        kBusyTimeoutMs);
    // WAL: readers never block the writer. synchronous=NORMAL: a commit
    // survives the process being killed at any instant (only power loss can
    // drop the last commits), without an fsync per state change.
    store->writer_->exec("PRAGMA journal_mode = WAL");
    store->writer_->exec("PRAGMA synchronous = NORMAL");
    store->writer_->exec("PRAGMA foreign_keys = ON");
    // Checkpoint the WAL into the database every ~16 MiB instead of ~4 MiB:
    // fewer fsyncs under load, still bounded.
    store->writer_->exec("PRAGMA wal_autocheckpoint = 4000");
  });
  if (!opened.ok()) return opened;
  // SQLite quietly opens a file it may not write read-only, and the first
  // commit would fail much later, with results already computed. Refuse now.
  if (sqlite3_db_readonly(store->writer_->getHandle(), "main") == 1) {
    return Status::FailedPrecondition(path +
                                      ": the results store is read-only (file or folder permissions, or a read-only "
                                      "mount); the coordinator needs to write it to record results");
  }

  auto version = store->SchemaVersion();
  if (!version.ok()) return version.status();
  const auto& migrations = SchemaMigrations();
  if (version.value() > LatestSchemaVersion()) {
    return Status::FailedPrecondition(path + ": schema version " + std::to_string(version.value()) +
                                      " is newer than this bitsweep knows (" + std::to_string(LatestSchemaVersion()) +
                                      "); use a newer bitsweep");
  }
  for (int v = version.value(); v < target_version; ++v) {
    Status migrated = store->InTransaction([&] {
      return store->Guard("migrate", [&] {
        store->writer_->exec(migrations[static_cast<size_t>(v)]);
        if (v + 1 == kLayerWidthsSchemaVersion) BackfillLayerWidths(*store->writer_);
        store->writer_->exec("PRAGMA user_version = " + std::to_string(v + 1));
      });
    });
    if (!migrated.ok()) return migrated.WithContext("schema version " + std::to_string(v + 1));
  }

  store->schema_version_ = target_version;
  opened = store->Guard("prepare", [&] {
    store->readers_ = std::make_unique<ReaderPool>(path, kReaders, kBusyTimeoutMs);
    if (target_version == LatestSchemaVersion()) store->statements_ = std::make_unique<Statements>(*store->writer_);
    if (target_version >= 4) {
      store->store_id_ = store->writer_->execAndGet("SELECT value FROM store_info WHERE key = 'store_id'").getString();
    }
  });
  if (!opened.ok()) return opened;
  return store;
}

Status Store::Guard(const char* what, const std::function<void()>& fn) {
  try {
    fn();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::IoError(path_ + ": " + what + ": " + e.what());
  }
}

Result<int> Store::SchemaVersion() {
  int version = 0;
  BITSWEEP_RETURN_IF_ERROR(Guard("read schema version", [&] {
    version = writer_->execAndGet("PRAGMA user_version").getInt();
  }));
  return version;
}

Status Store::InTransaction(const std::function<Status()>& body) {
  BITSWEEP_RETURN_IF_ERROR(Guard("begin", [&] {
    if (statements_) {
      Run(statements_->begin);
    } else {
      writer_->exec("BEGIN IMMEDIATE");
    }
  }));
  Status status = CheckOwnership();
  if (status.ok()) status = body();
  if (status.ok()) {
    status = Guard("commit", [&] {
      if (statements_) {
        Run(statements_->commit);
      } else {
        writer_->exec("COMMIT");
      }
    });
    if (status.ok()) return status;
  }
  (void)Guard("rollback", [&] { writer_->exec("ROLLBACK"); });
  return status;
}

Status Store::InsertSweep(SweepRecord* sweep, std::vector<JobRecord>* jobs) {
  Status inserted = Guard("insert sweep", [&] {
    SQLite::Statement s(*writer_,
                        "INSERT INTO sweeps (name, strategy, spec_json, state, priority, max_attempts, created_ms, id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, sweep->name);
    s.bind(2, sweep->strategy);
    s.bind(3, sweep->spec_json);
    s.bind(4, SweepStateName(sweep->state));
    s.bind(5, sweep->priority);
    s.bind(6, sweep->max_attempts);
    s.bind(7, sweep->created_ms);
    s.bind(8, sweep->id);
    s.exec();
  });
  if (!inserted.ok()) return inserted;
  return InsertJobs(*jobs);
}

Status Store::InsertJobs(const std::vector<JobRecord>& jobs) {
  if (jobs.empty()) return Status::Ok();
  return Guard("insert jobs", [&] {
    // A file opened at an older version (migration tests) has no per-layer
    // columns yet; its migration fills them.
    const bool widths = schema_version_ >= kLayerWidthsSchemaVersion;
    SQLite::Statement j(*writer_,
                        widths ? "INSERT INTO jobs (sweep_id, ordinal, params_json, task, method_g, bits_g, method_d, "
                                 "bits_d, loss, dataset, seed, state, max_attempts, id, widths_g, mean_bits_g, widths_d, "
                                 "mean_bits_d) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                               : "INSERT INTO jobs (sweep_id, ordinal, params_json, task, method_g, bits_g, method_d, "
                                 "bits_d, loss, dataset, seed, state, max_attempts, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                                 "?, ?, ?, ?, ?, ?)");
    for (const auto& job : jobs) {
      j.bind(1, job.sweep_id);
      j.bind(2, job.ordinal);
      j.bind(3, job.params_json);
      j.bind(4, job.task);
      j.bind(5, job.method_g);
      j.bind(6, job.bits_g);
      j.bind(7, job.method_d);
      j.bind(8, job.bits_d);
      j.bind(9, job.loss);
      j.bind(10, job.dataset);
      j.bind(11, job.seed);
      j.bind(12, JobStateName(job.state));
      j.bind(13, job.max_attempts);
      j.bind(14, job.id);
      if (widths) {
        j.bind(15, job.widths_g);
        j.bind(16, job.mean_bits_g);
        j.bind(17, job.widths_d);
        j.bind(18, job.mean_bits_d);
      }
      j.exec();
      j.reset();
    }
  });
}

Status Store::MarkLeased(const JobRecord& job, int64_t now_ms) {
  return Guard("lease job", [&] {
    auto& u = statements_->lease_job;
    u.bind(1, job.id);
    u.bind(2, job.attempts);
    u.bind(3, job.epoch);
    u.bind(4, job.worker_id);
    u.bind(5, now_ms);
    Run(u);
    auto& a = statements_->insert_attempt;
    a.bind(1, job.id);
    a.bind(2, job.attempts);
    a.bind(3, job.epoch);
    a.bind(4, job.worker_id);
    a.bind(5, now_ms);
    Run(a);
  });
}

Status Store::MarkSucceeded(const JobRecord& job, const CompletionReport& completion,
                            const std::vector<ArtifactRecord>& artifacts, int64_t now_ms) {
  Status stored = Guard("complete job", [&] {
    auto& u = statements_->succeed_job;
    u.bind(1, job.id);
    u.bind(2, now_ms);
    u.bind(3, completion.wall_seconds);
    u.bind(4, completion.model_bytes);
    u.bindNoCopy(5, completion.result_json);
    Run(u);
    auto& a = statements_->end_attempt;
    a.bind(1, job.id);
    a.bind(2, job.attempts);
    a.bind(3, now_ms);
    a.bind(4, "succeeded");
    a.bind(5);
    Run(a);
    InsertArtifactRows(job.id, artifacts, now_ms);
  });
  if (!stored.ok()) return stored;
  return InsertMetrics(job.id, completion.metrics);
}

void Store::InsertArtifactRows(int64_t job_id, const std::vector<ArtifactRecord>& artifacts, int64_t now_ms) {
  for (const auto& artifact : artifacts) {
    auto& r = statements_->insert_artifact;
    r.bind(1, job_id);
    r.bind(2, artifact.name);
    r.bind(3, artifact.path);
    r.bind(4, artifact.bytes);
    r.bind(5, now_ms);
    BindText(r, 6, artifact.sha256);
    Run(r);
  }
}

Status Store::InsertArtifacts(int64_t job_id, const std::vector<ArtifactRecord>& artifacts, int64_t now_ms) {
  return Guard("store artifacts", [&] { InsertArtifactRows(job_id, artifacts, now_ms); });
}

Status Store::SetArtifactPaths(const std::vector<ArtifactRecord>& artifacts) {
  return Guard("move artifact rows", [&] {
    SQLite::Statement u(*writer_, "UPDATE artifacts SET path = ? WHERE job_id = ? AND name = ?");
    for (const auto& artifact : artifacts) {
      u.bind(1, artifact.path);
      u.bind(2, artifact.job_id);
      u.bind(3, artifact.name);
      u.exec();
      u.reset();
    }
  });
}

Status Store::MarkAttemptEnded(const JobRecord& job, const std::string& outcome, const std::string& error,
                               int64_t now_ms, int counted_attempts) {
  return Guard("end attempt", [&] {
    auto& a = statements_->end_attempt;
    a.bind(1, job.id);
    a.bind(2, job.attempts);
    a.bind(3, now_ms);
    a.bind(4, outcome);
    BindText(a, 5, error);
    Run(a);
    auto& u = statements_->end_job_attempt;
    u.bind(1, job.id);
    u.bind(2, JobStateName(job.state));
    BindText(u, 3, job.last_error);
    BindText(u, 4, job.avoid_worker);
    if (IsFinished(job.state)) {
      u.bind(5, now_ms);
    } else {
      u.bind(5);
    }
    BindText(u, 6, job.worker_id);
    u.bind(7, counted_attempts >= 0 ? counted_attempts : job.attempts);
    Run(u);
  });
}

Status Store::MarkQueuedCancelled(int64_t job_id, int64_t now_ms) {
  return Guard("cancel job", [&] {
    SQLite::Statement u(*writer_, "UPDATE jobs SET state = 'CANCELLED', finished_ms = ? WHERE id = ?");
    u.bind(1, now_ms);
    u.bind(2, job_id);
    u.exec();
  });
}

Status Store::MarkSweepQueuedCancelled(int64_t sweep_id, int64_t now_ms) {
  return Guard("cancel jobs", [&] {
    SQLite::Statement u(*writer_,
                        "UPDATE jobs SET state = 'CANCELLED', finished_ms = ? WHERE sweep_id = ? AND state = 'QUEUED'");
    u.bind(1, now_ms);
    u.bind(2, sweep_id);
    u.exec();
  });
}

Status Store::SaveStrategy(int64_t sweep_id, const std::string& state_json, const std::string& outcome_json) {
  return Guard("save strategy state", [&] {
    SQLite::Statement u(*writer_, "UPDATE sweeps SET strategy_state = ?, strategy_outcome = ? WHERE id = ?");
    u.bind(1, state_json);
    u.bind(2, outcome_json);
    u.bind(3, sweep_id);
    u.exec();
  });
}

Result<double> Store::SweepSlotSeconds(int64_t sweep_id) {
  auto reader = readers_->Acquire();
  double seconds = 0.0;
  BITSWEEP_RETURN_IF_ERROR(Guard("sum attempt time", [&] {
    SQLite::Statement q(reader.db(),
                        "SELECT COALESCE(SUM(a.ended_ms - a.started_ms), 0) FROM attempts a JOIN jobs j "
                        "ON j.id = a.job_id WHERE j.sweep_id = ? AND a.ended_ms IS NOT NULL");
    q.bind(1, sweep_id);
    if (q.executeStep()) seconds = static_cast<double>(q.getColumn(0).getInt64()) / 1000.0;
  }));
  return seconds;
}

Status Store::SetSweepState(int64_t sweep_id, SweepState state, int64_t now_ms) {
  return Guard("set sweep state", [&] {
    SQLite::Statement u(*writer_, "UPDATE sweeps SET state = ?, finished_ms = ? WHERE id = ?");
    u.bind(1, SweepStateName(state));
    if (state == SweepState::kRunning) {
      u.bind(2);
    } else {
      u.bind(2, now_ms);
    }
    u.bind(3, sweep_id);
    u.exec();
  });
}

Status Store::InsertMetrics(int64_t job_id, const std::vector<MetricValue>& metrics) {
  return Guard("insert metrics", [&] {
    auto& m = statements_->insert_metric;
    for (const auto& v : metrics) {
      m.bind(1, job_id);
      m.bind(2, v.metric);
      m.bind(3, v.step);
      m.bind(4, v.value);
      if (v.std) {
        m.bind(5, *v.std);
      } else {
        m.bind(5);
      }
      m.bind(6, v.n_samples);
      m.bind(7, v.evaluator);
      m.bind(8, v.evaluator_hash);
      Run(m);
    }
  });
}

Status Store::UpsertWorker(const WorkerRecord& w, int64_t next_worker_number) {
  return Guard("register worker", [&] {
    SQLite::Statement counter(*writer_,
                              "UPDATE store_info SET value = CAST(MAX(CAST(value AS INTEGER), ?1) AS TEXT) "
                              "WHERE key = 'next_worker_number'");
    counter.bind(1, next_worker_number);
    counter.exec();
    SQLite::Statement u(*writer_,
                        "INSERT INTO workers (id, host, devices_json, slots, version, registered_ms, last_seen_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET host = ?2, "
                        "devices_json = ?3, slots = ?4, version = ?5, last_seen_ms = ?7");
    u.bind(1, w.id);
    u.bind(2, w.host);
    u.bind(3, nlohmann::json(w.devices).dump());
    u.bind(4, w.slots);
    u.bind(5, w.version);
    u.bind(6, w.registered_ms);
    u.bind(7, w.last_seen_ms);
    u.exec();
  });
}

Status Store::TouchWorker(const std::string& worker_id, int64_t now_ms) {
  return Guard("touch worker", [&] {
    auto& u = statements_->touch_worker;
    u.bind(1, worker_id);
    u.bind(2, now_ms);
    Run(u);
  });
}

// ---- reads ----

Result<SweepRecord> Store::GetSweep(int64_t sweep_id) {
  auto reader = readers_->Acquire();
  std::optional<SweepRecord> sweep;
  BITSWEEP_RETURN_IF_ERROR(Guard("get sweep", [&] {
    SQLite::Statement q(reader.db(), std::string("SELECT ") + kSweepColumns + " FROM sweeps WHERE id = ?");
    q.bind(1, sweep_id);
    if (q.executeStep()) sweep = ReadSweep(q);
  }));
  if (!sweep) return Status::NotFound("sweep " + std::to_string(sweep_id) + " does not exist");
  return *sweep;
}

Result<std::vector<SweepRecord>> Store::ListSweeps() {
  auto reader = readers_->Acquire();
  std::vector<SweepRecord> sweeps;
  BITSWEEP_RETURN_IF_ERROR(Guard("list sweeps", [&] {
    SQLite::Statement q(reader.db(), std::string("SELECT ") + kSweepColumns + " FROM sweeps ORDER BY id");
    while (q.executeStep()) sweeps.push_back(ReadSweep(q));
  }));
  return sweeps;
}

Result<std::pair<int64_t, int64_t>> Store::MaxIds() {
  auto reader = readers_->Acquire();
  std::pair<int64_t, int64_t> ids{0, 0};
  BITSWEEP_RETURN_IF_ERROR(Guard("read ids", [&] {
    ids.first = reader.db().execAndGet("SELECT COALESCE(MAX(id), 0) FROM sweeps").getInt64();
    ids.second = reader.db().execAndGet("SELECT COALESCE(MAX(id), 0) FROM jobs").getInt64();
  }));
  return ids;
}

Result<std::vector<SweepRecord>> Store::RunningSweeps() {
  auto reader = readers_->Acquire();
  std::vector<SweepRecord> sweeps;
  BITSWEEP_RETURN_IF_ERROR(Guard("list running sweeps", [&] {
    SQLite::Statement q(reader.db(),
                        std::string("SELECT ") + kSweepColumns + " FROM sweeps WHERE state = 'RUNNING' ORDER BY id");
    while (q.executeStep()) sweeps.push_back(ReadSweep(q));
  }));
  return sweeps;
}

Result<JobRecord> Store::GetJob(int64_t job_id) {
  auto reader = readers_->Acquire();
  std::optional<JobRecord> job;
  BITSWEEP_RETURN_IF_ERROR(Guard("get job", [&] {
    SQLite::Statement q(reader.db(), std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?");
    q.bind(1, job_id);
    if (q.executeStep()) job = ReadJob(q);
  }));
  if (!job) return Status::NotFound("job " + std::to_string(job_id) + " does not exist");
  return *job;
}

Result<std::vector<JobRecord>> Store::ListJobs(int64_t sweep_id) {
  std::vector<JobRecord> jobs;
  BITSWEEP_RETURN_IF_ERROR(VisitJobs(sweep_id, {}, [&](JobRecord& job) { jobs.push_back(std::move(job)); }));
  return jobs;
}

Status Store::VisitJobs(int64_t sweep_id, const JobRange& range, const std::function<void(JobRecord&)>& visit) {
  auto reader = readers_->Acquire();
  return Guard("list jobs", [&] {
    SQLite::Statement q(reader.db(), std::string("SELECT ") + kJobColumns +
                                         " FROM jobs WHERE sweep_id = ? AND id >= ? ORDER BY ordinal LIMIT ? OFFSET ?");
    q.bind(1, sweep_id);
    q.bind(2, range.from_id);
    q.bind(3, range.limit > 0 ? range.limit : int64_t{-1});  // SQLite: a negative LIMIT is none
    q.bind(4, range.offset);
    while (q.executeStep()) {
      JobRecord job = ReadJob(q);
      visit(job);
    }
  });
}

Result<int64_t> Store::CountJobRows(int64_t sweep_id) {
  auto reader = readers_->Acquire();
  int64_t count = 0;
  BITSWEEP_RETURN_IF_ERROR(Guard("count jobs", [&] {
    SQLite::Statement q(reader.db(), "SELECT COUNT(*) FROM jobs WHERE sweep_id = ?");
    q.bind(1, sweep_id);
    if (q.executeStep()) count = q.getColumn(0).getInt64();
  }));
  return count;
}

Result<std::map<JobState, int>> Store::CountJobs(int64_t sweep_id) {
  auto reader = readers_->Acquire();
  std::map<JobState, int> counts;
  BITSWEEP_RETURN_IF_ERROR(Guard("count jobs", [&] {
    SQLite::Statement q(reader.db(), "SELECT state, COUNT(*) FROM jobs WHERE sweep_id = ? GROUP BY state");
    q.bind(1, sweep_id);
    while (q.executeStep()) {
      auto state = ParseJobState(q.getColumn(0).getString());
      if (!state.ok()) throw SQLite::Exception(state.status().message());
      counts[state.value()] = q.getColumn(1).getInt();
    }
  }));
  return counts;
}

Result<std::vector<JobRecord>> Store::ActiveJobs() {
  auto reader = readers_->Acquire();
  std::vector<JobRecord> jobs;
  BITSWEEP_RETURN_IF_ERROR(Guard("list active jobs", [&] {
    SQLite::Statement q(reader.db(), std::string("SELECT ") + kJobColumns +
                                      " FROM jobs WHERE state IN ('QUEUED', 'RUNNING') ORDER BY id");
    while (q.executeStep()) jobs.push_back(ReadJob(q));
  }));
  return jobs;
}

Result<std::vector<ResultRecord>> Store::QueryResults(int64_t sweep_id) {
  std::vector<ResultRecord> rows;
  BITSWEEP_RETURN_IF_ERROR(VisitResults(sweep_id, [&](ResultRecord& row) { rows.push_back(std::move(row)); }));
  return rows;
}

Status Store::VisitResults(int64_t sweep_id, const std::function<void(ResultRecord&)>& visit) {
  auto reader = readers_->Acquire();
  // Not "WHERE ?1 = 0 OR sweep_id = ?1": that form scans every sweep's jobs.
  const std::string where = sweep_id == 0 ? "" : "WHERE sweep_id = ?1 ";
  return Guard("query results", [&] {
    SQLite::Statement q(reader.db(),
                        "SELECT sweep, sweep_id, job, state, method_g, bits_g, method_d, bits_d, loss, dataset, seed, "
                        "fid, \"is\", kid, model_bytes, wall_seconds, params_json, fid_se, is_se, kid_se, protocol, "
                        "widths_g, mean_bits_g, widths_d, mean_bits_d "
                        "FROM results " + where + "ORDER BY job");
    if (sweep_id != 0) q.bind(1, sweep_id);
    while (q.executeStep()) {
      ResultRecord r;
      r.sweep = q.getColumn(0).getString();
      r.sweep_id = q.getColumn(1).getInt64();
      r.job_id = q.getColumn(2).getInt64();
      r.state = q.getColumn(3).getString();
      r.method_g = q.getColumn(4).getString();
      r.bits_g = q.getColumn(5).getInt();
      r.method_d = q.getColumn(6).getString();
      r.bits_d = q.getColumn(7).getInt();
      r.loss = q.getColumn(8).getString();
      r.dataset = q.getColumn(9).getString();
      r.seed = q.getColumn(10).getInt64();
      r.has_fid = !q.getColumn(11).isNull();
      r.fid = q.getColumn(11).getDouble();
      r.has_is = !q.getColumn(12).isNull();
      r.is = q.getColumn(12).getDouble();
      r.has_kid = !q.getColumn(13).isNull();
      r.kid = q.getColumn(13).getDouble();
      r.model_bytes = q.getColumn(14).getInt64();
      r.wall_seconds = q.getColumn(15).getDouble();
      r.params_json = q.getColumn(16).getString();
      auto optional = [&](int column) {
        return q.getColumn(column).isNull() ? std::nullopt : std::optional<double>(q.getColumn(column).getDouble());
      };
      r.fid_se = optional(17);
      r.is_se = optional(18);
      r.kid_se = optional(19);
      r.protocol = q.getColumn(20).getString();
      r.widths_g = TextOrEmpty(q.getColumn(21));
      r.mean_bits_g = optional(22);
      r.widths_d = TextOrEmpty(q.getColumn(23));
      r.mean_bits_d = optional(24);
      visit(r);
    }
  });
}

Result<std::vector<WorkerRecord>> Store::ListWorkers() {
  auto reader = readers_->Acquire();
  std::vector<WorkerRecord> workers;
  BITSWEEP_RETURN_IF_ERROR(Guard("list workers", [&] {
    SQLite::Statement q(reader.db(),
                        "SELECT id, host, devices_json, slots, version, registered_ms, last_seen_ms FROM workers "
                        "ORDER BY registered_ms, id");
    while (q.executeStep()) {
      WorkerRecord w;
      w.id = q.getColumn(0).getString();
      w.host = q.getColumn(1).getString();
      w.devices = nlohmann::json::parse(q.getColumn(2).getString()).get<std::vector<std::string>>();
      w.slots = q.getColumn(3).getInt();
      w.version = q.getColumn(4).getString();
      w.registered_ms = q.getColumn(5).getInt64();
      w.last_seen_ms = q.getColumn(6).getInt64();
      workers.push_back(std::move(w));
    }
  }));
  return workers;
}

Result<std::vector<ArtifactRecord>> Store::ListArtifacts(int64_t job_id, int64_t sweep_id) {
  auto reader = readers_->Acquire();
  std::vector<ArtifactRecord> artifacts;
  BITSWEEP_RETURN_IF_ERROR(Guard("list artifacts", [&] {
    SQLite::Statement q(reader.db(),
                        "SELECT a.job_id, a.name, a.path, a.bytes, a.sha256 FROM artifacts a JOIN jobs j ON j.id = "
                        "a.job_id WHERE (?1 != 0 AND a.job_id = ?1) OR (?1 = 0 AND j.sweep_id = ?2) "
                        "ORDER BY a.job_id, a.name");
    q.bind(1, job_id);
    q.bind(2, sweep_id);
    while (q.executeStep()) {
      artifacts.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                           q.getColumn(3).getInt64(), TextOrEmpty(q.getColumn(4))});
    }
  }));
  return artifacts;
}

Result<std::vector<ArtifactRecord>> Store::ListAbsoluteArtifactPaths() {
  auto reader = readers_->Acquire();
  std::vector<ArtifactRecord> artifacts;
  BITSWEEP_RETURN_IF_ERROR(Guard("list artifacts", [&] {
    SQLite::Statement q(reader.db(),
                        "SELECT job_id, name, path, bytes, sha256 FROM artifacts WHERE path LIKE '/%' "
                        "ORDER BY job_id, name");
    while (q.executeStep()) {
      artifacts.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                           q.getColumn(3).getInt64(), TextOrEmpty(q.getColumn(4))});
    }
  }));
  return artifacts;
}

Result<std::vector<MetricValue>> Store::JobMetrics(int64_t job_id) {
  auto reader = readers_->Acquire();
  std::vector<MetricValue> metrics;
  BITSWEEP_RETURN_IF_ERROR(Guard("read metrics", [&] {
    SQLite::Statement q(reader.db(),
                        "SELECT name, value, std, step, n_samples, evaluator, evaluator_hash FROM metrics "
                        "WHERE job_id = ? ORDER BY step, name");
    q.bind(1, job_id);
    while (q.executeStep()) {
      MetricValue v;
      v.metric = q.getColumn(0).getString();
      v.value = q.getColumn(1).getDouble();
      if (!q.getColumn(2).isNull()) v.std = q.getColumn(2).getDouble();
      v.step = q.getColumn(3).getInt64();
      v.n_samples = q.getColumn(4).getInt64();
      v.evaluator = q.getColumn(5).getString();
      v.evaluator_hash = q.getColumn(6).getString();
      metrics.push_back(std::move(v));
    }
  }));
  return metrics;
}

Status Store::PutMeasurements(const std::vector<PtqMeasurement>& measurements, int64_t now_ms) {
  if (measurements.empty()) return Status::Ok();
  return Guard("store measurements", [&] {
    SQLite::Statement u(*writer_,
                        "INSERT OR REPLACE INTO ptq_measurements (model, method, widths, bn_batches, context, fid, "
                        "fid_se, distortion, job_id, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& m : measurements) {
      u.bind(1, m.key.model);
      u.bind(2, m.key.method);
      u.bind(3, m.key.widths);
      u.bind(4, m.key.bn_batches);
      u.bind(5, m.key.context);
      u.bind(6, m.fid);
      if (m.fid_se) {
        u.bind(7, *m.fid_se);
      } else {
        u.bind(7);
      }
      if (m.distortion) {
        u.bind(8, *m.distortion);
      } else {
        u.bind(8);
      }
      u.bind(9, m.job_id);
      u.bind(10, now_ms);
      u.exec();
      u.reset();
    }
  });
}

Result<std::optional<PtqMeasurement>> Store::FindMeasurement(const PtqMeasurementKey& key) {
  auto reader = readers_->Acquire();
  std::optional<PtqMeasurement> found;
  BITSWEEP_RETURN_IF_ERROR(Guard("read measurement", [&] {
    SQLite::Statement q(reader.db(),
                        "SELECT fid, fid_se, distortion, job_id FROM ptq_measurements WHERE model = ? AND method = ? "
                        "AND widths = ? AND bn_batches = ? AND context = ?");
    q.bind(1, key.model);
    q.bind(2, key.method);
    q.bind(3, key.widths);
    q.bind(4, key.bn_batches);
    q.bind(5, key.context);
    if (!q.executeStep()) return;
    PtqMeasurement m;
    m.key = key;
    m.fid = q.getColumn(0).getDouble();
    if (!q.getColumn(1).isNull()) m.fid_se = q.getColumn(1).getDouble();
    if (!q.getColumn(2).isNull()) m.distortion = q.getColumn(2).getDouble();
    m.job_id = q.getColumn(3).getInt64();
    found = m;
  }));
  return found;
}

Result<BaselineRecord> Store::FindBaseline(int64_t job_id) {
  auto reader = readers_->Acquire();
  BaselineRecord baseline;
  bool exists = false;
  BITSWEEP_RETURN_IF_ERROR(Guard("read baseline", [&] {
    SQLite::Statement q(reader.db(), "SELECT state, seed FROM jobs WHERE id = ?");
    q.bind(1, job_id);
    if (!q.executeStep()) return;
    exists = true;
    baseline.job_id = job_id;
    baseline.succeeded = q.getColumn(0).getString() == JobStateName(JobState::kSucceeded);
    baseline.seed = q.getColumn(1).getInt64();
    SQLite::Statement a(reader.db(), "SELECT sha256 FROM artifacts WHERE job_id = ? AND name = 'checkpoint.pt'");
    a.bind(1, job_id);
    if (a.executeStep()) baseline.checkpoint_sha256 = TextOrEmpty(a.getColumn(0));
  }));
  if (!exists) return Status::NotFound("job " + std::to_string(job_id) + " does not exist");
  return baseline;
}

Result<std::string> Store::JobResultJson(int64_t job_id) {
  auto reader = readers_->Acquire();
  std::string result;
  BITSWEEP_RETURN_IF_ERROR(Guard("read result", [&] {
    SQLite::Statement q(reader.db(), "SELECT result_json FROM jobs WHERE id = ?");
    q.bind(1, job_id);
    if (q.executeStep()) result = TextOrEmpty(q.getColumn(0));
  }));
  return result;
}

}  // namespace bitsweep::coordinator
