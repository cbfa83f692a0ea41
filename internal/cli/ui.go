package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pingerplot/pingerplot/internal/buildinfo"
	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/geo"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/pmtuwatch"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/resolve"
	"github.com/pingerplot/pingerplot/internal/web"
)

func runUI(ctx context.Context, args []string, env Env) (err error) {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1", "address to listen on; anything but loopback exposes the probe engine to the network (the token is still required)")
	port := fs.Int("port", 0, "port to listen on (0 picks a free one)")
	noBrowser := fs.Bool("no-browser", false, "do not open the dashboard in the default browser")
	configDir := fs.String("config-dir", "", "where settings.json lives (default: the user's config directory)/pingerplot")
	noDNS := fs.Bool("no-dns", false, "do not resolve hop addresses to names")
	fs.BoolVar(noDNS, "n", false, "")
	verbose := fs.Bool("verbose", false, "log what the server does")
	metricsAddr := fs.String("metrics-listen", "", metricsHelp)
	tray := fs.Bool("tray", false, trayHelp)
	historyPath := fs.String("history", "", `the history file (default: "history" in the settings, else the user's data directory; docs/history.md)`)
	noHistory := fs.Bool("no-history", false, "keep no history: past windows and evidence need it")
	pingHops := fs.Bool("ping-hops", false, pingHopsHelp)
	pathMTU := fs.Bool("pmtu", false, pmtuHelp)
	pathMTUEvery := fs.Duration("pmtu-interval", pmtuwatch.DefaultEvery, pmtuIntervalHelp)
	flowCount := fs.Int("flows", 0, monitorFlowsHelp)
	pos, err := parse(fs, args)
	if err == errHelp {
		printUsage(env.Stdout, fs, "pingerplot [ui] [flags]\n\nStarts the monitor and its live web dashboard on 127.0.0.1 and opens it in the browser.")
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("ui takes no arguments (add targets in the dashboard), got %q", pos)
	}
	if err := validateMonitorFlows(*flowCount); err != nil {
		return err
	}
	if *port < 0 || *port > 65535 {
		return usagef("port %d out of range: use 0-65535", *port)
	}
	ip, err := netip.ParseAddr(*listen)
	if err != nil {
		return usagef("--listen %q is not an IP address", *listen)
	}
	// Started from Explorer: the icon, and no console window to close.
	ctx, sh := startShell(ctx, args, *tray, env)
	defer func() { sh.close(err) }()
	dir := *configDir
	if dir == "" {
		if dir, err = config.DefaultDir(); err != nil {
			return fmt.Errorf("find the config directory: %w; give one with --config-dir", err)
		}
	}
	_, statErr := os.Stat(filepath.Join(dir, config.SettingsFile))
	user, uerr := config.LoadUser(dir)
	if uerr != nil {
		fmt.Fprintf(env.Stderr, "pingerplot: %v; starting with default settings\n", uerr)
	}
	if errors.Is(statErr, iofs.ErrNotExist) {
		// A first launch starts with the original tool's alert thresholds:
		// 20 % loss or 250 ms over the last 20 probes.
		loss, latency, window := 20.0, config.Millis(250*time.Millisecond), 20
		user.Defaults.AlertLossPct, user.Defaults.AlertLatency, user.Defaults.AlertWindow = &loss, &latency, &window
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))

	prober, err := probe.New(probe.Config{})
	if err != nil {
		return err
	}
	defer prober.Close()
	names := func(netip.Addr) string { return "" }
	if !*noDNS {
		res := resolve.New(resolve.Config{})
		defer res.Close()
		names = func(a netip.Addr) string { n, _ := res.Name(a); return n }
	}
	if *historyPath != "" {
		user.History.Path = *historyPath
	}
	if *noHistory {
		user.History.Off = true
	}
	e, err := startEngine(ctx, engineConfig{Prober: prober, Names: names, Logger: logger,
		Stdout: env.Stdout, MetricsAddr: *metricsAddr, History: user.History, PingHops: *pingHops,
		PathMTU: *pathMTU, PathMTUEvery: *pathMTUEvery, Flows: *flowCount})
	if err != nil {
		return err
	}
	defer e.close(nil)
	m := e.M

	// Hop locations and AS numbers: offline databases always, ipwho.is only
	// while a page has the Map tab open and the user allowed it.
	geoDir, _ := geo.DefaultDir()
	offline, warns, err := geo.OpenOffline(geo.OfflineConfig{Paths: user.GeoDBs, Dir: geoDir})
	if err != nil {
		fmt.Fprintf(env.Stderr, "pingerplot: geo databases: %v; the map shows only what online lookups find\n", err)
		offline = geo.NewOffline()
	}
	for _, w := range warns {
		fmt.Fprintf(env.Stderr, "pingerplot: geo database skipped: %v\n", w)
	}
	defer offline.Close()
	cacheFile, _ := geo.DefaultCacheFile()
	ipwhois := geo.NewIPWhois(geo.IPWhoisConfig{CacheFile: cacheFile, Logger: logger})
	geoRes := geo.New(geo.Config{Offline: offline, Online: ipwhois})
	defer geoRes.Close()

	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("listen on %s port %d: %w; choose another with --port", ip, *port, err)
	}
	token := web.NewToken()
	srv := web.New(web.Config{
		Monitor: m,
		Resolve: func(ctx context.Context, host string) (netip.Addr, error) {
			return resolveTarget(ctx, host, false, false)
		},
		Prepare: func(mode string, v6, finalHopOnly bool) error {
			md, err := probe.ParseMode(mode)
			if err != nil {
				return err
			}
			return prober.Prepare(md, v6, finalHopOnly)
		},
		Names: names, UserDir: dir, User: user, Token: token, Listen: ln.Addr(), Logger: logger, App: "pingerplot " + buildinfo.Version(),
		Geo: geoRes, GeoSent: func() int { n, _ := ipwhois.Sent(); return n },
		History: e.Hist, Diagnosis: e.Diag.Latest, PathMTU: e.PMTU.Latest, Flows: e.webFlows,
	})
	go srv.Run(ctx)

	if user.ResumeOnLaunch && uerr == nil {
		resumeTargets(ctx, m, prober, user, dir, env)
	}
	go func() { _ = m.Run(ctx) }()

	// Requests live in ctx, so a stop ends the pages' event streams at
	// once instead of Shutdown waiting for them to go idle, which they
	// never do.
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	url := fmt.Sprintf("http://%s/?token=%s", hostForURL(ln.Addr()), token)
	fmt.Fprintf(env.Stdout, "PingerPlot dashboard: %s\n(Ctrl-C stops)\n", url)
	sh.ready(url)
	if !*noBrowser {
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(env.Stderr, "could not open a browser (%v); open the URL above yourself\n", err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	// Well inside the 5 s Windows allows a console program whose window
	// is closed, so the monitor and the logs below are closed too.
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	err = e.close(nil)
	fmt.Fprintln(env.Stdout, "stopped")
	return err
}

// resumeTargets re-arms the targets of the last session ("resume targets on
// launch"); one that cannot start is reported and skipped.
func resumeTargets(ctx context.Context, m *monitor.Monitor, prober probe.Prober, user config.UserSettings, dir string, env Env) {
	rs, err := user.Resolve(dir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "pingerplot: saved targets: %v\n", err)
		return
	}
	for _, r := range rs {
		addr, err := resolveTarget(ctx, r.Host, false, false)
		if err == nil {
			err = prober.Prepare(r.Settings.Trace.Mode, addr.Is6(), r.Settings.Trace.FinalHopOnly)
		}
		if err == nil {
			_, err = m.Add(monitor.Target{ID: r.ID, Host: r.Host, Addr: addr, Settings: r.Settings})
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "pingerplot: not resuming %s: %v\n", r.Host, err)
		}
	}
}

func hostForURL(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.String()
	}
	if ap.Addr().IsUnspecified() {
		return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ap.Port()).String()
	}
	return ap.String()
}
