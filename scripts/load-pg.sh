#!/usr/bin/env bash
# Scale-out load test: N credentials (default 1,000,000) issued by batch into PostgreSQL (a fresh
# database `propusk_load` of the cluster PROPUSK_BENCH_DATABASE_URL names, e.g. from
# scripts/pg-cluster.sh), two `propusk serve` processes on it (SERVERS=n for another number), wrk
# against both portals at once (random ids among IDS of them, default 100,000, at most
# 1,000,000; the requests per second add up), from the servers' start (each page of an id not
# seen before is judged afresh, its signature checked); then
# 1,000,000 credentials (or all, if fewer) revoked by SQL (the measurement is of publishing, not
# of revoking), vouched for (`issuer vouch --yes`), and `issuer publish` timed.
# With LOAD_DIR=DIR the issuer and its ids are kept there: a second run with the same DIR and N
# skips the issuance (10,000,000 take a few minutes) and measures again; the revocations and the
# publishing are then skipped unless PUBLISH=1 (they would revoke what the next run reads).
# Needs wrk and psql. Usage: scripts/load-pg.sh [N] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
secs=${2:-15}
admin=${PROPUSK_BENCH_DATABASE_URL:?set PROPUSK_BENCH_DATABASE_URL (scripts/pg-cluster.sh prints one)}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build -q --release
bin=$PWD/target/release/propusk
servers=()
if [ -n "${LOAD_DIR:-}" ]; then
  work=$LOAD_DIR
  mkdir -p "$work"
  cleanup() { for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done; }
else
  work=$(mktemp -d)
  cleanup() { for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done; rm -rf "$work"; }
fi
trap cleanup EXIT
export PROPUSK_PASSPHRASE="load test passphrase"
export PROPUSK_DATABASE_URL="${admin%/*}/propusk_load"
if [ "$(cat "$work/issued" 2>/dev/null)" != "$n" ]; then
  rm -rf "$work/issuer" "$work/out" "$work/usb" "$work/issued"
  psql -q "$admin" -c "DROP DATABASE IF EXISTS propusk_load" -c "CREATE DATABASE propusk_load" 2>/dev/null
  day=$(date -u -d '2 days ago' +%F)
  "$bin" issuer init --dir "$work/issuer" --at "$(date -u -d '7 days ago' +%FT%TZ)" > /dev/null
  awk -v n="$n" -v day="$day" 'BEGIN {
    print "record_id,type,family_name,given_name,patronymic,birth_date,document_kind,document_number,product,dose,doses,date,country,administered_by"
    for (i = 0; i < n; i++) printf "R-%08d,vaccination,Иванов,Иван,Иванович,1980-05-12,passport,4510 %06d,Sputnik-V,2,2,%s,RU,ГБУЗ ГП № 2\n", i, i % 1000000, day
  }' > "$work/registry.csv"
  echo "== issuing $n credentials into PostgreSQL (batch, no images)"
  start=$(date +%s.%N)
  "$bin" issuer batch --dir "$work/issuer" --input "$work/registry.csv" --out "$work/out" --no-images
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" -v n="$n" 'BEGIN {printf "issued in %.0f s: %.0f records/s\n", b - a, n / (b - a)}'
  rm "$work/registry.csv"
  tail -n +2 "$work/out/issued.csv" | shuf -n 1000000 --random-source=<(yes) | cut -d, -f2 > "$work/ids"
  rm "$work/out/issued.csv"
  psql -q "$PROPUSK_DATABASE_URL" -c "VACUUM ANALYZE credentials"
  echo "$n" > "$work/issued"
fi
psql -At "$PROPUSK_DATABASE_URL" -c "SELECT 'bytes per credential: ' || pg_total_relation_size('credentials') / count(*) FROM credentials"
psql -At "$PROPUSK_DATABASE_URL" -c "SHOW shared_buffers" | sed 's/^/shared_buffers: /'
# The table and its index read into the database's buffers, as a server that has been running
# has them (pg_prewarm, shipped with Debian's postgresql); skipped where it is missing.
psql -q "$PROPUSK_DATABASE_URL" -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
  -c "SELECT pg_prewarm('credentials'), pg_prewarm('credentials_pkey')" > /dev/null 2>&1 || true
bases=()
for i in $(seq "${SERVERS:-2}"); do
  port=$((20000 + RANDOM % 20000))
  "$bin" serve --dir "$work/issuer" --addr "127.0.0.1:$port" --portal-rate 0 > "$work/serve$i.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 50); do grep -q listening "$work/serve$i.log" && break; sleep 0.2; done
  bases+=("http://127.0.0.1:$port")
done
head -n "${IDS:-100000}" "$work/ids" > "$work/ids.run"
rm -f "$work"/wrk*
{
  echo 'local ids = {}'
  echo 'for line in io.lines("'"$work/ids.run"'") do ids[#ids + 1] = "/c/" .. line .. "?lang=ru" end'
  echo 'request = function() return wrk.format("GET", ids[math.random(#ids)]) end'
} > "$work/portal.lua"
echo "== portal pages of ${#bases[@]} server(s) on one database, $secs s, 64 connections in all"
i=0
for base in "${bases[@]}"; do
  i=$((i + 1))
  wrk -t1 -c$((64 / ${#bases[@]})) -d"${secs}s" --latency -s "$work/portal.lua" "$base" > "$work/wrk$i" &
done
wait $(jobs -p | grep -v -E "$(IFS='|'; echo "${servers[*]}")") 2>/dev/null || true
for f in "$work"/wrk*; do grep -E "Requests/sec|99%|Non-2xx|Socket errors" "$f" || true; done
awk '/Requests\/sec/ {s += $2} END {printf "together: %.0f requests/s\n", s}' "$work"/wrk*
if [ -n "${LOAD_DIR:-}" ] && [ "${PUBLISH:-0}" != 1 ]; then
  # Revoking the kept credentials would make the next run's pages revoked ones, which need no
  # signature checked: a cheaper page than the one measured here.
  echo "(publishing with revocations skipped: it would revoke the kept credentials; PUBLISH=1 does)"
  exit 0
fi
revoked=$((n < 1000000 ? n : 1000000))
echo "== publish with $revoked revoked credentials"
already=$(psql -At "$PROPUSK_DATABASE_URL" -c "SELECT count(*) FROM credentials WHERE status = 'revoked'")
psql -q "$PROPUSK_DATABASE_URL" -c "UPDATE credentials SET status = 'revoked', revoked_at = extract(epoch FROM now())::bigint
  WHERE id IN (SELECT id FROM credentials WHERE status = 'issued' ORDER BY record_id LIMIT $((revoked - already)))"
# Revocations written by SQL carry no proof that the issuer made them: publishing would refuse
# them. The operator (this script) vouches for them.
"$bin" issuer vouch --dir "$work/issuer" --yes | tail -1
start=$(date +%s.%N)
"$bin" issuer publish --dir "$work/issuer" --out "$work/usb"
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN {printf "publish took %.1f s\n", b - a}'
ls -l "$work/usb"/bundle-*.cbor | awk '{print "bundle bytes: " $5}'
