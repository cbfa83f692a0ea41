#!/usr/bin/env bash
# Runs every test of PingerPlot on a fresh machine: installs what the tests
# need (the network lab's tools, Chromium and npm: scripts/install-deps.sh,
# which needs root when something is missing), installs the dashboard's
# front-end dependencies (npm ci in web/, for the browser tests), then
# runs `go test -race -count=1 -timeout 45m ./...` (the end-to-end package alone takes
# longer than go test's default 10 minutes). Extra arguments go to go test
# (scripts/test.sh -run TestBadInput ./internal/e2e/ runs one test; the
# package list then comes from the arguments).
# As root every test runs; as a normal user the lab tests skip with the
# reason, unless PINGERPLOT_LAB_REQUIRED=1 turns a skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

echo "== test dependencies"
scripts/install-deps.sh
(cd web && npm ci --no-audit --no-fund --loglevel=error)

echo "== go test"
pkgs=(./...)
for a in "$@"; do
  case "$a" in ./*) pkgs=() ;; esac
done
exec go test -race -count=1 -timeout 45m "$@" "${pkgs[@]}"
