//go:build linux

package privilege

import "testing"

func TestKernelAtLeast(t *testing.T) {
	tests := []struct {
		rel  string
		want bool
	}{
		{"6.18.44-fc-v657", true},
		{"5.8.0", true},
		{"5.7.19-generic", false},
		{"4.19.0", false},
		{"5.10", true},
		{"garbage", false},
	}
	for _, tt := range tests {
		if got := kernelAtLeast(tt.rel, 5, 8); got != tt.want {
			t.Errorf("kernelAtLeast(%q, 5, 8) = %v; want %v", tt.rel, got, tt.want)
		}
	}
}

func TestCheckRuns(t *testing.T) {
	r := Check()
	if r.OS != "linux" || r.Kernel == "" {
		t.Errorf("Check() = %+v; want linux with a kernel release", r)
	}
}
