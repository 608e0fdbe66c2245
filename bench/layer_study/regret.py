#!/usr/bin/env python3
"""The layer-allocation search against brute force (docs/results/fmnist-layer-widths).

    python3 bench/layer_study/regret.py BRUTE.db SEARCH.db SWEEP_ID [METHOD]

BRUTE.db holds post-training quantization of every allocation of one
method on one baseline (bench/run_layer_study.sh brute); SEARCH.db the
layer_allocation sweep SWEEP_ID that searched the same baseline (its first
seed). Standard library only.

What it prints, all judged on the brute-force measurements, so that the
search's choices and the best allocation are compared on the same samples:
- regret: at every budget that is a point of the brute-force front (bytes
  against FID), the FID of the allocation the search would answer with at
  that budget (the lowest measured multiple of full precision among the
  allocations it measured, no more bytes) minus the best FID of any
  allocation within the budget, in FID and in standard errors; the same for
  the damage model's prediction alone (its predicted front, nothing
  measured);
- the damage model over all allocations: predicted against measured
  multiple of the all-8-bit allocation, and its rank agreement;
- the output-distortion proxy's rank agreement with FID over all allocations;
- the cost: the search's post-training jobs of METHOD against brute force's.
"""
import json
import math
import sqlite3
import sys


def kendall_tau_b(x, y):
    n = len(x)
    concordant = discordant = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denominator if denominator else float("nan")


