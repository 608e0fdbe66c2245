#!/usr/bin/env bash
# Training-step throughput, side by side in one run: our C++ trainer at full
# precision and with each quantizer, and the same model in PyTorch's Python
# API (Debian's python3-torch, the same LibTorch version).
#
#   bash bench/run_train_step.sh [threads]      (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
bash scripts/install-deps.sh bench
bash scripts/build.sh train_step_bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Shared machines are noisy: alternate the two sides over several rounds
# (and shuffle the C++ configurations within each) and report medians.
rounds="${BITSWEEP_BENCH_ROUNDS:-3}"
for round in $(seq "$rounds"); do
  ./build/bench/train_step_bench --threads="$threads" --benchmark_min_time=3 \
    --benchmark_enable_random_interleaving=true --benchmark_format=json >"$out/cpp$round.json"
  /usr/bin/python3 bench/train_step_pytorch.py --threads "$threads" --iterations 12 >"$out/py$round.json"
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys, glob, statistics, platform
out = sys.argv[1]
cpp = {}
for path in sorted(glob.glob(f"{out}/cpp*.json")):
    for b in json.load(open(path))["benchmarks"]:
        cpp.setdefault(b["name"].split("/")[1], []).append(b["images_per_second"])
py = [json.load(open(p))["images_per_second"] for p in sorted(glob.glob(f"{out}/py*.json"))]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"DCGAN-32 ngf=ndf=64 batch 64, one D+G iteration, median of {len(py)} rounds; CPU: {cpu}")
fp = statistics.median(cpp["fp32"])
pyv = statistics.median(py)
print(f"{'config':<16}{'images/s':>10}{'vs fp32':>10}")
for name, values in cpp.items():
    v = statistics.median(values)
    print(f"{name:<16}{v:>10.1f}{v / fp:>10.3f}")
print(f"{'pytorch python':<16}{pyv:>10.1f}{pyv / fp:>10.3f}")
print(f"C++ fp32 / PyTorch-Python fp32 = {fp / pyv:.3f}")
PY
