#!/usr/bin/env python3
"""Reading a 1M-row workbook: wall time and peak memory of
`koi score BOOK.xlsx --stages rfm`, next to the same rows as CSV.

    python3 -m venv /tmp/venv-openpyxl && /tmp/venv-openpyxl/bin/pip install openpyxl
    swift build -c release --static-swift-stdlib
    /tmp/venv-openpyxl/bin/python benchmarks/xlsx/bench_xlsx.py [--customers 147000] [--reps 3]

Makes benchmarks/data/xlsx/transactions.csv with `koi generate` (147,000
customers ≈ 1M rows) and converts it to transactions.xlsx with openpyxl's
write_only mode (dates as date cells with a date format, amounts as
numbers, text as shared strings: what Excel writes). Each run is measured
with /usr/bin/time -v (elapsed wall time, maximum resident set size);
medians are printed with the machine, and the sheet's XML size, so that
peak memory can be compared with the XML (streamed) and with the CSV run
(the same rows, no XML).
"""
import argparse
import csv
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KOI = os.path.join(ROOT, ".build", "release", "koi")
DATA = os.path.join(ROOT, "benchmarks", "data", "xlsx")


def make(customers):
    os.makedirs(DATA, exist_ok=True)
    src = os.path.join(DATA, "transactions.csv")
    book = os.path.join(DATA, "transactions.xlsx")
    if not os.path.exists(src):
        subprocess.run([KOI, "generate", "--customers", str(customers), "--seed", "1", "--out", DATA, "--quiet"], check=True)
    if not os.path.exists(book):
        import openpyxl
        from openpyxl.cell import WriteOnlyCell
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("transactions")
        with open(src, newline="", encoding="utf-8-sig") as f:
            r = csv.reader(f)
            header = next(r)
            ws.append(header)
            di, ai = header.index("date"), header.index("amount")
            for row in r:
                cells = list(row)
                d = cells[di]
                try:
                    cell = WriteOnlyCell(ws, value=dt.datetime.strptime(d[:16], "%Y-%m-%d %H:%M") if len(d) > 10 else dt.datetime.strptime(d, "%Y-%m-%d"))
                    cell.number_format = "yyyy-mm-dd hh:mm"
                    cells[di] = cell
                except ValueError:
                    pass  # a deliberately bad row stays text
                try:
                    cells[ai] = float(cells[ai])
                except ValueError:
                    pass
                ws.append(cells)
        wb.save(book)
    return src, book


def measure(args):
    out = subprocess.run(["/usr/bin/time", "-v"] + args, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(args), out.stderr[-2000:]))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)) / 1024
    return seconds, rss, out.stdout.strip()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--customers", type=int, default=147000)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    src, book = make(a.customers)
    with zipfile.ZipFile(book) as z:
        sheet = [i for i in z.infolist() if i.filename.startswith("xl/worksheets/")][0]
        xml_mb = sheet.file_size / 2**20
        sst = [i for i in z.infolist() if i.filename == "xl/sharedStrings.xml"]
        sst_mb = sst[0].file_size / 2**20 if sst else 0
    results = {"csv": [], "xlsx": []}
    line = {}
    for rep in range(a.reps):
        for kind, path in (("xlsx", book), ("csv", src)) if rep % 2 == 0 else (("csv", src), ("xlsx", book)):
            s, rss, stdout = measure([KOI, "score", path, "--stages", "rfm", "--as-of", "2026-01-01", "--out", os.path.join(DATA, "out-" + kind), "--quiet"])
            results[kind].append((s, rss))
            line[kind] = stdout
    print("machine: %s, %d cores, %s; %s" % (platform.processor() or platform.machine(), os.cpu_count(), platform.platform(), dt.date.today()))
    print("workbook: %.1f MB on disk, sheet XML %.1f MB, shared strings %.1f MB; CSV %.1f MB"
          % (os.path.getsize(book) / 2**20, xml_mb, sst_mb, os.path.getsize(src) / 2**20))
    for kind in ("xlsx", "csv"):
        ss = [r[0] for r in results[kind]]
        rs = [r[1] for r in results[kind]]
        print("%-4s koi score --stages rfm: median %.2f s (%s), peak RSS median %.0f MiB (%s); %s"
              % (kind, statistics.median(ss), ", ".join("%.2f" % x for x in ss), statistics.median(rs),
                 ", ".join("%.0f" % x for x in rs), line[kind]))


if __name__ == "__main__":
    main()