def brute_force(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    points = {}
    for widths, fid, fid_se, result in con.execute(
            "SELECT r.widths_g, r.fid, r.fid_se, j.result_json FROM results r JOIN jobs j ON j.id = r.job "
            "WHERE r.state = 'SUCCEEDED' AND r.task = 'ptq'"):
        result = json.loads(result)
        points[widths] = {
            "widths": widths, "fid": fid, "fid_se": fid_se or 0.0,
            "bytes": result["model_bytes"]["generator_payload"],
            "distortion": result["final_metrics"].get("distortion"),
        }
    jobs = con.execute("SELECT COUNT(*), SUM(wall_seconds) FROM jobs WHERE state = 'SUCCEEDED'").fetchone()
    return points, jobs


def pareto(points):
    front, best = [], float("inf")
    for p in sorted(points, key=lambda p: (p["bytes"], p["fid"])):
        if p["fid"] < best:
            front.append(p)
            best = p["fid"]
    return front


def summary(values):
    values = sorted(values)
    return (f"median {values[len(values) // 2]:.2f}, max {values[-1]:.2f}" if values else "none")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    brute_path, search_path, sweep_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    method = sys.argv[4] if len(sys.argv) > 4 else "em"
    brute, (brute_jobs, brute_seconds) = brute_force(brute_path)
    con = sqlite3.connect(f"file:{search_path}?mode=ro", uri=True)
    outcome = json.loads(con.execute("SELECT strategy_outcome FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()[0])
    m = outcome["methods"][method]
    r = outcome.get("bound_ratio", 1.0)

    def ratio(p):
        return r * p["vs_bound"]["estimate"] if isinstance(p.get("vs_bound"), dict) else float("inf")

    measured = [p for p in m["measured_front"] + m.get("uniform", []) if "vs_bound" in p and p["widths"] in brute]
    predicted = [p for p in m["front"] if p["widths"] in brute]
    front = pareto(list(brute.values()))
    print(f"Brute force: {len(brute)} allocations ({brute_jobs} jobs, {brute_seconds:.0f} s of job time); "
          f"its front has {len(front)} points. The search (sweep {sweep_id}, {method}) measured "
          f"{len(measured)} allocations on its front or as uniform widths, and predicted a front of {len(predicted)}.\n")

    print("| budget KiB | best allocation: FID +- se | search's answer (measured): FID, regret (se) "
          "| damage model alone (predicted front): FID, regret (se) |")
    print("|---:|---|---|---|")
    regrets = {"measured": [], "predicted": []}
    for point in front:
        budget = point["bytes"]
        row = [f"{budget / 1024:.1f}", f"{point['widths']}: {point['fid']:.1f} +- {point['fid_se']:.1f}"]
        for name, candidates, key in (("measured", measured, ratio), ("predicted", predicted,
                                                                     lambda p: p["predicted_fid"])):
            within = [p for p in candidates if p["bytes"] <= budget]
            if not within:
                row.append("nothing within")
                continue
            choice = brute[min(within, key=key)["widths"]]
            regret = choice["fid"] - point["fid"]
            se = math.hypot(choice["fid_se"], point["fid_se"]) if choice is not point else 0.0
            in_se = regret / se if se > 0 else 0.0
            regrets[name].append(in_se)
            row.append(f"{choice['widths']}: {choice['fid']:.1f}, {regret:+.1f} ({in_se:.1f})")
        print("| " + " | ".join(row) + " |")
    # Where a bound is set in practice: budgets whose best allocation is
    # within 3x of the all-8-bit allocation's FID.
    reference = brute.get(",".join(["8"] * len(outcome["layers"])))
    near = [reference is not None and p["fid"] <= 3.0 * reference["fid"] for p in front]
    for name, values in regrets.items():
        for label, keep in (("all budgets", [True] * len(values)), ("budgets within 3x of 8 bits", near)):
            kept = [v for v, k in zip(values, keep) if k]
            within = sum(1 for v in kept if v <= 1.0)
            print(f"\n{name}, {label}: regret within one standard error at {within} of {len(kept)}; "
                  f"regret in standard errors {summary(kept)}.")

    # The damage model over every allocation: log(FID / FID of all 8 bits)
    # predicted as the sum of the layers' own damages (seed 1's
    # sensitivities), against the brute-force measurement.
    damage = {}
    for s in m["sensitivities"]:
        damage.setdefault((s["layer"], s["bits"]), []).append(s["damage"])
    names = [layer["name"] for layer in outcome["layers"]]
    if reference is None:
        sys.exit("brute force has not measured the all-8-bit allocation yet")
    errors, predicted_log, measured_log = [], [], []
    for p in brute.values():
        widths = [int(w) for w in p["widths"].split(",")]
        total = 0.0
        for name, bits in zip(names, widths):
            values = damage.get((name, bits), [0.0])
            total += sum(values) / len(values)
        measured_ratio = math.log(p["fid"] / reference["fid"])
        errors.append(abs(measured_ratio - total))
        predicted_log.append(total)
        measured_log.append(measured_ratio)
    errors.sort()
    print(f"\nDamage model over all {len(errors)} allocations (against the all-8-bit allocation, "
          f"FID {reference['fid']:.1f}): |log(measured / predicted)| mean {sum(errors) / len(errors):.3f}, "
          f"median {errors[len(errors) // 2]:.3f}, 90th percentile {errors[int(0.9 * len(errors))]:.3f}, "
          f"max {errors[-1]:.3f}; Kendall tau of predicted against measured FID "
          f"{kendall_tau_b(predicted_log, measured_log):.2f}.")
    with_proxy = [p for p in brute.values() if p["distortion"] is not None]
    print(f"Proxy (output distortion) against FID over {len(with_proxy)} allocations: Kendall tau "
          f"{kendall_tau_b([p['distortion'] for p in with_proxy], [p['fid'] for p in with_proxy]):.2f}.")

    jobs = con.execute("SELECT COUNT(*), SUM(wall_seconds) FROM jobs WHERE sweep_id = ? AND task = 'ptq' "
                       "AND method_g IN (?, 'none') AND state = 'SUCCEEDED'", (sweep_id, method)).fetchone()
    print(f"Cost: the search ran {jobs[0]} post-training jobs for {method} (and full precision), over all its "
          f"seeds: {100 * jobs[0] / max(1, brute_jobs):.1f}% of brute force's {brute_jobs} on one seed; "
          f"{jobs[1]:.0f} s of job time against {brute_seconds:.0f} s.")


if __name__ == "__main__":
    main()
