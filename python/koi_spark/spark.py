"""Koi on PySpark, in the two shapes the big users have.

Many chains (an SCRM platform): `score_per_chain` runs the unchanged
`koi score` once per chain inside `groupBy(chain).applyInArrow`; each
chain's outputs are those of `koi score` on that chain's rows.

One huge chain: `score_one_chain` splits the input by customer (hash
partitioning), runs `koi stats` per partition on the executors, then
`koi fit` and `koi merge` on the driver; the outputs are byte-identical to
one `koi score` of the whole input (README, "Koi on Apache Spark").
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zlib
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

from .runner import run_koi

OUTPUTS = ("customers.jsonl", "segments.json", "model.json", "due.json", "rejects.csv", "run.json")


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Optional[str]]]) -> bytes:
    """RFC 4180 CSV, LF line ends; None is an empty field."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode("utf-8")


def chain_csv(table, chain_column: str, order_column: Optional[str]) -> bytes:
    """One chain's rows (a pyarrow.Table of string columns) as the CSV that
    koi reads: in `order_column` order when given (Spark's shuffle does not
    keep row order, and Koi's outputs follow first appearance)."""
    if order_column:
        table = table.sort_by(order_column)
    names = [n for n in table.column_names if n not in (chain_column, order_column)]
    cols = [table.column(n).to_pylist() for n in names]
    return _csv_bytes(names, zip(*cols))


def score_per_chain(df, chain_column: str = "chain", order_column: Optional[str] = "row_id",
                    koi: Optional[str] = None, koi_args: Sequence[str] = (), threads: Optional[int] = 1):
    """A DataFrame (chain, file, content) with every output file of `koi
    score` per chain. `df` has the chain column, Koi's input columns as
    strings and, for single-run row order, `order_column` (e.g. a line
    number or `monotonically_increasing_id()` taken when reading).

    A chain whose koi run fails fails the job with Koi's message."""
    from pyspark.sql.types import BinaryType, StringType, StructField, StructType
    import pyarrow as pa

    binary = koi
    args = list(koi_args)

    def score(key, table):
        chain = key[0].as_py() if hasattr(key[0], "as_py") else key[0]
        data = chain_csv(table, chain_column, order_column)
        with tempfile.TemporaryDirectory(prefix="koi-chain-") as out:
            run_koi(["score", "-", "--out", out, "--quiet"] + args, stdin=_chunks(data), koi=binary,
                    threads=threads)
            files = [f for f in OUTPUTS if os.path.exists(os.path.join(out, f))]
            contents = [open(os.path.join(out, f), "rb").read() for f in files]
        return pa.table({"chain": [str(chain)] * len(files), "file": files, "content": contents},
                        schema=pa.schema([("chain", pa.string()), ("file", pa.string()), ("content", pa.binary())]))

    schema = StructType([StructField("chain", StringType()), StructField("file", StringType()),
                         StructField("content", BinaryType())])
    return df.groupBy(chain_column).applyInArrow(score, schema)


def write_outputs(result_df, out_dir: str) -> List[str]:
    """Writes a (chain, file, content) DataFrame to OUT/CHAIN/FILE on the
    driver; returns the chains written."""
    chains = set()
    for row in result_df.toLocalIterator():
        d = os.path.join(out_dir, row["chain"])
        os.makedirs(d, exist_ok=True)
        tmp = os.path.join(d, "." + row["file"] + ".tmp")
        with open(tmp, "wb") as f:
            f.write(row["content"])
        os.replace(tmp, os.path.join(d, row["file"]))
        chains.add(row["chain"])
    return sorted(chains)


def _chunks(data: bytes, size: int = 1 << 20) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


def _field(line: bytes, index: int, delimiter: bytes) -> bytes:
    """Field `index` of one CSV line, quotes honoured (bytes kept as they
    are, whatever the encoding)."""
    if b'"' not in line:
        parts = line.split(delimiter)
        return parts[index].strip() if index < len(parts) else b""
    row = next(csv.reader([line.decode("latin-1")], delimiter=delimiter.decode("latin-1")), [])
    return row[index].strip().encode("latin-1") if index < len(row) else b""


