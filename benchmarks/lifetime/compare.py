#!/usr/bin/env python3
"""Koi's lifetime stage against the Python `lifetimes` package, side by side.

One command builds Koi's benchmark driver (the nested Swift package in this
directory), simulates a summary of N customers (default 1,000,000) if it is
not there yet, creates the pinned venv with lifetimes 0.11.3 on first use,
then alternates the two tools REPS times on the same summary CSV:

  lifetimes  BetaGeoFitter + GammaGammaFitter fit, then P(alive), expected
             purchases, expected spend and customer_lifetime_value for everyone
  Koi        LifetimeStage.run with BG/NBD + Gamma-Gamma (--max-erlang-k 0),
             the same models and outputs
  Koi (default stage)  the same plus MBG/CNBD-k fitted for k = 1..4 and chosen
             by AIC, as `koi score` does by default (more work than lifetimes)

Times are wall seconds of fit + score in-process (reading the CSV excluded on
both sides); the figures quoted are medians. The run fails (exit 1) when the
answers disagree: BG/NBD parameters beyond 1e-4 relative, Gamma-Gamma beyond
1e-3, or the sums of P(alive), expected purchases or CLV beyond 1e-6.

Usage: python3 benchmarks/lifetime/compare.py [--customers N] [--reps R]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "data")
DRIVER = os.path.join(HERE, ".build", "release", "LifetimeBench")


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index("{"):])


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    print("building LifetimeBench (release)...", file=sys.stderr, flush=True)
    subprocess.run(["swift", "build", "-c", "release", "--package-path", HERE], check=True,
                   stdout=subprocess.DEVNULL)
    os.makedirs(DATA, exist_ok=True)
    csv = os.path.join(DATA, f"lifetime-summary-{args.customers}.csv")
    if not os.path.exists(csv):
        print(f"simulating {args.customers} customers into {csv}...", file=sys.stderr, flush=True)
        subprocess.run([DRIVER, "simulate", str(args.customers), csv], check=True)

    koi, koi_default, ref = [], [], []
    for rep in range(args.reps):
        print(f"rep {rep + 1}/{args.reps}", file=sys.stderr, flush=True)
        koi.append(run_json([DRIVER, "run", csv, "--max-erlang-k", "0"]))
        ref.append(run_json([sys.executable, os.path.join(HERE, "lifetimes_reference.py"), csv]))
        koi_default.append(run_json([DRIVER, "run", csv, "--max-erlang-k", "4"]))

    errors = []
    k, r = koi[-1], ref[-1]
    for name in ["r", "alpha", "a", "b"]:
        if relative(k["bg_nbd"][name], r["bg_nbd"][name]) > 1e-4:
            errors.append(f"BG/NBD {name}: Koi {k['bg_nbd'][name]}, lifetimes {r['bg_nbd'][name]}")
    for name in ["p", "q", "v"]:
        if relative(k["gamma_gamma"][name], r["gamma_gamma"][name]) > 1e-3:
            errors.append(f"Gamma-Gamma {name}: Koi {k['gamma_gamma'][name]}, lifetimes {r['gamma_gamma'][name]}")
    for name in ["p_alive", "expected_purchases", "clv"]:
        if relative(k["sums"][name], r["sums"][name]) > 1e-6:
            errors.append(f"sum of {name}: Koi {k['sums'][name]}, lifetimes {r['sums'][name]}")

    def med(rows, key):
        return statistics.median(x["seconds"][key] for x in rows)

    ref_fit = statistics.median(x["seconds"]["fit"] for x in ref)
    ref_score = statistics.median(x["seconds"]["score"] for x in ref)
    ref_total = statistics.median(x["seconds"]["fit"] + x["seconds"]["score"] for x in ref)
    koi_total, koi_fit = med(koi, "fit_and_score"), med(koi, "fit")
    default_total = med(koi_default, "fit_and_score")
    print(f"\n{k['customers']:,} customers, {k['unique_rows']:,} unique (x, t_x, T) rows; "
          f"horizon 360 days, 10 % annual discount, margin 1; medians of {args.reps} alternating runs, wall seconds\n")
    print("| tool | models | fit | score | fit + score | lifetimes ÷ tool |")
    print("|---|---|---:|---:|---:|---:|")
    print(f"| lifetimes 0.11.3 | BG/NBD + Gamma-Gamma | {ref_fit:.2f} | {ref_score:.2f} | {ref_total:.2f} | 1.0× |")
    print(f"| Koi | BG/NBD + Gamma-Gamma | {koi_fit:.3f} | {koi_total - koi_fit:.3f} | {koi_total:.3f} | "
          f"{ref_total / koi_total:.1f}× |")
    print(f"| Koi, default stage | + MBG/CNBD-k, k = 1…4, chosen by AIC ({koi_default[-1]['chosen']}) | "
          f"{med(koi_default, 'fit'):.3f} | {default_total - med(koi_default, 'fit'):.3f} | {default_total:.3f} | "
          f"{ref_total / default_total:.1f}× |")
    def params(d, names):
        return ", ".join("%.7g" % d[n] for n in names)

    print(f"\nBG/NBD r, alpha, a, b: Koi {params(k['bg_nbd'], ['r', 'alpha', 'a', 'b'])}; "
          f"lifetimes {params(r['bg_nbd'], ['r', 'alpha', 'a', 'b'])}")
    print(f"Gamma-Gamma p, q, gamma: Koi {params(k['gamma_gamma'], ['p', 'q', 'v'])}; "
          f"lifetimes {params(r['gamma_gamma'], ['p', 'q', 'v'])}")
    print("sums Koi / lifetimes: " + "; ".join(
        f"{n} {k['sums'][n]:.10g} / {r['sums'][n]:.10g}" for n in ["p_alive", "expected_purchases", "expected_spend", "clv"]))
    if errors:
        print("\nANSWER CHECK FAILED:\n  " + "\n  ".join(errors))
        sys.exit(1)
    print("answer checks passed")


if __name__ == "__main__":
    main()
