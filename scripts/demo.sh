#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains a 2-bit QGAN
# (EM-quantized generator) on the real Fashion-MNIST training set, printing
# the result and the path of the sample grid.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh bitsweep
./build/cli/bitsweep train --spec examples/demo-job.json --out runs/demo --fresh "$@"
