#!/usr/bin/env bash
# The Docker Compose deployment, driven for real as docs/deployment.md tells
# a new user: images built from a clean copy of the checkout, the evaluator
# trained through the image, a coordinator, two workers and the dashboard
# started with docker-compose, a small real Fashion-MNIST sweep submitted
# through the published port, one worker killed in the middle of a job and
# brought back, `down` then `up` (the store and every artifact stay), and
# `down -v` (both volumes go).
#
#   sudo bash tests/deploy/compose_live_test.sh
#
# Needs root and `scripts/install-deps.sh deploy` (docker.io, docker-compose,
# debootstrap). It starts dockerd when none runs (and stops it again). Where
# `debian:12` cannot be pulled and is not there, it makes the base image from
# a minimal Debian root (debootstrap + docker import, kept as
# bitsweep-debian12-minbase for the next run) and passes it through the
# Dockerfile's DEBIAN_IMAGE argument. Settings:
#   BITSWEEP_DEBIAN_IMAGE   base image to build on (default: see above)
#   BITSWEEP_LIVE_KEEP=1    leave the images (bitsweep:live-test) behind
# Exit status: 0 passed, 1 failed, 77 cannot run here (not root, no Docker).
# It prints the figures docs/deployment.md reports: build time, image sizes,
# time from `up` to healthy, the sweep's wall time, what the kill cost.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
project=bitsweeplive
image=bitsweep:live-test
skip() { echo "compose_live_test: SKIPPED: $*"; exit 77; }
fail() { echo "compose_live_test: FAILED: $*" >&2; exit 1; }
say() { echo "compose_live_test: $*"; }
now() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }

[[ "$(id -u)" -eq 0 ]] || skip "needs root (it starts dockerd and writes /var/lib/docker)"
for tool in docker dockerd docker-compose debootstrap curl; do
  command -v "$tool" >/dev/null || skip "$tool is missing: bash scripts/install-deps.sh deploy"
done

work="$(mktemp -d /tmp/bitsweep-compose-live.XXXXXX)"
started_dockerd=""
compose_dir="$work/checkout/deploy/docker"
cleanup() {
  local status=$?
  if [[ -f "$compose_dir/.env" ]]; then
    if [[ $status -ne 0 ]]; then
      (cd "$compose_dir" && docker-compose logs --no-color --tail 60 2>&1 | tail -150) || true
    fi
    (cd "$compose_dir" && docker-compose down -v --remove-orphans >/dev/null 2>&1) || true
  fi
  if [[ "${BITSWEEP_LIVE_KEEP:-0}" != 1 ]]; then
    docker image rm -f "$image" "$image-build" >/dev/null 2>&1 || true
  fi
  if [[ -n "$started_dockerd" ]]; then
    kill "$started_dockerd" 2>/dev/null || true
    wait "$started_dockerd" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT

# --- the engine -----------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  dockerd >"$work/dockerd.log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 "$work/dockerd.log"; skip "dockerd does not start here"; }
fi

# --- the base image ---------------------------------------------------------
base="${BITSWEEP_DEBIAN_IMAGE:-}"
if [[ -z "$base" ]]; then
  if docker image inspect debian:12 >/dev/null 2>&1 || docker pull -q debian:12 >/dev/null 2>&1; then
    base=debian:12
  else
    base=bitsweep-debian12-minbase:latest
    if ! docker image inspect "$base" >/dev/null 2>&1; then
      say "no debian:12 to pull: making $base from a minimal Debian root"
      debootstrap --variant=minbase bookworm "$work/root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log"; fail "debootstrap failed"; }
      tar -C "$work/root" -c . | docker import - "$base" >/dev/null
      rm -rf "$work/root"
    fi
  fi
fi
say "base image: $base"

