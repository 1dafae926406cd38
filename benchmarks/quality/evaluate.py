"""Truth, Koi's answers, the two baselines and the metrics for one data set.

Days are integers (days since 1970-01-01). A purchase is a row with amount > 0;
a pair is (customer, item); a pair's purchase days are its distinct days with a
purchase. Definitions are in README.md next to this file.
"""
import json
import os
import subprocess
import time

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

FEATURES = ["pair_recency", "pair_days", "pair_gap_mean", "pair_gap_median", "item",
            "item_gap_median", "cust_recency", "cust_frequency", "cust_monetary", "cust_tenure"]
LGB_PARAMS = dict(objective="binary", learning_rate=0.05, num_leaves=31, min_data_in_leaf=50,
                  seed=1, deterministic=True, num_threads=2, verbose=-1)
LGB_ROUNDS = 300
EPS = 1e-6


def day_of(s):
    return int(np.datetime64(s, "D").astype(np.int64))


def iso(d):
    return str(np.datetime64(int(d), "D"))


class History:
    """The purchase log of one data set, prepared once for features at any time T."""

    def __init__(self, rows, n_items):
        self.n_items = n_items
        self.rows = rows  # cust, item, day, amount (all valid rows, refunds too)
        buy = rows[rows["amount"] > 0]
        pday = buy[["cust", "item", "day"]].drop_duplicates().sort_values(["cust", "item", "day"])
        pday["key"] = pday["cust"] * n_items + pday["item"]
        same = pday["key"].values[1:] == pday["key"].values[:-1]
        gap = np.full(len(pday), np.nan)
        gap[1:][same] = np.diff(pday["day"].values)[same]
        pday["gap"] = gap  # days since the pair's previous purchase day (NaN on its first)
        self.pday = pday.reset_index(drop=True)
        self.cday = buy[["cust", "day"]].drop_duplicates()

    def pairs(self, T):
        """Pairs with a purchase before T, with their last purchase day."""
        p = self.pday[self.pday["day"] < T]
        g = p.groupby("key", sort=True)
        out = pd.DataFrame({"last": g["day"].max(), "days": g["day"].size()})
        out["cust"] = out.index.values // self.n_items
        out["item"] = out.index.values % self.n_items
        return out

    def bought(self, keys, lo, hi):
        """Whether each pair key has a purchase day in [lo, hi)."""
        w = self.pday[(self.pday["day"] >= lo) & (self.pday["day"] < hi)]
        return np.isin(keys, w["key"].unique())

    def first_after(self, keys, lo, hi):
        """First purchase day in [lo, hi) of each pair key, NaN if none."""
        w = self.pday[(self.pday["day"] >= lo) & (self.pday["day"] < hi)]
        first = w.groupby("key")["day"].min()
        return pd.Series(keys).map(first).values.astype(float)

    def features(self, T):
        """Feature frame (index = pair key) from data before T, pairs bought before T."""
        p = self.pday[self.pday["day"] < T]
        g = p.groupby("key", sort=True)
        f = pd.DataFrame({"last": g["day"].max(), "pair_days": g["day"].size(),
                          "pair_gap_mean": g["gap"].mean(), "pair_gap_median": g["gap"].median()})
        f["cust"] = f.index.values // self.n_items
        f["item_code"] = f.index.values % self.n_items
        f["pair_recency"] = T - f["last"]
        item_med = p.groupby("item")["gap"].median()
        f["item_gap_median"] = f["item_code"].map(item_med).astype(float)
        cd = self.cday[self.cday["day"] < T].groupby("cust")["day"]
        cust = pd.DataFrame({"first": cd.min(), "lastc": cd.max(), "freq": cd.size()})
        r = self.rows[self.rows["day"] < T]
        cust["monetary"] = r.groupby("cust")["amount"].sum()
        c = cust.loc[f["cust"].values]
        f["cust_recency"] = T - c["lastc"].values
        f["cust_frequency"] = c["freq"].values
        f["cust_monetary"] = c["monetary"].values
        f["cust_tenure"] = T - c["first"].values
        f["item"] = pd.Categorical(f["item_code"], categories=range(self.n_items))
        return f

    def item_mean_gap(self, T):
        p = self.pday[self.pday["day"] < T]
        return p.groupby("item")["gap"].mean(), float(p["gap"].mean())


def truth(h, C, end):
    t = h.pairs(C)
    keys = t.index.values
    t["y30"] = h.bought(keys, C, C + 30)
    t["y90"] = h.bought(keys, C, C + 90)
    t["next"] = h.first_after(keys, C, end)
    return t


# ---------------------------------------------------------------- Koi

