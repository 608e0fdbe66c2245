#!/usr/bin/python3
"""Check 1: Docker Compose accepts the compose files.

`docker-compose config` (Debian's 1.29, which validates without a Docker
engine) must accept docker-compose.yml with the .env.example values, with
the gpu profile, and with the TLS overlay. Then the things `config` does
not check but a deployment relies on: workers can be scaled (no
container_name, no fixed host port), the GPU worker reserves NVIDIA GPUs,
the store is on a named volume, every service restarts and stops with
time to checkpoint, and .env.example documents exactly the variables the
compose files read.

usage: compose_config_test.py REPO_ROOT
"""

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_files as d  # noqa: E402


def config(failures, files, profiles=()):
    what = " + ".join(files) + "".join(" --profile " + p for p in profiles)
    try:
        return d.compose_config(files, profiles)
    except subprocess.CalledProcessError as e:
        failures.add("docker-compose config refuses %s:\n%s" % (what, e.stderr))
        return None


def duration_seconds(text):
    total = 0.0
    for number, unit in re.findall(r"([0-9.]+)(h|ms|m|s|us)", str(text)):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total


def main():
    d.init(sys.argv[1])
    failures = d.Failures()
    base = [d.COMPOSE_FILE]
    tls = [d.COMPOSE_FILE, d.COMPOSE_TLS_FILE]

    # docker-compose takes a couple of seconds to start: run the three at once.
    with ThreadPoolExecutor(3) as pool:
        plain, _, with_tls = pool.map(lambda args: config(failures, *args),
                                      [(base, ()), (base, ["gpu"]), (tls, ["gpu"])])

    if plain:
        services = plain.get("services", {})
        for name in ("coordinator", "worker", "gpu-worker"):
            failures.check(name in services, "docker-compose.yml: no service %r" % name)
        coordinator = services.get("coordinator", {})
        worker = services.get("worker", {})
        gpu = services.get("gpu-worker", {})

        # `--scale worker=N` needs containers without fixed names or host ports.
        for name in ("worker", "gpu-worker"):
            s = services.get(name, {})
            failures.check("container_name" not in s, "%s: container_name stops `--scale`" % name)
            failures.check(not s.get("ports"), "%s: published ports clash when scaled" % name)

        # The store and artifacts on a named volume, so they survive upgrades.
        named = set(plain.get("volumes") or {})
        volumes = [str(v) for v in coordinator.get("volumes", [])]
        failures.check(any(v.split(":")[0] in named and ":/var/lib/bitsweep" in v for v in volumes),
                       "coordinator: /var/lib/bitsweep (store.db, artifacts) is not on a named volume: %s" % volumes)
        env = coordinator.get("environment", {})
        failures.check(str(env.get("BITSWEEP_DB", "")).startswith("/var/lib/bitsweep/"),
                       "coordinator: BITSWEEP_DB is not on the data volume")

        # The gpu profile: only with --profile gpu, reserving NVIDIA GPUs.
        failures.check(gpu.get("profiles") == ["gpu"], "gpu-worker: not in (only) the gpu profile")
        devices = (((gpu.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices") or []
        failures.check(any(dev.get("driver") == "nvidia" and "gpu" in (dev.get("capabilities") or [])
                           for dev in devices), "gpu-worker: no NVIDIA GPU reservation: %s" % devices)

        # Fashion-MNIST mounted read-only at the path job specs default to.
        for name, s in (("worker", worker), ("gpu-worker", gpu)):
            mounts = [str(v) for v in s.get("volumes", [])]
            failures.check(any(v.endswith(":/usr/share/datasets/fashion-mnist:ro") for v in mounts),
                           "%s: Fashion-MNIST is not mounted read-only: %s" % (name, mounts))

        for name, s in services.items():
            failures.check(s.get("restart") in ("always", "unless-stopped", "on-failure"),
                           "%s: no restart policy" % name)
            failures.check(s.get("healthcheck") is not None, "%s: no healthcheck (or `disable`)" % name)
        # Workers hand their jobs back on SIGTERM; Docker's default 10 s is short.
        for name in ("worker", "gpu-worker"):
            failures.check(duration_seconds(services.get(name, {}).get("stop_grace_period", "10s")) >= 60,
                           "%s: stop_grace_period under a minute leaves no time to checkpoint" % name)
        test = (coordinator.get("healthcheck") or {}).get("test") or []
        failures.check(d.healthcheck_argv(test)[1:2] == ["health"],
                       "coordinator: the healthcheck is not `bitsweep health`: %s" % test)

    if with_tls:
        services = with_tls.get("services", {})
        secrets = set(with_tls.get("secrets") or {})
        for name in ("coordinator", "worker", "gpu-worker"):
            used = {(s["source"] if isinstance(s, dict) else s) for s in services.get(name, {}).get("secrets", [])}
            failures.check(used and used <= secrets, "%s: TLS secrets %s not all defined (%s)" % (name, used, secrets))

    # .env.example documents exactly what the compose files read.
    used = set()
    for f in d.compose_files():
        with open(f) as fh:
            used |= set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", fh.read()))
    with open(d.path(d.COMPOSE_DIR, d.ENV_EXAMPLE)) as fh:
        documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", fh.read(), re.M))
    for name in sorted(used - documented):
        failures.add("%s reads ${%s}, which .env.example does not document" %
                     (" or ".join(os.path.basename(f) for f in d.compose_files()), name))
    for name in sorted(documented - used):
        failures.check(name.startswith("COMPOSE_"),
                       ".env.example documents %s, which no compose file reads" % name)

    failures.exit()


if __name__ == "__main__":
    main()