# --- a clean copy of the checkout, set up as the docs say -----------------
mkdir -p "$work/checkout"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
   while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done |
   tar --null -T - -cf -) | tar -C "$work/checkout" -xf -
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
dashboard_port="$(free_port)"
[[ "$port" != "$dashboard_port" ]] || dashboard_port="$(free_port)"
mkdir -p "$work/evaluators" "$work/client"
chown 10001:10001 "$work/evaluators"
cd "$compose_dir"
cp .env.example .env
set_env() {
  if grep -q "^$1=" .env; then sed -i "s|^$1=.*|$1=$2|" .env; else echo "$1=$2" >>.env; fi
}
set_env COMPOSE_PROJECT_NAME "$project"
set_env BITSWEEP_IMAGE "$image"
set_env BITSWEEP_DEBIAN_IMAGE "$base"
set_env BITSWEEP_PORT "$port"
set_env BITSWEEP_DASHBOARD_PORT "$dashboard_port"
set_env BITSWEEP_EVALUATORS_DIR "$work/evaluators"
# Two workers on this host share its cores; a killed worker's job goes back
# to the queue within the lease TTL.
set_env BITSWEEP_CPU_THREADS 1
set_env BITSWEEP_LEASE_TTL 10
set_env BITSWEEP_HEARTBEAT 2

# --- build ------------------------------------------------------------------
# The coordinator, dashboard and worker services share one image: the first
# build makes it from scratch (timed), the others must come from its layers.
say "docker-compose build (the image from scratch, then every service)"
t0="$(now)"
docker-compose build --no-cache coordinator >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; fail "docker-compose build coordinator"; }
build_seconds="$(seconds_since "$t0")"
t0="$(now)"
docker-compose build >>"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "docker-compose build"; }
rebuild_seconds="$(seconds_since "$t0")"
# The build stage alone, from the layers just built, for its size.
docker build -q --target build --build-arg "DEBIAN_IMAGE=$base" -t "$image-build" \
  -f Dockerfile ../.. >/dev/null
size_mb() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.0f", $1 / 1e6 }'; }
runtime_mb="$(size_mb "$image")"
build_stage_mb="$(size_mb "$image-build")"
say "built in ${build_seconds} s (the other services then ${rebuild_seconds} s): runtime image ${runtime_mb} MB, \
build stage ${build_stage_mb} MB"
# Nothing to build or test with in the runtime image.
for absent in g++ cmake npm node; do
  if docker run --rm --entrypoint /bin/sh "$image" -c "command -v $absent" >/dev/null 2>&1; then
    fail "the runtime image has $absent"
  fi
done

# --- the evaluator, trained through the image (docs/deployment.md, 2) -----
say "training the evaluator through the image"
t0="$(now)"
docker run --rm \
  -v /usr/share/datasets/fashion-mnist:/usr/share/datasets/fashion-mnist:ro \
  -v "$work/evaluators:/srv/bitsweep/evaluators" \
  "$image" bitsweep evaluator train --dataset fashion-mnist \
  --out /srv/bitsweep/evaluators/fmnist-classifier.pt >"$work/evaluator.log" 2>&1 ||
  { tail -20 "$work/evaluator.log"; fail "evaluator train"; }
evaluator_seconds="$(seconds_since "$t0")"
[[ -s "$work/evaluators/fmnist-classifier.pt" ]] || fail "no evaluator file"
say "evaluator trained in ${evaluator_seconds} s"

