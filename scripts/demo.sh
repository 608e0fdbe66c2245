#!/usr/bin/env bash
# The main job: how few bits a Fashion-MNIST DCGAN can live with, per
# quantization method, with the uncertainty of every number.
#
#   bash scripts/demo.sh            seed 1
#   bash scripts/demo.sh --seed 2   the same with another seed: another
#                                   baseline, other training noise
#
# It installs what is missing, builds, trains (once each, cached under runs/)
# the classifier that measures sample quality and a full-precision DCGAN-32
# baseline of the seed, then runs two local sweeps (coordinator and worker in
# this one process, results in runs/demo/seed<N>.db): post-training
# quantization of the baseline by em, minmax, log and tanh at 1-4 bits, and
# quantization-aware fine-tuning from it at 1-2 bits. It ends with the
# verdicts: per method, how few bits keep FID within 2x of full precision,
# each with its interval, or "undecided" where the numbers cannot tell.
#
#   bash scripts/demo.sh --layers   the second demo: a width per layer. On
#                                   the same baseline, a layer_allocation
#                                   search (examples/demo-layers.json,
#                                   results in runs/demo/layers-seed<N>.db)
#                                   measures each layer's sensitivity, the
#                                   front of packed bytes against FID and
#                                   the fewest bytes that meet 2x, and ends
#                                   with the per-layer answer beside the
#                                   uniform one, with intervals.
set -euo pipefail
cd "$(dirname "$0")/.."
seed=1
layers=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seed) seed="${2:-}"; shift 2 || shift ;;
    --seed=*) seed="${1#--seed=}"; shift ;;
    --layers) layers=1; shift ;;
    *) echo "usage: bash scripts/demo.sh [--seed N] [--layers]" >&2; exit 2 ;;
  esac
done
if [[ ! "$seed" =~ ^[0-9]+$ ]]; then
  echo "demo: --seed needs a non-negative whole number, got \"$seed\"" >&2
  exit 2
fi
source scripts/prepare.sh  # $bitsweep, $classifier
baseline=runs/baselines/demo-seed$seed
if [[ ! -f "$baseline/result.json" ]]; then
  echo "demo: training the full-precision baseline of seed $seed (once; it is kept in $baseline)"
  "$bitsweep" train --spec examples/demo-baseline.json --out "$baseline" --seed "$seed"
fi

if [[ $layers == 1 ]]; then
  # The baseline is a file, not a job of the store: the search names it
  # (strategy.baseline_files) and keys what it measures by its SHA-256.
  db=runs/demo/layers-seed$seed.db
  named=(--db "$db" --set "strategy.baseline_files=[{\"path\": \"$PWD/$baseline/checkpoint.pt\", \"seed\": $seed}]")
  echo
  echo "demo: a width per layer: each layer's sensitivity, the front of packed bytes against FID, the fewest bytes that meet 2x"
  "$bitsweep" local --spec examples/demo-layers.json "${named[@]}"
  echo
  echo "demo: the verdicts, uniform and per layer (seed $seed; bash scripts/demo.sh --layers --seed 2 checks them against another baseline)"
  "$bitsweep" report --db "$db" --bound 2
  echo
  echo "demo: browse the front in the web dashboard (http://127.0.0.1:8080/; Ctrl-C stops):"
  printf '  %s local --spec examples/demo-layers.json' "$bitsweep"
  printf ' %q' "${named[@]}"
  printf ' --dashboard\n'
  exit 0
fi

db=runs/demo/seed$seed.db
common=(--db "$db" --set "base.train.init_from_file=$PWD/$baseline/checkpoint.pt" --set "base.train.seed=$seed")
echo
echo "demo: post-training quantization of the baseline (seconds per configuration)"
"$bitsweep" local --spec examples/demo-ptq.json "${common[@]}"
echo
echo "demo: quantization-aware fine-tuning from the baseline"
"$bitsweep" local --spec examples/demo-qat.json "${common[@]}" --pareto
echo
echo "demo: the verdicts (seed $seed; bash scripts/demo.sh --seed 2 checks them against another baseline)"
"$bitsweep" report --db "$db" --bound 2
echo "full-precision samples: $baseline/samples.png"
echo
echo "demo: browse these results in the web dashboard (http://127.0.0.1:8080/; Ctrl-C stops):"
echo "  $bitsweep local --spec examples/demo-qat.json --db $db --dashboard"
