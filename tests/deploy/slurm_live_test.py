#!/usr/bin/python3
"""Live check: deploy/slurm/bitsweep-workers.sbatch under a real Slurm.

Starts a one-node cluster of its own (munged, slurmctld and slurmd from
Debian's munge and slurm-wlm, every file in a temporary folder, the node
being this host with 2 CPUs), a coordinator on a loopback port, and runs
the sbatch script with CPU workers (BITSWEEP_SLURM_DEVICE=cpu, two tasks of
one CPU each):

1. scancel --signal=TERM --batch while synthetic jobs run: every running
   job is handed back (its attempt ends "released", not "expired"), goes
   back to QUEUED with no attempt spent (max_attempts is 1, so a spent
   attempt would be a FAILED job), and the Slurm job ends by itself.
   A second batch job then finishes the sweep, and a small sweep of real
   qgan jobs (Fashion-MNIST, a few dozen iterations, FID/IS/KID from a
   quickly trained classifier): every job SUCCEEDED on its first attempt.
2. The time limit: --time=1 with --signal=B:TERM@20 and
   BITSWEEP_SLURM_RESUBMIT=1. Slurm signals the batch shell before the
   limit; the workers hand their jobs back as above, the script requeues
   the Slurm job, the pool comes back (Restarts >= 1) and finishes the
   sweep. Slurm holds a requeued job for 120 s before it may start again;
   the check lets it start at once (scontrol update StartTime=now).
   `scancel JOBID` then ends the pool for good (CANCELLED, not requeued),
   its running jobs handed back as well.

The store is read with sqlite3, read-only. Exits 77 (skipped) when not run
as root or when the cluster cannot start here.

usage: slurm_live_test.py BITSWEEP_BINARY REPO_ROOT [SBATCH_SCRIPT]
       (SBATCH_SCRIPT defaults to deploy/slurm/bitsweep-workers.sbatch)
"""

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

SKIP = 77
SLURM_COMMANDS = ("munged", "slurmctld", "slurmd", "sbatch", "scancel", "squeue", "scontrol", "sinfo")
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
LEASE_TTL = 10  # seconds; a killed worker's jobs would expire (and fail) this soon
ENDED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL",
         "DEADLINE")


class Failures:
    def __init__(self):
        self.messages = []

    def check(self, condition, message):
        if not condition:
            self.messages.append(message)
            print("FAIL: " + message, file=sys.stderr, flush=True)
        return condition


class Skip(Exception):
    pass


def log(message):
    print(message, flush=True)


def free_ports(n):
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for(condition, timeout, what, interval=0.5):
    """Polls condition() until it returns something true; raises on timeout."""
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.time() > deadline:
            raise TimeoutError("timed out after %d s waiting for %s" % (timeout, what))
        time.sleep(interval)


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(%s)" % e


