#!/usr/bin/python3
"""Check 2: every flag and environment variable the deployment files pass to
`bitsweep` is one the binary accepts.

Reads the commands, health checks, probes and environments of the compose
files, the Dockerfiles, the Kubernetes manifests and the Slurm script, and
compares them with `bitsweep SUB --help` of the binary under test. A
failure names the file, the place in it and the unknown flag or variable.

usage: flags_test.py BITSWEEP_BINARY REPO_ROOT
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_files as d  # noqa: E402


def check_compose(failures):
    """Per service, across docker-compose.yml and its TLS overlay (a
    service's environment and its command may come from different files):
    the command and health check flags, then the environment against the
    subcommands that run in that container."""
    subcommands = {}  # service -> {sub, ...}
    env_sites = []  # (file, service, names)
    for f in d.compose_files():
        doc = d.load_yaml_documents(f)[0]
        for name, service in (doc.get("services") or {}).items():
            where = "%s: service %s" % (d.rel(f), name)
            subs = subcommands.setdefault(name, set())
            if service.get("command"):
                sub = d.check_invocation(failures, service["command"], where + ": command")
                subs.add(sub)
            test = (service.get("healthcheck") or {}).get("test")
            if test:
                sub = d.check_invocation(failures, d.healthcheck_argv(test), where + ": healthcheck")
                subs.add(sub)
            env_sites.append((f, name, d.compose_env_names(service.get("environment"))))
    for f, name, names in env_sites:
        subs = subcommands.get(name, set()) - {None}
        # The image's health check runs in every container that keeps it.
        subs = subs or {"health"}
        d.check_environment(failures, names, subs, "%s: service %s: environment" % (d.rel(f), name))


def check_dockerfiles(failures):
    """ENV defaults, CMD and HEALTHCHECK of both images."""
    for f in (d.path(d.COMPOSE_DIR, "Dockerfile"), d.path(d.COMPOSE_DIR, "Dockerfile.cuda")):
        with open(f) as fh:
            text = re.sub(r"\\\n", " ", fh.read())  # join continued lines
        subs = set()
        for keyword, rest in re.findall(r"^(CMD|HEALTHCHECK)\b(.*)$", text, re.M):
            m = re.search(r"(\[.*\])", rest)
            if not m:
                failures.add("%s: %s without an exec-form command" % (d.rel(f), keyword))
                continue
            subs.add(d.check_invocation(failures, json.loads(m.group(1)), "%s: %s" % (d.rel(f), keyword)))
        names = set()
        for line in re.findall(r"^ENV\s+(.*)$", text, re.M):
            names |= set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", line))
        # Image defaults reach every container: the coordinator, the workers
        # and the health check.
        d.check_environment(failures, names, (subs - {None}) | {"coordinator", "worker", "health"},
                            "%s: ENV" % d.rel(f))


def check_kubernetes(failures):
    """Containers' args/command, probes and env, grouped by workload and
    container across the base manifests and the overlay patches."""
    containers = {}  # (kind, name, container) -> {"subs": set, "envs": [(file, names)]}
    for f in d.k8s_manifest_files():
        for doc in d.load_yaml_documents(f):
            for c in d.pod_containers(doc):
                key = (doc.get("kind"), (doc.get("metadata") or {}).get("name"), c.get("name"))
                entry = containers.setdefault(key, {"subs": set(), "envs": []})
                where = "%s: %s %s, container %s" % (d.rel(f), key[0], key[1], key[2])
                argv = list(c.get("command") or []) + list(c.get("args") or [])
                if argv:
                    entry["subs"].add(d.check_invocation(failures, argv, where + ": args"))
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    command = ((c.get(probe) or {}).get("exec") or {}).get("command")
                    if command:
                        entry["subs"].add(d.check_invocation(failures, command, "%s: %s" % (where, probe)))
                names = {e.get("name") for e in c.get("env") or []}
                entry["envs"].append((where, names))
    for key, entry in containers.items():
        subs = entry["subs"] - {None}
        for where, names in entry["envs"]:
            d.check_environment(failures, names, subs, where + ": env")


def check_slurm(failures):
    f = d.path(d.SBATCH)
    with open(f) as fh:
        text = fh.read()
    argv = d.sbatch_worker_argv(text)
    if not failures.check(argv is not None, "%s: no worker_args=( ... ) array" % d.rel(f)):
        return
    sub = d.check_invocation(failures, argv, "%s: worker_args" % d.rel(f))
    failures.check(sub == "worker", "%s: worker_args does not run `bitsweep worker`" % d.rel(f))
    d.check_environment(failures, d.sbatch_env_names(text), {"worker"}, "%s" % d.rel(f))


def main():
    d.init(sys.argv[2], sys.argv[1])
    failures = d.Failures()
    d.prefetch_options(["coordinator", "worker", "health"])
    # The contract the files are written against must be there at all;
    # otherwise every check below would pass vacuously.
    for sub, env in (("coordinator", "BITSWEEP_DB"), ("worker", "BITSWEEP_COORDINATOR"),
                     ("health", "BITSWEEP_COORDINATOR")):
        options = d.command_options(sub)
        if failures.check(options is not None, "the binary has no `%s` subcommand" % sub):
            failures.check(env in options.envs, "`bitsweep %s --help` lists no (Env:%s)" % (sub, env))
    check_compose(failures)
    check_dockerfiles(failures)
    check_kubernetes(failures)
    check_slurm(failures)
    failures.exit()


if __name__ == "__main__":
    main()
