#!/usr/bin/env python3
"""The analyst's price-sensitivity tiers: pandas features + scikit-learn KMeans.

Reads the transactions CSV with pandas, computes Koi's tier features
(Sources/Koi/Tiers/TierFeature.swift) for the features listed in Koi's
model.json `tiers.features`, transforms and standardises them like
TierScaling (log1p for counts and amounts, population mean and sd),
rounds to float32 (Koi's FeatureMatrix is Float32; sklearn keeps float32
input in float32) and fits KMeans(k, init="k-means++", n_init=restarts,
max_iter=300, tol=1e-4, algorithm="lloyd") with Koi's k and restarts.
Prints JSON: seconds (read, features, fit), inertia, the standardisation it
found and its largest relative difference from Koi's model.json.

Usage: tiers_sklearn.py TRANSACTIONS.csv KOI_MODEL.json --as-of YYYY-MM-DD
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import day_number, read_transactions  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

LOG = {"breadth", "tenure_days", "purchase_days", "net_spend"}


def features(df, wanted, as_of_day):
    """Raw feature values per customer (index: cid), Koi's definitions."""
    p = df[df["amount"] > 0]
    cid = p["cid"]
    out = {}
    lp = p["list_price"] if "list_price" in p else pd.Series(np.nan, index=p.index)
    listed = lp.notna() & (lp > 0)
    if "discount_depth" in wanted:
        depth = (1 - p["amount"] / lp).clip(-1, 1).where(listed)
        out["discount_depth"] = depth.groupby(cid).mean()  # NaN: no listed purchase → imputed below
    if "promo_share" in wanted:
        out["promo_share"] = p["promo"].groupby(cid).mean()  # mean over known flags
    if "premium_share" in wanted:
        cat = p["item"]
        med_list = lp[listed].groupby(cat[listed]).median()
        med_paid = p["amount"].groupby(cat).median()
        med = med_list.reindex(med_paid.index).fillna(med_paid)
        price = lp.where(listed, p["amount"])
        premium = price.to_numpy() > med.reindex(cat).to_numpy()
        out["premium_share"] = pd.Series(premium, index=p.index).groupby(cid).mean()
    if "breadth" in wanted:
        out["breadth"] = p[["cid", "item"]].drop_duplicates().groupby("cid").size().astype(float)
    if "tenure_days" in wanted:
        out["tenure_days"] = (as_of_day - p["day"].groupby(cid).min()).astype(float)
    if "purchase_days" in wanted:
        out["purchase_days"] = p[["cid", "day"]].drop_duplicates().groupby("cid").size().astype(float)
    if "net_spend" in wanted:
        out["net_spend"] = df["amount"].groupby(df["cid"]).sum().clip(lower=0)
    if "channel_share" in wanted:
        pc = p[p["channel"].notna()]
        top = pc.groupby(["cid", "channel"]).size().groupby(level=0).max()
        out["channel_share"] = top / pc.groupby("cid").size()
    customers = np.sort(p["cid"].unique())
    table = pd.DataFrame({f: out[f].reindex(customers) for f in wanted}, index=customers)
    for f in ["discount_depth", "promo_share", "channel_share"]:
        if f in table and table[f].isna().any():
            table[f] = table[f].fillna(np.median(table[f].dropna().to_numpy()))
    return table


def standardise(table):
    cols, means, sds = [], [], []
    for f in table.columns:
        t = table[f].to_numpy(dtype=np.float64)
        if f in LOG:
            t = np.log1p(np.maximum(t, 0))
        m = t.mean()
        sd = np.sqrt(np.mean((t - m) ** 2))
        sd = sd if sd > 1e-12 * max(1, abs(m)) else 0.0
        cols.append((t - m) / sd if sd > 0 else np.zeros_like(t))
        means.append(m)
        sds.append(sd)
    return np.column_stack(cols).astype(np.float32), means, sds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv")
    ap.add_argument("model")
    ap.add_argument("--as-of", required=True)
    args = ap.parse_args()
    from sklearn.cluster import KMeans

    koi = json.load(open(args.model))["tiers"]
    wanted = koi["features"]
    need = [c for c, fs in [("item", {"premium_share", "breadth"}), ("list_price", {"discount_depth", "premium_share"}),
                            ("promo", {"promo_share"}), ("channel", {"channel_share"})] if fs & set(wanted)]
    df, read_s = read_transactions(args.csv, need)

    t0 = time.perf_counter()
    table = features(df, wanted, day_number(args.as_of))
    x, means, sds = standardise(table)
    feat_s = time.perf_counter() - t0
    del df

    t0 = time.perf_counter()
    km = KMeans(n_clusters=koi["k"], init="k-means++", n_init=koi["restarts"], max_iter=300, tol=1e-4,
                algorithm="lloyd", random_state=0).fit(x)
    fit_s = time.perf_counter() - t0

    ks = koi["scaling"]
    diff = 0.0
    for a, b in zip(means + sds, ks["means"] + ks["standard_deviations"]):
        diff = max(diff, abs(a - b) / max(abs(b), 1e-12))
    print(json.dumps({
        "customers": int(x.shape[0]), "features": wanted, "k": koi["k"], "n_init": koi["restarts"],
        "inertia": float(km.inertia_), "iterations": int(km.n_iter_),
        "means": means, "standard_deviations": sds, "scaling_max_relative_difference": diff,
        "seconds": {"read": read_s, "features": feat_s, "fit": fit_s},
    }))


if __name__ == "__main__":
    main()
