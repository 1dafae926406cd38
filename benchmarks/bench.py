#!/usr/bin/env python3
"""Koi's benchmark harness: Koi against the pipeline an analyst would write.

Usage (from the repository root):

    python3 benchmarks/bench.py                 # 1M and 10M rows, 3 repetitions
    python3 benchmarks/bench.py --scales 1m --reps 5
    python3 benchmarks/bench.py --no-floors     # skip the physical-floor probes
    python3 benchmarks/bench.py --scales 100m --reps 1   # 100M rows (7 GB, generated on demand)

It builds Koi in release mode, generates the data sets it needs under
benchmarks/data/ (git-ignored; generated once, reused), installs pinned
reference tools into benchmarks/.venv, then per scale runs every process
below alternately, Koi and analyst side in turn, `--reps` times, recording
wall time and peak resident memory of each process (os.wait4):

    Koi                                   analyst
    koi score (all stages)                —  (end to end = the three below)
    koi score --stages rfm                DuckDB SQL (benchmarks/duckdb_rfm.sql)
    koi score --stages tiers              pandas features + scikit-learn KMeans (analyst/tiers_sklearn.py)
    koi score --stages lifetime           pandas summary + lifetimes BG/NBD, Gamma-Gamma (analyst/lifetime_lifetimes.py)

Stage seconds come from Koi's run.json and from the analyst scripts' own
timers. Koi runs with --no-report: the analyst side draws no report, and
report.html's cost is measured on its own (README, Performance). Answers are checked, and a disagreement fails the run (exit 1): RFM
figures and scores identical for every customer; k-means inertia within
0.5 % (same standardised matrix, same k and restarts); BG/NBD parameters
within 1e-3 relative. Physical floors: reading the CSV (bytes over the warm
`cat FILE > /dev/null` bandwidth) and one Lloyd pass (bytes over the memory
bandwidth of benchmarks/floors/bandwidth.c; the pass timed by
benchmarks/Micro's LloydPass). The tables go to the top of
benchmarks/RESULTS.md, with the machine description and this command;
the sections of earlier runs stay below.
"""
import argparse, json, os, platform, statistics, subprocess, sys, time, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
DATA = BENCH / "data"
VENV = BENCH / ".venv"
KOI = ROOT / ".build" / "release" / "koi"
MICRO = BENCH / "Micro"
LLOYD = MICRO / ".build" / "release" / "LloydPass"
# lifetimes 0.11.3 needs numpy < 2 and pandas < 2.2; scikit-learn 1.4.2 is the
# last line built against numpy 1.x for Python 3.11.
PINNED = ["duckdb==2.0.1", "numpy==1.26.4", "pandas==2.1.4", "scipy==1.12.0",
          "scikit-learn==1.4.2", "lifetimes==0.11.3"]
# Customers per scale: the generator makes about 6.8 rows per customer.
SCALES = {"100k": 14_700, "1m": 147_000, "10m": 1_470_000, "100m": 14_700_000}
# At these scales only `koi score` (all stages, and RFM alone) runs, beside
# DuckDB's RFM on the same file: the analyst's pandas scripts would need more
# memory than the machine has, and the floors take as long as the run.
LARGE = {"100m"}
AS_OF = "2026-01-01"
HORIZON_DAYS = "360"  # lifetimes' CLV walks whole 30-day months: 12 of them
INERTIA_TOLERANCE = 0.005
BGNBD_TOLERANCE = 1e-3


