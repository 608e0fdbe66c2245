"""What the deployment checks share: where the deployment files are, how to
read them, and what the `bitsweep` binary says it accepts.

The checks compare the files under deploy/ with the binary they will run, so
a renamed flag or environment variable fails here, in CI, instead of in a
container at 3 a.m. Nothing here needs Docker, Kubernetes or Slurm.
"""

import glob
import os
import re
import shlex
import subprocess
import sys

import yaml

REPO = None  # set by init()
BINARY = None


def init(repo, binary=None):
    """Remembers the repository root and the binary under test."""
    global REPO, BINARY
    REPO = os.path.abspath(repo)
    BINARY = binary


def path(*parts):
    return os.path.join(REPO, *parts)


def rel(p):
    """A path as the error messages show it: relative to the repository."""
    return os.path.relpath(p, REPO)


class Failures:
    """Collects every problem before failing, so one run names them all."""

    def __init__(self):
        self.messages = []

    def add(self, message):
        self.messages.append(message)
        print("FAIL: " + message, file=sys.stderr)

    def check(self, condition, message):
        if not condition:
            self.add(message)
        return condition

    def exit(self):
        if self.messages:
            print("%d problem(s)" % len(self.messages), file=sys.stderr)
            sys.exit(1)
        print("ok")
        sys.exit(0)


# --- The binary's options ---------------------------------------------------

_help_cache = {}


class CommandOptions:
    """The flags and environment variables of one `bitsweep SUB`."""

    def __init__(self, name, flags, envs):
        self.name = name
        self.flags = flags  # {"--coordinator", "-h", ...}
        self.envs = envs  # {"BITSWEEP_COORDINATOR", ...}


