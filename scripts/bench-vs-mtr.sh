#!/usr/bin/env bash
# CPU per probe of pingerplot beside the floor prober and Debian's mtr, in
# the network lab (run as root: the lab builds network namespaces; every
# probe stays inside them).
#
# 1. BenchmarkProbeAll: the engine's allocations per probe on loopback
#    (op = one probe; 0 allocs/op is the goal).
# 2. BenchmarkEngine: the engine in-process in the lab's client namespace,
#    300 rounds back to back over a 4-hop path: CPU per probe and each
#    hop's median RTT error against the delay the lab injects.
# 3. BenchmarkVersusMtr: over the same path in the same run, 200 rounds at
#    50 ms each, one after the other: the floor prober (the cheapest prober
#    that can exist: one socket, sendmmsg/recvmmsg, no bookkeeping) as root
#    and unprivileged, `pingerplot report` as root and unprivileged, and
#    mtr as root. CPU of the whole process per probe, user and system.
#
# PINGERPLOT_BENCH_PROFILE=DIR also writes CPU and allocation profiles of
# the engine there (go tool pprof them).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
if [ "$(id -u)" != 0 ]; then
  echo "run as root: the lab builds network namespaces" >&2
  exit 1
fi
scripts/install-deps.sh >/dev/null
export PINGERPLOT_LAB_REQUIRED=1
echo "== allocations per probe (loopback)"
go test -count=1 -run '^$' -bench 'BenchmarkProbeAll' -benchmem ./internal/probe/ 2>&1 | grep -E '^Benchmark'
echo "== engine in-process (lab)"
go test -count=1 -run '^$' -bench 'BenchmarkEngine' -benchtime 1x -v ./internal/e2e/ 2>&1 |
  grep -E '^\s+BenchmarkEngine/.*cpu-' | sed 's/^ *//'
echo "== floor, pingerplot and mtr, same path, same run (CPU µs per probe)"
go test -count=1 -run '^$' -bench 'BenchmarkVersusMtr' -benchtime 1x -v ./internal/e2e/ 2>&1 |
  grep -E 'cpu (icmp|udp |tcp )|FAIL' | sed 's/^ *bench_linux_test.go:[0-9]*: cpu //'
