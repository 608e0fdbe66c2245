#!/usr/bin/env bash
# What a quantized configuration costs, and how much its FID scatters from
# seed to seed, by protocol, side by side in one run on the demo's model
# (DCGAN-32, ngf = ndf = 32, Fashion-MNIST, classifier FID of 5,000 samples):
#
#   from-scratch  quantization-aware training from random weights for as
#                 long as the full-precision baseline trained (the paper's)
#   warm-start    quantization-aware fine-tuning from that seed's baseline
#                 (examples/demo-qat.json's iterations)
#   ptq           post-training quantization of that seed's baseline
#
#   bash bench/run_protocols.sh [SEED ...]      (default: 1 2)
#
# Each seed needs its own baseline; the demo's (runs/baselines/demo-seedN)
# and its stores (runs/demo/seedN.db) are reused when present, so after
# `bash scripts/demo.sh --seed N` only the from-scratch jobs run here.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
[[ ${#seeds[@]} -gt 0 ]] || seeds=(1 2)
source scripts/prepare.sh  # $bitsweep, $classifier
iterations=$(/usr/bin/python3 -c 'import json; print(json.load(open("examples/demo-baseline.json"))["train"]["iterations"])')
configs='{"quant.g.method": ["em"], "quant.g.bits": [2]}'
for seed in "${seeds[@]}"; do
  baseline=runs/baselines/demo-seed$seed
  [[ -f "$baseline/result.json" ]] ||
    "$bitsweep" train --spec examples/demo-baseline.json --out "$baseline" --seed "$seed" --quiet
  common=(--quiet --set "base.train.seed=$seed")
  warm=(--db "runs/demo/seed$seed.db" --set "base.train.init_from_file=$PWD/$baseline/checkpoint.pt")
  "$bitsweep" local --spec examples/demo-ptq.json "${common[@]}" "${warm[@]}" >/dev/null
  "$bitsweep" local --spec examples/demo-qat.json "${common[@]}" "${warm[@]}" >/dev/null
  "$bitsweep" local --spec examples/demo-qat.json "${common[@]}" --db "runs/bench/protocols-seed$seed.db" \
    --set name=demo-scratch --set base.train.init_from_file= --set "base.train.iterations=$iterations" \
    --set "strategy.axes=$configs" >/dev/null
done
/usr/bin/python3 - "$iterations" "${seeds[@]}" <<'PY'
import json, math, platform, sqlite3, statistics, sys
iterations, seeds = int(sys.argv[1]), [int(s) for s in sys.argv[2:]]
rows = {}  # (protocol, method, bits) -> {seed: (fid, seconds)}
def add(db, protocol_of):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for protocol, method, bits, seed, fid, seconds in con.execute(
            "SELECT protocol, method_g, bits_g, seed, fid, wall_seconds FROM results "
            "WHERE state = 'SUCCEEDED' AND method_d = 'none'"):
        rows.setdefault((protocol_of(protocol), method, bits), {})[seed] = (fid, seconds)
for s in seeds:
    add(f"runs/demo/seed{s}.db", lambda p: p)
    add(f"runs/bench/protocols-seed{s}.db", lambda p: p)
    base = json.load(open(f"runs/baselines/demo-seed{s}/result.json"))
    rows.setdefault(("from-scratch", "none", 32), {})[s] = (base["final_metrics"]["fid"], base["wall_seconds"])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"# protocols on {cpu}, {len(seeds)} seeds ({', '.join(map(str, seeds))}); from scratch = {iterations} iterations")
print(f"{'protocol':<13} {'config':<9} {'seeds':>5} {'FID mean':>9} {'FID sd':>7} {'sd log(FID/own fp)':>19} {'s/config':>9} {'cost vs scratch':>16}")
scratch_cost = {}
for protocol in ("from-scratch", "warm-start", "ptq"):
    for method, bits in (("em", 2),):
        runs, own = rows.get((protocol, method, bits), {}), rows.get((protocol, "none", 32), {})
        common = [s for s in seeds if s in runs]
        if not common:
            continue
        fids = [runs[s][0] for s in common]
        cost = statistics.mean(runs[s][1] for s in common)
        logs = [math.log(runs[s][0] / own[s][0]) for s in common if s in own]
        sd = statistics.stdev(fids) if len(fids) > 1 else float("nan")
        sd_log = statistics.stdev(logs) if len(logs) > 1 else float("nan")
        if protocol == "from-scratch":
            scratch_cost[(method, bits)] = cost
        ratio = scratch_cost.get((method, bits), float("nan")) / cost
        print(f"{protocol:<13} {method + '-' + str(bits):<9} {len(common):>5} {statistics.mean(fids):>9.1f} {sd:>7.1f} "
              f"{sd_log:>19.3f} {cost:>9.1f} {ratio:>15.1f}x")
for s in seeds:
    fp = rows.get(("from-scratch", "none", 32), {}).get(s)
    if fp:
        print(f"# seed {s}: full-precision baseline FID {fp[0]:.1f} after {iterations} iterations ({fp[1]:.0f} s)")
PY
