#!/usr/bin/env python3
"""Reference timing and figures for Koi's lifetime stage, from `lifetimes`.

Reads a summary CSV with columns customer_id, frequency, recency, T,
monetary_value (times in days), fits BG/NBD and Gamma-Gamma with lifetimes
0.11.3, scores every customer (P(alive), expected purchases over the horizon,
expected average spend, discounted CLV) and prints one JSON object with the
fitted parameters, checksums of the scores and the seconds for fit and score.

CLV follows lifetimes' customer_lifetime_value: 30-day steps over
horizon_days/30 months, each step's expected purchases discounted by
(1 + m)^step with the monthly rate m = (1 + annual)^(30/365.25) - 1, which is
exactly Koi's continuous discounting at the 30-day boundaries.

Creates benchmarks/.venv (numpy<2, pandas<2.2, scipy<1.13, lifetimes==0.11.3)
on first use and re-runs itself there.

Usage: python3 benchmarks/lifetime/lifetimes_reference.py SUMMARY.csv
         [--horizon-days 360] [--discount-rate 0.10] [--margin 1.0]
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(os.path.dirname(HERE), ".venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
PINS = ["numpy<2", "pandas<2.2", "scipy<1.13", "lifetimes==0.11.3"]


def ensure_venv():
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(VENV_PYTHON):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([VENV_PYTHON, "-m", "pip", "install", "--quiet"] + PINS)
    os.execv(VENV_PYTHON, [VENV_PYTHON] + sys.argv)


def main():
    ensure_venv()
    import argparse
    import json
    import time
    import warnings

    import numpy as np
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("summary")
    parser.add_argument("--horizon-days", type=float, default=360)
    parser.add_argument("--discount-rate", type=float, default=0.10, help="annual, fraction")
    parser.add_argument("--margin", type=float, default=1.0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    d = pd.read_csv(args.summary)
    read_seconds = time.perf_counter() - t0

    t0, c0 = time.perf_counter(), time.process_time()
    bgf = BetaGeoFitter()
    bgf.fit(d["frequency"], d["recency"], d["T"])
    repeat = d[(d["frequency"] > 0) & (d["monetary_value"] > 0)]
    ggf = GammaGammaFitter()
    ggf.fit(repeat["frequency"], repeat["monetary_value"])
    fit_seconds, fit_cpu = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    f, r, T, m = d["frequency"], d["recency"], d["T"], d["monetary_value"]
    p_alive = bgf.conditional_probability_alive(f, r, T)
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(args.horizon_days, f, r, T)
    spend = ggf.conditional_expected_average_profit(f, m)
    monthly = (1 + args.discount_rate) ** (30 / 365.25) - 1
    months = int(round(args.horizon_days / 30))
    clv = ggf.customer_lifetime_value(bgf, f, r, T, m, time=months, discount_rate=monthly, freq="D") * args.margin
    score_seconds, score_cpu = time.perf_counter() - t0, time.process_time() - c0

    def total(x):
        return float(np.nansum(np.asarray(x, dtype=float)))

    print(json.dumps({
        "tool": "lifetimes 0.11.3",
        "customers": int(len(d)),
        "bg_nbd": {k: float(v) for k, v in bgf.params_.items()},
        "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
        "horizon_days": args.horizon_days,
        "sums": {"p_alive": total(p_alive), "expected_purchases": total(expected),
                 "expected_spend": total(spend), "clv": total(clv)},
        "seconds": {"read": read_seconds, "fit": fit_seconds, "score": score_seconds},
        "cpu_seconds": {"fit": fit_cpu, "score": score_cpu},
    }, indent=2))


if __name__ == "__main__":
    main()
