package geo

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestDirFor(t *testing.T) {
	config := func() (string, error) { return "CONFIG", nil }
	cache := func() (string, error) { return "CACHE", nil }
	broken := func() (string, error) { return "", errors.New("no home") }
	for _, tc := range []struct {
		goos          string
		config, cache func() (string, error)
		want          string
		wantErr       bool
	}{
		// %AppData% roams with the profile; databases stay local.
		{"windows", config, cache, filepath.Join("CACHE", "pingerplot", "geo"), false},
		{"linux", config, cache, filepath.Join("CONFIG", "pingerplot", "geo"), false},
		{"darwin", config, cache, filepath.Join("CONFIG", "pingerplot", "geo"), false},
		{"freebsd", config, cache, filepath.Join("CONFIG", "pingerplot", "geo"), false},
		{"windows", config, broken, "", true},
		{"linux", broken, cache, "", true},
	} {
		got, err := dirFor(tc.goos, tc.config, tc.cache)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("dirFor(%q) = %q, %v; want %q (error: %v)", tc.goos, got, err, tc.want, tc.wantErr)
		}
	}
}
