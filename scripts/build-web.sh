#!/usr/bin/env bash
# Builds the browser's engine (the crate in web/) to WebAssembly as web/app/engine.wasm and
# web/app/pdf.wasm. The built files are committed, so that the app works from a fresh clone with no WebAssembly
# toolchain; `--check` builds them again and fails when a committed file is not what the source
# builds to (.ci/run does). Paths are remapped so the build is the same on any machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo_home=${CARGO_HOME:-$HOME/.cargo}
sep=$'\x1f'
export CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo$sep--remap-path-prefix=$PWD=/propusk"
# Two modules from the one crate: the engine, and the PDF (its font alone is half a megabyte),
# which the app fetches when a PDF is first asked for.
built=target/web/wasm32-unknown-unknown/web/propusk_web.wasm
status=0
for module in engine pdf; do
  cargo build -q --locked -p propusk-web --no-default-features --features "$module" \
    --profile web --target wasm32-unknown-unknown --target-dir target/web
  if [ "${1:-}" = --check ]; then
    if cmp -s "$built" "web/app/$module.wasm"; then
      echo "web/app/$module.wasm matches its source ($(wc -c < "$built") bytes)"
    else
      echo "web/app/$module.wasm is not what web/ builds to: run scripts/build-web.sh and commit it" >&2
      status=1
    fi
  else
    cp "$built" "web/app/$module.wasm"
    echo "web/app/$module.wasm: $(wc -c < "$built") bytes, $(gzip -9 -c "$built" | wc -c) gzipped"
  fi
done
exit $status
