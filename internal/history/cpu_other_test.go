//go:build !unix

package history_test

import "time"

// cpuTime is unknown here: the benchmark reports wall time only.
func cpuTime() (time.Duration, bool) { return 0, false }
