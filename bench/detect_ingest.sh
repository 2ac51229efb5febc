#!/bin/bash
# vigil-hub's sustained ingest with every detection on and a 100k-entry threat-intelligence feed,
# beside the same run with detection off (--no-detection), in one go so the two compare as a
# ratio: bench/hub_ingest.sh twice, 200 devices of 20-flow messages, each device talking to the
# same peers (--steady-peers; none of them listed).
#
#   bench/detect_ingest.sh BUILD_DIR [DEVICES] [SECONDS]
#
# Prints BENCH detect_ingest_messages_per_second, detect_ingest_off_messages_per_second and
# detect_ingest_ratio (on / off). A third of the way into the run with detection on, a second feed
# of 1,000,000 entries is moved into the feeds directory: BENCH ti_reload_ms is how long the hub
# took to read the directory again while ingest kept running.
set -euo pipefail
build=${1:?usage: detect_ingest.sh BUILD_DIR [DEVICES] [SECONDS]}
devices=${2:-200}
seconds=${3:-60}
here=$(dirname "$0")
feeds=$(mktemp -d /tmp/vigil-detect-feeds.XXXXXX)
runs=$(mktemp -d /tmp/vigil-detect-runs.XXXXXX)
trap 'rm -rf "$feeds" "$runs"' EXIT
chmod 755 "$feeds"
# 100,000 indicators: three quarters IPv4 hosts and /24s, a quarter IPv6 /48s, never in
# 203.0.113.0/24 where the load's devices talk.
write_feed() {
/usr/bin/python3 - "$1" "$2" <<'PY'
import random, sys
random.seed(int(sys.argv[2]))
with open(sys.argv[1], "w") as out:
    out.write("# vigil bench feed\n")
    for i in range(int(sys.argv[2])):
        if i % 4 == 3:
            out.write("2a0%x:%x:%x::/48\n" % (random.randrange(1, 16), random.randrange(65536),
                                              random.randrange(65536)))
            continue
        a = random.randrange(1, 224)
        if a in (10, 127, 203):
            a = 45
        b, c, d = random.randrange(256), random.randrange(256), random.randrange(256)
        out.write("%d.%d.%d.%d\n" % (a, b, c, d) if i % 2 else "%d.%d.%d.0/24\n" % (a, b, c))
PY
}
write_feed "$feeds/bench.txt" 100000
write_feed "$runs/big.txt" 1000000
rate() { sed -n 's/^BENCH hub_ingest_messages_per_second \([0-9.]*\).*/\1/p' "$1" | tail -1; }
echo "== detection off"
HUB_ARGS="--no-detection" LOAD_ARGS="--steady-peers" "$here/hub_ingest.sh" "$build" "$devices" \
  "$seconds" | tee "$runs/off.txt"
echo "== detection on, 100,000 indicators, then 1,100,000"
(sleep $((seconds / 3 + 3)) && mv "$runs/big.txt" "$feeds/big.txt") &
mover=$!
HUB_ARGS="--feeds $feeds" LOAD_ARGS="--steady-peers" "$here/hub_ingest.sh" "$build" "$devices" \
  "$seconds" | tee "$runs/on.txt"
wait $mover || true
reload=$(sed -n 's/.*detection: feeds .*: 1[0-9]\{6\} indicators .* read in \([0-9]*\) ms.*/\1/p' \
  "$runs/on.txt" | tail -1)
on=$(rate "$runs/on.txt")
off=$(rate "$runs/off.txt")
echo "BENCH detect_ingest_messages_per_second ${on:-nan} messages/s"
echo "BENCH detect_ingest_off_messages_per_second ${off:-nan} messages/s"
echo "BENCH ti_reload_ms ${reload:-nan} ms"
/usr/bin/python3 -c "import sys; on, off = sys.argv[1:]; print('BENCH detect_ingest_ratio %.3f on/off' % (float(on) / float(off)))" "${on:-nan}" "${off:-nan}"
