package buildinfo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goTool is the go command of the toolchain running this test, so the
// binaries below are built by the same Go whatever PATH holds.
func goTool(t *testing.T) string {
	t.Helper()
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no go command beside this test's toolchain: %v", err)
	}
	return p
}

// moduleRoot is the repository's root: this package lives two levels down.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	return root
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

const pkg = "github.com/pingerplot/pingerplot/internal/buildinfo"

// A binary built as the release script builds it prints the stamped
// values, through both spellings.
func TestStampedBinaryPrintsVersion(t *testing.T) {
	root, bin := moduleRoot(t), filepath.Join(t.TempDir(), "pingerplot")
	ldflags := "-X " + pkg + ".version=9.8.7-test -X " + pkg + ".commit=abc1234 -X " + pkg + ".date=2026-12-04"
	run(t, root, []string{"CGO_ENABLED=0"}, goTool(t), "build", "-trimpath", "-ldflags", ldflags, "-o", bin, "./cmd/pingerplot")
	want := "pingerplot 9.8.7-test (commit abc1234, built 2026-12-04, " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	for _, arg := range []string{"--version", "version"} {
		if got := run(t, root, nil, bin, arg); got != want {
			t.Errorf("pingerplot %s printed %q; want %q", arg, got, want)
		}
	}
}

// A plain `go build` in a checkout, with VCS stamping on, names the commit
// it was built from and whether the tree had changes, without any -X.
func TestUnstampedBinaryNamesItsCommit(t *testing.T) {
	root := moduleRoot(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: the VCS fallback cannot be built here")
	}
	if err := exec.Command("git", "-C", root, "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("the source is not a git checkout: the VCS fallback cannot be built here")
	}
	state := func() (rev, day string, dirty bool) {
		rev = strings.TrimSpace(run(t, root, nil, "git", "rev-parse", "HEAD"))[:7]
		day = strings.TrimSpace(run(t, root, []string{"TZ=UTC"}, "git", "log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%d"))
		return rev, day, strings.TrimSpace(run(t, root, nil, "git", "status", "--porcelain")) != ""
	}
	rev, day, dirty := state()
	bin := filepath.Join(t.TempDir(), "pingerplot")
	run(t, root, []string{"CGO_ENABLED=0"}, goTool(t), "build", "-buildvcs=true", "-o", bin, "./cmd/pingerplot")
	if r, d, m := state(); r != rev || d != day || m != dirty {
		// Someone committed or edited during the build; what the binary
		// recorded cannot be told apart from a fault.
		t.Skipf("the checkout changed during the build (%s %s dirty=%v, then %s %s dirty=%v)", rev, day, dirty, r, d, m)
	}
	want := "pingerplot devel (commit " + rev
	if dirty {
		want += "-dirty"
	}
	want += ", built " + day + ", " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if got := run(t, root, nil, bin, "--version"); got != want {
		t.Errorf("pingerplot --version printed %q; want %q", got, want)
	}
}
