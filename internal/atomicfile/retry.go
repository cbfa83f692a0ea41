package atomicfile

import "time"

// Bounds of retryRename: the first wait, the longest single wait and the
// total time spent waiting. Programs that open a file only to look at it
// (search indexers, antivirus scanners, backup tools, an editor's
// preview) let go of it within milliseconds to a second; two seconds is
// what the Go toolchain itself allows such a reader on Windows.
const (
	renameFirstWait = 5 * time.Millisecond
	renameMaxWait   = 250 * time.Millisecond
	renameBudget    = 2 * time.Second
)

// retryRename runs rename until it succeeds, fails with an error that
// transient does not accept, or the waits between attempts add up to
// renameBudget; then it returns rename's last error. The waits double
// from renameFirstWait up to renameMaxWait. sleep is the clock (time.Sleep
// outside tests).
func retryRename(rename func() error, transient func(error) bool, sleep func(time.Duration)) error {
	wait, waited := renameFirstWait, time.Duration(0)
	for {
		err := rename()
		if err == nil || !transient(err) || waited >= renameBudget {
			return err
		}
		d := min(wait, renameBudget-waited)
		sleep(d)
		waited += d
		wait = min(2*wait, renameMaxWait)
	}
}
