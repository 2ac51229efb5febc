#!/bin/bash
# vigil-hub's sustained ingest with detection and the hygiene checks on, as vigil-hub runs by
# default: bench/hub_ingest.sh, 200 devices of 20-flow messages talking to the same peers, every
# sixth message of each device also carrying system information (half the devices a NetX Duo
# release with published vulnerabilities), so the firmware check matches the catalog as it would
# on a real fleet.
#
#   bench/recommend_ingest.sh BUILD_DIR [DEVICES] [SECONDS]
#
# Prints BENCH recommend_ingest_messages_per_second, and the hub's recommendation counters so a
# run that matched nothing shows.
set -euo pipefail
build=${1:?usage: recommend_ingest.sh BUILD_DIR [DEVICES] [SECONDS]}
devices=${2:-200}
seconds=${3:-60}
here=$(dirname "$0")
out=$(mktemp /tmp/vigil-recommend-ingest.XXXXXX)
trap 'rm -f "$out"' EXIT
METRICS='^vigil_hub_recommend_(opened_total|closed_total|vulnerabilities)' \
  LOAD_ARGS="--steady-peers --system-every 6" "$here/hub_ingest.sh" "$build" "$devices" \
  "$seconds" | tee "$out"
opened=$(sed -n 's/^vigil_hub_recommend_opened_total{kind="firmware.vulnerable"} \([0-9]*\).*/\1/p' "$out")
if [ "${opened:-0}" -lt "$((devices / 2))" ]; then
  echo "recommend_ingest.sh: the firmware check opened ${opened:-0} recommendations, expected $((devices / 2))" >&2
  exit 1
fi
rate=$(sed -n 's/^BENCH hub_ingest_messages_per_second \([0-9.]*\).*/\1/p' "$out" | tail -1)
echo "BENCH recommend_ingest_messages_per_second ${rate:-nan} msg/s"
