#!/bin/bash
# Server-side cost of /metrics scrapes, readable on a busy machine (docs/performance.md, issue 19):
#   scripts/metrics-scrape.sh DIST FILE [N] [PORT]
# starts `serve` from DIST (an exporter/dist, e.g. an older build copied aside next to a node_modules) on FILE
# (Asterisk Master.csv), makes a cold scrape and two warm-ups, then N scrapes with curl (not decoded) and prints
# their wall ms, the serve's CPU ms per scrape (utime+stime from /proc), RSS and peak RSS; ENC=identity asks for
# the text body instead of gzip; INFLATE=1 times curl --compressed (the whole body inflated, as a scraper does); CONFIG=FILE passes --config FILE; SIDE=DIR copies DIR's files (an inventory, labels) into the inbox before the start.
# Listens on 127.0.0.1 only; the serve it starts is stopped at the end.
set -euo pipefail
dist=$1; file=$2; n=${3:-8}; port=${4:-19499}; enc=${ENC:-gzip}
d=$(mktemp -d); mkdir -p "$d/inbox"
if [ -n "${SIDE:-}" ]; then cp "$SIDE"/* "$d/inbox/"; fi
node "$dist/cli/main.js" serve --quiet --listen "127.0.0.1:$port" --inbox "$d/inbox" --db "$d/numrep.db" \
  --trunk-map "$(dirname "$0")/../examples/trunk-map.csv" --timezone UTC --source "$file" ${CONFIG:+--config "$CONFIG"} 2>"$d/err" & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$d"' EXIT
for _ in $(seq 1 1500); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
get() {
  if [ -n "${INFLATE:-}" ]; then curl -s -o /dev/null -w '%{time_total}' --compressed "http://127.0.0.1:$port/metrics"
  else curl -s -o /dev/null -w '%{time_total}' -H "Accept-Encoding: $enc" "http://127.0.0.1:$port/metrics"; fi
}
cold=$(get); get >/dev/null; get >/dev/null
cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; }
tck=$(getconf CLK_TCK); c0=$(cpu); ws=""
for _ in $(seq 1 "$n"); do ws="$ws $(awk -v t="$(get)" 'BEGIN{printf "%d", t*1000}')"; done
c1=$(cpu)
wire=$(curl -s -H "Accept-Encoding: $enc" "http://127.0.0.1:$port/metrics" | wc -c)
series=$(curl -s --compressed "http://127.0.0.1:$port/metrics" | grep -vc '^#' || true)
echo "cold=${cold}s scrapes_ms=[$ws ] serve_cpu_ms_per_scrape=$(( (c1 - c0) * 1000 / tck / n )) wire_bytes=$wire series=$series" \
  "rss_mb=$(awk '/VmRSS/{print int($2/1024)}' "/proc/$pid/status") peak_mb=$(awk '/VmHWM/{print int($2/1024)}' "/proc/$pid/status")" \
  "load=$(cut -d' ' -f1 /proc/loadavg)"
