#!/usr/bin/env bash
# Builds the browser's engine (the crate in web/) to WebAssembly as web/app/engine.wasm. The
# built file is committed, so that the app works from a fresh clone with no WebAssembly
# toolchain; `--check` builds it again and fails when the committed file is not what the source
# builds to (.ci/run does). Paths are remapped so the build is the same on any machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo_home=${CARGO_HOME:-$HOME/.cargo}
sep=$'\x1f'
export CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo$sep--remap-path-prefix=$PWD=/propusk"
cargo build -q --locked -p propusk-web --profile web --target wasm32-unknown-unknown --target-dir target/web
built=target/web/wasm32-unknown-unknown/web/propusk_web.wasm
if [ "${1:-}" = --check ]; then
  if ! cmp -s "$built" web/app/engine.wasm; then
    echo "web/app/engine.wasm is not what web/ builds to: run scripts/build-web.sh and commit it" >&2
    exit 1
  fi
  echo "web/app/engine.wasm matches its source ($(wc -c < "$built") bytes)"
else
  cp "$built" web/app/engine.wasm
  echo "web/app/engine.wasm: $(wc -c < "$built") bytes, $(gzip -9 -c "$built" | wc -c) gzipped"
fi
