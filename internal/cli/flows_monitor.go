package cli

import (
	"runtime"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/web"
)

// monitorFlowsHelp is the --flows usage line of ui and headless.
const monitorFlowsHelp = "ECMP flow enumeration for every target: probe N flows (UDP source ports, or ICMP echo identifiers) beside each round and show each distinct path with its share of the flows (the dashboard's Paths tab, GET /api/targets/{id}/flows; docs/flows.md); 0: each target's flows setting"

// flowsUnsupported says why this system's probes cannot vary their flow,
// or "" where they can: the Windows backends do not read probe.Probe.Flow
// yet, so every flow would be the target's ordinary flow and show one
// path whatever the network.
func flowsUnsupported() string {
	if runtime.GOOS != "windows" {
		return ""
	}
	return "ECMP flow enumeration does not work on Windows yet: its probe backends send every flow with the target's own " +
		"source port and echo identifier, so all flows would take one path; probe from Linux to see a target's equal-cost paths"
}

// validateMonitorFlows checks ui's and headless' --flows.
func validateMonitorFlows(n int) error {
	switch {
	case n == 0:
		return nil
	case n < 2 || n > config.MaxFlows:
		return usagef("--flows %d out of range: use 2 to %d flows, or 0 for each target's flows setting", n, config.MaxFlows)
	case flowsUnsupported() != "":
		return usagef("--flows: %s", flowsUnsupported())
	}
	return nil
}

// webFlows gives the dashboard a target's flow enumeration.
func (e *engine) webFlows(id monitor.ID) (web.Flows, bool) {
	p, ok := e.Flows.Latest(id)
	if !ok {
		return web.Flows{}, false
	}
	return web.Flows{Count: p.Count, Varies: p.Varies, Rounds: p.Rounds, Paths: p.Paths, Note: p.Note}, true
}
