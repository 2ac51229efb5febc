#!/bin/bash
# A fleet of vigil-sim devices into one vigil-hub at default intervals: DEVICES (default 10,000)
# enrolled in one `vigil-hub devices add`, run at SPEED (default 1) for SECONDS simulated (default
# 180), and the hub's store checked against the simulator's report, device by device (a mismatch
# fails the run). tests/sim/check_sim.py scale does the work; prints BENCH sim_devices,
# sim_rss_mb and sim_cpu_percent (the simulator's own, from /proc) and sim_enrol_seconds.
#
#   bench/sim_fleet.sh BUILD_DIR [DEVICES] [SPEED] [SECONDS]
set -euo pipefail
build=${1:?usage: sim_fleet.sh BUILD_DIR [DEVICES] [SPEED] [SECONDS]}
here=$(dirname "$0")
exec /usr/bin/python3 "$here/../tests/sim/check_sim.py" scale "$build/hub/main/vigil-hub" \
  "$build/sim/vigil-sim" "${2:-10000}" "${3:-1}" "${4:-180}"
