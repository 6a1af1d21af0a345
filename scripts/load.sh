#!/usr/bin/env bash
# Load test of `propusk serve`: N credentials in the store (default 1,000,000, issued by batch),
# then wrk against the portal page (random ids among 10,000) and the trust bundle's index (plain
# and conditional). Prints requests per second, latency percentiles and errors as wrk reports
# them. Needs wrk (Debian: apt-get install wrk). Usage: scripts/load.sh [N] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
secs=${2:-15}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build -q --release
bin=$PWD/target/release/propusk
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export PROPUSK_PASSPHRASE="load test passphrase"
day=$(date -u -d '2 days ago' +%F)
"$bin" issuer init --dir "$work/issuer" --at "$(date -u -d '7 days ago' +%FT%TZ)" > /dev/null
awk -v n="$n" -v day="$day" 'BEGIN {
  print "record_id,type,family_name,given_name,patronymic,birth_date,document_kind,document_number,product,dose,doses,date,country,administered_by"
  for (i = 0; i < n; i++) printf "R-%07d,vaccination,Иванов,Иван,Иванович,1980-05-12,passport,4510 %06d,Sputnik-V,2,2,%s,RU,ГБУЗ ГП № 2\n", i, i % 1000000, day
}' > "$work/registry.csv"
echo "== issuing $n credentials (batch, no images)"
"$bin" issuer batch --dir "$work/issuer" --input "$work/registry.csv" --out "$work/out" --no-images
port=$((20000 + RANDOM % 20000))
"$bin" serve --dir "$work/issuer" --addr "127.0.0.1:$port" --portal-rate 0 > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q listening "$work/serve.log" && break; sleep 0.2; done
base="http://127.0.0.1:$port"
tail -n +2 "$work/out/issued.csv" | shuf -n 10000 --random-source=<(yes) | cut -d, -f2 > "$work/ids"
{
  echo 'local ids = {}'
  echo 'for line in io.lines("'"$work/ids"'") do ids[#ids + 1] = "/c/" .. line .. "?lang=ru" end'
  echo 'request = function() return wrk.format("GET", ids[math.random(#ids)]) end'
} > "$work/portal.lua"
etag=$(curl -sI "$base/bundle/index.cbor" 2>/dev/null | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" {print $2}' || true)
echo "== portal page, $secs s, 64 connections"
wrk -t2 -c64 -d"${secs}s" --latency -s "$work/portal.lua" "$base"
echo "== trust bundle index, $secs s, 64 connections"
wrk -t2 -c64 -d"${secs}s" --latency "$base/bundle/index.cbor"
if [ -n "$etag" ]; then
  echo "== trust bundle index, conditional (If-None-Match: 304), $secs s"
  wrk -t2 -c64 -d"${secs}s" --latency -H "If-None-Match: $etag" "$base/bundle/index.cbor"
fi