# --- up ---------------------------------------------------------------------
store_sql() {
  docker-compose exec -T coordinator sqlite3 -readonly /var/lib/bitsweep/store.db "$1"
}
wait_healthy() {
  local id
  id="$(docker-compose ps -q coordinator)"
  for _ in $(seq 120); do
    [[ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" == healthy ]] && return 0
    sleep 1
  done
  fail "the coordinator is not healthy after 120 s"
}
say "docker-compose up -d --scale worker=2"
t0="$(now)"
docker-compose up -d --scale worker=2 >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "up"; }
wait_healthy
healthy_seconds="$(seconds_since "$t0")"
say "coordinator healthy ${healthy_seconds} s after up"

# The client, as docs/deployment.md runs it from the image.
client() {
  docker run --rm --network host -u 0:0 -v "$work/client:$work/client" -w "$work/client" \
    -e "BITSWEEP_COORDINATOR=127.0.0.1:$port" "$image" bitsweep "$@"
}

# --- a small real sweep -----------------------------------------------------
cat >"$work/client/sweep.json" <<'EOF'
{
  "name": "compose-live-test",
  "base": {
    "task": "qgan",
    "dataset": { "name": "fashion-mnist", "root": "/usr/share/datasets/fashion-mnist", "image_size": 32 },
    "model": { "arch": "dcgan32", "nz": 64, "ngf": 32, "ndf": 32 },
    "loss": "bce",
    "quant": { "g": { "method": "em", "bits": 2 }, "d": { "method": "none", "bits": 32 } },
    "train": { "iterations": 1500, "batch_size": 64, "seed": 1, "checkpoint_every": 50 },
    "eval": {
      "evaluator": { "kind": "classifier", "path": "/srv/bitsweep/evaluators/fmnist-classifier.pt" },
      "metrics": ["fid", "is", "kid"], "num_samples": 1000
    },
    "runtime": { "device": "cpu", "threads": 1 }
  },
  "strategy": { "kind": "grid", "axes": { "quant.g.method": ["em", "minmax", "log"], "quant.g.bits": [2, 4] } },
  "max_attempts": 3
}
EOF
t0="$(now)"
client submit --spec "$work/client/sweep.json" || fail "submit"

# One worker killed in the middle of a job: the first job seen 20 s into
# its attempt. The worker's container's hostname is the worker's host.
now_ms="CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
killed_job="" killed_container=""
for _ in $(seq 600); do
  row="$(store_sql "SELECT a.job_id, w.host FROM attempts a JOIN workers w ON w.id = a.worker_id
                    WHERE a.ended_ms IS NULL AND a.started_ms < $now_ms - 20000 LIMIT 1" 2>/dev/null || true)"
  if [[ -n "$row" ]]; then
    killed_job="${row%%|*}"
    killed_container="${row##*|}"
    break
  fi
  sleep 1
done
[[ -n "$killed_job" ]] || fail "no job ran for 20 s within 10 minutes"
say "killing worker container $killed_container while it runs job $killed_job"
docker kill "$killed_container" >/dev/null
docker-compose up -d --scale worker=2 >>"$work/up.log" 2>&1 || fail "bringing the worker back"

# --- wait for the sweep -------------------------------------------------------
for _ in $(seq 1800); do
  state="$(store_sql "SELECT state FROM sweeps WHERE id = 1")"
  [[ "$state" == RUNNING ]] || break
  sleep 1
done
sweep_seconds="$(seconds_since "$t0")"
[[ "$state" == DONE ]] || fail "the sweep ended $state (or did not end in 30 minutes)"
say "sweep done in ${sweep_seconds} s"

jobs_succeeded="$(store_sql "SELECT COUNT(*) FROM jobs WHERE sweep_id = 1 AND state = 'SUCCEEDED'")"
[[ "$jobs_succeeded" == 6 ]] || fail "$jobs_succeeded of 6 jobs SUCCEEDED"
# Exactly once: every job has one succeeded attempt and one result.
twice="$(store_sql "SELECT job_id FROM attempts WHERE outcome = 'succeeded' GROUP BY job_id HAVING COUNT(*) != 1")"
[[ -z "$twice" ]] || fail "jobs with other than one succeeded attempt: $twice"
[[ "$(store_sql "SELECT COUNT(*) FROM attempts WHERE outcome = 'succeeded'")" == 6 ]] || fail "succeeded attempts != 6"
killed_attempts="$(store_sql "SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM attempts
                              WHERE job_id = $killed_job ORDER BY attempt)")"
