//go:build !linux && !windows

package probe

// New reports that this platform has no backend yet. The rest of the
// program builds everywhere so macOS and Windows backends can be added as
// files of their own without touching the engine.
func New(cfg Config) (Prober, error) { return nil, ErrUnsupportedPlatform }
