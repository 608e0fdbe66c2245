#!/usr/bin/env bash
# The main job: installs what is missing, builds, trains the Fashion-MNIST
# classifier that measures sample quality (once), then runs a local sweep
# (coordinator and a worker in this one process, results in a SQLite file):
# DCGAN-32 on the real Fashion-MNIST training set with the generator at full
# precision and quantized to 1 and 2 bits by EM and by min-max. It ends with
# the results table (FID, IS, KID, packed model size), the Pareto front of
# size against FID, and the paths of the sample grids.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/install-deps.sh
bash scripts/build.sh bitsweep
classifier=runs/evaluators/fmnist-classifier.pt
if [[ ! -f "$classifier" ]]; then
  mkdir -p "$(dirname "$classifier")"
  ./build/cli/bitsweep evaluator train --dataset fashion-mnist --out "$classifier"
fi
./build/cli/bitsweep local --spec examples/demo-sweep.json --db runs/demo/bitsweep.db --pareto "$@"
