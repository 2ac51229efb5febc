#!/bin/bash
# The detection scenarios at their benchmark sizes (tests/scenarios/check_scenarios.py --long):
# a 1,000-port scan, 60,000-packet floods, 30-minute benign device lives with a 48 MB firmware
# download, each replayed through vigil-agent into a fresh vigil-hub. Needs root (network
# namespaces); prints one BENCH detect_time_to_alert_s_<scenario> line per attack and
# BENCH detect_false_alerts over the benign lives.
#
#   bench/detect_scenarios.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: detect_scenarios.sh BUILD_DIR}
check="$(dirname "$0")/../tests/scenarios/check_scenarios.py"
status=0
for scenario in inbound-scan outbound-scan flood malicious-ip benign; do
  echo "-- $scenario"
  /usr/bin/python3 "$check" "$scenario" "$build/hub/main/vigil-hub" \
    "$build/linux-agent/vigil-agent" --long || status=1
done
exit $status
