#!/usr/bin/env bash
# Koi on Spark in CI (.ci/run calls it after the Swift tests): Java 17 and
# the pinned pyspark/pyarrow in a venv, then local[2] Spark on the sample:
# one chain in 4 shards (scored on the executors and merged from their
# outputs, and scored on the driver) and 3 chains through applyInArrow,
# byte-identical to koi score (python/ci_spark_check.py). Measured here: 31 s for the pinned
# install into a fresh venv (848 MB), 33-40 s for the check.
set -euo pipefail
cd "$(dirname "$0")/.."
PYSPARK_VERSION=4.3.0
PYARROW_VERSION=26.0.1
# applyInArrow goes through pyspark's pandas UDF machinery, which checks for pandas;
# pyspark 4.3 warns that it does not yet fully support pandas 3, so 2.2.3.
PANDAS_VERSION=2.2.3
VENV=${KOI_SPARK_VENV:-.build/spark-venv}
if ! command -v java >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless
fi
if ! "$VENV/bin/python" -c "import pyspark, pyarrow, sys; import pandas; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION' or pyarrow.__version__ != '$PYARROW_VERSION' or pandas.__version__ != '$PANDAS_VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "pyspark==$PYSPARK_VERSION" "pyarrow==$PYARROW_VERSION" "pandas==$PANDAS_VERSION"
fi
# The package as a user installs it (executors import it too).
"$VENV/bin/pip" install -q --no-deps --force-reinstall ./python
swift build --product koi
KOI="$(swift build --show-bin-path)/koi"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PYSPARK_PYTHON="$VENV/bin/python" "$VENV/bin/python" python/ci_spark_check.py "$KOI" datasets/sample/transactions.csv "$WORK"
