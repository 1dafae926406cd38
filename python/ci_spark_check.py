"""CI check of koi-spark on local[2] Spark (python/ci_spark.sh runs it):

1. one huge chain: the bundled sample split into 4 shards by customer,
   koi stats per partition, koi fit on the driver, koi score --model --shard
   per partition and koi merge --outputs on the driver (and, the earlier
   way, koi merge --stats on the driver), byte-identical to one `koi score`
   of the sample;
2. three chains through groupBy(chain).applyInArrow, each byte-identical to
   `koi score` of that chain's rows;
3. a shard with a bad row under --strict fails the job with Koi's message;
4. a koi killed inside its task fails the job, saying it was killed.

Usage: python ci_spark_check.py KOI_BINARY SAMPLE.csv WORK_DIR
"""

import csv
import filecmp
import os
import sys
import time



from koi_spark import KoiError, run_koi, score_one_chain, score_per_chain, shard_of, write_outputs  # noqa: E402
from koi_spark.spark import _csv_bytes  # noqa: E402

COMPARED = ["customers.jsonl", "segments.json", "model.json", "due.json", "rejects.csv"]


def same(a: str, b: str, what: str) -> None:
    for f in COMPARED:
        pa, pb = os.path.join(a, f), os.path.join(b, f)
        if not filecmp.cmp(pa, pb, shallow=False):
            raise SystemExit(f"FAIL {what}: {f} differs ({pa} vs {pb})")
    print(f"ok {what}: {', '.join(COMPARED)} byte-identical")


def main() -> None:
    koi, sample, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    from pyspark.sql import SparkSession
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    t0 = time.time()
    spark = (SparkSession.builder.master("local[2]").appName("koi-ci")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    print(f"spark session in {time.time() - t0:.1f} s")

    # 1. One chain in 4 shards.
    t = time.time()
    single = os.path.join(work, "single")
    run_koi(["score", sample, "--out", single, "--quiet"], koi=koi)
    sharded = os.path.join(work, "sharded")
    print(score_one_chain(spark, sample, sharded, shards=4, koi=koi))
    same(single, sharded, "one chain in 4 shards (stats -> fit -> score --shard on executors -> merge --outputs)")
    print(f"  {time.time() - t:.1f} s")
    t = time.time()
    on_driver = os.path.join(work, "sharded-driver")
    print(score_one_chain(spark, sample, on_driver, shards=4, koi=koi, score_on="driver"))
    same(single, on_driver, "one chain in 4 shards (stats -> fit -> merge --stats on the driver)")
    print(f"  {time.time() - t:.1f} s")

    # 2. Three chains through applyInArrow.
    t = time.time()
    with open(sample, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    chains = {}
    data = []
    for i, r in enumerate(body):
        if not r:
            continue
        chain = f"chain{shard_of(r[0].encode(), 3)}"
        chains.setdefault(chain, []).append(r)
        data.append([chain] + (r + [None] * len(header))[: len(header)] + [i])
    schema = StructType([StructField("chain", StringType())] + [StructField(h, StringType()) for h in header]
                        + [StructField("row_id", LongType())])
    df = spark.createDataFrame(data, schema).repartition(4)
    out = os.path.join(work, "chains")
    written = write_outputs(score_per_chain(df, "chain", "row_id", koi=koi), out)
    assert written == sorted(chains), written
    for chain, chain_rows in sorted(chains.items()):
        path = os.path.join(work, f"{chain}.csv")
        padded = [(r + [None] * len(header))[: len(header)] for r in chain_rows]
        with open(path, "wb") as f:
            f.write(_csv_bytes(header, padded))
        direct = os.path.join(work, f"{chain}-direct")
        run_koi(["score", path, "--out", direct, "--quiet"], koi=koi)
        same(direct, os.path.join(out, chain), f"{chain} via applyInArrow")
    print(f"  {time.time() - t:.1f} s")

    # 3. A bad row under --strict fails the job with Koi's message.
    bad = os.path.join(work, "bad.csv")
    with open(bad, "w") as f:
        f.write("customer_id,date,item,amount\nC1,2024-01-02,peel,100\nC2,2024-13-02,peel,100\n")
    try:
        score_one_chain(spark, bad, os.path.join(work, "bad-out"), shards=2, koi=koi, stats_args=["--strict"])
    except Exception as e:  # noqa: BLE001 - the Spark job failure wraps the task's KoiError
        text = str(e)
        if "koi stats failed (exit status 2): koi: error: -:3" not in text and not isinstance(e, KoiError):
            raise SystemExit(f"FAIL: the strict failure does not carry Koi's message:\n{text[:2000]}")
        print("ok a bad row under --strict fails the job with Koi's message")
    else:
        raise SystemExit("FAIL: a bad row under --strict did not fail the job")

    # 4. A koi killed in its task (an executor lost mid-shard) fails the job and says so.
    killed = os.path.join(work, "koi-killed")
    with open(killed, "w") as f:
        f.write("#!/bin/sh\nkill -9 $$\n")
    os.chmod(killed, 0o755)
    try:
        score_one_chain(spark, sample, os.path.join(work, "killed-out"), shards=2, koi=killed)
    except Exception as e:  # noqa: BLE001
        if "killed by signal 9" not in str(e):
            raise SystemExit(f"FAIL: a killed koi does not say so:\n{str(e)[:2000]}")
        print("ok a killed koi fails the job: killed by signal 9")
    else:
        raise SystemExit("FAIL: a killed koi did not fail the job")
    spark.stop()
    print(f"koi-spark CI check passed in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
