#!/usr/bin/env bash
# The edge runtime (bitsweep-edge) against LibTorch fp32 on this machine,
# side by side in one run: DCGAN-32 generators (Fashion-MNIST's shape) of
# ngf 32 (the demo's) and ngf 64, full precision and EM at 1, 2 and 4 bits.
# Per model and side: weight bytes held, peak resident memory of the whole
# process, latency per image (p50, p99) at batch 64 and 1 with 1 and 2
# threads; the runtime's float32 path (weights decoded at load) beside its
# packed path; and the largest difference between the two runtimes' images
# for the same latents.
#
#   bash bench/run_edge.sh [TRAINED_FP32_NGF32.bsg]
#
# With a trained full-precision ngf-32 generator (e.g. the demo's baseline,
# runs/baselines/demo-seed1/generator.bsg) the ngf-32 models are it and its
# post-training quantizations; otherwise, and for ngf 64, randomly initialised
# generators quantized the same way (latency and memory do not depend on the
# weights' values). Each process runs one model and one side, so that its
# peak memory is its own. BITSWEEP_BENCH_SECONDS sets the timed seconds per
# case (default 2), BITSWEEP_BENCH_ROUNDS the rounds (default 2; the sides
# alternate within a round, medians are reported).
set -euo pipefail
cd "$(dirname "$0")/.."
# LibTorch's OpenMP threads wait passively (scripts/env.sh does the same for
# every bitsweep process): spinning threads on a busy machine made its
# 2-thread runs 50-100x slower here. The malloc tunables of env.sh are left
# out, so that peak memory is the allocator's default on both sides.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
trained="${1:-}"
seconds="${BITSWEEP_BENCH_SECONDS:-2}"
rounds="${BITSWEEP_BENCH_ROUNDS:-2}"
bash scripts/build.sh bitsweep bitsweep-edge edge_models edge_libtorch_bench
[[ -f build/edge/edge.wasm ]] || echo "run_edge: no build/edge/edge.wasm (emscripten missing): no Chromium figures" >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for ngf in 32 64; do
  mkdir -p "$out/ngf$ngf"
  from=()
  if [[ $ngf == 32 && -n "$trained" ]]; then from=(--from "$trained"); fi
  ./build/bench/edge_models --out "$out/ngf$ngf" --ngf "$ngf" "${from[@]}" >/dev/null
done

for round in $(seq "$rounds"); do
  for ngf in 32 64; do
    for model in fp32 em1 em2 em4; do
      f="$out/ngf$ngf/$model.bsg"
      ./build/edge/bitsweep-edge bench "$f" --seconds "$seconds" --json >"$out/ngf$ngf-$model-packed-$round.json"
      ./build/edge/bitsweep-edge bench "$f" --seconds "$seconds" --json --float32 >"$out/ngf$ngf-$model-float32-$round.json"
      ./build/bench/edge_libtorch_bench "$f" --seconds "$seconds" >"$out/ngf$ngf-$model-libtorch-$round.json"
    done
  done
done

# The WebAssembly build in Chromium (needs emscripten at build time).
if [[ -f build/edge/edge.wasm ]]; then
  node bench/edge_browser_bench.mjs "$out"/ngf32/{fp32,em1,em2,em4}.bsg "$out"/ngf64/{fp32,em1,em2,em4}.bsg \
    >"$out/browser.jsonl"
fi

# The same 64 latents through both runtimes.
for ngf in 32 64; do
  for model in fp32 em1 em2 em4; do
    f="$out/ngf$ngf/$model.bsg"
    ./build/edge/bitsweep-edge generate "$f" -n 64 --seed 5 --latents-out "$out/z.npy" --raw "$out/edge.npy" >/dev/null
    ./build/cli/bitsweep sample --model "$f" --latents-in "$out/z.npy" --images-out "$out/torch.npy" -o "$out/t.png" >/dev/null
    /usr/bin/python3 - "$out/edge.npy" "$out/torch.npy" >"$out/ngf$ngf-$model-diff.txt" <<'PY'