[[ "$killed_attempts" == *expired*succeeded* ]] ||
  fail "job $killed_job's attempts are '$killed_attempts', not an expired one then a success"
extra_attempts="$(store_sql "SELECT COUNT(*) - 6 FROM attempts")"
killed_wall="$(store_sql "SELECT (MAX(ended_ms) - MIN(started_ms)) / 1000.0 FROM attempts WHERE job_id = $killed_job")"
resumed="$(store_sql "SELECT json_extract(result_json, '$.resumed_from_step') FROM jobs WHERE id = $killed_job")"
say "kill: job $killed_job attempts $killed_attempts; $extra_attempts attempt(s) more than jobs; \
its wall ${killed_wall} s; resumed from step ${resumed:-0}"

# --- results and an artifact through the published port ----------------------
client results --sweep 1 --format csv >"$work/results-before.csv" || fail "results"
[[ "$(grep -c '^compose-live-test,' "$work/results-before.csv")" == 6 ]] ||
  { cat "$work/results-before.csv"; fail "results does not show 6 rows"; }
client artifacts list --sweep 1 >"$work/artifacts-before.txt" || fail "artifacts list"
client artifacts get --job "$killed_job" samples.png -o "$work/client/samples.png" || fail "artifacts get"
[[ "$(head -c 8 "$work/client/samples.png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] ||
  fail "samples.png is not a PNG"

# Every artifact of the sweep, fetched and hashed: "job name sha256" lines.
fetch_all() {
  local out="$1"
  : >"$out"
  for job in $(store_sql "SELECT id FROM jobs WHERE sweep_id = 1 ORDER BY id"); do
    for name in samples.png generator.bsg; do
      client artifacts get --job "$job" "$name" -o "$work/client/got" >/dev/null || fail "artifacts get $job $name"
      echo "$job $name $(sha256sum "$work/client/got" | cut -c1-64)" >>"$out"
    done
  done
}
fetch_all "$work/fetched-before.txt"

# --- the dashboard on its published loopback port ----------------------------
curl -fsS "http://127.0.0.1:$dashboard_port/" >"$work/dashboard.html" || fail "the dashboard does not answer"
curl -fsS "http://127.0.0.1:$dashboard_port/api/sweeps" | grep -q compose-live-test ||
  fail "the dashboard does not list the sweep"

# --- down, up: everything kept ------------------------------------------------
docker-compose down >"$work/down.log" 2>&1 || fail "down"
docker-compose up -d --scale worker=2 >>"$work/up.log" 2>&1 || fail "up after down"
wait_healthy
client results --sweep 1 --format csv >"$work/results-after.csv" || fail "results after down/up"
cmp -s "$work/results-before.csv" "$work/results-after.csv" || fail "results changed across down/up"
fetch_all "$work/fetched-after.txt"
cmp -s "$work/fetched-before.txt" "$work/fetched-after.txt" || fail "artifacts changed across down/up"
say "down + up: results and all $(wc -l <"$work/fetched-after.txt") artifacts kept"

# --- down -v: the volumes go ----------------------------------------------------
docker-compose down -v >>"$work/down.log" 2>&1 || fail "down -v"
left="$(docker volume ls -q | grep "^${project}_" || true)"
[[ -z "$left" ]] || fail "volumes left after down -v: $left"
rm -f .env  # the trap has nothing left to take down

echo
echo "compose_live_test: PASSED"
echo "  base image                $base"
echo "  docker-compose build      ${build_seconds} s from scratch ($(nproc) cores), the other services ${rebuild_seconds} s"
echo "  runtime image             ${runtime_mb} MB (build stage ${build_stage_mb} MB)"
echo "  evaluator through image   ${evaluator_seconds} s"
echo "  up -> coordinator healthy ${healthy_seconds} s"
echo "  sweep (6 jobs, 2 workers) ${sweep_seconds} s"
echo "  worker kill               job $killed_job: $killed_attempts, its wall ${killed_wall} s, resumed from step ${resumed:-0}"
