#!/usr/bin/env bash
# Batch issuance throughput on one core: N records from a generated registry export, without
# and with QR images, and with EU twins (no images). Prints the batch command's own summary (records per second).
# With PROPUSK_BENCH_DATABASE_URL (a PostgreSQL admin URL, e.g. from scripts/pg-cluster.sh) also
# N records into PostgreSQL (a fresh database `propusk_bench`), no images.
# With SoftHSM2 (Debian's softhsm2), also N records signed in a token (keys in the hardware security
# module through PKCS#11), without and with EU twins, against the sealed keys above.
# Usage: scripts/bench-batch.sh [N]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
cargo build -q --release
bin=target/release/propusk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PROPUSK_PASSPHRASE="bench passphrase"
{
  echo "record_id,type,family_name,given_name,patronymic,birth_date,document_kind,document_number,product,dose,doses,date,country,administered_by"
  for ((i = 0; i < n; i++)); do
    printf 'R-%07d,vaccination,Иванов,Иван,Иванович,1980-05-12,passport,4510 %06d,Sputnik-V,2,2,2021-06-01,RU,ГБУЗ ГП № 2\n' "$i" "$((i % 1000000))"
  done
} > "$work/registry.csv"
for mode in --no-images images eu; do
  rm -rf "$work/issuer" "$work/out"
  "$bin" issuer init --dir "$work/issuer" --at 2021-11-20T08:00:00Z > /dev/null
  extra=()
  [ "$mode" = --no-images ] && extra=(--no-images)
  if [ "$mode" = eu ]; then
    "$bin" issuer eu init --dir "$work/issuer" --at 2021-11-20T08:00:00Z > /dev/null
    extra=(--no-images --eu)
  fi
  echo "== $n records, ${mode#--}:"
  taskset -c 0 "$bin" issuer batch --dir "$work/issuer" --input "$work/registry.csv" --out "$work/out" \
    --at 2021-11-21T08:00:00Z "${extra[@]}"
  if [ "$mode" = --no-images ]; then
    bytes=$(cat "$work/issuer"/issuer.sqlite* | wc -c)
    echo "bytes per credential in SQLite: $((bytes / n)) (the whole file, WAL included)"
  fi
done
module=${PROPUSK_BENCH_PKCS11:-/usr/lib/softhsm/libsofthsm2.so}
if [ -f "$module" ] && command -v softhsm2-util > /dev/null; then
  mkdir -p "$work/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$work/tokens" > "$work/softhsm2.conf"
  export SOFTHSM2_CONF="$work/softhsm2.conf" PROPUSK_PKCS11_PIN=4321
  softhsm2-util --init-token --free --label bench --so-pin 87654321 --pin "$PROPUSK_PKCS11_PIN" > /dev/null
  for mode in no-images eu; do
    rm -rf "$work/issuer" "$work/out"
    "$bin" issuer init --dir "$work/issuer" --pkcs11 "$module" --token bench --at 2021-11-20T08:00:00Z > /dev/null
    extra=(--no-images)
    if [ "$mode" = eu ]; then
      "$bin" issuer eu init --dir "$work/issuer" --at 2021-11-20T08:00:00Z > /dev/null
      extra=(--no-images --eu)
    fi
    echo "== $n records, keys in a SoftHSM2 token, $mode:"
    taskset -c 0 "$bin" issuer batch --dir "$work/issuer" --input "$work/registry.csv" --out "$work/out" \
      --at 2021-11-21T08:00:00Z "${extra[@]}"
  done
fi
if [ -n "${PROPUSK_BENCH_DATABASE_URL:-}" ]; then
  rm -rf "$work/issuer" "$work/out"
  psql -q "$PROPUSK_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS propusk_bench" -c "CREATE DATABASE propusk_bench" 2>/dev/null
  db="${PROPUSK_BENCH_DATABASE_URL%/*}/propusk_bench"
  "$bin" issuer init --dir "$work/issuer" --database "$db" --at 2021-11-20T08:00:00Z > /dev/null
  echo "== $n records, PostgreSQL, no-images:"
  taskset -c 0 "$bin" issuer batch --dir "$work/issuer" --database "$db" --input "$work/registry.csv" \
    --out "$work/out" --at 2021-11-21T08:00:00Z --no-images
  psql -At "$db" -c "SELECT 'bytes per credential in PostgreSQL: ' || pg_total_relation_size('credentials') / count(*) FROM credentials"
fi
