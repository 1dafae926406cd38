"""Shared by the analyst-side scripts: read the transactions CSV with pandas
the way an analyst would, keeping Koi's definitions.

- Days: the date's calendar day (a time of day is dropped), as days since
  1970-01-01.
- A purchase is a row with amount > 0; customers without any purchase are
  left out (Koi rejects their rows as `no_purchase`).
"""
import time

import numpy as np
import pandas as pd

EPOCH = np.datetime64("1970-01-01", "D")


def read_transactions(path, columns):
    """The CSV as a DataFrame with integer `cid` (customer code), `day`
    (days since epoch) and the requested optional columns; seconds taken."""
    t0 = time.perf_counter()
    dtypes = {"customer_id": "string", "date": "string", "item": "string", "amount": "float64",
              "list_price": "float64", "promo": "float64", "channel": "string", "store": "string"}
    usecols = ["customer_id", "date", "amount", *columns]
    df = pd.read_csv(path, usecols=usecols, dtype={c: dtypes[c] for c in usecols},
                     keep_default_na=True, engine="c")
    day = pd.to_datetime(df["date"], format="ISO8601").values.astype("datetime64[D]")
    df["day"] = (day - EPOCH).astype(np.int64)
    df["cid"] = pd.factorize(df["customer_id"])[0]
    df.drop(columns=["date"], inplace=True)
    buyers = df.loc[df["amount"] > 0, "cid"].unique()
    if len(buyers) < df["cid"].nunique():
        df = df[df["cid"].isin(buyers)]
    return df, time.perf_counter() - t0


def day_number(iso):
    return int((np.datetime64(iso, "D") - EPOCH).astype(np.int64))
