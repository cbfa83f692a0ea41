#!/usr/bin/env bash
# Runs the probe engine's benchmarks in the network lab (root needed): the
# engine in-process (CPU per probe, RTT error per hop against the injected
# delay), then the pingerplot binary and Debian's mtr over the same lab path
# in the same run, side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
scripts/install-deps.sh >/dev/null
export PINGERPLOT_LAB_REQUIRED=1
go test -count=1 -run '^$' -bench 'BenchmarkEngine|BenchmarkVersusMtr' -benchtime 1x ./internal/e2e/ 2>&1 |
  grep -E 'Benchmark|cpu-|pingerplot |mtr  ' | sed 's/^ *//'
