#!/bin/bash
# vigil-hub's sustained ingest with every detection on and a 100k-entry threat-intelligence feed,
# beside the same run with detection off (--no-detection), in one go so the two compare as a
# ratio: bench/hub_ingest.sh twice, 200 devices of 20-flow messages, each device talking to the
# same peers (--steady-peers; none of them listed).
#
#   bench/detect_ingest.sh BUILD_DIR [DEVICES] [SECONDS]
#
# Prints BENCH detect_ingest_messages_per_second, detect_ingest_off_messages_per_second and
# detect_ingest_ratio (on / off).
set -euo pipefail
build=${1:?usage: detect_ingest.sh BUILD_DIR [DEVICES] [SECONDS]}
devices=${2:-200}
seconds=${3:-60}
here=$(dirname "$0")
feeds=$(mktemp -d /tmp/vigil-detect-feeds.XXXXXX)
trap 'rm -rf "$feeds"' EXIT
chmod 755 "$feeds"
# 100,000 indicators: three quarters IPv4 hosts and /24s, a quarter IPv6 /48s, never in
# 203.0.113.0/24 where the load's devices talk.
/usr/bin/python3 - "$feeds/bench.txt" <<'PY'
import random, sys
random.seed(11)
with open(sys.argv[1], "w") as out:
    out.write("# vigil bench feed\n")
    for i in range(100000):
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
rate() { sed -n 's/^BENCH hub_ingest_messages_per_second \([0-9.]*\).*/\1/p' "$1" | tail -1; }
echo "== detection off"
HUB_ARGS="--no-detection" LOAD_ARGS="--steady-peers" "$here/hub_ingest.sh" "$build" "$devices" \
  "$seconds" | tee "$feeds/off.txt"
echo "== detection on, 100,000 indicators"
HUB_ARGS="--feeds $feeds" LOAD_ARGS="--steady-peers" "$here/hub_ingest.sh" "$build" "$devices" \
  "$seconds" | tee "$feeds/on.txt"
on=$(rate "$feeds/on.txt")
off=$(rate "$feeds/off.txt")
echo "BENCH detect_ingest_messages_per_second ${on:-nan} messages/s"
echo "BENCH detect_ingest_off_messages_per_second ${off:-nan} messages/s"
/usr/bin/python3 -c "import sys; on, off = sys.argv[1:]; print('BENCH detect_ingest_ratio %.3f on/off' % (float(on) / float(off)))" "${on:-nan}" "${off:-nan}"
