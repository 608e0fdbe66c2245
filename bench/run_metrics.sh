#!/usr/bin/env bash
# FID speed and agreement, side by side in one run: our float64
# eigen-decomposition FID against pytorch-fid's scipy sqrtm FID on the same
# features (10,000 x 2,048, as Inception gives, and 10,000 x 128, as the
# Fashion-MNIST classifier gives), on 2 threads; then the evaluation
# throughput of generated samples through the classifier.
#
#   bash bench/run_metrics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh bench
bash scripts/build.sh fid_bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 BITSWEEP_BENCH_THREADS=2
for d in 2048 128; do
  # Correlated, non-Gaussian features: a random mixing of ReLU'd normals.
  /usr/bin/python3 - "$out" "$d" <<'PY'
import sys, numpy as np
out, d = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
mix = rng.standard_normal((d, d)) / np.sqrt(d)
for name, shift in (("real", 0.0), ("fake", 0.3)):
    x = np.maximum(rng.standard_normal((10000, d)) + shift, 0) @ mix
    np.save(f"{out}/{name}{d}.npy", x.astype(np.float32))
PY
  ours=$(./build/bench/fid_bench "$out/real$d.npy" "$out/fake$d.npy")
  theirs=$(/usr/bin/python3 bench/fid_scipy.py "$out/real$d.npy" "$out/fake$d.npy")
  /usr/bin/python3 - "$d" "$ours" "$theirs" <<'PY'
import json, sys
d, ours, theirs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
rel = abs(ours["fid"] - theirs["fid"]) / abs(theirs["fid"])
print(f"FID 10000 x {d}: bitsweep {ours['fid']:.6f} in {ours['seconds']:.3f} s (first call {ours['cold_seconds']:.3f} s), "
      f"scipy sqrtm {theirs['fid']:.6f} in {theirs['seconds']:.3f} s (first call {theirs['cold_seconds']:.3f} s); "
      f"speed-up {theirs['seconds'] / ours['seconds']:.2f}x warm, {theirs['cold_seconds'] / ours['cold_seconds']:.2f}x cold; "
      f"relative difference {rel:.2e}")
PY
done
./build/bench/fid_bench --eval-throughput 10000
