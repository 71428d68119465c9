#!/bin/bash
# User vs system CPU, context switches and TCP segments per request of one running proxy.
#   cpusplit.sh PID PORT [CONNS] [SECONDS]
# Runs wrk pinned to CPU0 against 127.0.0.1:PORT (bounded by SECONDS) and reads the proxy's
# /proc/PID/stat (all threads) and the system's TCP counters (nstat) around it. Start the
# proxy and its upstream pinned to CPU0 too for the one-core layout of bench.py.
set -euo pipefail
PID=$1 PORT=$2 CONNS=${3:-50} SECS=${4:-5}
cpu() { awk '{print $14, $15}' "/proc/$PID/stat"; }
switches() {
  cat /proc/"$PID"/task/*/status | awk '/^voluntary_ctxt_switches/{v+=$2} /^nonvoluntary_ctxt_switches/{n+=$2} END{print v, n}'
}
read -r u0 s0 < <(cpu)
read -r v0 n0 < <(switches)
nstat -n >/dev/null
out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"$SECS"s "http://127.0.0.1:$PORT/" 2>&1)
segs=$(nstat 2>/dev/null | awk '/^TcpOutSegs/{print $2}')
read -r u1 s1 < <(cpu)
read -r v1 n1 < <(switches)
req=$(echo "$out" | awk '/requests in/{print $1}')
hz=$(getconf CLK_TCK)
awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v v=$((v1 - v0)) -v n=$((n1 - n0)) -v r="$req" \
  -v g="${segs:-0}" -v hz="$hz" 'BEGIN {
  printf "requests %d  user %.2f us  system %.2f us  switches %.3f voluntary %.3f involuntary  TCP segments %.3f  (per request)\n",
    r, u * 1e6 / hz / r, s * 1e6 / hz / r, v / r, n / r, g / r }'