def shard_of(customer: bytes, shards: int) -> int:
    """The shard of a customer id: CRC-32 of its bytes modulo the count."""
    return zlib.crc32(customer) % shards


def shard_text(header: bytes, rows: List[Tuple[int, bytes]]) -> Iterator[bytes]:
    """A shard as koi stats reads it: the header on line 1, each row on its
    original line, blank lines between."""
    yield header + b"\n"
    line = 1
    block: List[bytes] = []
    for n, text in sorted(rows):
        block.append(b"\n" * (n - line - 1) + text + b"\n")
        line = n
        if len(block) >= 4096:
            yield b"".join(block)
            block = []
    if block:
        yield b"".join(block)


def score_one_chain(spark, path: str, out_dir: str, shards: int, customer_column: str = "customer_id",
                    delimiter: str = ",", koi: Optional[str] = None, stats_args: Sequence[str] = (),
                    fit_args: Sequence[str] = (), merge_args: Sequence[str] = (),
                    executor_threads: Optional[int] = 1, work_dir: Optional[str] = None,
                    stats_dir: Optional[str] = None, score_on: str = "executors") -> str:
    """Scores one chain's CSV at `path` split into `shards` partitions by
    customer and writes koi score's outputs into `out_dir`; returns koi
    merge's summary line.

    With `score_on="executors"` (the default):
      1. executors: `koi stats` per partition (parse, validate, reject);
      2. driver: `koi fit --stats` (the model; the statistics come to the
         driver's disk a partition at a time, and koi fit reads them one at a
         time, holding per-customer statistics);
      3. executors: `koi score - --model model.json --shard` per partition
         (the same partitions, kept by `persist`), returning customers.jsonl,
         shard.json and model.json;
      4. driver: `koi merge --outputs` (no rows: the partitions' lines merged
         by first line, exact partial sums, due lists cut at the limit).
    With `score_on="driver"` (the earlier way): steps 1 and 2, then `koi merge
    --stats`, which scores every row on the driver.

    `stats_args` go to every koi stats and koi score (--as-of, --strict,
    --column …); `fit_args` to koi fit and every koi score (the options that
    change the fit); `merge_args` to every koi score (--due-within,
    --due-limit …; with score_on="driver", to koi merge). The CSV must have one
    record per physical line (no line breaks inside quoted fields).

    `stats_dir`, a directory the executors and the driver both see (a
    /dbfs path, a shared mount; local mode: any directory), makes the
    executors write the statistics and score outputs there instead of
    sending them to the driver through Spark."""
    if score_on not in ("executors", "driver"):
        raise ValueError(f"score_on must be 'executors' or 'driver', not {score_on!r}")
    sc = spark.sparkContext
    raw = sc.textFile(path, use_unicode=False)
    if raw.isEmpty():
        raise ValueError(f"{path}: empty input")
    header = raw.first()  # reads the first split only
    lines = raw.zipWithIndex()
    delim = delimiter.encode()
    cells = [c.strip().strip(b'"').lstrip(b"\xef\xbb\xbf").decode("utf-8", "replace") for c in header.split(delim)]
    if customer_column not in cells:
        raise ValueError(f"{path}: no column {customer_column!r} in the header {cells}")
    index = cells.index(customer_column)
    binary = koi
    s_args = list(stats_args)

    def key(t):
        text, i = t
        return (shard_of(_field(text, index, delim), shards), (i + 1, text))

    shared = stats_dir

    def stats(k: int, it) -> Iterator[Tuple[int, bytes]]:
        rows = [v for _, v in it]
        if shared:
            out = os.path.join(shared, f"{k}.stats")
            run_koi(["stats", "-", "--out", out] + s_args, stdin=shard_text(header, rows), koi=binary,
                    threads=executor_threads)
            yield (k, out.encode())
            return
        with tempfile.TemporaryDirectory(prefix="koi-shard-") as d:
            out = os.path.join(d, "shard.stats")
            run_koi(["stats", "-", "--out", out] + s_args, stdin=shard_text(header, rows), koi=binary,
                    threads=executor_threads)
            with open(out, "rb") as f:
                yield (k, f.read())

    body = lines.filter(lambda t: t[1] > 0 and t[0].strip() != b"")
    keyed = body.map(key).partitionBy(shards, lambda k: k)
    if score_on == "executors":
        keyed = keyed.persist()
    with tempfile.TemporaryDirectory(prefix="koi-driver-", dir=work_dir) as d:
        files = []
        for k, data in _one_partition_at_a_time(keyed.mapPartitionsWithIndex(stats)):
            if shared:
                files.append(data.decode())
                continue
            p = os.path.join(d, f"{k}.stats")
            with open(p, "wb") as f:
                f.write(data)
            files.append(p)
        model = os.path.join(d, "model.json")
        run_koi(["fit", "--stats"] + files + ["--out", model, "--quiet"] + list(fit_args), koi=binary)
        if score_on == "driver":
            return run_koi(["merge", "--stats"] + files + ["--model", model, "--out", out_dir, "--quiet"]
                           + list(fit_args) + list(merge_args), koi=binary).strip()
        keyed_scored = _score_partitions(sc, keyed, header, model, binary, s_args + list(fit_args) + list(merge_args),
                                         executor_threads, shared)
        dirs = []
        for k, parts in _one_partition_at_a_time(keyed_scored):
            if shared:
                dirs.append(parts.decode())
                continue
            sd = os.path.join(d, f"scored-{k}")
            os.makedirs(sd)
            for name, data in parts:
                with open(os.path.join(sd, name), "wb") as f:
                    f.write(data)
            dirs.append(sd)
        keyed.unpersist()
        return run_koi(["merge", "--outputs"] + dirs + ["--out", out_dir, "--quiet"], koi=binary).strip()


