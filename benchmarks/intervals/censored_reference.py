#!/usr/bin/env python3
"""Reference fit for Koi's censored interval regression.

Writes Tests/KoiTests/Fixtures/intervals/censored_reference.json: a small
right-censored data set (gaps in days, event flags) drawn with a fixed numpy
seed, and for each family (Weibull, log-normal) the maximum-likelihood
location mu, log-scale eta = log sigma, maximized log-likelihood (exact
density in days) and standard errors, computed two independent ways:

  * scipy: the AFT log-likelihood written out here and maximized with
    scipy.optimize (BFGS, then a numerical Hessian for the standard errors);
  * lifelines: WeibullAFTFitter / LogNormalAFTFitter (intercept only).
    Weibull: mu = lambda_ intercept, eta = -(rho_ intercept);
    log-normal: mu = mu_ intercept, eta = sigma_ intercept.

The two must agree before the fixture is written.

Run from the repository root:  python3 benchmarks/intervals/censored_reference.py
It creates its own virtual environment at benchmarks/.venv (gitignored).
"""
import json
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, "benchmarks", ".venv")
OUT = os.path.join(ROOT, "Tests", "KoiTests", "Fixtures", "intervals", "censored_reference.json")
PACKAGES = ["numpy", "scipy", "pandas", "lifelines==0.30.3"]


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if sys.prefix == VENV or os.path.realpath(sys.executable) == os.path.realpath(py):
        return
    if not os.path.exists(py):
        venv.create(VENV, with_pip=True)
        subprocess.check_call([py, "-m", "pip", "install", "--quiet", *PACKAGES])
    os.execv(py, [py, os.path.abspath(__file__)])


def main():
    import numpy as np
    import pandas as pd
    from scipy import optimize, special, stats
    from lifelines import LogNormalAFTFitter, WeibullAFTFitter

    rng = np.random.default_rng(20261122)
    n = 400
    # True cycle: Weibull shape 2, scale 120 days; independent censoring by an
    # observation window uniform in [20, 300] days.
    t_true = 120.0 * rng.weibull(2.0, n)
    window = rng.uniform(20, 300, n)
    t = np.maximum(1.0, np.round(np.minimum(t_true, window)))
    event = (t_true <= window).astype(int)
    y = np.log(t)

    def loglik(theta, family):
        mu, eta = theta
        s = np.exp(eta)
        z = (y - mu) / s
        if family == "weibull":
            logf = z - np.exp(z)
            logS = -np.exp(z)
        else:
            logf = -0.5 * z * z - 0.5 * np.log(2 * np.pi)
            logS = stats.norm.logsf(z)
        return np.sum(np.where(event == 1, logf - eta - y, logS))

    def numerical_hessian(f, x, h=1e-4):
        k = len(x)
        H = np.zeros((k, k))
        for i in range(k):
            for j in range(k):
                e_i = np.eye(k)[i] * h
                e_j = np.eye(k)[j] * h
                H[i, j] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (4 * h * h)
        return H

    df = pd.DataFrame({"T": t, "E": event})
    result = {"source": "benchmarks/intervals/censored_reference.py", "days": t.astype(int).tolist(),
              "event": event.tolist(), "fits": {}}
    for family in ["weibull", "log_normal"]:
        f = lambda th: loglik(th, family)
        x0 = np.array([np.mean(y), np.log(np.std(y))])
        opt = optimize.minimize(lambda th: -f(th), x0, method="BFGS", options={"gtol": 1e-10})
        H = numerical_hessian(f, opt.x)
        se = np.sqrt(np.diag(np.linalg.inv(-H)))
        if family == "weibull":
            lf = WeibullAFTFitter().fit(df, "T", "E")
            mu_l = lf.params_[("lambda_", "Intercept")]
            eta_l = -lf.params_[("rho_", "Intercept")]
            se_l = [lf.standard_errors_[("lambda_", "Intercept")], lf.standard_errors_[("rho_", "Intercept")]]
        else:
            lf = LogNormalAFTFitter().fit(df, "T", "E")
            mu_l = lf.params_[("mu_", "Intercept")]
            eta_l = lf.params_[("sigma_", "Intercept")]
            se_l = [lf.standard_errors_[("mu_", "Intercept")], lf.standard_errors_[("sigma_", "Intercept")]]
        assert abs(mu_l - opt.x[0]) < 1e-4 and abs(eta_l - opt.x[1]) < 1e-4, (family, mu_l, eta_l, opt.x)
        assert abs(lf.log_likelihood_ - f(opt.x)) < 1e-4 * abs(f(opt.x)), (family, lf.log_likelihood_, f(opt.x))
        assert all(abs(a - b) < 1e-3 * b for a, b in zip(se_l, se)), (family, se_l, se)
        result["fits"][family] = {
            "mu": float(opt.x[0]), "log_scale": float(opt.x[1]), "log_likelihood": float(f(opt.x)),
            "standard_errors": [float(v) for v in se],
            "lifelines": {"mu": float(mu_l), "log_scale": float(eta_l), "log_likelihood": float(lf.log_likelihood_),
                          "standard_errors": [float(v) for v in se_l]},
        }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(result, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print("wrote", OUT, {k: (v["mu"], v["log_scale"], v["log_likelihood"]) for k, v in result["fits"].items()})


if __name__ == "__main__":
    ensure_venv()
    main()
