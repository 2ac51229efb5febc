#!/usr/bin/env bash
# vigil-agent under load: replays a generated gateway capture (bench/make_load_pcap.py) at a fixed
# packet rate through a real mosquitto on a loopback port, and reports the agent's peak resident
# memory and CPU from its own summary line.
#
#   bench/linux_agent_load.sh AGENT [PACKETS] [RATE_PPS] [MAX_RSS_KB]
#
# Defaults: 600000 packets at 50000/s (12 s). With MAX_RSS_KB the run fails above that peak.
set -euo pipefail
agent=$1
packets=${2:-600000}
rate=${3:-50000}
max_rss_kb=${4:-}
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d)
broker_pid=
cleanup() {
  if [[ -n $broker_pid ]]; then kill "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\npersistence false\nallow_anonymous true\nuser root\n' "$port" \
  >"$work/mosquitto.conf"
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >/dev/null 2>&1 &
broker_pid=$!
/usr/bin/python3 "$here/make_load_pcap.py" "$work/load.pcap" "$packets" "$rate"

"$agent" --pcap "$work/load.pcap" --replay-pps "$rate" --broker "127.0.0.1:$port" \
  --device-id load-gateway --local 10.20.0.2 2>"$work/agent.log" || {
  cat "$work/agent.log" >&2
  exit 1
}
summary=$(grep 'summary:' "$work/agent.log")
echo "$summary"
rss=$(sed -E 's/.*peak RSS ([0-9]+) kB.*/\1/' <<<"$summary")
cpu=$(sed -E 's/.*CPU ([0-9.]+) s in ([0-9.]+) s.*/\1 \2/' <<<"$summary")
read -r cpu_s wall_s <<<"$cpu"
seen=$(sed -E 's/.*agent: ([0-9]+) seen.*/\1/' <<<"$summary")
dropped=$(sed -E 's/.* ([0-9]+) dropped.*/\1/' <<<"$summary")
echo "BENCH linux_agent_rss_kb $rss kB"
awk -v c="$cpu_s" -v w="$wall_s" 'BEGIN { printf "BENCH linux_agent_cpu_percent %.1f %%\n", 100 * c / w }'
if [[ $seen != "$packets" || $dropped != 0 ]]; then
  echo "linux_agent_load: the agent saw $seen of $packets packets and dropped $dropped messages" >&2
  exit 1
fi
if [[ -n $max_rss_kb && $rss -gt $max_rss_kb ]]; then
  echo "linux_agent_load: peak RSS $rss kB is over the budget of $max_rss_kb kB" >&2
  exit 1
fi
