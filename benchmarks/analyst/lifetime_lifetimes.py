#!/usr/bin/env python3
"""The analyst's lifetime value: pandas summary + the `lifetimes` package.

Reads the transactions CSV with pandas and builds the per-customer summary
with Koi's definitions (Sources/Koi/Lifetime/LifetimeSummary.swift), in days:

    d0 < d1 < … < dx   distinct days with a purchase (amount > 0)
    frequency x = distinct purchase days − 1,  recency t_x = dx − d0,  T = as-of − d0
    monetary m = (sum of all amounts on days > d0, refunds included) / x   (0 when x = 0)

then fits lifetimes 0.11.3's BetaGeoFitter on (x, t_x, T) and
GammaGammaFitter on customers with x > 0 and m > 0, and scores every
customer: P(alive), expected purchases over the horizon, expected spend and
CLV (as benchmarks/lifetime/lifetimes_reference.py). Prints JSON with the
parameters, score sums and seconds (read, summary, fit, score).

Usage: lifetime_lifetimes.py TRANSACTIONS.csv --as-of YYYY-MM-DD [--horizon-days 360]
"""
import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import day_number, read_transactions  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def summary(df, as_of_day):
    p = df[df["amount"] > 0]
    first = p["day"].groupby(p["cid"]).min()
    last = p["day"].groupby(p["cid"]).max()
    days = p[["cid", "day"]].drop_duplicates().groupby("cid").size()
    x = (days - 1).astype(float)
    later = df["day"].to_numpy() > first.reindex(df["cid"]).to_numpy()
    repeat_spend = df["amount"][later].groupby(df["cid"][later]).sum().reindex(first.index, fill_value=0.0)
    m = (repeat_spend / x.where(x > 0)).fillna(0.0)
    return pd.DataFrame({"frequency": x, "recency": (last - first).astype(float),
                         "T": (as_of_day - first).astype(float), "monetary_value": m})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--horizon-days", type=float, default=360)
    ap.add_argument("--discount-rate", type=float, default=0.10, help="annual, fraction")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    df, read_s = read_transactions(args.csv, [])
    t0 = time.perf_counter()
    d = summary(df, day_number(args.as_of))
    sum_s = time.perf_counter() - t0
    del df

    t0 = time.perf_counter()
    bgf = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    repeat = d[(d["frequency"] > 0) & (d["monetary_value"] > 0)]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    fit_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    f, r, T, m = d["frequency"], d["recency"], d["T"], d["monetary_value"]
    p_alive = bgf.conditional_probability_alive(f, r, T)
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(args.horizon_days, f, r, T)
    spend = ggf.conditional_expected_average_profit(f, m)
    monthly = (1 + args.discount_rate) ** (30 / 365.25) - 1
    clv = ggf.customer_lifetime_value(bgf, f, r, T, m, time=int(round(args.horizon_days / 30)),
                                      discount_rate=monthly, freq="D")
    score_s = time.perf_counter() - t0

    def total(v):
        return float(np.nansum(np.asarray(v, dtype=float)))

    print(json.dumps({
        "customers": int(len(d)), "repeat_customers_for_spend": int(len(repeat)),
        "bg_nbd": {k: float(v) for k, v in bgf.params_.items()},
        "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
        "sums": {"p_alive": total(p_alive), "expected_purchases": total(expected),
                 "expected_spend": total(spend), "clv": total(clv)},
        "seconds": {"read": read_s, "summary": sum_s, "fit": fit_s, "score": score_s},
    }))


if __name__ == "__main__":
    main()
