#!/usr/bin/env python3
"""Koi's benchmark harness: Koi against the pipeline an analyst would write.

Usage (from the repository root):

    python3 benchmarks/bench.py                 # 1M and 10M rows, 3 repetitions
    python3 benchmarks/bench.py --scales 1m --reps 5

It builds Koi in release mode, generates the data sets it needs under
benchmarks/data/ (git-ignored; generated once, reused), installs pinned
reference tools into benchmarks/.venv, then runs each side alternately
`--reps` times per scale, recording wall time and peak resident memory of
each process (os.wait4), and reports medians and ratios. Answers are
checked: a disagreement fails the run (exit 1). The table goes to
benchmarks/RESULTS.md with the machine description.
"""
import argparse, json, os, platform, statistics, subprocess, sys, time, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
DATA = BENCH / "data"
VENV = BENCH / ".venv"
KOI = ROOT / ".build" / "release" / "koi"
PINNED = ["duckdb==1.1.3"]
# Customers per scale: the generator makes about 6.8 rows per customer.
SCALES = {"1m": 147_000, "10m": 1_470_000}
AS_OF = "2026-01-01"


def timed(cmd):
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    out, err = p.stdout.read().decode(), p.stderr.read().decode()
    if status != 0:
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed (status {status}):\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024.0, out


def ensure_venv():
    py = VENV / "bin" / "python"
    if not py.exists():
        print("bench: creating benchmarks/.venv", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *PINNED], check=True)
    return py


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB"


def generate(scale):
    out = DATA / scale
    csv = out / "transactions.csv"
    if not csv.exists():
        print(f"bench: generating {scale}", file=sys.stderr)
        subprocess.run([str(KOI), "generate", "--customers", str(SCALES[scale]), "--seed", "1",
                        "--out", str(out), "--quiet"], check=True)
    return csv


def duckdb_script(csv, out):
    sql = (BENCH / "duckdb_rfm.sql").read_text()
    sql = "\n".join(l for l in sql.splitlines() if not l.startswith("--"))
    sql = sql.format(csv=csv, out=out, as_of=AS_OF)
    return ("import duckdb, sys\ncon = duckdb.connect()\ncon.execute('SET threads = 2')\n"
            f"con.execute({sql!r})\n")


def check_rfm(koi_out, duck_out):
    """Koi's RFM figures and scores must equal DuckDB's for every customer."""
    duck = {}
    with open(duck_out) as f:
        for line in f:
            r = json.loads(line)
            duck[r["customer_id"]] = r
    n = 0
    with open(koi_out / "customers.jsonl") as f:
        for line in f:
            k = json.loads(line)
            d = duck.pop(k["customer_id"], None)
            if d is None:
                return f"customer {k['customer_id']} missing from DuckDB's table"
            for key in ["recency_days", "frequency", "r_score", "f_score", "m_score"]:
                if int(d[key]) != int(k[key]):
                    return f"{k['customer_id']}: {key} Koi {k[key]} DuckDB {d[key]}"
            if abs(float(d["monetary"]) - float(k["monetary"])) > 0.005:
                return f"{k['customer_id']}: monetary Koi {k['monetary']} DuckDB {d['monetary']}"
            n += 1
    if duck:
        return f"{len(duck)} customers only in DuckDB's table"
    return None if n else "no customers"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1m,10m", help="comma-separated: 1m, 10m")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per side (medians are reported)")
    ap.add_argument("--results", default=str(BENCH / "RESULTS.md"))
    args = ap.parse_args()
    scales = [s for s in args.scales.split(",") if s]
    for s in scales:
        if s not in SCALES:
            sys.exit(f"bench: unknown scale {s}; use {', '.join(SCALES)}")

    subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    py = ensure_venv()
    rows = []
    failures = []
    for scale in scales:
        t0 = time.perf_counter()
        csv = generate(scale)
        size = csv.stat().st_size
        koi_out = DATA / scale / "koi-out"
        duck_out = DATA / scale / "duckdb-rfm.json"
        script = DATA / scale / "duckdb_rfm.py"
        script.write_text(duckdb_script(csv, duck_out))
        koi_cmd = [str(KOI), "score", str(csv), "--out", str(koi_out), "--as-of", AS_OF, "--stages", "rfm", "--quiet"]
        duck_cmd = [str(py), str(script)]
        samples = {"koi": [], "duckdb": []}
        stage_seconds = []
        for _ in range(args.reps):  # alternate the two sides
            samples["koi"].append(timed(koi_cmd)[:2])
            manifest = json.loads((koi_out / "run.json").read_text())
            stage_seconds.append(manifest["seconds"])
            samples["duckdb"].append(timed(duck_cmd)[:2])
        err = check_rfm(koi_out, duck_out)
        if err:
            failures.append(f"{scale}: RFM disagreement: {err}")
        read = manifest["rows"]["read"]
        med = {k: (statistics.median(t for t, _ in v), max(m for _, m in v)) for k, v in samples.items()}
        stage_med = {k: statistics.median(s[k] for s in stage_seconds) for k in stage_seconds[0]}
        rows.append(dict(scale=scale, rows=read, bytes=size, customers=manifest["customers"],
                         koi=med["koi"], duckdb=med["duckdb"], stages=stage_med,
                         agree=err is None))
        print(f"bench: {scale} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}. Command: `python3 benchmarks/bench.py --scales {args.scales} --reps {args.reps}`.",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Koi {manifest['koi_version']}, DuckDB {PINNED[0].split('==')[1]} with 2 threads.",
        "Wall time is the median of the repetitions, run alternately; peak memory is the largest resident set of any repetition.",
        "",
        "## Ingest → RFM → JSON (same CSV, same RFM definitions and tie rule)",
        "",
        "| rows | MB | customers | Koi s | DuckDB s | DuckDB / Koi | Koi rows/s | Koi MB/s | Koi peak MiB | DuckDB peak MiB | answers agree |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        kt, km = r["koi"]
        dt, dm = r["duckdb"]
        lines.append(f"| {r['rows']:,} | {r['bytes'] / 1e6:.0f} | {r['customers']:,} | {kt:.2f} | {dt:.2f} | {dt / kt:.2f}× | "
                     f"{r['rows'] / kt / 1e6:.2f} M | {r['bytes'] / kt / 1e6:.0f} | {km:.0f} | {dm:.0f} | {'yes' if r['agree'] else 'NO'} |")
    lines += ["", "## Koi by step (median seconds, from run.json)", "",
              "| rows | ingest | rfm | write | total |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        s = r["stages"]
        lines.append(f"| {r['rows']:,} | {s.get('ingest', 0):.2f} | {s.get('rfm', 0):.2f} | {s.get('write', 0):.2f} | {s.get('total', 0):.2f} |")
    Path(args.results).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