def command_options(sub):
    """Parses `bitsweep SUB --help` (CLI11's format: one option per line,
    names first, `(Env:NAME)` after the type for options bound to a variable).
    None when the binary has no such subcommand."""
    if sub in _help_cache:
        return _help_cache[sub]
    out = subprocess.run([BINARY, sub, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, timeout=30)
    text = out.stdout
    options = None
    # An unknown subcommand makes CLI11 complain (or print the top-level help).
    if out.returncode == 0 and re.search(r"^Usage: \S+ %s\b" % re.escape(sub), text, re.M):
        flags, envs = set(), set()
        for line in text.splitlines():
            m = re.match(r"^\s+(-[^\s]+)(.*)$", line)
            if not m:
                continue
            flags.update(name for name in m.group(1).split(",") if name.startswith("-"))
            envs.update(re.findall(r"\(Env:([A-Za-z0-9_]+)\)", m.group(2)))
        options = CommandOptions(sub, flags, envs)
    _help_cache[sub] = options
    return options


def prefetch_options(subs):
    """Runs the `--help`s at once: each start of the binary loads LibTorch
    (about a second)."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(subs)) as pool:
        list(pool.map(command_options, subs))


def check_invocation(failures, argv, where):
    """argv is a bitsweep command line as a deployment file writes it
    (argv[0] is `bitsweep` or a path to it). Every flag must be one the
    subcommand accepts. Returns the subcommand name, or None."""
    if not argv or os.path.basename(str(argv[0])) != "bitsweep":
        failures.add("%s: expected a `bitsweep` command, found %r" % (where, argv))
        return None
    if len(argv) < 2:
        failures.add("%s: `bitsweep` without a subcommand" % where)
        return None
    sub = str(argv[1])
    options = command_options(sub)
    if options is None:
        failures.add("%s: `bitsweep %s` is not a subcommand of the binary" % (where, sub))
        return None
    for arg in argv[2:]:
        arg = str(arg)
        if not arg.startswith("-") or arg in ("-", "--"):
            continue
        flag = arg.split("=", 1)[0]
        failures.check(flag in options.flags,
                       "%s: `bitsweep %s` has no flag %s (it has: %s)" %
                       (where, sub, flag, " ".join(sorted(options.flags))))
    return sub


def check_environment(failures, names, subcommands, where):
    """Every BITSWEEP_* variable a container (or job) sets must be read by
    one of the bitsweep subcommands that run there (its command, its health
    check or probes): a misspelt variable is otherwise silently ignored.
    Other variables (MALLOC_*, HOME, ...) are not bitsweep's to judge."""
    known = set()
    for sub in subcommands:
        options = command_options(sub)
        if options:
            known |= options.envs
    for name in sorted(names):
        if not name.startswith("BITSWEEP_"):
            continue
        failures.check(name in known,
                       "%s: %s is not an environment variable of %s (they read: %s)" %
                       (where, name, " or ".join("`bitsweep %s`" % s for s in sorted(subcommands)),
                        " ".join(sorted(known)) or "none"))


# --- Compose ------------------------------------------------------------------

COMPOSE_DIR = os.path.join("deploy", "docker")
COMPOSE_FILE = "docker-compose.yml"
COMPOSE_TLS_FILE = "docker-compose.tls.yml"
ENV_EXAMPLE = ".env.example"


def compose_config(files, profiles=(), env_file=ENV_EXAMPLE):
    """`docker-compose config` of `files` (in deploy/docker) with the
    .env.example values, as parsed YAML; raises CalledProcessError with the
    tool's message when it refuses the files. COMPOSE_* variables of the
    calling environment are left out so they cannot change the outcome."""
    cmd = ["docker-compose", "--project-directory", path(COMPOSE_DIR), "--env-file", path(COMPOSE_DIR, env_file)]
    for f in files:
        cmd += ["-f", path(COMPOSE_DIR, f)]
    for p in profiles:
        cmd += ["--profile", p]
    cmd += ["config"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_") and not k.startswith("BITSWEEP_")}
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
                         timeout=60)
    if out.returncode != 0:
        raise subprocess.CalledProcessError(out.returncode, cmd, out.stdout, out.stderr)
    return yaml.safe_load(out.stdout)


def load_yaml_documents(file):
    with open(file) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def compose_files():
    return [path(COMPOSE_DIR, COMPOSE_FILE), path(COMPOSE_DIR, COMPOSE_TLS_FILE)]


def healthcheck_argv(test):
    """A compose healthcheck `test` as an argv: ["CMD", ...] or a
    CMD-SHELL string."""
    if isinstance(test, str):
        return shlex.split(test)
    if test and test[0] == "CMD":
        return list(test[1:])
    if test and test[0] == "CMD-SHELL":
        return shlex.split(test[1])
    return []


def compose_env_names(environment):
    """Variable names of a compose `environment:` (mapping or list)."""
    if isinstance(environment, dict):
        return set(environment)
    return {item.split("=", 1)[0] for item in environment or []}


# --- Kubernetes ---------------------------------------------------------------

K8S_DIR = os.path.join("deploy", "k8s")


def k8s_manifest_files():
    return sorted(glob.glob(path(K8S_DIR, "**", "*.yaml"), recursive=True))


def pod_containers(doc):
    """The containers of a workload manifest (or patch), [] for other kinds."""
    spec = (doc.get("spec") or {})
    template = (spec.get("template") or {}).get("spec") or {}
    return list(template.get("containers") or []) + list(template.get("initContainers") or [])


# --- Slurm --------------------------------------------------------------------

SBATCH = os.path.join("deploy", "slurm", "bitsweep-workers.sbatch")


def sbatch_worker_argv(text):
    """The `bitsweep` command line of the sbatch script: the bash array
    worker_args=( ... ), which the script hands to every task."""
    m = re.search(r"^worker_args=\((.*?)^\)", text, re.S | re.M)
    if not m:
        return None
    return ["bitsweep"] + shlex.split(m.group(1), comments=True)


def sbatch_env_names(text):
    """BITSWEEP_* variables the script uses or documents, less its own
    settings (BITSWEEP_SLURM_*), which the binary never reads."""
    return {n for n in re.findall(r"\bBITSWEEP_[A-Z0-9_]+\b", text) if not n.startswith("BITSWEEP_SLURM_")}