def timed(cmd):
    """Wall seconds, peak RSS (MiB) and stdout of one child process."""
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if status != 0:
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed (status {status}):\n{stderr[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024.0, stdout


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
    return (f"{platform.system()} {platform.release()} {platform.machine()}, {cpu}, "
            f"{os.cpu_count()} cores, {mem:.0f} GiB")


def load():
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


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
                return n, f"customer {k['customer_id']} missing from DuckDB's table"
            for key in ["recency_days", "frequency", "r_score", "f_score", "m_score"]:
                if int(d[key]) != int(k[key]):
                    return n, f"{k['customer_id']}: {key} Koi {k[key]} DuckDB {d[key]}"
            if abs(float(d["monetary"]) - float(k["monetary"])) > 0.005:
                return n, f"{k['customer_id']}: monetary Koi {k['monetary']} DuckDB {d['monetary']}"
            n += 1
    if duck:
        return n, f"{len(duck)} customers only in DuckDB's table"
    return n, None if n else "no customers"


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def check_models(model, tiers, lifetime):
    """Tier inertia and BG/NBD parameters: Koi's model.json against the analyst's."""
    t = model["tiers"]
    inertia_diff = rel(tiers["inertia"], t["inertia"])
    bg = model["lifetime"]["bg_nbd"]["parameters"]
    ref = lifetime["bg_nbd"]
    bg_diff = {k: rel(ref[k], bg[k]) for k in ["r", "alpha", "a", "b"]}
    gg = model["lifetime"]["gamma_gamma"]["parameters"]
    rg = lifetime["gamma_gamma"]
    gg_diff = {"p": rel(rg["p"], gg["p"]), "q": rel(rg["q"], gg["q"]), "gamma": rel(rg["v"], gg["gamma"])}
    errors = []
    if inertia_diff > INERTIA_TOLERANCE:
        errors.append(f"k-means inertia: Koi {t['inertia']:.6g}, sklearn {tiers['inertia']:.6g} "
                      f"(relative {inertia_diff:.2e} > {INERTIA_TOLERANCE})")
    if max(bg_diff.values()) > BGNBD_TOLERANCE:
        errors.append(f"BG/NBD parameters: Koi {bg}, lifetimes {ref} (relative {bg_diff})")
    return dict(koi_inertia=t["inertia"], sk_inertia=tiers["inertia"], inertia_diff=inertia_diff,
                koi_iterations=t.get("iterations"), sk_iterations=tiers["iterations"],
                scaling_diff=tiers["scaling_max_relative_difference"],
                koi_bg=bg, ref_bg=ref, bg_diff=max(bg_diff.values()), gg_diff=max(gg_diff.values()),
                chosen=model["lifetime"].get("chosen")), errors


def bandwidth_probe():
    """Memory read bandwidth (GB/s): benchmarks/floors/bandwidth.c, best of 1 and 2 threads."""
    exe = DATA / "bandwidth"
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(exe), str(BENCH / "floors" / "bandwidth.c")], check=True)
    out = json.loads(subprocess.run([str(exe), "1024", "7"], check=True, capture_output=True, text=True).stdout)
    return out


