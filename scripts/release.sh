#!/usr/bin/env bash
# Builds the release archives of PingerPlot VERSION from the committed tree,
# with SHA256SUMS beside them (docs/release.md):
#
#   scripts/release.sh [--allow-dirty] [--out DIR] [--targets LIST] VERSION
#
#   pingerplot_VERSION_windows_amd64.zip    pingerplot.exe, README.md, docs/windows.md (and LICENSE, if any)
#   pingerplot_VERSION_windows_arm64.zip
#   pingerplot_VERSION_linux_amd64.tar.gz   pingerplot_VERSION_linux_amd64/pingerplot, README.md (and LICENSE)
#   pingerplot_VERSION_linux_arm64.tar.gz
#   pingerplot_VERSION_darwin_amd64.tar.gz
#   pingerplot_VERSION_darwin_arm64.tar.gz
#   SHA256SUMS
#
# --out DIR      where to write them (default dist/); earlier pingerplot_*
#                archives and SHA256SUMS there are removed first
# --targets L    comma-separated GOOS/GOARCH pairs instead of all six
# --allow-dirty  build a tree with uncommitted changes; the commit then
#                reads "abc1234-dirty" and the archives are not reproducible
#
# The binaries are reproducible: the same commit and Go version give the
# same bytes on any machine (-trimpath, no cgo, no VCS stamping, the commit
# date as the build date and as every archived file's time). The script
# builds in a temporary copy of the tree, where it writes the .exe's
# version resources, so the working tree is never touched.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
die() { echo "release: $*" >&2; exit 1; }

allow_dirty=0 out="" targets="windows/amd64,windows/arm64,linux/amd64,linux/arm64,darwin/amd64,darwin/arm64" version=""
while [ $# -gt 0 ]; do
  case $1 in
    --allow-dirty) allow_dirty=1 ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift ;;
    --targets) [ $# -ge 2 ] || usage; targets=$2; shift ;;
    -h|--help) usage ;;
    -*) echo "release: unknown option $1" >&2; usage ;;
    *) [ -z "$version" ] || usage; version=$1 ;;
  esac
  shift
done
[ -n "$version" ] || usage
version=${version#v}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] ||
  die "version '$version' is not MAJOR.MINOR.PATCH (optionally -pre or +build), e.g. 1.2.3"

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
git rev-parse --verify -q HEAD >/dev/null || die "$root is not a git checkout with a commit"
commit=$(git rev-parse --short HEAD)
if [ -n "$(git status --porcelain)" ]; then
  [ $allow_dirty = 1 ] || die "the tree has uncommitted changes (git status); commit them, or pass --allow-dirty for a test build"
  commit="$commit-dirty"
fi
epoch=$(git log -1 --format=%ct HEAD)
date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%d HEAD)
out=${out:-$root/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src"
if [ $allow_dirty = 1 ]; then
  # The working tree as it is: tracked files that still exist and untracked
  # ones git does not ignore.
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$src"
else
  git archive --format=tar HEAD | tar -xf - -C "$src"
fi

echo "== pingerplot $version (commit $commit, $date) into $out"
"$src/scripts/gen-winres.sh" "$version" "$src/cmd/pingerplot"

rm -f "$out"/pingerplot_*.zip "$out"/pingerplot_*.tar.gz "$out/SHA256SUMS"
pkg=github.com/pingerplot/pingerplot/internal/buildinfo
ldflags="-s -w -X $pkg.version=$version -X $pkg.commit=$commit -X $pkg.date=$date"
archives=()
IFS=, read -r -a pairs <<<"$targets"
for pair in "${pairs[@]}"; do
  goos=${pair%/*} goarch=${pair#*/}
  case $pair in
    windows/amd64|windows/arm64|linux/amd64|linux/arm64|darwin/amd64|darwin/arm64) ;;
    *) die "target '$pair' is not one of the released platforms" ;;
  esac
  name=pingerplot_${version}_${goos}_${goarch}
  stage=$work/stage/$name
  mkdir -p "$stage"
  exe=pingerplot
  [ "$goos" = windows ] && exe=pingerplot.exe
  (cd "$src" && CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch GOFLAGS=-mod=readonly \
    go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$stage/$exe" ./cmd/pingerplot)
  cp "$src/README.md" "$stage/"
  [ -f "$src/LICENSE" ] && cp "$src/LICENSE" "$stage/"
  if [ "$goos" = windows ]; then
    if [ -f "$src/docs/windows.md" ]; then
      mkdir -p "$stage/docs" && cp "$src/docs/windows.md" "$stage/docs/"
    else
      echo "release: warning: docs/windows.md does not exist; the Windows archives go without it" >&2
    fi
  fi
  # Same modes and times on every machine, so the archives are as
  # reproducible as the binaries.
  find "$stage" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
  chmod 0755 "$stage/$exe"
  find "$stage" -exec touch -h -d "@$epoch" {} +
  if [ "$goos" = windows ]; then
    # Flat: Explorer's "Extract All" already makes a folder named after the zip.
    (cd "$stage" && find . -type f | LC_ALL=C sort | sed 's|^\./||' |
      TZ=UTC zip -q -X -D -@ "$out/$name.zip")
    archives+=("$name.zip")
  else
    tar -C "$work/stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
      --format=gnu -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
    archives+=("$name.tar.gz")
  fi
  echo "  $pair: ${archives[-1]}"
  if [ "$goos/$goarch" = "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" ]; then
    got=$("$stage/$exe" --version)
    case $got in
      "pingerplot $version (commit $commit, built $date, "*) echo "    $got" ;;
      *) die "the built binary says '$got'; want version $version, commit $commit, date $date" ;;
    esac
  fi
done
(cd "$out" && sha256sum "${archives[@]}" >SHA256SUMS)
echo "== $out/SHA256SUMS"
cat "$out/SHA256SUMS"
