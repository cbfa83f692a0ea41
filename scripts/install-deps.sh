#!/usr/bin/env bash
# Installs the tools the network lab uses, from Debian's packages:
# iproute2 (ip netns, veth), iptables/nftables (a router that drops its time
# exceeded), iputils-ping (kernel-timestamped reference RTTs), mtr-tiny (the
# side-by-side comparison) and util-linux (setpriv, to run as an
# unprivileged user), chromium (the dashboard's browser tests), npm
# (to build the dashboard), wine64 and mingw-w64 (the Windows binary and
# Windows test programs under Wine, and the shim Wine 8 needs to run Go
# programs), xvfb (a virtual display, so Windows programs under Wine get a
# desktop for the notification-area icon) and zip (release archives). Safe
# to run again; needs root.
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
echo "lab tools present"
