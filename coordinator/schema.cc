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
      // Version 4: the store's identity, made once and kept forever (its
      // artifacts and job work folders are keyed by it, so two stores never
      // share files), and the SHA-256 of every artifact, checked on every
      // read. Artifacts stored before have no hash (NULL): their size is
      // checked.
      R"sql(
CREATE TABLE store_info (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO store_info (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
ALTER TABLE artifacts ADD COLUMN sha256 TEXT;
)sql",
      // Version 5: one writer. The coordinator that owns the store bumps the
      // epoch when it starts, renews heartbeat_ms while it runs, and checks
      // the epoch in every write transaction: one that finds another epoch
      // has been taken over and stops writing. Worker ids come from a counter
      // that never goes back, so no id is ever handed to two workers (it
      // starts past every id the workers table or an attempt names).
      R"sql(
CREATE TABLE store_owner (
  singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
  epoch        INTEGER NOT NULL,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  started_ms   INTEGER NOT NULL,
  heartbeat_ms INTEGER NOT NULL
);
INSERT INTO store_owner (singleton, epoch, host, pid, started_ms, heartbeat_ms) VALUES (1, 0, '', 0, 0, 0);
INSERT INTO store_info (key, value)
SELECT 'next_worker_number', CAST(COALESCE(MAX(n), 0) + 1 AS TEXT) FROM (
  SELECT CAST(substr(id, 3) AS INTEGER) AS n FROM workers WHERE id LIKE 'w-%'
  UNION ALL
  SELECT CAST(substr(worker_id, 3) AS INTEGER) FROM attempts WHERE worker_id LIKE 'w-%');
)sql",
      // Version 6: every number with how sure it is, and how it was made.
      // The results view gains the sampling standard error of each metric
      // (the metrics table's `std` of the same measurement; NULL where it
      // was not estimated), the task, and the protocol: from-scratch or
      // warm-started quantization-aware training, or post-training
      // quantization.
      R"sql(
DROP VIEW results;
CREATE VIEW results AS
SELECT s.name AS sweep, j.sweep_id, j.id AS job, j.state, j.task,
       CASE WHEN j.task = 'ptq' THEN 'ptq'
            WHEN (CASE WHEN json_valid(j.result_json) THEN json_type(j.result_json, '$.init_from') END)
                 IS NOT NULL THEN 'warm-start'
            ELSE 'from-scratch' END AS protocol,
       j.method_g, j.bits_g, j.method_d, j.bits_d, j.loss, j.dataset, j.seed,
       f.value AS fid, f.std AS fid_se,
       i.value AS "is", i.std AS is_se,
       k.value AS kid, k.std AS kid_se,
       j.model_bytes, j.wall_seconds, j.params_json
FROM jobs j JOIN sweeps s ON s.id = j.sweep_id
LEFT JOIN metrics f ON f.job_id = j.id AND f.name = 'fid'
  AND f.step = (SELECT MAX(step) FROM metrics m WHERE m.job_id = j.id AND m.name = 'fid')
LEFT JOIN metrics i ON i.job_id = j.id AND i.name = 'is'
  AND i.step = (SELECT MAX(step) FROM metrics m WHERE m.job_id = j.id AND m.name = 'is')
LEFT JOIN metrics k ON k.job_id = j.id AND k.name = 'kid'
  AND k.step = (SELECT MAX(step) FROM metrics m WHERE m.job_id = j.id AND m.name = 'kid')
WHERE j.state IN ('SUCCEEDED', 'FAILED');
)sql",
      // Version 7: per-layer widths. Every job keeps the widths of its
      // networks' layers in network order ("2,2,4,8"; 32 = full precision)
      // and their weight-averaged bits, computed from its spec when it is
      // inserted (and, for the jobs stored before, by the migration: see
      // BackfillLayerWidths); the results view shows them. And the
      // measurements of post-training quantization, keyed by what determines
      // them (the checkpoint quantized, method, per-layer widths, batch-norm
      // re-estimation and a hash of the rest of the job spec), so that a
      // layer-allocation search answers another budget or bound without
      // running them again.
      R"sql(
ALTER TABLE jobs ADD COLUMN widths_g TEXT;
ALTER TABLE jobs ADD COLUMN mean_bits_g REAL;
ALTER TABLE jobs ADD COLUMN widths_d TEXT;
ALTER TABLE jobs ADD COLUMN mean_bits_d REAL;
CREATE TABLE ptq_measurements (
  model      TEXT NOT NULL,
  method     TEXT NOT NULL,
  widths     TEXT NOT NULL,
  bn_batches INTEGER NOT NULL,
  context    TEXT NOT NULL,
  fid        REAL NOT NULL,
  fid_se     REAL,
  distortion REAL,
  job_id     INTEGER NOT NULL REFERENCES jobs(id),
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (model, method, widths, bn_batches, context)
) WITHOUT ROWID;
DROP VIEW results;
CREATE VIEW results AS
SELECT s.name AS sweep, j.sweep_id, j.id AS job, j.state, j.task,
       CASE WHEN j.task = 'ptq' THEN 'ptq'
            WHEN (CASE WHEN json_valid(j.result_json) THEN json_type(j.result_json, '$.init_from') END)
                 IS NOT NULL THEN 'warm-start'
            ELSE 'from-scratch' END AS protocol,
       j.method_g, j.bits_g, j.widths_g, j.mean_bits_g, j.method_d, j.bits_d, j.widths_d, j.mean_bits_d,
       j.loss, j.dataset, j.seed,
       f.value AS fid, f.std AS fid_se,
       i.value AS "is", i.std AS is_se,
       k.value AS kid, k.std AS kid_se,
       j.model_bytes, j.wall_seconds, j.params_json
FROM jobs j JOIN sweeps s ON s.id = j.sweep_id
LEFT JOIN metrics f ON f.job_id = j.id AND f.name = 'fid'
  AND f.step = (SELECT MAX(step) FROM metrics m WHERE m.job_id = j.id AND m.name = 'fid')
LEFT JOIN metrics i ON i.job_id = j.id AND i.name = 'is'
  AND i.step = (SELECT MAX(step) FROM metrics m WHERE m.job_id = j.id AND m.name = 'is')
LEFT JOIN metrics k ON k.job_id = j.id AND k.name = 'kid'
  AND k.step = (SELECT MAX(step) FROM metrics m WHERE m.job_id = j.id AND m.name = 'kid')
WHERE j.state IN ('SUCCEEDED', 'FAILED');
)sql",
  };
  return migrations;
}

int LatestSchemaVersion() { return static_cast<int>(SchemaMigrations().size()); }

}  // namespace bitsweep::coordinator
