#!/usr/bin/env python3
"""Tables of a layer-allocation study (docs/results/fmnist-layer-widths).

    python3 bench/layer_study/summarize.py STORE.db [SWEEP_ID ...]

Reads each layer_allocation sweep's outcome (the strategy's own JSON, the
fields docs/searches.md lists) and its jobs from the store, read-only, and
prints Markdown: per bound and method the uniform answer against the
per-layer one; at the bytes of uniform b bits the best measured allocation;
the damage model's error, the proxy's rank agreement and the search's cost;
every layer's sensitivity. FID values are means over the seeds a point was
measured on ("n"); a multiple of full precision is r x the point's ratio to
the bound, with the search's interval.
"""
import json
import sqlite3
import sys


def kib(b):
    return f"{b / 1024:.1f}"


def times_fp(point, r):
    v = point.get("vs_bound")
    if not isinstance(v, dict):
        return "-"
    return f"{r * v['estimate']:.2f} ({r * v['low']:.2f}-{r * v['high']:.2f})"


def fid(point):
    return f"{point['fid']:.1f} +- {point.get('fid_se', 0.0):.1f} (n {point.get('n', 1)})"


def qat(point):
    q = point.get("qat")
    return f"{q['fid']:.1f} +- {q.get('fid_se', 0.0):.1f}" if q else "-"


def sweeps(con, ids):
    rows = con.execute("SELECT id, name, strategy_outcome, spec_json FROM sweeps ORDER BY id").fetchall()
    for sweep_id, name, outcome, spec in rows:
        if ids and sweep_id not in ids:
            continue
        spec = json.loads(spec)
        if spec.get("strategy", {}).get("kind") != "layer_allocation" or not outcome:
            continue
        yield sweep_id, name, json.loads(outcome), spec


def bound_ratio(outcome, spec):
    if "bound_ratio" in outcome:
        return outcome["bound_ratio"]
    return spec["strategy"].get("requirement", {}).get("relative_to_baseline", 1.0)


def answers(sweep_id, name, o, r):
    print(f"\n### Sweep {sweep_id} \"{name}\": FID <= {r:g} x full precision\n")
    ref = o["reference"]
    print(f"Full precision: FID {ref.get('mean_fid', ref['fid']):.1f} (mean over {ref.get('n', 1)} baselines), "
          f"{kib(ref['bytes'])} KiB. Done: {o.get('done')}.\n")
    print("| method | uniform answer | KiB | x fp (interval) | per-layer answer (conv1..conv4) | KiB | x fp (interval) "
          "| fewer bytes | next cheaper on the front | QAT FID: uniform / per layer |")
    print("|---|---|---:|---|---|---:|---|---:|---|---|")
    for method, m in o["methods"].items():
        b = m.get("bound", {})
        u, a, n = b.get("uniform_answer"), b.get("answer"), b.get("cheaper_neighbour")
        cols = [method]
        cols += [u["widths"], kib(u["bytes"]), times_fp(u, r)] if u else ["none meets", "-", "-"]
        cols += [a["widths"], kib(a["bytes"]), times_fp(a, r)] if a else [b.get("status", "-"), "-", "-"]
        cols.append(f"{100 * b['saving']:.0f}%" if "saving" in b else "-")
        cols.append(f"{n['widths']} at {kib(n['bytes'])} KiB: {n['verdict']} ({times_fp(n, r)})" if n else "-")
        cols.append(f"{qat(u) if u else '-'} / {qat(a) if a else '-'}")
        print("| " + " | ".join(cols) + " |")


def ratio(p, r):
    # A point's FID as a multiple of full precision, each seed against its
    # own baseline (points measured on different seeds compare fairly so;
    # their mean FIDs do not).
    return r * p["vs_bound"]["estimate"] if isinstance(p.get("vs_bound"), dict) else float("inf")


