//go:build linux

package probe

import (
	"errors"
	"time"
)

// TEMPORARY until the packet package lands.
func (p *linuxProber) openRawICMP(v6 bool) (*sharedSock, error) {
	return nil, errors.New("raw backend pending")
}
func (p *linuxProber) openRawUDP(v6 bool) (*sharedSock, error) {
	return nil, errors.New("raw backend pending")
}
func (p *linuxProber) buildRawUDP(s *sharedSock, pr Probe, seq uint16, size int) ([]byte, error) {
	return nil, errors.New("raw backend pending")
}
func (p *linuxProber) handleRaw(s *sharedSock, m message, now time.Time) {}
func mplsFromErrQueue(m message) []MPLSLabel                          { return nil }
func checksum(b []byte) uint16                                         { return 0 }
