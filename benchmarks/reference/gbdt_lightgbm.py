#!/usr/bin/env python3
"""Regenerate the gradient-boosted-trees reference fixtures from LightGBM.

Writes
  Tests/KoiTests/Fixtures/gbdt/data.csv        2500 train + 1000 test rows
  Tests/KoiTests/Fixtures/gbdt/reference.json  LightGBM held-out log loss / MAE

Data (seeded): x0 ~ U(-3, 3), x1 ~ N(0, 1), x2 ~ U(0, 1) missing for 15 % of
rows, x3 ~ N(0, 1) pure noise, x4 ~ uniform integer 0..4.
  binary:     y ~ Bernoulli(σ(2 sin x0 + x1² − 1 + 1.5 x1 (x2 − 0.5) + 0.3 x4)),
              x2 taken as 0.5 where missing
  regression: y = 10 + 5 sin x0 + 3 x1² + 2 x4 + 2 t₂ (Student t, 2 df:
              heavy-tailed, median 0, so the conditional median is the signal)
Values are written with 3 decimals and LightGBM is fitted on exactly the CSV
values, as Koi reads them.

LightGBM is run with Koi's defaults (31 leaves, depth 8, 50 rows and 1e-3
hessian per leaf, λ = 1, 64 bins, η = 0.05), no bagging, a fixed number of
rounds (no early stopping), one thread, `deterministic`.

Run with a Python that has lightgbm and numpy (a venv outside the repository):
  python3 -m venv /tmp/gbdtvenv && /tmp/gbdtvenv/bin/pip install lightgbm numpy
  /tmp/gbdtvenv/bin/python benchmarks/reference/gbdt_lightgbm.py
"""
import csv
import io
import json
import math
import os

import lightgbm as lgb
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "Tests", "KoiTests", "Fixtures", "gbdt")

SEED = 20250611
N_TRAIN, N_TEST = 2500, 1000
ROUNDS = {"logistic": 75, "absolute_error": 150}


def make_data(rng, n):
    x0 = rng.uniform(-3, 3, n)
    x1 = rng.normal(0, 1, n)
    x2 = rng.uniform(0, 1, n)
    x2[rng.uniform(0, 1, n) < 0.15] = np.nan
    x3 = rng.normal(0, 1, n)
    x4 = rng.integers(0, 5, n).astype(float)
    X = np.round(np.column_stack([x0, x1, x2, x3, x4]), 3)
    x2f = np.where(np.isnan(X[:, 2]), 0.5, X[:, 2])
    logit = 2 * np.sin(X[:, 0]) + X[:, 1] ** 2 - 1 + 1.5 * X[:, 1] * (x2f - 0.5) + 0.3 * X[:, 4]
    p = 1 / (1 + np.exp(-logit))
    yb = (rng.uniform(0, 1, n) < p).astype(int)
    median = 10 + 5 * np.sin(X[:, 0]) + 3 * X[:, 1] ** 2 + 2 * X[:, 4]
    yr = np.round(median + 2 * rng.standard_t(2, n), 3)
    return X, yb, yr, p, median


def log_loss(y, p):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def params(objective):
    return {
        "objective": objective,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "max_depth": 8,
        "min_data_in_leaf": 50,
        "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l2": 1.0,
        "max_bin": 64,
        "min_data_in_bin": 1,
        "bin_construct_sample_cnt": 1_000_000,
        "feature_pre_filter": False,
        "bagging_fraction": 1.0,
        "feature_fraction": 1.0,
        "num_threads": 1,
        "deterministic": True,
        "verbose": -1,
    }


def main():
    rng = np.random.default_rng(SEED)
    X, yb, yr, p, median = make_data(rng, N_TRAIN + N_TEST)
    train = np.arange(N_TRAIN)
    test = np.arange(N_TRAIN, N_TRAIN + N_TEST)

    os.makedirs(OUT, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["split", "x0", "x1", "x2", "x3", "x4", "y_binary", "y_regression"])
    for i in range(N_TRAIN + N_TEST):
        row = ["train" if i < N_TRAIN else "test"]
        row += ["" if math.isnan(v) else f"{v:.3f}" for v in X[i]]
        row += [str(yb[i]), f"{yr[i]:.3f}"]
        w.writerow(row)
    with open(os.path.join(OUT, "data.csv"), "w") as f:
        f.write(buf.getvalue())

    # Refit on the values exactly as written (already rounded).
    clf = lgb.train(params("binary"), lgb.Dataset(X[train], yb[train].astype(float)),
                    num_boost_round=ROUNDS["logistic"])
    pb = clf.predict(X[test])
    reg = lgb.train(params("l1"), lgb.Dataset(X[train], yr[train]),
                    num_boost_round=ROUNDS["absolute_error"])
    pr = reg.predict(X[test])

    ref = {
        "lightgbm_version": lgb.__version__,
        "seed": SEED,
        "logistic": {
            "rounds": ROUNDS["logistic"],
            "lightgbm_test_log_loss": log_loss(yb[test], pb),
            "true_model_test_log_loss": log_loss(yb[test], p[test]),
            "constant_test_log_loss": log_loss(yb[test], np.full(N_TEST, yb[train].mean())),
        },
        "absolute_error": {
            "rounds": ROUNDS["absolute_error"],
            "lightgbm_test_mae": float(np.mean(np.abs(yr[test] - pr))),
            "true_median_test_mae": float(np.mean(np.abs(yr[test] - median[test]))),
            "constant_test_mae": float(np.mean(np.abs(yr[test] - np.median(yr[train])))),
        },
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(ref, indent=2, sort_keys=True))

    # Loss curves, to choose ROUNDS near the held-out optimum.
    for name, model, y, metric in [("logistic", clf, yb, log_loss),
                                   ("absolute_error", reg, yr, lambda a, b: float(np.mean(np.abs(a - b))))]:
        curve = [metric(y[test], model.predict(X[test], num_iteration=k)) for k in range(25, model.num_trees() + 1, 25)]
        print(name, " ".join(f"{c:.4f}" for c in curve))


if __name__ == "__main__":
    main()
