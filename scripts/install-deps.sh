#!/usr/bin/env bash
# Installs the tools the network lab uses, from Debian's packages:
# iproute2 (ip netns, veth), iptables/nftables (a router that drops its time
# exceeded, translates addresses or re-marks DSCP/ECN), iputils-ping (kernel-timestamped reference RTTs), mtr-tiny (the
# side-by-side comparison) and util-linux (setpriv, to run as an
# unprivileged user), chromium (the dashboard's browser tests), npm
# (to build the dashboard), wine64 and mingw-w64 (the Windows binary and
# Windows test programs under Wine, and the shim Wine 8 needs to run Go
# programs), xvfb (a virtual display, so Windows programs under Wine get a
# desktop for the notification-area icon), zip (release archives) and
# prometheus (the server and promtool, for the test that scrapes headless
# with a real Prometheus and checks the shipped rules). Safe to run again;
# needs root.
set -euo pipefail
need=()
for pair in ip:iproute2 iptables:iptables nft:nftables ping:iputils-ping mtr:mtr-tiny setpriv:util-linux chromium:chromium npm:npm \
  /usr/lib/wine/wine64:wine64 x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64 Xvfb:xvfb zip:zip; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing ${need[*]}: run this script as root (lab tests skip without them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Prometheus comes without the node exporter it recommends, and its service
# never starts: the tests start their own server inside a lab namespace, and
# the package would otherwise start one listening on every interface. A
# policy-rc.d that refuses service starts covers the install (one already in
# place, as in containers, is left alone); on a systemd machine the unit it
# enabled is disabled too, so it does not start at boot. A Prometheus that
# was installed before is not touched.
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing prometheus: run this script as root (the Prometheus tests skip without it)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# refuse service starts while install-deps.sh installs prometheus\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  [ ${#need[@]} -gt 0 ] || apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
fi
echo "lab tools present"
