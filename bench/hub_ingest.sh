#!/bin/bash
# Sustained ingest through vigil-hub: the hub with its own mosquitto on free loopback ports and a
# fresh data directory, many simulated devices (vigil_bench_hub_load) publishing Vigil messages of
# 20 flows at QoS 1, then the hub stopped with SIGTERM so it logs its receipt-to-commit latency.
#
#   [INFLIGHT=K] bench/hub_ingest.sh BUILD_DIR [DEVICES] [SECONDS]
#
# Each device keeps at most K (default 5) publishes unacknowledged by the broker. HUB_ARGS are
# added to vigil-hub's arguments and LOAD_ARGS to the load program's.
#
# Prints BENCH hub_ingest_messages_per_second and BENCH hub_ingest_p99_ms (from the load program:
# a device's publish until the store holds the message, sampled), then
# BENCH hub_ingest_receipt_to_commit_p99_ms (the hub's own figure, from its receipt of a message),
# and the CPU time per message of the hub, its broker and the load program. With METRICS set (an
# extended regular expression), the lines of the hub's /metrics it matches are printed after the
# load.
set -euo pipefail
build=${1:?usage: hub_ingest.sh BUILD_DIR [DEVICES] [SECONDS]}
devices=${2:-200}
seconds=${3:-60}
work=$(mktemp -d /tmp/vigil-hub-bench.XXXXXX)
chmod 711 "$work"  # mosquitto, started as root, drops to its own user and must reach its files
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api_port=$(port)
# shellcheck disable=SC2086 # HUB_ARGS and LOAD_ARGS are lists of words
"$build/hub/main/vigil-hub" --data "$work/data" --broker-port "$(port)" --api-port "$api_port" \
  ${HUB_ARGS:-} >"$work/hub.log" 2>&1 &
hub=$!
trap 'kill -TERM $hub 2>/dev/null || true; wait $hub 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  grep -qs "running;" "$work/hub.log" && break
  sleep 0.1
done
broker=$(sed -n 's/.*mosquitto started, pid \([0-9]*\).*/\1/p' "$work/hub.log" | tail -1)
"$build/bench/vigil_bench_hub_load" --data "$work/data" --devices "$devices" \
  --seconds "$seconds" --inflight "${INFLIGHT:-5}" --timeout $((seconds * 3 + 60)) \
  --cpu-of "hub=$hub" ${broker:+--cpu-of "broker=$broker"} ${LOAD_ARGS:-}
if [ -n "${METRICS:-}" ]; then
  curl -s -H "Authorization: Bearer $(cat "$work/data/admin.token")" \
    "http://127.0.0.1:$api_port/metrics" | grep -E "$METRICS" || true
fi
kill -TERM $hub
wait $hub || true
grep -e "stopped after" -e "detection: feeds" "$work/hub.log" | sed 's/^.*vigil-hub: /hub: /'
p99=$(sed -n 's/.*receipt to commit p50 [0-9.]* ms, p99 \([0-9.]*\) ms.*/\1/p' "$work/hub.log")
echo "BENCH hub_ingest_receipt_to_commit_p99_ms ${p99:-nan} ms"