import struct, sys
def load(path):
    data = open(path, "rb").read()
    n = struct.unpack("<H", data[8:10])[0]
    body = data[10 + n:]
    return struct.unpack("<%df" % (len(body) // 4), body)
a, b = load(sys.argv[1]), load(sys.argv[2])
print(max(abs(x - y) for x, y in zip(a, b)))
PY
  done
done

/usr/bin/python3 - "$out" "$trained" <<'PY'
import glob, json, os, statistics, sys
out, trained = sys.argv[1], sys.argv[2]
flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
vector = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni") if f in flags]
print(f"CPU: {cpu}, {os.cpu_count()} cores visible; vector extensions: {' '.join(vector)}")
print(f"medians of {len(glob.glob(f'{out}/ngf32-fp32-packed-*.json'))} rounds; per case {os.environ.get('BITSWEEP_BENCH_SECONDS', '2')} s")

def load(ngf, model, side):
    runs = [json.load(open(p)) for p in sorted(glob.glob(f"{out}/ngf{ngf}-{model}-{side}-*.json"))]
    cases = {}
    for r in runs:
        for c in r["cases"]:
            cases.setdefault((c["threads"], c["batch"]), []).append(c)
    med = {k: {"p50": statistics.median(c["p50_ms"] for c in v), "p99": statistics.median(c["p99_ms"] for c in v)}
           for k, v in cases.items()}
    return {"file": runs[0]["file_bytes"], "weights": runs[0]["weight_bytes"],
            "rss": statistics.median(r["peak_rss_bytes"] for r in runs), "cases": med,
            "kernels": runs[0].get("kernels", "")}

def kib(b): return f"{b / 1024:,.0f} KiB" if b < 10 * 1048576 else f"{b / 1048576:,.1f} MiB"
def mib(b): return f"{b / 1048576:.1f} MiB"

for ngf in (32, 64):
    origin = f"trained ({trained})" if ngf == 32 and trained else "randomly initialised, PTQ"
    print(f"\n### DCGAN-32, ngf {ngf}, nz 100, 1 channel: {origin}\n")
    print("| model | file | weights held: packed | float32 path | LibTorch | ratio LibTorch/packed | peak RSS: packed | float32 path | LibTorch | ratio | max abs diff vs LibTorch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model in ("fp32", "em1", "em2", "em4"):
        p, f, t = (load(ngf, model, s) for s in ("packed", "float32", "libtorch"))
        diff = float(open(f"{out}/ngf{ngf}-{model}-diff.txt").read())
        print(f"| {model} | {kib(p['file'])} | {kib(p['weights'])} | {kib(f['weights'])} | {kib(t['weights'])} | "
              f"{t['weights'] / p['weights']:.1f}x | {mib(p['rss'])} | {mib(f['rss'])} | {mib(t['rss'])} | "
              f"{t['rss'] / p['rss']:.1f}x | {diff:.1e} |")
    print()
    print("| model | threads | batch | packed p50 / p99 ms | float32 path p50 / p99 | LibTorch p50 / p99 | LibTorch p50 / packed p50 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model in ("fp32", "em1", "em2", "em4"):
        p, f, t = (load(ngf, model, s) for s in ("packed", "float32", "libtorch"))
        for key in sorted(p["cases"], key=lambda k: (-k[1], k[0])):
            a, b, c = p["cases"][key], f["cases"][key], t["cases"][key]
            print(f"| {model} | {key[0]} | {key[1]} | {a['p50']:.3f} / {a['p99']:.3f} | {b['p50']:.3f} / {b['p99']:.3f} | "
                  f"{c['p50']:.3f} / {c['p99']:.3f} | {c['p50'] / a['p50']:.2f}x |")
print(f"\nkernels: {load(32, 'em2', 'packed')['kernels']}")
if os.path.exists(f"{out}/browser.jsonl"):
    rows = [json.loads(l) for l in open(f"{out}/browser.jsonl")]
    print(f"\n### Chromium ({rows[0]['browser']}, WebAssembly, {rows[0]['kernels']} kernels, 1 thread)\n")
    print("| model | weights held | batch 1 p50 / p99 ms | batch 64 p50 / p99 ms |")
    print("| --- | ---: | ---: | ---: |")
    for r in rows:
        name = "/".join(r["model"].split("/")[-2:]).replace(".bsg", "")
        c = {x["batch"]: x for x in r["cases"]}
        print(f"| {name} | {kib(r['weight_bytes'])} | {c[1]['p50_ms']:.3f} / {c[1]['p99_ms']:.3f} | "
              f"{c[64]['p50_ms']:.3f} / {c[64]['p99_ms']:.3f} |")
print(f"\nload average while it ran (1, 5, 15 min): {open('/proc/loadavg').read().split()[:3]}")
PY
