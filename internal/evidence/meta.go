package evidence

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/buildinfo"
)

// LocalMeta is the Meta of a file made on this machine at now for a
// target at dst: this build's version, the vantage address, the local
// time zone. Names are left to the caller. It sends nothing.
func LocalMeta(dst netip.Addr, now time.Time) Meta {
	return Meta{Version: buildinfo.String(), Vantage: Vantage(dst), TimeZone: ZoneText(now), Made: now}
}

// Vantage is this machine's source address toward dst: the address the
// system would send from, found by connecting a UDP socket, which sends
// nothing (no packet leaves before a write). "unknown" when there is no
// route or no address.
func Vantage(dst netip.Addr) string {
	if !dst.IsValid() {
		return "unknown"
	}
	c, err := net.Dial("udp", netip.AddrPortFrom(dst, 9).String())
	if err != nil {
		return "unknown"
	}
	defer c.Close()
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP != nil && !a.IP.IsUnspecified() {
		return a.IP.String()
	}
	return "unknown"
}

// ZoneText names now's time zone: its IANA name where the system says
// it, its abbreviation and its offset from UTC ("Europe/Paris (CET,
// UTC+01:00)").
func ZoneText(now time.Time) string {
	abbr, off := now.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	s := fmt.Sprintf("%s, UTC%c%02d:%02d", abbr, sign, off/3600, off%3600/60)
	if now.Location() != time.Local {
		return s
	}
	if name := ianaZone(); name != "" && name != abbr {
		s = name + " (" + s + ")"
	}
	return s
}

// ianaZone is the local zone's IANA name from TZ or /etc/localtime's
// link, "" when neither says (Windows names its zones otherwise).
func ianaZone() string {
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" && !strings.HasPrefix(tz, "/") {
		return tz
	}
	if l, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(l, "zoneinfo/"); ok {
			return name
		}
	}
	return ""
}