def run_koi(koi, csv, C, out_dir, horizon=None, next_within=None):
    args = [koi, "score", csv, "--as-of", iso(C), "--out", out_dir, "--quiet"]
    if horizon is not None:  # the lifetime check: lifetime stage only, horizon = the holdout
        args += ["--stages", "lifetime", "--horizon-days", str(horizon)]
    if next_within is not None:  # dates conditioned on a purchase within the holdout, as LightGBM's are
        args += ["--stages", "intervals", "--next-within", str(next_within)]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r.stderr


def _days(values):
    """ISO dates (or None) to day numbers (NaN for None or unparseable)."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v:
            try:
                out[i] = np.datetime64(v, "D").astype(np.int64)
            except ValueError:
                pass
    return out


def read_koi(out_dir, cust_code, item_code, n_items):
    """Koi's repurchase entries keyed like the pairs, and lifetime per customer code."""
    rep, life = [], []
    with open(os.path.join(out_dir, "customers.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            c = json.loads(line)
            cc = cust_code.get(c["customer_id"])
            lt = c.get("lifetime") or {}
            life.append((cc, c["customer_id"], lt.get("p_alive"), lt.get("expected_purchases")))
            for r in c.get("repurchase", []):
                ic = item_code.get(r["category"])
                rep.append((cc, ic, c["customer_id"], r["category"], r.get("purchases"),
                            r.get("last_purchase"), r.get("expected_next"), r.get("p10"),
                            r.get("p50"), r.get("p90"), r.get("probability_30d"),
                            r.get("probability_60d"), r.get("probability_90d"),
                            r.get("return_probability"), r.get("status")))
    k = pd.DataFrame(rep, columns=["cust", "item", "customer_id", "category", "purchases",
                                   "last_purchase", "expected_next", "p10", "p50", "p90",
                                   "p30", "p60", "p90d", "return_probability", "status"])
    unmatched = int((k["cust"].isna() | k["item"].isna()).sum())
    k = k.dropna(subset=["cust", "item"])
    k["key"] = k["cust"].astype(np.int64) * n_items + k["item"].astype(np.int64)
    for col in ["expected_next", "p10", "p50", "p90", "last_purchase"]:
        k[col + "_day"] = _days(k[col].tolist())
    for col in ["p30", "p90d"]:
        k[col] = pd.to_numeric(k[col], errors="coerce")
    life = pd.DataFrame(life, columns=["cust", "customer_id", "p_alive", "expected_purchases"])
    return k.set_index("key"), life, unmatched


# ---------------------------------------------------------------- baselines

def item_rate(h, t, C):
    """Per item, the share of pairs bought before C-h that bought in [C-h, C)."""
    out = {}
    for hz in (30, 90):
        past = h.pairs(C - hz)
        past["y"] = h.bought(past.index.values, C - hz, C)
        rate = past.groupby("item")["y"].mean()
        out[hz] = t["item"].map(rate).fillna(past["y"].mean()).values.astype(float)
    gap, overall = h.item_mean_gap(C)
    g = t["item"].map(gap).fillna(overall).values
    out["date"] = np.maximum(C, t["last"].values + g)
    return out


def lightgbm(h, t, C, end, start, timings):
    out = {}
    fC = h.features(C).loc[t.index]
    for hz in (30, 90):
        t0 = time.time()
        f = h.features(C - hz)
        y = h.bought(f.index.values, C - hz, C)
        m = lgb.train(LGB_PARAMS, lgb.Dataset(f[FEATURES], label=y.astype(int),
                                               categorical_feature=["item"]),
                      num_boost_round=LGB_ROUNDS)
        out[hz] = m.predict(fC[FEATURES])
        timings[f"lightgbm P({hz} d)"] = time.time() - t0
    t0 = time.time()
    w = min(end - C, C - (start + 90))
    f = h.features(C - w)
    nxt = h.first_after(f.index.values, C - w, C)
    back = ~np.isnan(nxt)
    params = dict(LGB_PARAMS, objective="l1")
    m = lgb.train(params, lgb.Dataset(f.loc[back, FEATURES], label=nxt[back] - (C - w),
                                      categorical_feature=["item"]),
                  num_boost_round=LGB_ROUNDS)
    out["date"] = C + np.maximum(m.predict(fC[FEATURES]), 0.0)
    out["date_window"] = int(w)
    out["date_training_rows"] = int(back.sum())
    timings["lightgbm date"] = time.time() - t0
    return out


# ---------------------------------------------------------------- metrics

def prob_metrics(y, p):
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    y = np.asarray(y, int)
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None
    return {"brier": float(brier_score_loss(y, p)),
            "log_loss": float(log_loss(y, p, labels=[0, 1])), "auc": auc}


def date_metrics(pred, actual):
    ok = ~np.isnan(pred)
    err = np.abs(pred[ok] - actual[ok])
    return {"n": int(ok.sum()),
            "mae": float(err.mean()) if len(err) else None,
            "median": float(np.median(err)) if len(err) else None}
