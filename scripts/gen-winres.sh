#!/usr/bin/env bash
# Writes the Windows resources of pingerplot.exe (the icon, named APP, the
# manifest and the version information of scripts/winres/winres.json) as
# rsrc_windows_amd64.syso and rsrc_windows_arm64.syso, which `go build`
# links into the windows/amd64 and windows/arm64 binaries of the package
# they sit in.
#
#   scripts/gen-winres.sh [VERSION [DIR]]
#
# VERSION (default "devel") goes into FileVersion and ProductVersion; DIR
# defaults to cmd/pingerplot, where the committed "devel" files live.
# scripts/release.sh runs it with the release's version in its own copy of
# the tree. Run it with no arguments after changing the icon or
# winres.json, and commit the result.
#
# go-winres comes from the Go module proxy at a pinned version; it is a
# build tool only, not a dependency of the program.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
GO_WINRES=github.com/tc-hib/go-winres@v0.3.3

version=${1:-devel}
dir=${2:-cmd/pingerplot}
case $version in
  *[!A-Za-z0-9.+-]*|"") echo "gen-winres: version '$version': use letters, digits, '.', '+' and '-' only" >&2; exit 2 ;;
esac
[ -d "$dir" ] || { echo "gen-winres: $dir is not a directory" >&2; exit 2; }

# go-winres reads the icon relative to winres.json, so it runs from here;
# its output path is made absolute to land in DIR.
out=$(cd "$dir" && pwd)/rsrc
go run "$GO_WINRES" make --in scripts/winres/winres.json --out "$out" \
  --arch amd64,arm64 --product-version "$version" --file-version "$version"