class Cluster:
    """munged, slurmctld and slurmd in one folder, the node being this host."""

    def __init__(self, root, env):
        self.root = root
        self.conf = os.path.join(root, "slurm.conf")
        # Slurm's commands and daemons find this cluster through SLURM_CONF.
        self.env = dict(env, SLURM_CONF=self.conf)
        self.daemons = []
        self.node = socket.gethostname().split(".")[0]

    def write_config(self):
        for d in ("munge", "state", "spool", "logs"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.chmod(os.path.join(self.root, "munge"), 0o700)
        key = os.path.join(self.root, "munge", "munge.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(os.urandom(1024))
        ctld_port, slurmd_port = free_ports(2)
        r = lambda *p: os.path.join(self.root, *p)  # noqa: E731
        self.munge_socket = r("munge", "munge.socket")
        config = {
            "ClusterName": "bitsweep-test",
            "SlurmctldHost": "%s(127.0.0.1)" % self.node,
            "SlurmctldPort": ctld_port,
            "SlurmdPort": slurmd_port,
            "SlurmUser": "root",
            "SlurmdUser": "root",
            "AuthType": "auth/munge",
            "CredType": "cred/munge",
            "AuthInfo": "socket=" + self.munge_socket,
            "StateSaveLocation": r("state"),
            "SlurmdSpoolDir": r("spool"),
            "SlurmctldPidFile": r("slurmctld.pid"),
            "SlurmdPidFile": r("slurmd.pid"),
            "SlurmctldLogFile": r("logs", "slurmctld.log"),
            "SlurmdLogFile": r("logs", "slurmd.log"),
            # No cgroups, accounting or MPI: runs in a plain container too.
            "ProctrackType": "proctrack/linuxproc",
            "TaskPlugin": "task/none",
            "JobAcctGatherType": "jobacct_gather/none",
            "AccountingStorageType": "accounting_storage/none",
            "JobCompType": "jobcomp/none",
            "MpiDefault": "none",
            "SchedulerType": "sched/builtin",
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_CPU",
            "ReturnToService": 2,
            "KillWait": 10,
            # The node's 2 CPUs whatever this host has.
            "SlurmdParameters": "config_overrides",
        }
        with open(self.conf, "w") as f:
            for k, v in config.items():
                f.write("%s=%s\n" % (k, v))
            f.write("NodeName=%s NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN\n" % self.node)
            f.write("PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n")
        return key

    def start(self):
        key = self.write_config()
        r = lambda *p: os.path.join(self.root, *p)  # noqa: E731
        self.daemon("munged", ["munged", "--foreground", "--force", "--key-file=" + key,
                               "--socket=" + self.munge_socket, "--pid-file=" + r("munge", "munged.pid"),
                               "--log-file=" + r("logs", "munged.log"), "--seed-file=" + r("munge", "munged.seed")])
        wait_for(lambda: os.path.exists(self.munge_socket), 15, "munged's socket")
        self.daemon("slurmctld", ["slurmctld", "-D", "-f", self.conf])
        self.daemon("slurmd", ["slurmd", "-D", "-f", self.conf])
        try:
            wait_for(lambda: self.run(["sinfo", "--noheader", "--format=%T"], check=False).strip() == "idle", 30,
                     "the node to be idle")
        except TimeoutError as e:
            raise Skip("Slurm did not start here (%s)\n--- slurmctld:\n%s--- slurmd:\n%s" %
                       (e, tail(r("logs", "slurmctld.log")), tail(r("logs", "slurmd.log"))))

    def daemon(self, name, argv):
        out = open(os.path.join(self.root, "logs", name + ".stdout"), "w")
        p = subprocess.Popen(argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.daemons.append((name, p))
        time.sleep(0.2)
        if p.poll() is not None:
            raise Skip("%s exited at once (%d):\n%s" % (name, p.returncode, tail(out.name)))

    def run(self, argv, check=True):
        r = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stdout))
        return r.stdout

    def sbatch(self, args, env):
        """Submits a batch job with this environment; returns its id."""
        r = subprocess.run(["sbatch", "--parsable"] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("sbatch: exit %d: %s" % (r.returncode, r.stdout))
        return r.stdout.strip().split(";")[0]

    def job(self, job_id):
        """JobState, Restarts, ExitCode and Reason of a Slurm job."""
        text = self.run(["scontrol", "--oneliner", "show", "job", job_id], check=False)
        fields = dict(re.findall(r"\b(JobState|Restarts|ExitCode|Reason)=(\S+)", text))
        fields.setdefault("JobState", "UNKNOWN")
        return fields

    def stop(self):
        """Ends every job, then the daemons, then whatever they left."""
        try:
            if any(name == "slurmctld" and p.poll() is None for name, p in self.daemons):
                jobs = self.run(["squeue", "--noheader", "--format=%i"], check=False).split()
                if jobs:
                    self.run(["scancel"] + jobs, check=False)
                    try:
                        wait_for(lambda: not self.run(["squeue", "--noheader", "--format=%i"], check=False).split(),
                                 40, "the jobs to end")
                    except TimeoutError as e:
                        log("cleanup: %s" % e)
        finally:
            for _, p in reversed(self.daemons):
                if p.poll() is None:
                    p.terminate()
            for _, p in reversed(self.daemons):
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            # Step daemons and tasks the cluster started (they carry its
            # SLURM_CONF) must not outlive it.
            marker = ("SLURM_CONF=" + self.conf).encode()
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or int(pid) == os.getpid():
                    continue
                try:
                    with open("/proc/%s/environ" % pid, "rb") as f:
                        if marker in f.read().split(b"\0"):
                            os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass


class Store:
    """The coordinator's SQLite store, read-only."""

    def __init__(self, path):
        self.path = path

    def query(self, sql, args=()):
        con = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def jobs(self, sweeps):
        """job id -> (state, attempts spent), for the jobs of these sweeps"""
        return {j: (s, a) for j, s, a in self.query(
            "SELECT id, state, attempts FROM jobs WHERE sweep_id IN (%s)" % ids(sweeps))}

    def attempts(self, sweeps):
        """job id -> [(attempt, outcome)]"""
        rows = {}
        for j, a, outcome in self.query("SELECT a.job_id, a.attempt, a.outcome FROM attempts a JOIN jobs j "
                                        "ON j.id = a.job_id WHERE j.sweep_id IN (%s) ORDER BY 1, 2" % ids(sweeps)):
            rows.setdefault(j, []).append((a, outcome))
        return rows

    def in_state(self, sweeps, state):
        return {j for j, (s, _) in self.jobs(sweeps).items() if s == state}

    def finished(self, sweeps):
        jobs = self.jobs(sweeps)
        return jobs and all(s in ("SUCCEEDED", "FAILED", "CANCELLED") for s, _ in jobs.values())


def ids(sweeps):
    return ",".join(str(int(s)) for s in sweeps)


class Test:
    def __init__(self, binary, script):
        self.binary = binary
        self.script = script
        self.failures = Failures()
        self.figures = []
        self.root = tempfile.mkdtemp(prefix="bitsweep-slurm-live-")
        os.chmod(self.root, 0o755)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "BITSWEEP_", "CUDA_"))}
        self.cluster = Cluster(self.root, self.env)
        self.coordinator = None
        self.evaluator = None

    # --- bitsweep -----------------------------------------------------------

    def start_coordinator(self):
        (port,) = free_ports(1)
        self.address = "127.0.0.1:%d" % port
        self.store = Store(os.path.join(self.root, "store", "bitsweep.db"))
        os.makedirs(os.path.dirname(self.store.path))
        out = open(os.path.join(self.root, "logs", "coordinator.log"), "w")
        self.coordinator = subprocess.Popen(
            [self.binary, "coordinator", "--listen", self.address, "--db", self.store.path,
             "--lease-ttl", str(LEASE_TTL), "--heartbeat", "1"],
            env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: self.bitsweep(["health"], check=False)[0] == 0, 30, "the coordinator")

    def bitsweep(self, args, check=True):
        r = subprocess.run([self.binary] + args + ["--coordinator", self.address], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("bitsweep %s: exit %d: %s" % (" ".join(args), r.returncode, r.stdout))
        return r.returncode, r.stdout

    def submit(self, name, base, axes):
        path = os.path.join(self.root, name + ".json")
        with open(path, "w") as f:
            json.dump({"name": name, "base": base, "strategy": {"kind": "grid", "axes": axes}, "max_attempts": 1}, f)
        _, out = self.bitsweep(["submit", "--spec", path])
        m = re.search(r"sweep (\d+) submitted: (\d+) jobs", out)
        if not m:
            raise RuntimeError("submit %s: %s" % (name, out))
        log("%s: sweep %s, %s jobs" % (name, m.group(1), m.group(2)))
        return int(m.group(1))

    def synthetic(self, name, jobs, seconds):
        return self.submit(name, {"task": "synthetic", "synthetic": {"seconds": seconds}},
                           {"train.seed": list(range(1, jobs + 1))})

    # --- Slurm --------------------------------------------------------------

    def sbatch(self, extra=(), env_extra=None):
        env = dict(self.cluster.env)
        env.update({
            "BITSWEEP_SLURM_BIN": self.binary,
            "BITSWEEP_SLURM_DEVICE": "cpu",
            "BITSWEEP_SLURM_WORK_ROOT": os.path.join(self.root, "scratch"),
            "BITSWEEP_CACHE_DIR": os.path.join(self.root, "cache"),
        })
        env.update(env_extra or {})
        # The script asks for GPUs; this node has none (--gres=none).
        args = ["--gres=none", "--ntasks-per-node=2", "--cpus-per-task=1", "--open-mode=append",
                "--output=" + os.path.join(self.root, "logs", "slurm-%j.out"), "--chdir=" + self.root]
        job = self.cluster.sbatch(args + list(extra) + [self.script, self.address], env)
        log("Slurm job %s submitted %s" % (job, " ".join(extra)))
        return job

    def wait_job(self, job, states, timeout, what):
        """Waits until the Slurm job is in one of these states; returns its fields."""
        def reached():
            fields = self.cluster.job(job)
            return fields if fields["JobState"] in states else None
        return wait_for(reached, timeout, "Slurm job %s: %s" % (job, what))

    def slurm_log(self, job):
        return tail(os.path.join(self.root, "logs", "slurm-%s.out" % job), 60)

    # --- checks -------------------------------------------------------------

    def check_handed_back(self, sweeps, running, path):
        """After a stop: the jobs that ran are back in the queue, released,
        with no attempt spent. Returns (handed back, attempts spent)."""
        f = self.failures
        jobs = self.store.jobs(sweeps)
        attempts = self.store.attempts(sweeps)
        released = sorted(j for j, rows in attempts.items() if any(o == "released" for _, o in rows))
        spent_rows = [(j, a, o) for j, rows in attempts.items() for a, o in rows if o in ("expired", "failed")]
        still_leased = sorted(j for j, (s, _) in jobs.items() if s == "RUNNING")
        spent = len(spent_rows) + len(still_leased)
        self.figures.append("%s: %d job(s) handed back, %d attempt(s) spent" % (path, len(released), spent))
        log(self.figures[-1])
        f.check(running, "%s: no job was running when the stop came" % path)
        f.check(released, "%s: no job was handed back (no attempt ended \"released\"): %s" %
                (path, {j: rows for j, rows in attempts.items() if rows != [(1, "succeeded")]}))
        f.check(not spent_rows, "%s: attempts ended expired or failed (job, attempt, outcome): %s" % (path, spent_rows))
        f.check(not still_leased, "%s: jobs %s still RUNNING after the workers stopped (their leases will expire "
                "and spend an attempt)" % (path, still_leased))
        failed = sorted(j for j, (s, _) in jobs.items() if s == "FAILED")
        f.check(not failed, "%s: jobs %s FAILED (max_attempts 1: an attempt was spent)" % (path, failed))
        for j in sorted(running):
            state, spent_attempts = jobs[j]
            if state == "SUCCEEDED":
                continue  # finished just before the signal
            f.check(state == "QUEUED" and spent_attempts == 0 and j in released,
                    "%s: job %d, running when stopped, is %s with %d attempt(s) spent, attempts %s "
                    "(expected QUEUED, 0, released)" % (path, j, state, spent_attempts, attempts.get(j)))
        return len(released), spent

    def check_all_succeeded_once(self, sweeps, what):
        jobs = self.store.jobs(sweeps)
        attempts = self.store.attempts(sweeps)
        for j, (state, spent) in sorted(jobs.items()):
            self.failures.check(state == "SUCCEEDED" and spent == 1 and attempts.get(j) == [(1, "succeeded")],
                                "%s: job %d is %s after %d attempt(s), attempts %s (expected SUCCEEDED once)" %
                                (what, j, state, spent, attempts.get(j)))

    # --- the scenarios ------------------------------------------------------

    def scancel_path(self):
        """scancel --signal=TERM --batch while jobs run, then a later batch
        job finishes them, and a sweep of real qgan jobs."""
        sweeps = [self.synthetic("scancel-stop", jobs=6, seconds=4)]
        started = time.time()
        job = self.sbatch()
        running = wait_for(lambda: len(self.store.in_state(sweeps, "RUNNING")) == 2 and
                           self.store.in_state(sweeps, "RUNNING"), 60, "two jobs running")
        signalled = time.time()
        self.cluster.run(["scancel", "--signal=TERM", "--batch", job])
        end = self.wait_job(job, ENDED, 60, "end after SIGTERM")
        self.figures.append("scancel --signal=TERM --batch: the Slurm job ended %.1f s after the signal (%s, exit %s)"
                            % (time.time() - signalled, end["JobState"], end.get("ExitCode")))
        log(self.figures[-1])
        self.failures.check(end["JobState"] == "COMPLETED" and end.get("ExitCode") == "0:0",
                            "Slurm job %s after SIGTERM: %s (expected COMPLETED, exit 0:0)\n%s" %
                            (job, end, self.slurm_log(job)))
        self.check_handed_back(sweeps, running, "scancel --signal=TERM --batch")

        # A later batch job finishes the sweep.
        job = self.sbatch()
        wait_for(lambda: self.store.finished(sweeps), 120, "the sweep to finish")
        self.figures.append("synthetic sweep (6 jobs x 4 s, 2 workers, stopped and restarted once): %.1f s from the "
                            "first sbatch" % (time.time() - started))
        log(self.figures[-1])
        self.check_all_succeeded_once(sweeps, "scancel path, after the second batch job")

        # Real training through the same workers: a classifier evaluator
        # (trained meanwhile) gives FID/IS/KID their feature space.
        rc = self.evaluator.wait(300)
        if not self.failures.check(rc == 0, "evaluator train: exit %d:\n%s" % (rc, tail(self.evaluator_log))):
            return
        qgan_submitted = time.time()
        qgan = [self.submit("qgan-on-slurm", self.qgan_base(), {"quant.g.bits": [1, 2]})]
        wait_for(lambda: self.store.finished(qgan), 300, "the qgan sweep to finish")
        self.figures.append("qgan sweep (2 jobs, 40 iterations, FID/IS/KID on 256 samples): %.1f s from submit" %
                            (time.time() - qgan_submitted))
        log(self.figures[-1])
        self.check_all_succeeded_once(qgan, "qgan sweep")
        for j in self.store.jobs(qgan):
            metrics = {n for (n,) in self.store.query(
                "SELECT name FROM metrics WHERE job_id = ? AND evaluator_hash != ''", (j,))}
            self.failures.check({"fid", "is", "kid"} <= metrics,
                                "qgan job %d: metrics %s, expected fid, is, kid" % (j, sorted(metrics)))
        # Idle workers stop with the pool.
        self.cluster.run(["scancel", "--signal=TERM", "--batch", job])
        end = self.wait_job(job, ENDED, 60, "end after SIGTERM")
        self.failures.check(end["JobState"] == "COMPLETED",
                            "idle pool %s after SIGTERM: %s\n%s" % (job, end, self.slurm_log(job)))

    def time_limit_path(self):
        """--time=1 --signal=B:TERM@20 with BITSWEEP_SLURM_RESUBMIT=1."""
        # Slurm sends the signal at its next time-limit check (every 30 s)
        # once fewer than 20 + 30 s are left: 10 to 40 s after the start.
        # Jobs must be running whenever it comes, and little left to do
        # after it: small sweeps are added while the queue runs low.
        sweeps = [self.synthetic("time-limit-stop-1", jobs=4, seconds=3)]
        started = time.time()
        job = self.sbatch(["--time=1", "--signal=B:TERM@20"], {"BITSWEEP_SLURM_RESUBMIT": "1"})
        self.wait_job(job, ("RUNNING",), 60, "start")
        running = set()

        def stopped():
            nonlocal running
            state = self.cluster.job(job)
            # Requeued (PENDING) or ended; in between Slurm also shows
            # SIGNALING, COMPLETING or REQUEUED for a moment.
            if state["JobState"] == "PENDING" or state["JobState"] in ENDED:
                return state
            if state["JobState"] != "RUNNING":
                return None
            running = self.store.in_state(sweeps, "RUNNING") or running
            if len(self.store.in_state(sweeps, "QUEUED")) < 3:
                sweeps.append(self.synthetic("time-limit-stop-%d" % (len(sweeps) + 1), jobs=4, seconds=3))
            return None

        state = wait_for(stopped, 120, "the stop before the time limit")
        self.figures.append("time limit (--time=1 --signal=B:TERM@20): the pool stopped %.0f s after sbatch" %
                            (time.time() - started))
        log(self.figures[-1])
        # Requeued by the script: pending again.
        self.failures.check(state["JobState"] == "PENDING" and int(state.get("Restarts", 0)) >= 1,
                            "BITSWEEP_SLURM_RESUBMIT=1: Slurm job %s is %s after the stop, expected PENDING "
                            "(requeued)\n%s" % (job, state, self.slurm_log(job)))
        self.check_handed_back(sweeps, running, "time limit")

        # The pool comes back and finishes the sweeps (and would stop and
        # come back again if they outlasted its next time limit). Slurm
        # holds a requeued job for 120 s; it may start at once instead, but
        # not within a second or two of the requeue (its credential was
        # revoked then, at one-second resolution).
        restarts = set()
        pending_since = None

        def finished():
            nonlocal pending_since
            state = self.cluster.job(job)
            if state["JobState"] == "PENDING":
                pending_since = pending_since or time.time()
                if time.time() - pending_since > 2:
                    self.cluster.run(["scontrol", "update", "JobId=" + job, "StartTime=now"], check=False)
                    pending_since = None
            elif state["JobState"] == "RUNNING":
                restarts.add(int(state.get("Restarts", 0)))
            elif state["JobState"] in ENDED:
                raise RuntimeError("Slurm job %s ended (%s) before the sweeps did\n%s" %
                                   (job, state, self.slurm_log(job)))
            return self.store.finished(sweeps)

        wait_for(finished, 240, "the requeued pool to finish the sweeps", interval=1)
        self.figures.append("time-limit sweeps (%d jobs x 3 s, 2 workers): %.1f s from sbatch, the pool started %d "
                            "time(s)" % (len(self.store.jobs(sweeps)), time.time() - started, 1 + len(restarts)))
        log(self.figures[-1])
        self.failures.check(restarts, "the requeued Slurm job %s never ran again" % job)
        self.check_all_succeeded_once(sweeps, "time-limit path, after the requeued pool")

        # scancel ends a resubmitting pool for good, and Slurm's own SIGTERM
        # to the tasks hands their running jobs back too.
        last = [self.synthetic("scancel-job", jobs=2, seconds=30)]
        running = wait_for(lambda: len(self.store.in_state(last, "RUNNING")) == 2 and
                           self.store.in_state(last, "RUNNING"), 60, "two jobs running")
        self.cluster.run(["scancel", job])
        end = self.wait_job(job, ENDED, 60, "end after scancel")
        time.sleep(3)
        after = self.cluster.job(job)
        self.failures.check(end["JobState"] == "CANCELLED" and after["JobState"] == "CANCELLED",
                            "scancel %s: %s, then %s (expected CANCELLED, not requeued)\n%s" %
                            (job, end, after, self.slurm_log(job)))
        self.check_handed_back(last, running, "scancel JOBID")

    def qgan_base(self):
        return {
            "task": "qgan",
            "dataset": {"name": "fashion-mnist", "root": FASHION_MNIST, "image_size": 32, "limit": 1024},
            "model": {"arch": "dcgan32", "nz": 16, "ngf": 8, "ndf": 8},
            "loss": "bce",
            "quant": {"g": {"method": "em", "bits": 2}, "d": {"method": "none", "bits": 32}},
            "train": {"iterations": 40, "batch_size": 32, "seed": 7, "checkpoint_every": 20},
            "eval": {"evaluator": {"kind": "classifier", "path": self.classifier},
                     "metrics": ["fid", "is", "kid"], "num_samples": 256},
            "runtime": {"device": "cpu", "threads": 1},
        }

    def run(self):
        t0 = time.time()
        self.cluster.start()
        self.figures.append("cluster up in %.1f s" % (time.time() - t0))
        log(self.figures[-1])
        self.start_coordinator()
        self.classifier = os.path.join(self.root, "classifier.pt")
        self.evaluator_log = os.path.join(self.root, "logs", "evaluator.log")
        with open(self.evaluator_log, "w") as out:
            self.evaluator = subprocess.Popen(
                [self.binary, "evaluator", "train", "--dataset", "fashion-mnist", "--epochs", "1", "--limit", "1000",
                 "--threads", "1", "--out", self.classifier], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.scancel_path()
        self.time_limit_path()
        self.figures.append("whole check: %.1f s" % (time.time() - t0))

    def report_logs(self):
        logs = os.path.join(self.root, "logs")
        for name in sorted(os.listdir(logs)):
            if name.startswith("slurm-") or name in ("coordinator.log", "slurmctld.log", "slurmd.log"):
                print("--- %s:\n%s" % (name, tail(os.path.join(logs, name))), file=sys.stderr)

    def close(self):
        if self.evaluator and self.evaluator.poll() is None:
            self.evaluator.kill()
            self.evaluator.wait()
        self.cluster.stop()
        if self.coordinator:
            self.coordinator.terminate()
            try:
                self.coordinator.wait(20)
            except subprocess.TimeoutExpired:
                self.coordinator.kill()
                self.coordinator.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary = os.path.abspath(sys.argv[1])
    repo = os.path.abspath(sys.argv[2])
    script = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else os.path.join(
        repo, "deploy", "slurm", "bitsweep-workers.sbatch")
    if os.geteuid() != 0:
        print("SKIP: runs its own Slurm daemons, which needs root")
        sys.exit(SKIP)
    missing = [c for c in SLURM_COMMANDS if shutil.which(c) is None]
    if missing:
        print("SKIP: %s not found (bash scripts/install-deps.sh test installs slurm-wlm and munge)" % " ".join(missing))
        sys.exit(SKIP)
    if not os.path.isdir(FASHION_MNIST):
        print("FAIL: Fashion-MNIST is not in %s (bash scripts/install-deps.sh test)" % FASHION_MNIST, file=sys.stderr)
        sys.exit(1)
    # ctest's timeout sends SIGTERM: stop the cluster on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    test = Test(binary, script)
    code = 0
    try:
        test.run()
    except Skip as e:
        print("SKIP: %s" % e)
        code = SKIP
    except Exception as e:  # a timeout or a command that failed: name it, show the logs
        test.failures.check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        if code != SKIP and test.failures.messages:
            test.report_logs()
        test.close()
    if code == SKIP:
        sys.exit(SKIP)
    print("\n".join(test.figures))
    if test.failures.messages:
        print("%d problem(s)" % len(test.failures.messages), file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
