#!/usr/bin/python3
"""Check 6: a client in another language, generated with Debian's own tools.

docs/deployment.md ("Clients in other languages") tells a user to generate a
Python client from proto/ with Debian's protoc and grpc_python_plugin
(python3-grpc-tools bundles a protoc too old for the proto3 `optional`
fields proto/ uses). This check follows that recipe word for word: it
generates the code into a temporary folder, starts a real coordinator and
worker on loopback, and through the generated client submits a small
synthetic sweep, waits for it and streams its results, which must carry
every job with its FID, and tell an absent `optional` field (the FID's
standard error, which synthetic jobs do not estimate) from a zero.

usage: python_client_test.py BITSWEEP_BINARY REPO_ROOT
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_files as d  # noqa: E402


def start(argv, log_path):
    log = open(log_path, "w")
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)


def wait_for_port(log_path, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with open(log_path) as f:
            found = re.search(r"listening on port ([0-9]+)", f.read())
        if found:
            return int(found.group(1))
        time.sleep(0.1)
    raise RuntimeError("the coordinator did not start:\n" + open(log_path).read())


def main():
    binary, repo = sys.argv[1], sys.argv[2]
    d.init(repo, binary)
    failures = d.Failures()
    with tempfile.TemporaryDirectory() as tmp:
        # The recipe, as docs/deployment.md gives it.
        generated = os.path.join(tmp, "client")
        os.makedirs(generated)
        subprocess.run(["protoc", "-I", d.path("proto"), "--python_out=" + generated,
                        "--grpc_python_out=" + generated,
                        "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                        d.path("proto", "bitsweep", "v1", "bitsweep.proto")], check=True)
        sys.path.insert(0, generated)
        import grpc  # noqa: E402  (python3-grpcio)
        from bitsweep.v1 import bitsweep_pb2 as pb  # noqa: E402
        from bitsweep.v1 import bitsweep_pb2_grpc as rpc  # noqa: E402

        coordinator = start([binary, "coordinator", "--listen", "127.0.0.1:0", "--db", os.path.join(tmp, "store.db")],
                            os.path.join(tmp, "coordinator.log"))
        worker = None
        try:
            port = wait_for_port(os.path.join(tmp, "coordinator.log"))
            worker = start([binary, "worker", "--coordinator", "127.0.0.1:%d" % port, "--slots", "2",
                            "--work-dir", os.path.join(tmp, "work")], os.path.join(tmp, "worker.log"))
            channel = grpc.insecure_channel("127.0.0.1:%d" % port)
            sweeps = rpc.SweepServiceStub(channel)
            spec = {"name": "from-python",
                    "base": {"task": "synthetic", "synthetic": {"seconds": 0.1},
                             "quant": {"g": {"method": "em", "bits": 2}}},
                    "strategy": {"kind": "grid", "axes": {"quant.g.bits": [1, 2, 4]}}}
            submitted = sweeps.SubmitSweep(pb.SubmitSweepRequest(spec_json=json.dumps(spec)), timeout=30)
            failures.check(submitted.job_count == 3, "SubmitSweep answered %d jobs, not 3" % submitted.job_count)
            deadline = time.time() + 60
            state = None
            while time.time() < deadline:
                state = sweeps.GetSweep(pb.GetSweepRequest(sweep_id=submitted.sweep_id), timeout=10).state
                if state != pb.SWEEP_RUNNING:
                    break
                time.sleep(0.2)
            failures.check(state == pb.SWEEP_DONE, "the sweep is %s, not DONE, after 60 s" % pb.SweepState.Name(state))
            rows = [row for chunk in sweeps.StreamResults(pb.QueryResultsRequest(sweep_id=submitted.sweep_id),
                                                          timeout=30)
                    for row in chunk.rows]
            failures.check(sorted(r.bits_g for r in rows) == [1, 2, 4],
                           "StreamResults gave widths %s, not [1, 2, 4]" % sorted(r.bits_g for r in rows))
            for r in rows:
                failures.check(r.state == "SUCCEEDED" and r.has_fid, "job %d: %s, has_fid %s" %
                               (r.job_id, r.state, r.has_fid))
                # Synthetic jobs estimate no sampling error: the `optional`
                # field is absent, and the generated code can tell.
                failures.check(not r.HasField("fid_se"), "job %d: a fid_se where none was measured" % r.job_id)
        finally:
            for process in (worker, coordinator):
                if process:
                    process.terminate()
                    process.wait(timeout=30)
    failures.exit()


if __name__ == "__main__":
    main()
