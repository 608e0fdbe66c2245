#!/usr/bin/env bash
# The main job: installs what is missing, builds, trains the Fashion-MNIST
# classifier that measures sample quality (once), then trains a 2-bit QGAN
# (EM-quantized generator) on the real Fashion-MNIST training set and prints
# its FID, IS and KID, the per-layer level use and the path of the samples.
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
./build/cli/bitsweep train --spec examples/demo-job.json --out runs/demo --fresh "$@"