def _one_partition_at_a_time(rdd) -> Iterator:
    """The records of `rdd`, computed on the executors all at once (kept on
    their disks), then brought to the driver one partition at a time in
    partition order: `collect()` would hold every partition's statistics or
    outputs in the driver's memory together."""
    from pyspark import StorageLevel

    rdd = rdd.persist(StorageLevel.DISK_ONLY)
    try:
        rdd.count()  # every partition's koi, in parallel
        yield from rdd.toLocalIterator()
    finally:
        rdd.unpersist()


# What koi merge --outputs reads of each partition's koi score --shard.
SHARD_OUTPUTS = ("customers.jsonl", "shard.json", "model.json")


def _score_partitions(sc, keyed, header: bytes, model_path: str, binary, args: List[str],
                      executor_threads: Optional[int], shared: Optional[str]):
    """`koi score - --model M --shard` on every partition of `keyed`; yields
    (partition, [(file name, bytes)]) or, with `shared`, (partition, the
    output directory)."""
    with open(model_path, "rb") as f:
        model = sc.broadcast(f.read())

    def score(k: int, it) -> Iterator[Tuple[int, object]]:
        rows = [v for _, v in it]
        with tempfile.TemporaryDirectory(prefix="koi-score-") as d:
            m = os.path.join(d, "model.json")
            with open(m, "wb") as f:
                f.write(model.value)
            out = os.path.join(shared, f"scored-{k}") if shared else os.path.join(d, "out")
            run_koi(["score", "-", "--model", m, "--shard", "--out", out, "--quiet", "--no-report"] + args,
                    stdin=shard_text(header, rows), koi=binary, threads=executor_threads)
            if shared:
                yield (k, out.encode())
                return
            parts = []
            for name in SHARD_OUTPUTS:
                with open(os.path.join(out, name), "rb") as f:
                    parts.append((name, f.read()))
            yield (k, parts)

    return keyed.mapPartitionsWithIndex(score)
