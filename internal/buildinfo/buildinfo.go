// Package buildinfo says which PingerPlot this binary is: its version, the
// commit it was built from and the date of that commit.
//
// A release build stamps them with the linker (scripts/release.sh):
//
//	go build -ldflags "-X github.com/pingerplot/pingerplot/internal/buildinfo.version=1.2.3
//	  -X github.com/pingerplot/pingerplot/internal/buildinfo.commit=abc1234
//	  -X github.com/pingerplot/pingerplot/internal/buildinfo.date=2026-12-04"
//
// Any other build falls back to what the Go toolchain recorded in the binary
// (runtime/debug.ReadBuildInfo): the module version of `go install
// github.com/pingerplot/pingerplot/cmd/pingerplot@v1.2.3`, or the VCS revision,
// its "modified" flag and its time when built from a checkout. A build that
// recorded neither says "devel" and an unknown commit rather than inventing
// one. This package imports nothing of PingerPlot.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the linker with -X; empty in any other build. These are the one
// accepted exception to "no mutable package-level state": -X can only write
// package-level string variables, and nothing in the program assigns them.
var (
	version string
	commit  string
	date    string
)

// Info describes one build.
type Info struct {
	Version   string // "1.2.3", or "devel" when nothing says better
	Commit    string // short revision, "-dirty" appended for a modified tree; "" when unknown
	Date      string // the commit's date, YYYY-MM-DD; "" when unknown
	GoVersion string // the Go toolchain that built it, e.g. "go1.26.8"
	Platform  string // GOOS/GOARCH, e.g. "windows/amd64"
}

// Stamp is what the linker was given; empty fields were not stamped.
type Stamp struct {
	Version, Commit, Date string
}

// shortRevision is how many hex digits of a revision are shown, the length
// `git rev-parse --short` prints in a repository of this size, so a stamped
// and an unstamped build of the same commit read alike.
const shortRevision = 7

// Get returns this binary's build information.
func Get() Info {
	bi, _ := debug.ReadBuildInfo() // nil when the binary carries none; FromBuildInfo copes
	i := FromBuildInfo(Stamp{version, commit, date}, bi)
	i.GoVersion, i.Platform = runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
	return i
}

// FromBuildInfo decides the version, commit and date from the linker stamp,
// falling back field by field to what the toolchain recorded (bi may be
// nil). GoVersion and Platform are left empty: they describe the running
// binary, which Get fills in.
func FromBuildInfo(s Stamp, bi *debug.BuildInfo) Info {
	i := Info{Version: s.Version, Commit: s.Commit, Date: s.Date}
	if bi == nil {
		if i.Version == "" {
			i.Version = "devel"
		}
		return i
	}
	var rev, when string
	var modified bool
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			when = kv.Value
		case "vcs.modified":
			modified = kv.Value == "true"
		}
	}
	if i.Version == "" {
		i.Version = moduleVersion(bi.Main.Version)
		if rev != "" && isPseudoVersion(i.Version) {
			// Built in a checkout whose commit is not a tagged release: the
			// toolchain made the version up from the commit and its time,
			// which the commit and date below already say more plainly.
			i.Version = "devel"
		}
	}
	if i.Commit == "" && rev != "" {
		i.Commit = rev[:min(len(rev), shortRevision)]
		if modified {
			i.Commit += "-dirty"
		}
	}
	if i.Date == "" && len(when) >= len("2006-01-02") {
		// vcs.time is RFC 3339 in UTC; the day is enough to place a build.
		i.Date = when[:len("2006-01-02")]
	}
	return i
}

// moduleVersion turns the main module's version as the toolchain records it
// into the form releases use: "v1.2.3" → "1.2.3"; "(devel)" or nothing (a
// plain `go build` without VCS information) → "devel".
func moduleVersion(v string) string {
	if v == "" || v == "(devel)" {
		return "devel"
	}
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

// isPseudoVersion reports whether v (without its "v") is a Go module
// pseudo-version, which ends in a 14-digit UTC time and a 12-digit
// revision prefix: "0.0.0-20261204131055-d23072941770", also with
// "+dirty" after it.
func isPseudoVersion(v string) bool {
	v = strings.TrimSuffix(v, "+dirty")
	const tail = len("20261204131055-d23072941770")
	if len(v) <= tail {
		return false
	}
	if c := v[len(v)-tail-1]; c != '-' && c != '.' {
		return false
	}
	for k, c := range v[len(v)-tail:] {
		switch {
		case k == 14:
			if c != '-' {
				return false
			}
		case k < 14:
			if c < '0' || c > '9' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// String is the one-line description --version prints:
// "pingerplot 1.2.3 (commit abc1234, built 2026-12-04, go1.26.8 windows/amd64)".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString("pingerplot ")
	b.WriteString(i.Version)
	b.WriteString(" (commit ")
	if i.Commit != "" {
		b.WriteString(i.Commit)
	} else {
		b.WriteString("unknown")
	}
	if i.Date != "" {
		b.WriteString(", built ")
		b.WriteString(i.Date)
	}
	if i.GoVersion != "" {
		b.WriteString(", ")
		b.WriteString(i.GoVersion)
	}
	if i.Platform != "" {
		b.WriteString(" ")
		b.WriteString(i.Platform)
	}
	b.WriteString(")")
	return b.String()
}

// Version is this binary's version: "1.2.3", or "devel".
func Version() string { return Get().Version }

// Commit is the short revision this binary was built from ("-dirty" when
// the tree had changes), or "" when unknown.
func Commit() string { return Get().Commit }

// String is the line `pingerplot --version` prints.
func String() string { return Get().String() }
