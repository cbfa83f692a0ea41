package cli

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/geo"
	"github.com/pingerplot/pingerplot/internal/report"
)

// geoFlags are the AS lookup flags (mtr's -z) and where the answers come
// from (docs/geo.md).
type geoFlags struct {
	asLookup bool
	dbs      pathList
	online   bool
}

// pathList is a repeatable flag.
type pathList []string

func (p *pathList) String() string { return strings.Join(*p, ",") }

func (p *pathList) Set(v string) error {
	if v == "" {
		return fmt.Errorf("empty path")
	}
	*p = append(*p, v)
	return nil
}

func (g *geoFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&g.asLookup, "z", false, "")
	fs.BoolVar(&g.asLookup, "aslookup", false, "show each hop's AS number, from offline databases (docs/geo.md)")
	fs.Var(&g.dbs, "geo-db", "an offline .mmdb or ASN .csv database, asked before those in the config directory (repeatable)")
	fs.BoolVar(&g.online, "online-lookups", false, "with -z, send the public hop addresses that no offline database knows to ipwho.is over\n"+
		"                         HTTPS to learn their AS; private and other special-purpose addresses are never sent")
}

func (g *geoFlags) validate() error {
	if !g.asLookup && (len(g.dbs) > 0 || g.online) {
		return usagef("--geo-db and --online-lookups apply to -z/--aslookup")
	}
	return nil
}

// asLookup is the resolver behind the AS column.
type asLookup struct {
	res     *geo.Resolver
	offline *geo.Offline
	online  bool
}

// openAS opens the AS lookups -z asks for; nil without -z. Without an
// offline ASN database it says once, on stderr, how to get one rather
// than failing: the column then stays AS??? (or online answers fill it).
func (g *geoFlags) openAS(env Env) (*asLookup, error) {
	if !g.asLookup {
		return nil, nil
	}
	dir, err := geo.DefaultDir()
	if err != nil {
		dir = ""
	}
	off, warns, err := geo.OpenOffline(geo.OfflineConfig{Paths: g.dbs, Dir: dir})
	if err != nil {
		return nil, err
	}
	for _, w := range warns {
		fmt.Fprintf(env.Stderr, "pingerplot: geo database skipped: %v\n", w)
	}
	if off.Fields()&geo.AS == 0 && !g.online {
		where := "the config directory"
		if dir != "" {
			where = dir
		}
		fmt.Fprintf(env.Stderr, "pingerplot: no offline ASN database in %s, so AS numbers show as AS???.\n"+
			"  Fetch free ones with scripts/fetch-geo-db.sh, name one with --geo-db, or allow --online-lookups (docs/geo.md).\n", where)
	}
	cfg := geo.Config{Offline: off, Need: geo.AS, OnlineEnabled: g.online}
	if g.online {
		cache, err := geo.DefaultCacheFile()
		if err != nil {
			cache = "" // memory only
		}
		cfg.Online = geo.NewIPWhois(geo.IPWhoisConfig{CacheFile: cache})
	}
	return &asLookup{res: geo.New(cfg), offline: off, online: g.online}, nil
}

// start begins the lookup of addr in the background.
func (a *asLookup) start(addr netip.Addr) {
	if a != nil && addr.IsValid() {
		a.res.Info(addr)
	}
}

// wait gives pending lookups until the deadline: a moment for offline
// answers, longer when online ones are rate limited.
func (a *asLookup) wait(ctx context.Context) {
	if a == nil {
		return
	}
	d := 2 * time.Second
	if a.online {
		d = 15 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	a.res.Wait(wctx)
}

// fill sets the AS of every hop, and reports on stderr the first online
// failure, if any, so a silent AS??? has a reason.
func (a *asLookup) fill(hops []report.Hop, env Env) {
	if a == nil {
		return
	}
	var failure error
	report.AddAS(hops, func(addr netip.Addr) (uint32, string) {
		st := a.res.Status(addr)
		if st.Err != nil && failure == nil {
			failure = st.Err
		}
		return st.Info.ASN, st.Info.ASName
	})
	if failure != nil {
		fmt.Fprintf(env.Stderr, "pingerplot: AS lookup failed: %v\n", failure)
	}
}

func (a *asLookup) close() {
	if a == nil {
		return
	}
	a.res.Close()
	a.offline.Close()
}