def iso_bytes(o, r):
    print("\nAt the bytes of uniform b bits: the best measured allocation with no more bytes, and with at most "
          "1.15x those bytes, against uniform b and b+1: KiB, FID as a multiple of full precision (x fp, each "
          "seed against its own baseline) and mean FID over the n seeds measured.\n")
    print("| method | b | uniform b | best at <= its bytes | best at <= 1.15x its bytes | uniform b+1 |")
    print("|---|---:|---|---|---|---|")
    for method, m in o["methods"].items():
        points = [p for p in m.get("measured_front", []) + m.get("uniform", []) if "vs_bound" in p]
        uniform = {p["bits"]: p for p in m.get("uniform", []) if "fid" in p}
        widths = sorted(uniform)
        for i, bits in enumerate(widths[:-1]):
            if bits > 3:
                break
            u, nxt = uniform[bits], uniform[widths[i + 1]]

            def show(p):
                return f"{p['widths']}: {kib(p['bytes'])}, {ratio(p, r):.2f}x, {p['fid']:.1f} (n {p.get('n', 1)})"

            def best(limit):
                return show(min((p for p in points if p["bytes"] <= limit), key=lambda p: ratio(p, r)))

            print(f"| {method} | {bits} | {show(u)} | {best(u['bytes'])} | {best(1.15 * u['bytes'])} | {show(nxt)} |")


def model_and_cost(con, sweep_id, o):
    print("\n| method | sensitivities | Kendall tau of the proxy against FID (pairs) | additivity error "
          "(mean / max abs log FID ratio, points) |")
    print("|---|---:|---|---|")
    for method, m in o["methods"].items():
        p, a = m.get("proxy", {}), m.get("additivity", {})
        cached = sum(1 for s in m.get("sensitivities", []) if s.get("cached"))
        print(f"| {method} | {len(m.get('sensitivities', []))} ({cached} reused) | {p.get('kendall_tau', float('nan')):.2f} "
              f"({p.get('pairs', 0)}) | {a.get('mean_abs_log_error', float('nan')):.3f} / "
              f"{a.get('max_abs_log_error', float('nan')):.3f} ({a.get('points', 0)}) |")
    jobs = con.execute("SELECT task, COUNT(*), SUM(wall_seconds), AVG(wall_seconds) FROM jobs "
                       "WHERE sweep_id = ? AND state = 'SUCCEEDED' GROUP BY task", (sweep_id,)).fetchall()
    print("\nJobs of the sweep (succeeded): " + "; ".join(
        f"{task} {count} ({total:.0f} s of job time, {mean:.1f} s each)" for task, count, total, mean in jobs) +
        f". Brute force: {o.get('brute_force_jobs')} post-training jobs (every allocation of every method, one seed); "
        f"the search ran {o.get('ptq_jobs')} post-training jobs over all its seeds "
        f"({100 * o.get('ptq_jobs', 0) / max(1, o.get('brute_force_jobs', 1)):.1f}%).")


def sensitivities(o):
    print("\nSensitivities: FID with one layer quantized alone (the others at full precision), mean over the "
          "seeds measured (n in the cell when more than one); the output-distortion proxy in brackets.\n")
    for method, m in o["methods"].items():
        by = {}
        for s in m.get("sensitivities", []):
            by.setdefault(s["layer"], {}).setdefault(s["bits"], []).append(s)
        bits = sorted({s["bits"] for s in m.get("sensitivities", [])})
        print(f"\n{method}:\n")
        print("| layer | " + " | ".join(f"{b} bits" for b in bits) + " |")
        print("|---|" + "---|" * len(bits))
        for layer, per in by.items():
            cells = []
            for b in bits:
                ss = per.get(b, [])
                if not ss:
                    cells.append("-")
                    continue
                f = sum(s["fid"] for s in ss) / len(ss)
                d = sum(s.get("distortion", 0.0) for s in ss) / len(ss)
                cells.append(f"{f:.1f} [{d:.3f}]" + (f" n {len(ss)}" if len(ss) > 1 else ""))
            print(f"| {layer} | " + " | ".join(cells) + " |")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    ids = {int(a) for a in sys.argv[2:]}
    for sweep_id, name, o, spec in sweeps(con, ids):
        r = bound_ratio(o, spec)
        answers(sweep_id, name, o, r)
        iso_bytes(o, r)
        model_and_cost(con, sweep_id, o)
        sensitivities(o)


if __name__ == "__main__":
    main()
