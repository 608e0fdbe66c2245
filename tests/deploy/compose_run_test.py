#!/usr/bin/python3
"""Check 3: the compose file's own commands run a sweep.

Takes the coordinator and worker services from `docker-compose config`
(with the .env.example values) and runs their exact commands, with the
environment compose gives them, as local processes: container paths are
moved into a temporary folder (named volumes shared, everything else per
container, like Docker), addresses to a free loopback port. Then a small
synthetic sweep is submitted with `bitsweep submit --watch`, every job must
be SUCCEEDED in the store the coordinator's BITSWEEP_DB names, and the
coordinator service's healthcheck command must pass while it runs and fail
once it is stopped. Workers and coordinator must stop cleanly on SIGTERM,
and the coordinator must accept deploy/docker/sweep-example.json, the
sweep docs/deployment.md submits (with the workers gone, nothing of it runs).

The same again with docker-compose.tls.yml on top, with test certificates
and a token made with openssl: the TLS flags, secrets and variables of the
overlay must connect workers (mutual TLS) and users (token).

usage: compose_run_test.py BITSWEEP_BINARY REPO_ROOT
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
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_files as d  # noqa: E402

WORKERS = 2  # as with `--scale worker=2`
SWEEP = {
    "name": "deploy-check",
    "base": {"task": "synthetic", "synthetic": {"seconds": 0.2}},
    "strategy": {"kind": "grid", "axes": {"train.seed": [1, 2, 3, 4]}},
}


def port_open(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_ports(n):
    """n different free loopback ports (held open together while chosen, so
    the two runs cannot be handed the same one)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Sandbox:
    """Maps one compose container's paths and addresses to this machine."""

    def __init__(self, root, config, service, replica, port, container_port, secrets_dir):
        self.root = root
        self.port = port
        self.container_port = container_port
        self.secrets_dir = secrets_dir
        self.own = os.path.join(root, "containers", "%s-%d" % (service, replica))
        # Named volumes are shared between containers; the rest of the file
        # system is the container's own.
        named = set(config.get("volumes") or {})
        self.volumes = []
        for v in config["services"][service].get("volumes", []):
            source, target = str(v).split(":")[:2]
            if source in named:
                self.volumes.append((target, os.path.join(root, "volumes", source)))

    def path(self, p):
        if p.startswith("/run/secrets/"):
            return os.path.join(self.secrets_dir, p[len("/run/secrets/"):])
        for target, source in self.volumes:
            if p == target or p.startswith(target + "/"):
                return source + p[len(target):]
        return self.own + p

    def value(self, v):
        v = str(v)
        # host:port of the coordinator: the listen address or an address to
        # reach it by. The host name localhost stays (TLS checks it).
        m = re.match(r"^([A-Za-z0-9.-]+):(\d+)$", v)
        if m and int(m.group(2)) == self.container_port:
            host = m.group(1)
            return "%s:%d" % ("localhost" if host == "localhost" else "127.0.0.1", self.port)
        if v.startswith("/"):
            return self.path(v)
        return v

    def prepare(self, service_config):
        """The folders that exist when the container starts: the image's
        (its volume, the cache folder) and every mount point."""
        folders = ["/var/lib/bitsweep", "/var/cache/bitsweep"]
        folders += [str(v).split(":")[1] for v in service_config.get("volumes", [])]
        for folder in folders:
            os.makedirs(self.path(folder), exist_ok=True)


def command(binary, argv):
    if os.path.basename(argv[0]) != "bitsweep":
        raise SystemExit("not a bitsweep command: %r" % argv)
    return [binary] + [str(a) for a in argv[1:]]


def base_env():
    # Nothing of the caller's BITSWEEP_* may leak in: only what compose sets.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BITSWEEP_")}
    return env


