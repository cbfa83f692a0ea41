package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Version is the newest version of the headless config and of the user
// settings file this package reads and the one it writes.
const Version = 1

// maxFileSize caps config and settings files: anything larger is not one.
const maxFileSize = 16 << 20

// Headless is a loaded headless config.
type Headless struct {
	// StatusInterval is the time between console status lines; 0 means
	// none. Defaults to DefaultStatusInterval.
	StatusInterval time.Duration
	// MetricsListen, if set, is the host:port where Prometheus metrics
	// are served (docs/metrics.md).
	MetricsListen string
	// History is where every round is kept for past windows and
	// evidence ("history"; on by default).
	History History
	// Targets are the config's targets in file order, defaults merged in,
	// validated, log paths absolute.
	Targets []Resolved
}

// Load reads and validates the headless config at path. Every problem in
// the file is reported at once, each naming the field and where it is.
// Relative log paths are taken from the config file's directory, so a
// config works whatever the working directory.
func Load(path string) (Headless, error) {
	data, err := readFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Headless{}, fmt.Errorf("%s: no such file; write a starter config with: pingerplot headless --init %s", path, path)
		}
		return Headless{}, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Headless{}, err
	}
	var p problems
	h := parseHeadless(data, filepath.Dir(abs), &p)
	if err := p.err(path); err != nil {
		return Headless{}, err
	}
	return h, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readLimited(f, maxFileSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// topKeys are the keys of a headless config's top level.
var topKeys = []string{"version", "status_interval", "metrics_listen", "history", "defaults", "targets"}

// parseHeadless reads a headless config; dir is where relative paths start.
func parseHeadless(data []byte, dir string, p *problems) Headless {
	if err := checkSyntax(data); err != nil {
		p.add("", "%v", err)
		return Headless{}
	}
	ms, err := members(data)
	if err != nil {
		p.add("", "%v", err)
		return Headless{}
	}
	if !checkVersion(ms, p) {
		return Headless{}
	}
	h := Headless{StatusInterval: DefaultStatusInterval}
	var defaults Options
	var entries []TargetEntry
	sawTargets := false
	for _, m := range ms {
		switch {
		case isComment(m.key), m.key == "version":
		case m.key == "status_interval":
			var s Seconds
			if err := decodeValue(m.val, &s, wantSeconds); err != nil {
				p.add("", "status_interval: %v", err)
			} else if d := time.Duration(s); d < 0 || d > MaxInterval {
				p.add("", "status_interval: %s is out of range: want 0 (silent) to %s", fmtSec(d), fmtSec(MaxInterval))
			} else {
				h.StatusInterval = d
			}
		case m.key == "metrics_listen":
			var a string
			if err := decodeValue(m.val, &a, "a host:port string such as \"127.0.0.1:9469\""); err != nil {
				p.add("", "metrics_listen: %v", err)
			} else if err := CheckListen(a); err != nil {
				p.add("", "metrics_listen: %v", err)
			} else {
				h.MetricsListen = a
			}
		case m.key == "history":
			h.History = decodeHistory(m.val, dir, p)
		case m.key == "defaults":
			defaults.decode(m.val, nil, "defaults", p)
		case m.key == "targets":
			sawTargets = true
			l, err := list(m.val)
			if err != nil {
				p.add("", "targets: %v", err)
				continue
			}
			if len(l) == 0 {
				p.add("", "%s", noTargets)
			}
			for i, raw := range l {
				entries = append(entries, decodeEntry(raw, entryLabel(i, rawHost(raw)), p))
			}
		default:
			p.add("", "%s", topLevelUnknown(m.key))
		}
	}
	if !sawTargets {
		p.add("", "%s", noTargets)
	}
	h.Targets = resolve(defaults, entries, dir, p)
	return h
}

// CheckListen validates a listen address: host:port with a port number,
// the host an IP address or empty (every interface) or a name.
func CheckListen(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("%q is not host:port (for example \"127.0.0.1:9469\", or \":9469\" for every interface)", a)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", a, port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q: %q is not a host", a, host)
	}
	return nil
}

const noTargets = `targets: no targets; add at least one, such as "targets": [{"target": "8.8.8.8"}]`

// topLevelUnknown explains an unknown top-level key.
func topLevelUnknown(key string) string {
	for _, k := range optionKeys() {
		if key == k {
			return fmt.Sprintf("%q belongs in \"defaults\" or in an entry of \"targets\"", key)
		}
	}
	if key == "target" || key == "name" {
		return fmt.Sprintf("%q belongs in an entry of \"targets\"", key)
	}
	return unknownKey(key, topKeys)
}

// checkVersion records a problem and returns false when the file's
// "version" is not one this package reads. An absent version is 1.
func checkVersion(ms []member, p *problems) bool {
	for _, m := range ms {
		if m.key != "version" {
			continue
		}
		var v int
		if err := decodeValue(m.val, &v, wantInt); err != nil {
			p.add("", "version: %v", err)
			return false
		}
		switch {
		case v > Version:
			p.add("", "version %d is newer than this PingerPlot understands (%d); upgrade PingerPlot", v, Version)
			return false
		case v < 1:
			p.add("", "version: %d is not a version; want %d (or leave it out)", v, Version)
			return false
		}
	}
	return true
}

// starter is the --init config: valid as written, and documenting itself.
const starter = `{
  "_comment": "PingerPlot headless config. Run it with: pingerplot headless THIS_FILE. Every key is described in docs/config.md. Times are in seconds unless the key ends in _ms. A target entry may override any key of \"defaults\". Keys starting with _ are ignored: rename \"webhook_url\" to \"_webhook_url\" to switch it off. Rename \"_metrics_listen\" to \"metrics_listen\" to serve Prometheus metrics at http://127.0.0.1:9469/metrics.",
  "version": 1,
  "status_interval": 60,
  "_metrics_listen": "127.0.0.1:9469",
  "defaults": {
    "interval": 1,
    "mode": "icmp",
    "timeout": 1,
    "max_hops": 30,
    "alert_loss_pct": 20,
    "alert_latency_ms": 250,
    "alert_window": 20,
    "history": 3600,
    "_webhook_url": "https://hooks.example.com/pingerplot"
  },
  "targets": [
    {
      "_comment": "A full path trace: every router's latency and loss, logged to logs/dns.csv (relative to this file), events to logs/dns.events.csv.",
      "target": "1.1.1.1",
      "name": "dns",
      "log_path": "logs/dns.csv"
    },
    {
      "_comment": "Is this web service up, and how fast? A TCP handshake to the destination alone, every 5 seconds; needs no privilege.",
      "target": "example.com",
      "name": "web",
      "mode": "tcp",
      "port": 443,
      "final_hop_only": true,
      "interval": 5,
      "log_path": "logs/web.csv"
    }
  ]
}
`

// Starter returns the starter config that --init writes.
func Starter() []byte { return []byte(starter) }

// WriteStarter writes the starter config to path, refusing to overwrite a
// file that exists.
func WriteStarter(path string) error {
	// 0600: configs come to hold webhook URLs, whose tokens are secrets.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists; not overwriting it (remove it or choose another name)", path)
		}
		return err
	}
	if _, err := f.Write(Starter()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
