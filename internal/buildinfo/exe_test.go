package buildinfo_test

import (
	"debug/pe"
	"path/filepath"
	"testing"
)

// Every windows/amd64 and windows/arm64 `go build` links the committed
// .syso files, so even an unreleased pingerplot.exe has its icon (which the
// notification area loads by the name APP) and says it is a "devel" build.
func TestWindowsBuildCarriesResources(t *testing.T) {
	root := moduleRoot(t)
	for _, arch := range []struct {
		goarch  string
		machine uint16
	}{{"amd64", pe.IMAGE_FILE_MACHINE_AMD64}, {"arm64", pe.IMAGE_FILE_MACHINE_ARM64}} {
		t.Run(arch.goarch, func(t *testing.T) {
			exe := filepath.Join(t.TempDir(), "pingerplot.exe")
			run(t, root, []string{"GOOS=windows", "GOARCH=" + arch.goarch, "CGO_ENABLED=0"}, goTool(t), "build", "-o", exe, "./cmd/pingerplot")
			f, err := pe.Open(exe)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != arch.machine {
				t.Fatalf("machine %#x; want %#x", f.Machine, arch.machine)
			}
			checkExeResources(t, f, "devel", [4]uint16{})
		})
	}
}
