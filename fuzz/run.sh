#!/bin/sh
# Runs one fuzz target for a bounded time: its seed corpus first (read
# only), then new inputs, keeping the ones that reach new code in WORK_DIR
# (so a later run starts from them) and any crash as WORK_DIR/crash-*.
# Exit status: 0 when nothing was found, else libFuzzer's.
#
# Usage: run.sh TARGET SEED_DIR WORK_DIR SECONDS   (FUZZ_SECONDS overrides SECONDS)
set -eu
target=$1 seeds=$2 work=$3 seconds=${FUZZ_SECONDS:-$4}
mkdir -p "$work/corpus"
log="$work/fuzz.log"
# -timeout: an input that takes 10 s (under the sanitizers) is a finding.
# The seed directory comes last: libFuzzer writes new inputs to the first.
if "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -print_funcs=0 \
     -artifact_prefix="$work/" "$work/corpus" "$seeds" >"$log" 2>&1; then
    # One line for the test log: how far it got.
    grep -E '^#[0-9]+.*DONE' "$log" | tail -n 1 || true
    exit 0
else
    status=$?
fi
# A finding: the report (the sanitizer's or FUZZ_CHECK's), and where the
# input is; fuzz/README.md says how to make it a regression test.
grep -v -E '^#[0-9]+|^INFO:|^MERGE|^\s+NEW_FUNC' "$log" | tail -n 80
echo "fuzz: $(basename "$target") failed (exit $status); full log $log; input:"
ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true
exit "$status"
