#!/usr/bin/env bash
# The long soak of `uma serve` (docs/serve.md, "Holding up"): starts a server
# on a free port, runs `serve_stress load` against it (CLIENTS clients for
# DURATION seconds, every answer checked, greedy and seeded ones against
# their request run alone), prints the server's resident memory every minute
# and /health at the end. Build first: ninja -C build uma_cli serve_stress.
#
#   bench/serve_soak.sh                                  # 64 clients, 10 minutes, the built-in model
#   CLIENTS=16 DURATION=120 MODEL=~/models/m bench/serve_soak.sh --max-concurrency 16
#
# Further arguments go to `uma serve`. Exits non-zero when a request failed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-600}
MODEL=${MODEL:-models/uma-dict}
log=$(mktemp)
# Room in the queue for every client, and for a hang-up's place not yet given back.
"$BUILD/bin/uma" serve --model "$MODEL" --port 0 --max-queue $((CLIENTS + 16)) "$@" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
port=""
for _ in $(seq 600); do
  port=$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.5
done
rss() { awk '/VmRSS/ {print $2 " KiB"}' /proc/$pid/status; }
echo "uma serve ($MODEL) on port $port, pid $pid: resident $(rss)"
(while sleep 60; do echo "  resident $(rss)"; done) &
watcher=$!
rc=0
"$BUILD/bin/serve_stress" load --port "$port" --clients "$CLIENTS" --seconds "$DURATION" || rc=$?
kill $watcher
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
echo "health: $(tail -n 1 <&3)"
echo "resident at the end: $(rss)"
exit $rc
