#!/usr/bin/env bash
# Builds Koi's ingest fuzz target (debug, -sanitize=fuzzer,address) and
# runs it for SECONDS (default 30). Exits non-zero when the fuzzer finds an
# input that crashes, trips AddressSanitizer, times out or violates one of
# the properties in fuzz/README.md; the input is saved under
# fuzz/.build/artifacts/ and its Base64 printed.
#
#   fuzz/run.sh            # 30 s, as CI runs it
#   fuzz/run.sh 3600       # an hour, on demand
#
# New interesting inputs go to fuzz/.build/corpus (kept between runs, never
# committed); fuzz/corpus (the seeds) and fuzz/findings (reported inputs,
# kept as regression inputs) are only read.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-30}"
# (libFuzzer reads -max_total_time=0 as "no limit": refuse 0.)
case "$seconds" in ''|*[!0-9]*|0) echo "usage: fuzz/run.sh [SECONDS], SECONDS >= 1" >&2; exit 64 ;; esac

start=$(date +%s)
# Debug mode: Koi's own target is optimised in debug builds too (its
# Package.swift), so the fuzzer runs about as many inputs a second as a
# release build (82 against 95 exec/s here), while its dependencies, which
# the fuzzer barely touches, skip the optimiser: 371 s to build from clean in
# CI against 418 s in release mode (2 cores, 2026-12-06).
swift build -c debug --package-path "$here" -Xswiftc -sanitize=fuzzer,address
built=$(date +%s)
echo "fuzz: build took $((built - start)) s"

work="$here/.build/corpus"
artifacts="$here/.build/artifacts"
mkdir -p "$work" "$artifacts"
log="$here/.build/fuzz.log"
# The Swift runtime's backtracer reads other threads' stacks, which
# AddressSanitizer reports as an overflow: leave crash reports to libFuzzer.
export SWIFT_BACKTRACE=enable=no
status=0
"$here/.build/debug/IngestFuzzer" \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$work" "$here/corpus" "$here/findings" >"$log" 2>&1 || status=$?

runs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log")
rate=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log")
last=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true)
echo "fuzz: ${runs:-?} executions (${rate:-?} exec/s) in a run of at most ${seconds} s; with the build $(( $(date +%s) - start )) s"
echo "fuzz: last status: ${last:-none}"
if [ "$status" -ne 0 ]; then
  grep -E 'Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY|Test unit written|^Base64' "$log" | head -20 >&2 || true
  echo "fuzz: FINDING (exit $status); full log: $log; input saved under $artifacts/" >&2
  exit "$status"
fi
echo "fuzz: no findings"