class Process:
    def __init__(self, name, argv, env, cwd, log_dir):
        self.name = name
        self.log_path = os.path.join(log_dir, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)

    def text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, timeout=20):
        """SIGTERM, as `docker stop` sends; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def make_tls_files(folder):
    """A CA for the coordinator, another for workers (so swapped files
    fail), their certificates and a token, as docker-compose.tls.yml wants
    them under /run/secrets/."""
    os.makedirs(folder, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, cwd=folder, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    def ca(name):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + name)

    def leaf(name, ca_name, ext):
        with open(os.path.join(folder, name + ".ext"), "w") as f:
            f.write(ext)
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        run("x509", "-req", "-in", name + ".csr", "-CA", ca_name + ".pem", "-CAkey", ca_name + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")

    ca("server-ca")
    ca("worker-ca")
    # "coordinator" is what docker-compose.tls.yml asks for; here the
    # processes dial 127.0.0.1 in its place, and users localhost.
    leaf("coordinator", "server-ca", "subjectAltName=DNS:coordinator,DNS:localhost,IP:127.0.0.1\n"
                                     "extendedKeyUsage=serverAuth\n")
    leaf("worker", "worker-ca", "extendedKeyUsage=clientAuth\n")
    with open(os.path.join(folder, "token"), "w") as f:
        f.write("deploy-check-token\n")
    # The overlay's secret names -> the files made above.
    secrets = {
        "bitsweep_ca": "server-ca.pem",
        "bitsweep_coordinator_cert": "coordinator.pem",
        "bitsweep_coordinator_key": "coordinator.key",
        "bitsweep_worker_ca": "worker-ca.pem",
        "bitsweep_worker_cert": "worker.pem",
        "bitsweep_worker_key": "worker.key",
        "bitsweep_token": "token",
    }
    mounted = os.path.join(folder, "run-secrets")
    os.makedirs(mounted)
    for name, file in secrets.items():
        shutil.copy(os.path.join(folder, file), os.path.join(mounted, name))
    return mounted


def run_sweep(failures, binary, root, port, files, tls, example_spec=None, check_down=False):
    label = " + ".join(files)
    os.makedirs(root)
    config = d.compose_config(files)
    services = config["services"]
    secrets_dir = make_tls_files(os.path.join(root, "tls")) if tls else os.path.join(root, "no-secrets")

    coord = services["coordinator"]
    listen = str(coord["environment"].get("BITSWEEP_LISTEN", "0.0.0.0:50051"))
    container_port = int(listen.rsplit(":", 1)[1])
    # Every secret a service names must exist in the folder (as compose
    # would refuse a missing file).
    for name, service in services.items():
        for s in service.get("secrets", []):
            source = s["source"] if isinstance(s, dict) else s
            failures.check(not tls or os.path.exists(os.path.join(secrets_dir, source)),
                           "%s: service %s: secret %s has no test file" % (label, name, source))

    def start(service, replica):
        box = Sandbox(root, config, service, replica, port, container_port, secrets_dir)
        env = base_env()
        env.update({k: box.value(v) for k, v in (services[service].get("environment") or {}).items()})
        box.prepare(services[service])
        argv = [box.value(a) for a in command(binary, services[service]["command"])]
        argv[0] = binary
        cwd = box.path("/var/lib/bitsweep")  # the image's WORKDIR
        return box, env, Process("%s-%d" % (service, replica), argv, env, cwd, root)

    coord_box = Sandbox(root, config, "coordinator", 1, port, container_port, secrets_dir)
    health_argv = [coord_box.value(a) for a in d.healthcheck_argv(coord["healthcheck"]["test"])]
    health_argv = command(binary, health_argv)

    def healthy(env):
        r = subprocess.run(health_argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=30)
        return r.returncode, r.stdout.strip()

    processes = []
    client_env = base_env()
    try:
        box, coord_env, coordinator = start("coordinator", 1)
        processes.append(coordinator)
        deadline = time.time() + 30
        # Each start of the binary loads LibTorch (a second or two of CPU):
        # wait for the port to open before asking for its health, and start
        # the workers meanwhile (compose would wait for "healthy" first; the
        # workers retry until the coordinator answers either way).
        while time.time() < deadline and coordinator.proc.poll() is None and not port_open(port):
            time.sleep(0.05)
        workers = [start("worker", i)[2] for i in range(1, WORKERS + 1)]
        processes += workers
        code, out = healthy(coord_env)
        while code != 0 and time.time() < deadline and coordinator.proc.poll() is None:
            time.sleep(0.2)
            code, out = healthy(coord_env)
        if not failures.check(code == 0, "%s: the coordinator's healthcheck %s never passed (%s); log:\n%s" %
                              (label, health_argv[1:], out, coordinator.text())):
            return

        # A worker the coordinator refuses (TLS, token) retries for ever:
        # name it here rather than wait for the sweep to time out.
        deadline = time.time() + 30
        while time.time() < deadline and not all("registered" in w.text() for w in workers):
            time.sleep(0.1)
        for w in workers:
            if not failures.check("registered" in w.text(), "%s: %s did not register within 30 s; log:\n%s" %
                                  (label, w.name, w.text()[-3000:])):
                return

        spec = os.path.join(root, "sweep.json")
        with open(spec, "w") as f:
            json.dump(SWEEP, f)
        client = [binary, "submit", "--spec", spec, "--watch", "--coordinator", "127.0.0.1:%d" % port]
        if tls:
            # A user on the host: the CA and the token, no client certificate.
            client_env["BITSWEEP_TLS_CA"] = os.path.join(secrets_dir, "bitsweep_ca")
            refused = subprocess.run([binary, "status", "--coordinator", "localhost:%d" % port], env=client_env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                                     timeout=30)
            failures.check(refused.returncode != 0,
                           "%s: a user without the token was let in:\n%s" % (label, refused.stdout))
            client_env["BITSWEEP_TOKEN_FILE"] = os.path.join(secrets_dir, "bitsweep_token")
            client[-1] = "localhost:%d" % port
        try:
            r = subprocess.run(client, env=client_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=60)
            submitted = r.returncode == 0
            output = r.stdout
        except subprocess.TimeoutExpired as e:
            submitted, output = False, "timed out: %s" % (e.output or "")
        if not failures.check(submitted, "%s: `bitsweep submit --watch` failed:\n%s\n%s" %
                              (label, output, "\n".join(p.name + ":\n" + p.text() for p in processes))):
            return

        # The store is where the compose file's BITSWEEP_DB puts it.
        db = coord_env["BITSWEEP_DB"]
        if failures.check(os.path.exists(db), "%s: no store at BITSWEEP_DB (%s)" % (label, db)):
            con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
            states = [row[0] for row in con.execute("SELECT state FROM jobs ORDER BY id")]
            con.close()
            failures.check(len(states) == 4 and set(states) == {"SUCCEEDED"},
                           "%s: jobs are %s, expected 4 SUCCEEDED" % (label, states))
    finally:
        # Workers first, as `docker-compose stop` leaves the coordinator for
        # last; all with SIGTERM, as `docker stop` sends.
        workers = [p for p in processes if p.name.startswith("worker")]
        for p in workers:
            code = p.stop()
            failures.check(code == 130, "%s: %s exited with %s on SIGTERM (expected 130); log:\n%s" %
                           (label, p.name, code, p.text()))
        if processes and example_spec and coordinator.proc.poll() is None:
            # The sweep the docs submit is one the coordinator accepts (with
            # no workers left, nothing of it runs).
            r = subprocess.run([binary, "submit", "--spec", example_spec, "--coordinator", "127.0.0.1:%d" % port],
                               env=client_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=30)
            failures.check(r.returncode == 0, "%s: the coordinator refuses %s:\n%s" %
                           (label, d.rel(example_spec), r.stdout))
        if processes:
            code = coordinator.stop()
            failures.check(code in (0, 130), "%s: the coordinator exited with %s on SIGTERM; log:\n%s" %
                           (label, code, coordinator.text()))
            if check_down:
                code, out = healthy(coord_env)
                failures.check(code != 0, "%s: the healthcheck passes with the coordinator stopped: %s" %
                               (label, out))


def main():
    binary = os.path.abspath(sys.argv[1])
    d.init(sys.argv[2], binary)
    failures = d.Failures()
    root = tempfile.mkdtemp(prefix="bitsweep-deploy-")
    ok = False
    try:
        # The two deployments run side by side (their own folders and
        # ports): most of the time goes into waiting for processes to start.
        ports = free_ports(2)

        def timed(name, port, **kwargs):
            started = time.time()
            run_sweep(failures, binary, os.path.join(root, name), port, **kwargs)
            print("%s: %.1f s" % (name, time.time() - started))

        with ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(timed, "plain", ports[0], files=[d.COMPOSE_FILE], tls=False,
                                example_spec=d.path(d.COMPOSE_DIR, "sweep-example.json"), check_down=True),
                    pool.submit(timed, "tls", ports[1], files=[d.COMPOSE_FILE, d.COMPOSE_TLS_FILE], tls=True)]
            for run in runs:
                run.result()  # re-raises what a run raised
        ok = not failures.messages
    finally:
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print("left for inspection: " + root, file=sys.stderr)
    failures.exit()


if __name__ == "__main__":
    main()
