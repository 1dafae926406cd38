"""koi-spark: Koi on a Spark cluster from the command line.

  python -m koi_spark one-chain  INPUT.csv --shards 16 --out DIR [-- KOI FIT OPTIONS]
  python -m koi_spark per-chain  INPUT.csv --chain-column chain --out DIR [-- KOI SCORE OPTIONS]
"""

from __future__ import annotations

import argparse
import sys

from .runner import KoiError


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(prog="koi-spark", description="Koi on Apache Spark, with the answers of koi score.")
    ap.add_argument("--master", default=None, help="Spark master, e.g. local[2] (default: the session's)")
    ap.add_argument("--koi", default=None, help="the koi binary (default: $KOI_BINARY or koi on PATH)")
    sub = ap.add_subparsers(dest="mode", required=True)
    one = sub.add_parser("one-chain", help="one huge chain: koi stats per partition, koi fit on the driver, "
                         "koi score --model --shard per partition, koi merge --outputs on the driver")
    one.add_argument("input")
    one.add_argument("--out", required=True)
    one.add_argument("--shards", type=int, required=True)
    one.add_argument("--customer-column", default="customer_id")
    one.add_argument("--as-of", default=None, help="passed to every koi stats")
    one.add_argument("--strict", action="store_true", help="passed to every koi stats")
    one.add_argument("--stats-dir", default=None,
                     help="a directory executors and driver share: statistics and score outputs go there "
                          "instead of through Spark")
    one.add_argument("--score-on", choices=["executors", "driver"], default="executors",
                     help="executors (default): koi score --model --shard per partition, koi merge --outputs; "
                          "driver: koi merge --stats scores every row on the driver")
    per = sub.add_parser("per-chain", help="many chains: koi score per chain in groupBy(chain).applyInArrow")
    per.add_argument("input")
    per.add_argument("--out", required=True)
    per.add_argument("--chain-column", default="chain")
    a = ap.parse_args(argv)
    if a.mode == "one-chain" and a.shards < 1:
        ap.error("--shards must be at least 1")

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    builder = SparkSession.builder.appName("koi-spark")
    if a.master:
        builder = builder.master(a.master)
    spark = builder.getOrCreate()
    try:
        if a.mode == "one-chain":
            from .spark import score_one_chain

            stats_args = (["--as-of", a.as_of] if a.as_of else []) + (["--strict"] if a.strict else [])
            print(score_one_chain(spark, a.input, a.out, a.shards, customer_column=a.customer_column,
                                  koi=a.koi, stats_args=stats_args, fit_args=extra, stats_dir=a.stats_dir,
                                  score_on=a.score_on))
        else:
            from .spark import score_per_chain, write_outputs

            df = spark.read.option("header", True).csv(a.input).withColumn("row_id", F.monotonically_increasing_id())
            chains = write_outputs(score_per_chain(df, a.chain_column, "row_id", koi=a.koi, koi_args=extra), a.out)
            print(f"koi-spark: {len(chains)} chains scored; results in {a.out}/CHAIN/")
    except KoiError as e:
        print(f"koi-spark: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a Spark job that failed: show the Koi message inside it
        text = str(e)
        koi_lines = [l.strip() for l in text.splitlines() if "KoiError" in l or "koi: error" in l]
        print(f"koi-spark: error: {koi_lines[-1] if koi_lines else text.splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
