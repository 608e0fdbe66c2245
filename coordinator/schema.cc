#include "coordinator/schema.h"

namespace bitsweep::coordinator {

const std::vector<std::string>& SchemaMigrations() {
  static const std::vector<std::string> migrations = {
      // Version 1: sweeps, their jobs, every attempt at a job, workers and
      // the metrics jobs measured.
      R"sql(
CREATE TABLE sweeps (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  strategy     TEXT NOT NULL,
  spec_json    TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('RUNNING', 'DONE', 'CANCELLED')),
  priority     INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  created_ms   INTEGER NOT NULL,
  finished_ms  INTEGER
);
CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY,
  sweep_id     INTEGER NOT NULL REFERENCES sweeps(id),
  ordinal      INTEGER NOT NULL,
  params_json  TEXT NOT NULL,
  task         TEXT NOT NULL,
  method_g     TEXT NOT NULL,
  bits_g       INTEGER NOT NULL,
  method_d     TEXT NOT NULL,
  bits_d       INTEGER NOT NULL,
  loss         TEXT NOT NULL,
  dataset      TEXT NOT NULL,
  seed         INTEGER NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  epoch        INTEGER NOT NULL DEFAULT 0,
  worker_id    TEXT,
  last_error   TEXT,
  avoid_worker TEXT,
  started_ms   INTEGER,
  finished_ms  INTEGER,
  wall_seconds REAL,
  model_bytes  INTEGER,
  result_json  TEXT
);
CREATE INDEX jobs_by_sweep ON jobs (sweep_id, ordinal);
CREATE TABLE attempts (
  job_id     INTEGER NOT NULL REFERENCES jobs(id),
  attempt    INTEGER NOT NULL,
  epoch      INTEGER NOT NULL,
  worker_id  TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms   INTEGER,
  outcome    TEXT,
  error      TEXT,
  PRIMARY KEY (job_id, attempt)
) WITHOUT ROWID;
CREATE TABLE workers (
  id            TEXT PRIMARY KEY,
  host          TEXT NOT NULL,
  devices_json  TEXT NOT NULL,
  slots         INTEGER NOT NULL,
  version       TEXT NOT NULL,
  registered_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL
);
CREATE TABLE metrics (
  job_id         INTEGER NOT NULL REFERENCES jobs(id),
  name           TEXT NOT NULL,
  step           INTEGER NOT NULL,
  value          REAL NOT NULL,
  std            REAL,
  n_samples      INTEGER NOT NULL,
  evaluator      TEXT NOT NULL,
  evaluator_hash TEXT NOT NULL,
  PRIMARY KEY (job_id, name, step)
) WITHOUT ROWID;
)sql",
      // Version 2: artifacts (sample grids, packed generators) kept beside
      // the database, and the results view. (No index on jobs.state: every
      // state change would rewrite it, and recovery's one scan is cheap.)
      R"sql(
CREATE TABLE artifacts (
  job_id     INTEGER NOT NULL REFERENCES jobs(id),
  name       TEXT NOT NULL,
  path       TEXT NOT NULL,
  bytes      INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (job_id, name)
) WITHOUT ROWID;
CREATE VIEW results AS
SELECT s.name AS sweep, j.sweep_id, j.id AS job, j.state,
       j.method_g, j.bits_g, j.method_d, j.bits_d, j.loss, j.dataset, j.seed,
       (SELECT value FROM metrics m WHERE m.job_id = j.id AND m.name = 'fid' ORDER BY m.step DESC LIMIT 1) AS fid,
       (SELECT value FROM metrics m WHERE m.job_id = j.id AND m.name = 'is' ORDER BY m.step DESC LIMIT 1) AS "is",
       (SELECT value FROM metrics m WHERE m.job_id = j.id AND m.name = 'kid' ORDER BY m.step DESC LIMIT 1) AS kid,
       j.model_bytes, j.wall_seconds, j.params_json
FROM jobs j JOIN sweeps s ON s.id = j.sweep_id
WHERE j.state IN ('SUCCEEDED', 'FAILED');
)sql",
      // Version 3: adaptive strategies keep their state (what a restart
      // needs) and their outcome (what people read: chosen bit-widths...)
      // on the sweep, written with the change that moved them.
      R"sql(
ALTER TABLE sweeps ADD COLUMN strategy_state TEXT;
ALTER TABLE sweeps ADD COLUMN strategy_outcome TEXT;
)sql",
  };
  return migrations;
}

int LatestSchemaVersion() { return static_cast<int>(SchemaMigrations().size()); }

}  // namespace bitsweep::coordinator
