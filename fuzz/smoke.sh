#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer and coverage instrumentation (stable toolchain, LLVM's
# sancov pass) and runs each for a short, bounded time. Fails on a crash, a hang (a single input
# over the timeout) or an out-of-memory. Usage: fuzz/smoke.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-15}
target=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions"
cargo build --release --locked --bins --target "$target" -q
targets=$(sed -n 's/^name = "\(.*\)"/\1/p' Cargo.toml | grep -v '^propusk-fuzz$')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in $targets; do
  mkdir -p "$work/$t"
  [ -d "seeds/$t" ] && cp seeds/"$t"/* "$work/$t/" 2>/dev/null || true
  log="$work/$t.log"
  if ! "./target/$target/release/$t" "$work/$t" -max_total_time="$seconds" -timeout=20 \
      -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz: $t FAILED" >&2
    tail -40 "$log" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz: $t ok, ${runs:-?} runs in ${seconds} s"
done
