package pmtu

import (
	"fmt"

	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// Summary words a discovery's result in a few words, for events, footers
// and headers: "1400 bytes (drops at hop 2, 10.0.1.2)", "1500 bytes
// (nothing smaller on the path)", "1492 bytes (this host's interface)",
// or "not found: why".
func Summary(p result.PathMTU) string {
	switch {
	case !p.Valid():
		return "not found: " + p.Err
	case p.MTU >= p.Max:
		return fmt.Sprintf("%d bytes (nothing smaller on the path)", p.MTU)
	case p.Local:
		return fmt.Sprintf("%d bytes (this host's interface)", p.MTU)
	}
	where := "an unknown hop"
	switch {
	case p.HopTTL > 0 && p.HopAddr.IsValid():
		where = fmt.Sprintf("hop %d, %s", p.HopTTL, p.HopAddr)
	case p.HopTTL > 0:
		where = fmt.Sprintf("hop %d", p.HopTTL)
	case p.HopAddr.IsValid():
		where = p.HopAddr.String()
	}
	how := ""
	if !p.Reported {
		how = ", larger packets meet silence"
	}
	return fmt.Sprintf("%d bytes (drops at %s%s)", p.MTU, where, how)
}