def csv_floor(csv):
    """Warm sequential read bandwidth of the CSV: best of 5 `cat FILE > /dev/null`."""
    best = float("inf")
    for _ in range(6):  # the first warms the page cache
        t0 = time.perf_counter()
        subprocess.run(["cat", str(csv)], stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def write_floor(nbytes, directory):
    """Page-cache write bandwidth for a file of `nbytes` (what customers.jsonl
    costs at least): best of 3 writes of 8 MiB blocks, closed, not fsynced,
    then removed. Koi syncs each file before renaming it into place
    (`AtomicFile.commit`), so on a slow disk its step waits where the floor
    does not."""
    path = directory / "write-probe.tmp"
    block = b"x" * (8 << 20)
    best = float("inf")
    try:
        for _ in range(3):
            t0 = time.perf_counter()
            with open(path, "wb", buffering=0) as f:
                left = nbytes
                while left > 0:
                    left -= f.write(block[:min(left, len(block))])
            best = min(best, time.perf_counter() - t0)
            path.unlink()
    finally:
        if path.exists():
            path.unlink()
    return best


def lloyd_pass(n, d, k):
    out = subprocess.run([str(LLOYD), str(n), str(d), str(k), "2", "9"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1m,10m", help="comma-separated: 100k, 1m, 10m, 100m")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per process (medians are reported)")
    ap.add_argument("--no-floors", action="store_true", help="skip the bandwidth probes and the Lloyd pass")
    ap.add_argument("--results", default=str(BENCH / "RESULTS.md"))
    args = ap.parse_args()
    scales = [s for s in args.scales.split(",") if s]
    for s in scales:
        if s not in SCALES:
            sys.exit(f"bench: unknown scale {s}; use {', '.join(SCALES)}")
    shown, skip = [], False
    for a in sys.argv[1:]:  # the command as run, without --results (a local path)
        if skip or a.startswith("--results"):
            skip = a == "--results" and not skip
            continue
        shown.append(a)
    command = " ".join(["python3 benchmarks/bench.py", *shown])

    # The flags of README's set-up command, so the two share one build.
    subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    floors = not args.no_floors
    if floors:
        subprocess.run(["swift", "build", "-c", "release", "--product", "LloydPass"], cwd=MICRO, check=True,
                       stdout=subprocess.DEVNULL)
    py = ensure_venv()
    DATA.mkdir(parents=True, exist_ok=True)
    bw = bandwidth_probe() if floors else None
    load_start = load()
    results, failures = [], []
    large_results = []
    for scale in scales:
        t0 = time.perf_counter()
        csv = generate(scale)
        if scale in LARGE:
            large_results.append(run_large(scale, csv, args.reps, py, failures))
            print(f"bench: {scale} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            continue
        size = csv.stat().st_size
        d = DATA / scale
        outs = {s: d / f"koi-{s}" for s in ["all", "rfm", "tiers", "lifetime"]}
        duck_out = d / "duckdb-rfm.json"
        script = d / "duckdb_rfm.py"
        script.write_text(duckdb_script(csv, duck_out))
        koi = [str(KOI), "score", str(csv), "--as-of", AS_OF, "--horizon-days", HORIZON_DAYS, "--quiet", "--no-report"]
        koi_cmd = {"all": koi + ["--out", str(outs["all"])]}
        for s in ["rfm", "tiers", "lifetime"]:
            koi_cmd[s] = koi + ["--out", str(outs[s]), "--stages", s]
        model_path = outs["all"] / "model.json"
        ana_cmd = {
            "rfm": [str(py), str(script)],
            "tiers": [str(py), str(BENCH / "analyst" / "tiers_sklearn.py"), str(csv), str(model_path), "--as-of", AS_OF],
            "lifetime": [str(py), str(BENCH / "analyst" / "lifetime_lifetimes.py"), str(csv), "--as-of", AS_OF,
                         "--horizon-days", HORIZON_DAYS],
        }
        proc = {f"koi-{s}": [] for s in koi_cmd} | {f"ana-{s}": [] for s in ana_cmd}
        koi_stages, ana_json = [], {"tiers": [], "lifetime": []}
        for rep in range(args.reps):  # alternate the two sides
            order = [("koi-all", koi_cmd["all"])]
            for s in ["rfm", "tiers", "lifetime"]:
                pair = [(f"koi-{s}", koi_cmd[s]), (f"ana-{s}", ana_cmd[s])]
                order += pair if rep % 2 == 0 else pair[::-1]
            for name, cmd in order:
                wall, rss, out = timed(cmd)
                proc[name].append((wall, rss))
                if name == "koi-all":
                    koi_stages.append(json.loads((outs["all"] / "run.json").read_text())["seconds"])
                elif name in ("ana-tiers", "ana-lifetime"):
                    ana_json[name[4:]].append(json.loads(out))
                print(f"bench: {scale} rep {rep + 1} {name}: {wall:.2f} s, {rss:.0f} MiB", file=sys.stderr)
        manifest = json.loads((outs["all"] / "run.json").read_text())
        model = json.loads(model_path.read_text())
        n_rfm, err = check_rfm(outs["rfm"], duck_out)
        if err:
            failures.append(f"{scale}: RFM disagreement: {err}")
        checks, errs = check_models(model, ana_json["tiers"][-1], ana_json["lifetime"][-1])
        failures += [f"{scale}: {e}" for e in errs]
        checks["rfm_customers"] = n_rfm
        checks["rfm_ok"] = err is None
        checks["ok"] = err is None and not errs

        floor = None
        if floors:
            cat_s = csv_floor(csv)
            features = len(model["tiers"]["features"])
            lp = lloyd_pass(manifest["customers"], features, model["tiers"]["k"])
            mem_gbps = max(bw["read_1t_gbps"], bw["read_2t_gbps"])
            # A late pass reads the Float32 matrix and the Int32 labels once.
            lloyd_bytes = lp["matrix_bytes"] + 4 * lp["n"]
            jsonl = (outs["all"] / "customers.jsonl").stat().st_size
            floor = dict(jsonl_bytes=jsonl, write_s=write_floor(jsonl, d), cat_s=cat_s, cat_gbps=size / cat_s / 1e9, lloyd=lp, mem_gbps=mem_gbps,
                         lloyd_bytes=lloyd_bytes, lloyd_floor_s=lloyd_bytes / (mem_gbps * 1e9),
                         lloyd_late_s=med(lp["late_seconds"]), lloyd_first_s=med(lp["first_seconds"]))

        results.append(dict(
            scale=scale, rows=manifest["rows"]["read"], rejected=manifest["rows"]["rejected"], bytes=size,
            customers=manifest["customers"], koi_version=manifest["koi_version"],
            proc={k: (med(w for w, _ in v), max(m for _, m in v)) for k, v in proc.items()},
            koi_stage={k: med(s.get(k, 0.0) for s in koi_stages) for k in koi_stages[0]},
            ana_stage={s: {k: med(j["seconds"][k] for j in v) for k in v[0]["seconds"]} for s, v in ana_json.items()},
            checks=checks, floor=floor, tiers_features=model["tiers"]["features"],
            k=model["tiers"]["k"], restarts=model["tiers"]["restarts"]))
        print(f"bench: {scale} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    lines = report(results, large_results, command, args, bw, load_start, load())
    write_results(Path(args.results), lines)
    print("\n".join(lines))
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


def run_large(scale, csv, reps, py, failures):
    """`koi score` (all stages; RFM alone) and DuckDB's RFM on one large file."""
    d = DATA / scale
    out_all, out_rfm, duck_out = d / "koi-all", d / "koi-rfm", d / "duckdb-rfm.json"
    script = d / "duckdb_rfm.py"
    script.write_text(duckdb_script(csv, duck_out))
    koi = [str(KOI), "score", str(csv), "--as-of", AS_OF, "--horizon-days", HORIZON_DAYS, "--quiet", "--no-report"]
    cmds = {"koi-all": koi + ["--out", str(out_all)], "koi-rfm": koi + ["--out", str(out_rfm), "--stages", "rfm"],
            "ana-rfm": [str(py), str(script)]}
    proc = {k: [] for k in cmds}
    stages = []
    for rep in range(reps):
        pair = ["koi-rfm", "ana-rfm"] if rep % 2 == 0 else ["ana-rfm", "koi-rfm"]
        for name in ["koi-all", *pair]:
            wall, rss, _ = timed(cmds[name])
            proc[name].append((wall, rss))
            if name == "koi-all":
                stages.append(json.loads((out_all / "run.json").read_text())["seconds"])
            print(f"bench: {scale} rep {rep + 1} {name}: {wall:.2f} s, {rss:.0f} MiB", file=sys.stderr)
    manifest = json.loads((out_all / "run.json").read_text())
    n_rfm, err = check_rfm(out_rfm, duck_out)
    if err:
        failures.append(f"{scale}: RFM disagreement: {err}")
    return dict(scale=scale, rows=manifest["rows"]["read"], bytes=csv.stat().st_size, customers=manifest["customers"],
                koi_version=manifest["koi_version"],
                proc={k: (med(w for w, _ in v), max(m for _, m in v)) for k, v in proc.items()},
                koi_stage={k: med(s.get(k, 0.0) for s in stages) for k in stages[0]}, rfm_customers=n_rfm,
                rfm_ok=err is None)


def report_large(large):
    lines = ["", "### Large files: one process on one machine", "",
             "Only Koi and DuckDB's RFM run at these scales (the analyst's pandas scripts would need more memory "
             "than the machine has). Koi: all four stages in one process, and RFM alone; DuckDB: the RFM query of "
             "`benchmarks/duckdb_rfm.sql` (2 threads); RFM answers checked customer by customer.", "",
             "| rows | CSV MB | customers | Koi all stages s | Koi peak MiB | Koi RFM s | Koi RFM peak MiB | "
             "DuckDB RFM s | DuckDB peak MiB | RFM ratio | RFM identical |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in large:
        p = r["proc"]
        lines.append(f"| {r['rows']:,} | {r['bytes'] / 1e6:.0f} | {r['customers']:,} | {p['koi-all'][0]:.1f} | "
                     f"{p['koi-all'][1]:.0f} | {p['koi-rfm'][0]:.1f} | {p['koi-rfm'][1]:.0f} | {p['ana-rfm'][0]:.1f} | "
                     f"{p['ana-rfm'][1]:.0f} | {p['ana-rfm'][0] / p['koi-rfm'][0]:.1f}× | "
                     f"{r['rfm_customers']:,} {'yes' if r['rfm_ok'] else 'NO'} |")
    lines += ["", "Koi by step (median seconds, run.json of the all-stages run):", "",
              "| rows | ingest | rfm | tiers | intervals | lifetime | tags | write | checksum | total |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in large:
        s = r["koi_stage"]
        lines.append(f"| {r['rows']:,} | " + " | ".join(f"{s.get(c, 0):.2f}" for c in
                     ["ingest", "rfm", "tiers", "intervals", "lifetime", "tags", "write", "checksum", "total"]) +
                     " |")
    return lines


def write_results(path, lines):
    """Puts this run's section at the top of `path`, under its title; the
    sections of earlier runs stay below it (they are the record of what
    each change did)."""
    title = "# Benchmark results"
    earlier = path.read_text() if path.exists() else ""
    if earlier.startswith(title):
        earlier = earlier[len(title):].lstrip("\n")
    path.write_text(title + "\n\n" + "\n".join(lines) + "\n" + ("\n" + earlier if earlier else ""))


def report(results, large, command, args, bw, load_start, load_end):
    version = (results or large)[0].get("koi_version", "?")
    lines = [
        f"## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `{command}`",
        "",
        f"Machine: {machine()}. Load average (1/5/15 min) {load_start} at the start, {load_end} at the end "
        "(a shared machine: other builds run beside the benchmark).",
        f"Command: `{command}`. Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"Koi {version}; analyst side: {', '.join(PINNED)}; DuckDB with 2 threads, "
        "scikit-learn with its default threads (2 here).",
        f"Every process ran {args.reps}× alternately (Koi, analyst; the pair order flips each repetition). "
        "Times are medians; peak memory is the largest resident set (os.wait4) of any repetition. "
        "Ratios are analyst / Koi: above 1 means Koi is faster or smaller.",
    ]
    if results:
        lines += report_standard(results, bw)
    if large:
        lines += report_large(large)
    return lines


def report_standard(results, bw):
    x = lambda a, b: f"{a / b:.1f}×" if b > 0 else "–"
    lines = [
        "",
        "### Per stage and end to end",
        "",
        "\"compute\" is the stage's own time inside the process (Koi: run.json `seconds`; analyst: the "
        "script's timers), without reading the CSV; \"process\" is the whole process from CSV to results "
        "(Koi: `koi score --stages S`, which also ingests and writes its JSON files).",
        "",
        "| rows | stage | Koi compute s | analyst compute s | ratio | Koi process s | analyst process s | ratio | "
        "Koi peak MiB | analyst peak MiB | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        k, a, p = r["koi_stage"], r["ana_stage"], r["proc"]
        rows = f"{r['rows']:,}"
        lines.append(f"| {rows} | read CSV (Koi ingest: parse, validate, sort; pandas read_csv + dates) | "
                     f"{k['ingest']:.2f} | {a['tiers']['read']:.2f} | {x(a['tiers']['read'], k['ingest'])} | "
                     "| | | | | |")
        kp, ap_ = p["koi-rfm"], p["ana-rfm"]
        lines.append(f"| {rows} | RFM (DuckDB SQL) | {k['rfm']:.2f} | – | – | {kp[0]:.2f} | {ap_[0]:.2f} | "
                     f"{x(ap_[0], kp[0])} | {kp[1]:.0f} | {ap_[1]:.0f} | {x(ap_[1], kp[1])} |")
        at = a["tiers"]["features"] + a["tiers"]["fit"]
        kp, ap_ = p["koi-tiers"], p["ana-tiers"]
        lines.append(f"| {rows} | tiers (pandas features + sklearn KMeans) | {k['tiers']:.2f} | {at:.2f} | "
                     f"{x(at, k['tiers'])} | {kp[0]:.2f} | {ap_[0]:.2f} | {x(ap_[0], kp[0])} | "
                     f"{kp[1]:.0f} | {ap_[1]:.0f} | {x(ap_[1], kp[1])} |")
        al = a["lifetime"]["summary"] + a["lifetime"]["fit"] + a["lifetime"]["score"]
        kp, ap_ = p["koi-lifetime"], p["ana-lifetime"]
        lines.append(f"| {rows} | lifetime (pandas summary + lifetimes BG/NBD, Gamma-Gamma) | {k['lifetime']:.2f} | "
                     f"{al:.2f} | {x(al, k['lifetime'])} | {kp[0]:.2f} | {ap_[0]:.2f} | {x(ap_[0], kp[0])} | "
                     f"{kp[1]:.0f} | {ap_[1]:.0f} | {x(ap_[1], kp[1])} |")
        ka = p["koi-all"]
        aw = sum(p[f"ana-{s}"][0] for s in ["rfm", "tiers", "lifetime"])
        am = max(p[f"ana-{s}"][1] for s in ["rfm", "tiers", "lifetime"])
        lines.append(f"| {rows} | **end to end** (Koi: all four stages incl. intervals, one process; analyst: "
                     f"the three processes above, no intervals) | {k['total']:.2f} | – | – | **{ka[0]:.2f}** | "
                     f"**{aw:.2f}** | **{x(aw, ka[0])}** | {ka[1]:.0f} | {am:.0f} | {x(am, ka[1])} |")
    lines += ["", "### Koi by step (median seconds, from run.json of the all-stages run)", "",
              "| rows | MB | customers | ingest | rfm | tiers | intervals | lifetime | tags | write | checksum | total "
              "| rows/s |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        s = r["koi_stage"]
        lines.append(f"| {r['rows']:,} | {r['bytes'] / 1e6:.0f} | {r['customers']:,} | " +
                     " | ".join(f"{s.get(c, 0):.2f}" for c in ["ingest", "rfm", "tiers", "intervals", "lifetime",
                                                              "tags", "write", "checksum", "total"]) +
                     f" | {r['rows'] / s['total'] / 1e6:.2f} M |")
    lines += ["", "### Analyst side by step (median seconds, the scripts' timers)", "",
              "| rows | tiers: read | features | KMeans fit | lifetime: read | summary | fit (BG/NBD + GG) | score |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        t, l = r["ana_stage"]["tiers"], r["ana_stage"]["lifetime"]
        lines.append(f"| {r['rows']:,} | {t['read']:.2f} | {t['features']:.2f} | {t['fit']:.2f} | {l['read']:.2f} | "
                     f"{l['summary']:.2f} | {l['fit']:.2f} | {l['score']:.2f} |")
    lines += ["", "### Answer checks (a disagreement fails the run)", "",
              "| rows | RFM: customers identical | k-means inertia Koi / sklearn (iterations) | relative diff (≤ 0.5 %) | "
              "standardisation max rel. diff | BG/NBD max rel. diff (≤ 1e-3) | Gamma-Gamma max rel. diff | "
              "Koi's chosen purchase model | pass |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        c = r["checks"]
        lines.append(f"| {r['rows']:,} | {c['rfm_customers']:,} {'yes' if c['rfm_ok'] else 'NO'} | "
                     f"{c['koi_inertia']:.6g} ({c['koi_iterations']}) / {c['sk_inertia']:.6g} ({c['sk_iterations']}) | "
                     f"{100 * c['inertia_diff']:.3f} % | {c['scaling_diff']:.1e} | {c['bg_diff']:.1e} | "
                     f"{c['gg_diff']:.1e} | {c['chosen']} | {'yes' if c['ok'] else 'NO'} |")
    lines += ["", f"Tier features: {', '.join(results[0]['tiers_features'])}; k = {results[0]['k']}, "
              f"restarts = n_init = {results[0]['restarts']}. BG/NBD parameters of the last run: "
              + "; ".join(f"{r['rows']:,} rows Koi " + ", ".join(f"{p} {r['checks']['koi_bg'][p]:.6g}" for p in
                                                                  ["r", "alpha", "a", "b"]) +
                          " / lifetimes " + ", ".join(f"{r['checks']['ref_bg'][p]:.6g}" for p in ["r", "alpha", "a", "b"])
                          for r in results) + "."]
    if bw:
        lines += ["", "### Physical floors", "",
                  f"Memory read bandwidth (benchmarks/floors/bandwidth.c, 1 GiB of floats, best of 7): "
                  f"{bw['read_1t_gbps']:.1f} GB/s on 1 thread, {bw['read_2t_gbps']:.1f} GB/s on 2; memcpy "
                  f"{bw['memcpy_gbps']:.1f} GB/s. CSV floor: the file's bytes over the warm page-cache read "
                  "bandwidth (best of 5 `cat FILE > /dev/null`). Lloyd floor: the bytes one late pass must "
                  "read (Float32 matrix n·d·4 + Int32 labels n·4) over the better memory bandwidth; the pass is "
                  "Koi's kernel timed by benchmarks/Micro's LloydPass (n = customers, d = tier features, "
                  "k = 4, 2 threads, median of 9; \"first\" = every point reassigned and summed).", "",
                  "| rows | CSV MB | cat GB/s | CSV floor s | Koi ingest s | Koi % of floor | pandas read s | "
                  "pandas % of floor | Lloyd n × d | bytes/pass MB | floor ms | Koi late pass ms | Koi % of floor | "
                  "first pass ms |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        writes = ["", "Writing (the largest step at scale): customers.jsonl's bytes over the page-cache write "
                  "bandwidth of one file of that size (best of 3, 8 MiB blocks, not fsynced), against Koi's "
                  "`write` step (which writes customers.jsonl, due.json, segments.json, model.json, rejects.csv, "
                  "and syncs each to disk before renaming it into place, which the floor does not).", "",
                  "| rows | customers.jsonl MB | bytes/customer | write GB/s | floor s | Koi write s | Koi % of floor |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in results:
            f = r["floor"]
            csv_floor_s = r["bytes"] / (f["cat_gbps"] * 1e9)
            ing = r["koi_stage"]["ingest"]
            pr = r["ana_stage"]["tiers"]["read"]
            lp = f["lloyd"]
            lines.append(
                f"| {r['rows']:,} | {r['bytes'] / 1e6:.0f} | {f['cat_gbps']:.1f} | {csv_floor_s:.3f} | {ing:.2f} | "
                f"{100 * csv_floor_s / ing:.1f} % | {pr:.2f} | {100 * csv_floor_s / pr:.1f} % | "
                f"{lp['n']:,} × {lp['d']} | {f['lloyd_bytes'] / 1e6:.1f} | {1e3 * f['lloyd_floor_s']:.2f} | "
                f"{1e3 * f['lloyd_late_s']:.2f} | {100 * f['lloyd_floor_s'] / f['lloyd_late_s']:.0f} % | "
                f"{1e3 * f['lloyd_first_s']:.2f} |")
            w = r["koi_stage"]["write"]
            writes.append(f"| {r['rows']:,} | {f['jsonl_bytes'] / 1e6:.0f} | {f['jsonl_bytes'] / r['customers']:.0f} | "
                          f"{f['jsonl_bytes'] / f['write_s'] / 1e9:.1f} | {f['write_s']:.2f} | {w:.2f} | "
                          f"{100 * f['write_s'] / w:.1f} % |")
        lines += writes
    if any(r["rejected"] for r in results):
        lines += ["", "Note: some rows were rejected by Koi; the analyst scripts do not validate rows."]
    return lines


if __name__ == "__main__":
    main()
