#!/usr/bin/env bash
# Koi on Spark, one huge chain: `koi-spark one-chain` on local[2] against one
# `koi score`, wall time and peak memory of each step (benchmarks/spark/README.md).
#
#   swift build -c release --static-swift-stdlib --product koi
#   .build/release/koi generate --customers 1470000 --seed 1 --out benchmarks/data/10m
#   benchmarks/spark/run.sh [SHARDS] [VENV]
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARDS=${1:-4}
VENV=${2:-.build/spark-venv}   # python/ci_spark.sh makes it
DATA=benchmarks/data/10m/transactions.csv
KOI=$PWD/.build/release/koi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$VENV/bin/pip" install -q --no-deps --force-reinstall ./python
# Each koi call's wall time and peak memory, appended to $WORK/koi.log.
cat > "$WORK/koi" <<WRAP
#!/bin/sh
exec /usr/bin/time -a -o "$WORK/koi.log" -f "koi \$1: %e s wall, %M KB max RSS" "$KOI" "\$@"
WRAP
chmod +x "$WORK/koi"
/usr/bin/time -f "single koi score: %e s wall, %M KB max RSS" "$KOI" score "$DATA" --out "$WORK/single" --quiet
mkdir -p "$WORK/stats"
KOI_BINARY="$WORK/koi" PYSPARK_PYTHON="$VENV/bin/python" /usr/bin/time \
  -f "koi-spark one-chain, $SHARDS shards, local[2]: %e s wall, %M KB max RSS of the largest process" \
  "$VENV/bin/python" -m koi_spark --master 'local[2]' one-chain "$DATA" --shards "$SHARDS" \
  --out "$WORK/spark" --stats-dir "$WORK/stats" 2>/dev/null
cat "$WORK/koi.log"
du -sh "$WORK/stats"
for f in customers.jsonl segments.json model.json due.json rejects.csv; do
  cmp "$WORK/single/$f" "$WORK/spark/$f" && echo "$f byte-identical"
done
