package buildinfo_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/pe"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// scripts/release.sh, run for both Windows archives and this machine's,
// stamps the version into the binary and into the .exe's version
// resources, packs what it documents, and its SHA256SUMS match.
func TestReleaseScript(t *testing.T) {
	for _, tool := range []string{"bash", "git", "zip", "tar", "gzip", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("PINGERPLOT_LAB_REQUIRED") == "1" {
				t.Fatalf("%s is not installed (scripts/install-deps.sh installs it): %v", tool, err)
			}
			t.Skipf("%s is not installed, which scripts/release.sh needs (scripts/install-deps.sh installs it)", tool)
		}
	}
	root, out := moduleRoot(t), t.TempDir()
	const version = "9.8.7-rc.1"
	targets := []string{"windows/amd64", "windows/arm64"}
	host := runtime.GOOS + "/" + runtime.GOARCH
	released := map[string]bool{"linux/amd64": true, "linux/arm64": true, "darwin/amd64": true, "darwin/arm64": true}
	if released[host] {
		targets = append(targets, host)
	}
	// --allow-dirty: a developer's tree is rarely clean, and CI's fresh
	// clone is; the refusal itself is checked below.
	headBefore := strings.TrimSpace(run(t, root, nil, "git", "rev-parse", "--short", "HEAD"))
	run(t, root, []string{"PATH=" + filepath.Dir(goTool(t)) + ":" + os.Getenv("PATH")},
		"bash", "scripts/release.sh", "--allow-dirty", "--out", out, "--targets", strings.Join(targets, ","), version)
	// In a shared working tree someone may commit while the script runs;
	// the script read HEAD once, at its start or later.
	heads := []string{headBefore, strings.TrimSpace(run(t, root, nil, "git", "rev-parse", "--short", "HEAD"))}
	stamped := func(b []byte, prefix string) bool {
		return bytes.Contains(b, []byte(prefix+heads[0])) || bytes.Contains(b, []byte(prefix+heads[1]))
	}

	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q; want \"HASH  NAME\"", line)
		}
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
			t.Errorf("SHA256SUMS says %s for %s; the file's is %x", sum, name, h)
		}
		listed = append(listed, name)
	}
	var want []string
	for _, tg := range targets {
		ext := ".tar.gz"
		if strings.HasPrefix(tg, "windows/") {
			ext = ".zip"
		}
		want = append(want, "pingerplot_"+version+"_"+strings.Replace(tg, "/", "_", 1)+ext)
	}
	if !slices.Equal(listed, want) {
		t.Fatalf("SHA256SUMS lists %q; want %q", listed, want)
	}

	for _, arch := range []struct {
		goarch  string
		machine uint16
	}{{"amd64", pe.IMAGE_FILE_MACHINE_AMD64}, {"arm64", pe.IMAGE_FILE_MACHINE_ARM64}} {
		t.Run("windows/"+arch.goarch, func(t *testing.T) {
			zr, err := zip.OpenReader(filepath.Join(out, "pingerplot_"+version+"_windows_"+arch.goarch+".zip"))
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			files := map[string][]byte{}
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				files[f.Name], err = io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			wantFiles := []string{"README.md", "pingerplot.exe"}
			if _, err := os.Stat(filepath.Join(root, "docs", "windows.md")); err == nil {
				wantFiles = append(wantFiles, "docs/windows.md")
			}
			for _, name := range wantFiles {
				if files[name] == nil {
					t.Errorf("zip lacks %s (has %d files)", name, len(files))
				}
			}
			f, err := pe.NewFile(bytes.NewReader(files["pingerplot.exe"]))
			if err != nil {
				t.Fatalf("pingerplot.exe: %v", err)
			}
			if f.Machine != arch.machine {
				t.Errorf("machine %#x; want %#x", f.Machine, arch.machine)
			}
			checkExeResources(t, f, version, [4]uint16{9, 8, 7, 0})
			// The -X stamp is in the binary too, whatever the resources say.
			if !bytes.Contains(files["pingerplot.exe"], []byte(version)) || !stamped(files["pingerplot.exe"], "") {
				t.Errorf("pingerplot.exe does not contain the stamped version %q and commit %q", version, heads)
			}
		})
	}

	if released[host] {
		t.Run(host, func(t *testing.T) {
			name := "pingerplot_" + version + "_" + strings.Replace(host, "/", "_", 1)
			bin := filepath.Join(t.TempDir(), "pingerplot")
			extract(t, filepath.Join(out, name+".tar.gz"), name+"/pingerplot", bin)
			got := run(t, root, nil, bin, "--version")
			if want := "pingerplot " + version + " (commit "; !strings.HasPrefix(got, want) || !stamped([]byte(got), want) {
				t.Errorf("released binary says %q; want it to start %q and name commit %q", got, want, heads)
			}
		})
	}

	t.Run("refuses a bad version", func(t *testing.T) {
		cmd := exec.Command("bash", "scripts/release.sh", "--allow-dirty", "--out", t.TempDir(), "1.2")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "is not MAJOR.MINOR.PATCH") {
			t.Errorf("release.sh 1.2: %v, %q; want a refusal naming the version format", err, out)
		}
	})
	t.Run("refuses a dirty tree", func(t *testing.T) {
		// A repository of its own, so the tree's state is the test's.
		repo := t.TempDir()
		script, err := os.ReadFile(filepath.Join(root, "scripts", "release.sh"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(repo, "scripts"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, "scripts", "release.sh"), script, 0o755); err != nil {
			t.Fatal(err)
		}
		git := []string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}
		run(t, repo, nil, "git", "init", "-q")
		run(t, repo, nil, "git", append(git, "add", ".")...)
		run(t, repo, nil, "git", append(git, "commit", "-q", "-m", "release script")...)
		if err := os.WriteFile(filepath.Join(repo, "new.go"), []byte("package x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "scripts/release.sh", "--out", t.TempDir(), version)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "uncommitted changes") {
			t.Errorf("release.sh in a modified tree: %v, %q; want a refusal naming the uncommitted changes", err, out)
		}
	})
}

// extract copies one file out of a .tar.gz.
func extract(t *testing.T, archive, member, dst string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no %s (%v)", archive, member, err)
		}
		if h.Name != member {
			continue
		}
		if h.Mode&0o111 == 0 {
			t.Errorf("%s is not executable in the archive (mode %o)", member, h.Mode)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return
	}
}
