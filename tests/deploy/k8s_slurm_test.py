#!/usr/bin/python3
"""Check 4: the Kubernetes manifests and the Slurm script.

Kubernetes: every manifest parses as YAML, the expected kinds are there
(Namespace, Service, StatefulSet with a volumeClaimTemplate, Deployment,
the example Secret), the StatefulSet has one replica (one writer of the
store) and is governed by the Service, the Service reaches the
coordinator's gRPC port, the workers ask for nvidia.com/gpu and find the
coordinator through the Service. With kubectl on the PATH, `kubectl
kustomize` must also build both kustomizations (offline).

Slurm: the sbatch script passes `bash -n`, asks for requeueing and for
SIGTERM before the time limit, and runs: with a stand-in `srun` (two tasks
that both see GPUs "0,1") and a stand-in `bitsweep` that records what it
got, each task must run `bitsweep worker` on its own GPU with its own work
folder and the coordinator given as argument, with flags the real binary
accepts; SIGTERM to the batch script must reach every worker, and the
script must then end with 0. The stand-ins behave as Slurm's commands do:
`scancel --signal=TERM JOB.STEP` signals the step's tasks, while srun takes
its own SIGTERM as the end of the step and kills its tasks (a script that
passes SIGTERM to srun fails here). An unknown BITSWEEP_SLURM_DEVICE is a
usage error. tests/deploy/slurm_live_test.py runs the script under a real
Slurm.

usage: k8s_slurm_test.py BITSWEEP_BINARY REPO_ROOT
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_files as d  # noqa: E402


def check_kubernetes(failures):
    docs = {}  # kind -> [(file, doc)]
    for f in d.k8s_manifest_files():
        try:
            for doc in d.load_yaml_documents(f):
                docs.setdefault(doc.get("kind"), []).append((f, doc))
        except Exception as e:  # yaml.YAMLError and friends: name the file
            failures.add("%s: not YAML: %s" % (d.rel(f), e))
    for kind in ("Namespace", "Service", "StatefulSet", "Deployment", "Secret", "Kustomization"):
        failures.check(kind in docs, "deploy/k8s: no %s manifest" % kind)

    base = lambda kind: [doc for f, doc in docs.get(kind, []) if os.sep + "base" + os.sep in f]  # noqa: E731
    services = {s["metadata"]["name"]: s for s in base("Service")}
    for sts in base("StatefulSet"):
        name = sts["metadata"]["name"]
        spec = sts["spec"]
        failures.check(spec.get("replicas") == 1, "StatefulSet %s: replicas must be 1 (one store writer)" % name)
        failures.check(spec.get("volumeClaimTemplates"), "StatefulSet %s: no volumeClaimTemplate" % name)
        service = services.get(spec.get("serviceName"))
        if failures.check(service is not None, "StatefulSet %s: serviceName %r is not a Service here" %
                          (name, spec.get("serviceName"))):
            labels = spec["template"]["metadata"]["labels"]
            selector = service["spec"]["selector"]
            failures.check(all(labels.get(k) == v for k, v in selector.items()),
                           "Service %s does not select the coordinator's pods" % service["metadata"]["name"])
            ports = {p.get("name"): p.get("containerPort") for c in d.pod_containers(sts) for p in c.get("ports", [])}
            for p in service["spec"]["ports"]:
                target = p.get("targetPort", p.get("port"))
                failures.check(target in ports or target in ports.values(),
                               "Service port %s: targetPort %r is no container port" % (p.get("port"), target))
        claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
        mounts = {m["name"]: m["mountPath"] for c in d.pod_containers(sts) for m in c.get("volumeMounts", [])}
        failures.check(any(mounts.get(c) == "/var/lib/bitsweep" for c in claims),
                       "StatefulSet %s: the claim is not mounted at /var/lib/bitsweep (the store)" % name)

    for dep in base("Deployment"):
        name = dep["metadata"]["name"]
        for c in d.pod_containers(dep):
            resources = c.get("resources") or {}
            gpus = (resources.get("limits") or {}).get("nvidia.com/gpu")
            # Workers train on GPUs; the dashboard is a plain client.
            if "worker" in (c.get("args") or []):
                failures.check(gpus is not None and int(gpus) >= 1,
                               "Deployment %s: container %s has no nvidia.com/gpu limit" % (name, c.get("name")))
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            address = env.get("BITSWEEP_COORDINATOR", "")
            host, _, port = address.partition(":")
            failures.check(host in services and any(str(p["port"]) == port for p in services[host]["spec"]["ports"]),
                           "Deployment %s: BITSWEEP_COORDINATOR %r is not the coordinator Service" % (name, address))

    kubectl = shutil.which("kubectl")
    if not kubectl:
        print("kubectl not found: kustomizations checked as YAML only")
        return
    for k in sorted(glob.glob(d.path(d.K8S_DIR, "**", "kustomization.yaml"), recursive=True)):
        folder = os.path.dirname(k)
        r = subprocess.run([kubectl, "kustomize", folder], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        failures.check(r.returncode == 0, "kubectl kustomize %s: %s" % (d.rel(folder), r.stderr))


FAKE_SRUN = r'''#!/usr/bin/python3
# Stands in for srun: SLURM_NTASKS tasks of the command after the options,
# each with SLURM_PROCID/SLURM_LOCALID, as step 0 of the job (the tasks'
# pids in step-0.pids, where the stand-in scancel finds them). Like the
# real srun, it takes its own SIGTERM as "end the step now": SIGKILL to
# every task.
import os, signal, subprocess, sys
args = sys.argv[1:]
while args and args[0].startswith("-"):
    args.pop(0)
tasks = []
for i in range(int(os.environ.get("SLURM_NTASKS", "1"))):
    env = dict(os.environ, SLURM_PROCID=str(i), SLURM_LOCALID=str(i))
    tasks.append(subprocess.Popen(args, env=env))
signal.signal(signal.SIGTERM, lambda *_: [t.kill() for t in tasks])
with open(os.path.join(os.environ["FAKE_RECORDS"], "step-0.pids"), "w") as f:
    f.write(" ".join(str(t.pid) for t in tasks))
codes = [t.wait() for t in tasks]
sys.exit(max(codes))
'''

FAKE_SQUEUE = r'''#!/usr/bin/python3
# Stands in for squeue: with --steps, the job's steps (the numbered one once
# srun has started it); otherwise the job's state and reason.
import os, sys
job = os.environ["SLURM_JOB_ID"]
if "--steps" in sys.argv:
    print(job + ".batch")
    if os.path.exists(os.path.join(os.environ["FAKE_RECORDS"], "step-0.pids")):
        print(job + ".0")
else:
    print("RUNNING None")
'''

FAKE_SCANCEL = r'''#!/usr/bin/python3
# Stands in for `scancel --signal=SIG JOB.STEP`: the signal to every task of
# the step, as each node's slurmstepd sends it.
import os, signal, sys
name = next(a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--signal="))
step = sys.argv[-1].split(".")[1]
with open(os.path.join(os.environ["FAKE_RECORDS"], "step-%s.pids" % step)) as f:
    for pid in f.read().split():
        os.kill(int(pid), getattr(signal, "SIG" + name))
'''

FAKE_BITSWEEP = r'''#!/usr/bin/python3
# Stands in for bitsweep: records its arguments and environment, waits for
# SIGTERM and exits 130 like a worker that handed its jobs back.
import json, os, signal, sys, time
out = os.environ["FAKE_RECORDS"]
rank = os.environ["SLURM_PROCID"]
record = {"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items()
          if k.startswith("BITSWEEP_") or k == "CUDA_VISIBLE_DEVICES"}}
def stop(*_):
    record["terminated"] = True
    with open(os.path.join(out, rank + ".json"), "w") as f:
        json.dump(record, f)
    sys.exit(130)
signal.signal(signal.SIGTERM, stop)
with open(os.path.join(out, rank + ".started"), "w") as f:
    json.dump(record, f)
while True:
    time.sleep(0.05)
'''


def kill_group(process):
    """SIGKILL to the process group a start_new_session process leads (its
    stand-in srun and workers), then reaps the process."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def check_slurm(failures):
    script = d.path(d.SBATCH)
    with open(script) as f:
        text = f.read()
    r = subprocess.run(["bash", "-n", script], stderr=subprocess.PIPE, universal_newlines=True)
    failures.check(r.returncode == 0, "%s: bash -n: %s" % (d.SBATCH, r.stderr))
    failures.check("#SBATCH --requeue" in text, "%s: no #SBATCH --requeue" % d.SBATCH)
    failures.check("#SBATCH --signal=B:TERM@" in text, "%s: no #SBATCH --signal=B:TERM@..." % d.SBATCH)

    tmp = tempfile.mkdtemp(prefix="bitsweep-slurm-")
    try:
        bin_dir = os.path.join(tmp, "bin")
        records = os.path.join(tmp, "records")
        os.makedirs(bin_dir)
        os.makedirs(records)
        for name, body in (("srun", FAKE_SRUN), ("squeue", FAKE_SQUEUE), ("scancel", FAKE_SCANCEL),
                           ("fake-bitsweep", FAKE_BITSWEEP)):
            with open(os.path.join(bin_dir, name), "w") as f:
                f.write(body)
            os.chmod(os.path.join(bin_dir, name), 0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BITSWEEP_", "SLURM_", "CUDA_"))}
        env.update({
            "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
            "SLURM_JOB_ID": "4242", "SLURM_NTASKS": "2", "SLURM_CPUS_PER_TASK": "3",
            # A cluster that gives every task all of the node's GPUs.
            "CUDA_VISIBLE_DEVICES": "0,1",
            "BITSWEEP_SLURM_BIN": os.path.join(bin_dir, "fake-bitsweep"),
            "BITSWEEP_SLURM_WORK_ROOT": os.path.join(tmp, "scratch"),
            "FAKE_RECORDS": records,
        })

        # No coordinator: a usage error, before anything starts.
        r = subprocess.run(["bash", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=30)
        failures.check(r.returncode == 2, "%s without a coordinator: exit %d, expected 2:\n%s" %
                       (d.SBATCH, r.returncode, r.stdout))
        # An unknown device: a usage error too (a script that ignores the
        # setting starts its workers instead, and is stopped).
        bad = subprocess.Popen(["bash", script, "coordinator.example:50051"], env=dict(env, BITSWEEP_SLURM_DEVICE="gpu"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               start_new_session=True)
        try:
            output, _ = bad.communicate(timeout=10)
            code = bad.returncode
        except subprocess.TimeoutExpired:
            kill_group(bad)
            output, code = bad.communicate()[0], None
        failures.check(code == 2, "%s with BITSWEEP_SLURM_DEVICE=gpu: exit %s, expected 2:\n%s" %
                       (d.SBATCH, code, output))

        log = open(os.path.join(tmp, "batch.log"), "w")
        # A session of its own: whatever it leaves running is stopped below.
        batch = subprocess.Popen(["bash", script, "coordinator.example:50051"], env=env, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 20
        while len(glob.glob(os.path.join(records, "*.started"))) < 2 and time.time() < deadline:
            if batch.poll() is not None:
                break
            time.sleep(0.05)
        started = len(glob.glob(os.path.join(records, "*.started")))
        # What Slurm does at --signal=B:TERM@120: SIGTERM to the batch shell.
        batch.send_signal(signal.SIGTERM)
        try:
            code = batch.wait(20)
        except subprocess.TimeoutExpired:
            code = None
        kill_group(batch)
        log.close()
        with open(os.path.join(tmp, "batch.log")) as f:
            output = f.read()
        failures.check(started == 2, "%s: %d of 2 workers started:\n%s" % (d.SBATCH, started, output))
        failures.check(code == 0, "%s: exit %s after SIGTERM, expected 0:\n%s" % (d.SBATCH, code, output))

        seen = []
        for rank in ("0", "1"):
            path = os.path.join(records, rank + ".json")
            if not failures.check(os.path.exists(path), "%s: task %s never got SIGTERM:\n%s" %
                                  (d.SBATCH, rank, output)):
                continue
            with open(path) as f:
                record = json.load(f)
            argv = ["bitsweep"] + record["argv"]
            sub = d.check_invocation(failures, argv, "%s: task %s ran %s" % (d.SBATCH, rank, argv))
            failures.check(sub == "worker", "%s: task %s did not run `bitsweep worker`" % (d.SBATCH, rank))
            d.check_environment(failures, set(record["env"]) - {"CUDA_VISIBLE_DEVICES"} -
                                {n for n in record["env"] if n.startswith("BITSWEEP_SLURM_")},
                                {"worker"}, "%s: task %s environment" % (d.SBATCH, rank))
            e = record["env"]
            failures.check(e.get("BITSWEEP_COORDINATOR") == "coordinator.example:50051",
                           "%s: task %s: BITSWEEP_COORDINATOR is %r" % (d.SBATCH, rank, e.get("BITSWEEP_COORDINATOR")))
            seen.append((e.get("CUDA_VISIBLE_DEVICES"), e.get("BITSWEEP_WORK_DIR")))
        if len(seen) == 2:
            failures.check(sorted(g for g, _ in seen) == ["0", "1"],
                           "%s: tasks did not get one GPU each: %s" % (d.SBATCH, seen))
            failures.check(seen[0][1] and seen[1][1] and seen[0][1] != seen[1][1],
                           "%s: tasks share a work folder: %s" % (d.SBATCH, seen))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    d.init(sys.argv[2], os.path.abspath(sys.argv[1]))
    failures = d.Failures()
    check_kubernetes(failures)
    check_slurm(failures)
    failures.exit()


if __name__ == "__main__":
    main()
