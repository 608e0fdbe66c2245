#!/usr/bin/env bash
# Per-layer against uniform widths, em and minmax, two seeds, at two
# baselines (docs/results/fmnist-layer-widths):
#
#   curve      the full-precision DCGAN-32 of the demo trained 12,000
#              iterations (seeds 1, 2), FID every 1,500: how far from
#              converged the demo's 3,000 iterations are; uploads its
#              checkpoints, which are the "converged" baselines
#   floor      the real-data floor of the same metrics (test split against
#              the train reference, 2,000 images)
#   demo       layer_allocation on baselines trained like the demo's (3,000
#              iterations, seeds 1, 2): bound 2x, then 1.5x on the same
#              baselines (stored measurements reused)
#   converged  the same on the curve's 12,000-iteration baselines
#   brute      every allocation of widths {1, 2, 3, 4, 8} over the 4 layers
#              (625) by post-training em on the demo baseline of seed 1, at
#              1,000 samples, in runs/study-layers/brute.db: the front the
#              search is checked against
#
#   bash bench/run_layer_study.sh [curve floor demo converged brute ...]   (default: all, in order)
#
# Every evaluation but brute force uses 2,000 samples (the demo uses 5,000;
# the sampling standard errors are about 1.6x the demo's). Stores in
# runs/study-layers/; a finished search is not run again, so the script can
# be stopped and restarted. BITSWEEP_BIN runs another binary (no build).
set -euo pipefail
cd "$(dirname "$0")/.."
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(curve floor demo converged brute)
if [[ -n "${BITSWEEP_BIN:-}" ]]; then
  source scripts/env.sh
  bitsweep="$BITSWEEP_BIN"
  [[ -f runs/evaluators/fmnist-classifier.pt ]] || { echo "no runs/evaluators/fmnist-classifier.pt" >&2; exit 1; }
else
  source scripts/prepare.sh  # $bitsweep and the evaluator
fi
out=runs/study-layers
mkdir -p "$out"
studies=bench/layer_study

local_run() {  # DB SPEC [--set ...]
  local db=$1 spec=$2
  shift 2
  /usr/bin/time -f "%e s wall: $db $spec $*" "$bitsweep" local --spec "$spec" --db "$db" --workers 2 --threads 1 \
    --quiet "$@" >>"$out/local.log" 2>&1
}

# The full-precision baselines a layer_allocation search trained (its
# jobs without a source checkpoint), as a JSON list of job ids.
baselines_of() {  # DB SWEEP_ID
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sqlite3, sys
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
ids = [r[0] for r in con.execute(
    "SELECT id FROM jobs WHERE sweep_id = ? AND task = 'qgan' AND method_g = 'none' AND state = 'SUCCEEDED' "
    "AND json_extract(params_json, '$.train.init_from_job') IS NULL ORDER BY seed", (int(sys.argv[2]),))]
print(json.dumps(ids))
PY
}

for part in "${parts[@]}"; do
  case $part in
    curve)
      local_run "$out/converged.db" "$studies/curve.json" ;;
    floor)
      "$bitsweep" evaluator floor --spec "$studies/curve.json" --threads 2 >"$out/floor.txt" 2>&1
      cat "$out/floor.txt" ;;
    demo)
      local_run "$out/demo.db" "$studies/allocation.json"
      local_run "$out/demo.db" "$studies/allocation-on-baselines.json" --set name=layer-study-1.5x \
        --set 'strategy.requirement.relative_to_baseline=1.5' --set "strategy.baseline_jobs=$(baselines_of "$out/demo.db" 1)" ;;
    converged)
      local_run "$out/converged.db" "$studies/allocation-on-baselines.json" --set name=layer-study-converged \
        --set "strategy.baseline_jobs=$(baselines_of "$out/converged.db" 1)"
      local_run "$out/converged.db" "$studies/allocation-on-baselines.json" --set name=layer-study-converged-1.5x \
        --set 'strategy.requirement.relative_to_baseline=1.5' --set "strategy.baseline_jobs=$(baselines_of "$out/converged.db" 1)" ;;
    brute)
      # In a store of its own (brute.db), so that it can run beside a
      # search: the first seed's baseline checkpoint, copied out of demo.db.
      first="$(baselines_of "$out/demo.db" 1 | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0])')"
      checkpoint="$(find "$out/artifacts" -path "*/job-$first/checkpoint.pt" | head -n 1)"
      [[ -n "$checkpoint" ]] || { echo "no checkpoint of job $first under $out/artifacts" >&2; exit 1; }
      cp "$checkpoint" "$out/baseline-seed1.pt"
      local_run "$out/brute.db" "$studies/brute-force.json" --set "base.train.init_from_file=$PWD/$out/baseline-seed1.pt" ;;
    *) echo "unknown part: $part (curve floor demo converged brute)" >&2; exit 2 ;;
  esac
done
