#!/usr/bin/env python3
"""Regenerate the k-means reference fixtures from scikit-learn.

Writes
  Tests/KoiTests/Fixtures/kmeans/matrix.csv            4000 x 6 standardised points
  Tests/KoiTests/Fixtures/kmeans/sklearn_reference.json sklearn KMeans inertia, k = 4 and k = 8

The matrix is a seeded mixture of 4 anisotropic Gaussians (random covariance
factors), standardised per feature (mean 0, population sd 1) and rounded to 5
decimals so the CSV stays small. sklearn is fitted on exactly the values Koi
reads: the CSV decimals rounded to float32, then widened to float64.

Run from anywhere: `python3 benchmarks/reference/kmeans_sklearn.py`. The first
run creates benchmarks/.venv (gitignored) with the pinned versions below and
re-executes itself inside it.
"""
import json
import os
import subprocess
import sys
import venv

PINNED = ["numpy==2.4.6", "scikit-learn==1.9.1"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(ROOT, "benchmarks", ".venv")
OUT = os.path.join(ROOT, "Tests", "KoiTests", "Fixtures", "kmeans")

SEED = 20241122
N, D, COMPONENTS = 4000, 6, 4
CASES = [  # (k, n_init, random_state)
    (4, 4, 0),
    (8, 4, 0),
]


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        venv.EnvBuilder(with_pip=True).create(VENV)
        subprocess.check_call([py, "-m", "pip", "install", "--quiet", *PINNED])
    os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


def main():
    import numpy as np
    import sklearn
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(SEED)
    sizes = [1400, 1100, 900, 600]
    parts = []
    for c in range(COMPONENTS):
        mean = rng.uniform(-6, 6, size=D)
        factor = rng.normal(size=(D, D)) * rng.uniform(0.3, 1.5, size=D)  # anisotropic
        parts.append(mean + rng.normal(size=(sizes[c], D)) @ factor)
    x = np.vstack(parts)
    x = x[rng.permutation(N)]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    x = np.round(x, 5)

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "matrix.csv"), "w") as f:
        f.write(",".join(f"x{j}" for j in range(D)) + "\n")
        for row in x:
            f.write(",".join(f"{v:.5f}" for v in row) + "\n")

    # Exactly the points Koi sees: decimal -> float32 -> float64.
    xs = np.loadtxt(os.path.join(OUT, "matrix.csv"), delimiter=",", skiprows=1).astype(np.float32).astype(np.float64)
    cases = []
    for k, n_init, rs in CASES:
        km = KMeans(n_clusters=k, init="k-means++", n_init=n_init, random_state=rs,
                    tol=1e-4, max_iter=300, algorithm="lloyd").fit(xs)
        cases.append({"k": k, "n_init": n_init, "random_state": rs, "tol": 1e-4,
                      "inertia": float(km.inertia_), "iterations": int(km.n_iter_)})
    ref = {
        "generator": f"mixture of {COMPONENTS} anisotropic Gaussians, numpy default_rng({SEED}), standardised, 5 decimals",
        "rows": N, "features": D,
        "numpy": np.__version__, "scikit_learn": sklearn.__version__,
        "cases": cases,
    }
    with open(os.path.join(OUT, "sklearn_reference.json"), "w") as f:
        json.dump(ref, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(cases))


if __name__ == "__main__":
    ensure_venv()
    main()
