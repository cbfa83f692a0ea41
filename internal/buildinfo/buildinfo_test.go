package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func vcs(rev, when, modified string) *debug.BuildInfo {
	bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/pingerplot/pingerplot", Version: "(devel)"}}
	for _, kv := range [][2]string{{"vcs", "git"}, {"vcs.revision", rev}, {"vcs.time", when}, {"vcs.modified", modified}} {
		if kv[1] != "" {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[0], Value: kv[1]})
		}
	}
	return bi
}

func withVersion(bi *debug.BuildInfo, v string) *debug.BuildInfo {
	bi.Main.Version = v
	return bi
}

func installed(v string) *debug.BuildInfo {
	return &debug.BuildInfo{Main: debug.Module{Path: "github.com/pingerplot/pingerplot", Version: v}}
}

func TestFromBuildInfo(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name  string
		stamp Stamp
		bi    *debug.BuildInfo
		want  Info
	}{
		{"nothing recorded", Stamp{}, nil, Info{Version: "devel"}},
		{"plain go build without VCS", Stamp{}, installed("(devel)"), Info{Version: "devel"}},
		{"plain go build, empty module version", Stamp{}, installed(""), Info{Version: "devel"}},
		{"go install module@v1.2.3", Stamp{}, installed("v1.2.3"), Info{Version: "1.2.3"}},
		{"go install of a pseudo-version", Stamp{}, installed("v0.0.0-20261204101500-0123456789ab"),
			Info{Version: "0.0.0-20261204101500-0123456789ab"}},
		{"checkout, clean", Stamp{}, vcs(rev, "2026-12-04T10:15:00Z", "false"),
			Info{Version: "devel", Commit: "0123456", Date: "2026-12-04"}},
		{"checkout, modified", Stamp{}, vcs(rev, "2026-12-04T10:15:00Z", "true"),
			Info{Version: "devel", Commit: "0123456-dirty", Date: "2026-12-04"}},
		{"checkout, short revision, no time", Stamp{}, vcs("abc", "", ""),
			Info{Version: "devel", Commit: "abc"}},
		{"checkout of an untagged commit: the toolchain's pseudo-version says nothing the commit does not",
			Stamp{}, withVersion(vcs(rev, "2026-12-04T13:10:55Z", "true"), "v0.0.0-20261204131055-0123456789ab+dirty"),
			Info{Version: "devel", Commit: "0123456-dirty", Date: "2026-12-04"}},
		{"checkout after a tag", Stamp{}, withVersion(vcs(rev, "2026-12-04T13:10:55Z", "false"), "v1.2.4-0.20261204131055-0123456789ab"),
			Info{Version: "devel", Commit: "0123456", Date: "2026-12-04"}},
		{"checkout of a tagged commit", Stamp{}, withVersion(vcs(rev, "2026-12-04T13:10:55Z", "false"), "v1.2.3"),
			Info{Version: "1.2.3", Commit: "0123456", Date: "2026-12-04"}},
		{"checkout of a tagged commit, modified", Stamp{}, withVersion(vcs(rev, "2026-12-04T13:10:55Z", "true"), "v1.2.3+dirty"),
			Info{Version: "1.2.3+dirty", Commit: "0123456-dirty", Date: "2026-12-04"}},
		{"stamped wins over everything", Stamp{"1.2.3", "fedcba9", "2026-11-30"}, vcs(rev, "2026-12-04T10:15:00Z", "true"),
			Info{Version: "1.2.3", Commit: "fedcba9", Date: "2026-11-30"}},
		{"stamped version only: commit and date from VCS", Stamp{Version: "1.2.3"}, vcs(rev, "2026-12-04T10:15:00Z", "false"),
			Info{Version: "1.2.3", Commit: "0123456", Date: "2026-12-04"}},
		{"stamped, no build info", Stamp{"1.2.3", "fedcba9", "2026-11-30"}, nil,
			Info{Version: "1.2.3", Commit: "fedcba9", Date: "2026-11-30"}},
		{"stamped version beats module version", Stamp{Version: "2.0.0"}, installed("v1.2.3"), Info{Version: "2.0.0"}},
		{"a version not starting with v is kept", Stamp{}, installed("1.2.3"), Info{Version: "1.2.3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromBuildInfo(tt.stamp, tt.bi); got != tt.want {
				t.Errorf("FromBuildInfo(%+v) = %+v; want %+v", tt.stamp, got, tt.want)
			}
		})
	}
}

func TestIsPseudoVersion(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"0.0.0-20261204131055-d23072941770", true},
		{"0.0.0-20261204131055-d23072941770+dirty", true},
		{"1.2.4-0.20261204131055-d23072941770", true},
		{"1.2.3-rc.1.0.20261204131055-d23072941770", true},
		{"1.2.3", false},
		{"1.2.3+dirty", false},
		{"1.2.3-rc.1", false},
		{"devel", false},
		{"20261204131055-d23072941770", false},       // nothing before the time
		{"0.0.0-2026120413105x-d23072941770", false}, // not a time
		{"0.0.0-20261204131055-D23072941770", false}, // not a lower-case revision
		{"0.0.0-20261204131055_d23072941770", false}, // wrong separator
		{"0.0.0x20261204131055-d23072941770", false}, // wrong separator before the time
	}
	for _, tt := range tests {
		if got := isPseudoVersion(tt.v); got != tt.want {
			t.Errorf("isPseudoVersion(%q) = %v; want %v", tt.v, got, tt.want)
		}
	}
}

func TestInfoString(t *testing.T) {
	tests := []struct {
		in   Info
		want string
	}{
		{Info{"1.2.3", "abc1234", "2026-12-04", "go1.26.8", "windows/amd64"},
			"pingerplot 1.2.3 (commit abc1234, built 2026-12-04, go1.26.8 windows/amd64)"},
		{Info{"devel", "abc1234-dirty", "2026-12-04", "go1.26.8", "linux/arm64"},
			"pingerplot devel (commit abc1234-dirty, built 2026-12-04, go1.26.8 linux/arm64)"},
		{Info{"devel", "", "", "go1.26.8", "darwin/arm64"},
			"pingerplot devel (commit unknown, go1.26.8 darwin/arm64)"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%+v.String() = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// The test binary is not stamped, so Get must describe it from what the
// toolchain recorded and the running platform.
func TestGetDescribesThisBinary(t *testing.T) {
	i := Get()
	if i.Version == "" {
		t.Errorf("Get().Version = %q; want a version or \"devel\"", i.Version)
	}
	if want := runtime.GOOS + "/" + runtime.GOARCH; i.Platform != want {
		t.Errorf("Get().Platform = %q; want %q", i.Platform, want)
	}
	if i.GoVersion != runtime.Version() {
		t.Errorf("Get().GoVersion = %q; want %q", i.GoVersion, runtime.Version())
	}
	if s := String(); !strings.HasPrefix(s, "pingerplot "+Version()+" (commit ") || !strings.HasSuffix(s, runtime.Version()+" "+i.Platform+")") {
		t.Errorf("String() = %q; want \"pingerplot %s (commit …, %s %s)\"", s, Version(), runtime.Version(), i.Platform)
	}
}
