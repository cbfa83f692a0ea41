// Package e2e holds the end-to-end tests of the pingerplot binary: they build
// it, run it inside the network lab (internal/lab) as an unprivileged user
// and as root, and check its output against what the lab injects and against
// iputils ping and Debian's mtr measured at the same time. The tests need
// root; without it they skip (or fail, with PINGERPLOT_LAB_REQUIRED=1).
package e2e
