#!/usr/bin/env bash
# What running each job in its own process costs: the same sweep of N
# zero-second synthetic jobs through `bitsweep local`, in the worker's
# process and in a process per job, alternated REPEAT times (one run, side
# by side; a training job takes seconds to hours, so this fixed cost is the
# whole difference).
#
#   bash bench/run_isolation.sh [N=20] [REPEAT=3]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-20}
repeat=${2:-3}
source scripts/env.sh
bash scripts/build.sh bitsweep >/dev/null
bitsweep=$PWD/build/cli/bitsweep
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
seeds=$(seq -s, 1 "$jobs")
cat > "$dir/sweep.json" <<SPEC
{"name": "isolation", "base": {"task": "synthetic"},
 "strategy": {"kind": "grid", "axes": {"train.seed": [$seeds]}}}
SPEC
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $jobs jobs per run, 1 slot"
for ((r = 1; r <= repeat; ++r)); do
  for isolate in none all; do
    start=$(date +%s.%N)
    "$bitsweep" local --spec "$dir/sweep.json" --db "$dir/$isolate-$r.db" --workers 1 --isolate "$isolate" --quiet >/dev/null 2>&1
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v n="$jobs" -v i="$isolate" -v r="$r" \
      'BEGIN { printf "run %d  --isolate %-4s  %6.2f s  %6.3f s/job\n", r, i, e - s, (e - s) / n }'
  done
done
