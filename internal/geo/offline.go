package geo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is one offline database file, opened once: a MaxMind-format .mmdb
// (memory-mapped by the reader) or an ip-location-db ASN range .csv
// (loaded into memory). It is safe for concurrent use.
type DB struct {
	name   string
	path   string
	mmdb   *maxminddb.Reader
	ranges *rangeTable
	fields Fields
}

// OpenDB opens the database at path; the file name's extension says its
// kind (.mmdb or .csv). The reader's Verify is not called: it rejects
// ip-location-db's files (they have an empty description) and walks the
// whole file; the reflection decoding used here bounds what a corrupt
// file can make it do.
func OpenDB(path string) (*DB, error) {
	d := &DB{name: filepath.Base(path), path: path}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".mmdb":
		r, err := maxminddb.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		d.mmdb = r
		d.fields = sampleFields(r, d.name)
	case ".csv":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		t, err := readRanges(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s is not an ASN range CSV (first,last,asn,organization): %v", path, err)
		}
		d.ranges, d.fields = t, AS
	default:
		return nil, fmt.Errorf("%s: unknown database kind; want a .mmdb or an ASN range .csv file", path)
	}
	return d, nil
}

// sampleFields reads the first records of r to learn whether it holds
// locations, AS numbers or both: the metadata's database_type is free
// text. A city database answers the Location group, an ASN one the AS
// group, IPinfo's both.
func sampleFields(r *maxminddb.Reader, source string) Fields {
	var f Fields
	n := 0
	for res := range r.Networks() {
		var rec map[string]any
		if res.Decode(&rec) == nil {
			f |= fromRecord(rec, source).Fields()
		}
		if n++; n >= 256 || f == Location|AS {
			break
		}
	}
	return f
}

// Name is the file name, which Info.Source reports.
func (d *DB) Name() string { return d.name }

// Path is where the file is.
func (d *DB) Path() string { return d.path }

// Fields says what the database was seen to hold.
func (d *DB) Fields() Fields { return d.fields }

// Lookup returns what the database holds for addr. It does not block on
// anything but the (memory-mapped) file.
func (d *DB) Lookup(_ context.Context, addr netip.Addr) (Info, error) {
	q := queryAddr(addr)
	if !q.IsValid() {
		return Info{}, nil
	}
	if d.ranges != nil {
		asn, org, ok := d.ranges.lookup(q)
		if !ok {
			return Info{}, nil
		}
		return Info{ASN: asn, ASName: org, ASSource: d.name}, nil
	}
	if d.mmdb.Metadata.IPVersion == 4 && q.Is6() {
		return Info{}, nil
	}
	var rec map[string]any
	if err := d.mmdb.Lookup(q).Decode(&rec); err != nil {
		return Info{}, fmt.Errorf("%s: %v", d.name, err)
	}
	if rec == nil {
		return Info{}, nil
	}
	return fromRecord(rec, d.name), nil
}

// Close releases the file. It must not be called while a Lookup runs
// (the Resolver's Close waits for its lookups), and d is unusable after.
func (d *DB) Close() error {
	if d.mmdb != nil {
		return d.mmdb.Close()
	}
	return nil
}

// Offline answers from local databases. Each group of fields (location;
// AS) comes from the first database, in order, that has it.
type Offline struct {
	dbs []*DB
}

// OfflineConfig says which databases to open.
type OfflineConfig struct {
	// Paths are opened first, in order; any that fails to open is an error
	// (the user named it).
	Paths []string
	// Dir is searched next (DefaultDir when the caller wants the default;
	// "" means none); its files are opened in the order FindDBs gives, and
	// one that fails is skipped with a warning. A missing Dir is no error.
	Dir string
}

// OpenOffline opens the databases cfg names. Warnings say which files of
// cfg.Dir could not be used; err is for cfg.Paths. An Offline with no
// database is valid and knows nothing.
func OpenOffline(cfg OfflineConfig) (o *Offline, warnings []error, err error) {
	o = &Offline{}
	seen := map[string]bool{}
	for _, p := range cfg.Paths {
		d, err := OpenDB(p)
		if err != nil {
			o.Close()
			return nil, nil, err
		}
		o.dbs = append(o.dbs, d)
		seen[absPath(p)] = true
	}
	if cfg.Dir != "" {
		paths, err := FindDBs(cfg.Dir)
		if err != nil {
			warnings = append(warnings, err)
		}
		for _, p := range paths {
			if seen[absPath(p)] {
				continue
			}
			d, err := OpenDB(p)
			if err != nil {
				warnings = append(warnings, err)
				continue
			}
			o.dbs = append(o.dbs, d)
		}
	}
	return o, warnings, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// NewOffline returns an Offline over dbs, asked in order. It takes
// ownership: Close closes them.
func NewOffline(dbs ...*DB) *Offline { return &Offline{dbs: dbs} }

// Name is "offline"; the Info it returns names the database that answered.
func (o *Offline) Name() string { return "offline" }

// DBs returns the open databases in the order they are asked.
func (o *Offline) DBs() []*DB { return slices.Clone(o.dbs) }

// Fields is what the databases hold together.
func (o *Offline) Fields() Fields {
	var f Fields
	for _, d := range o.dbs {
		f |= d.fields
	}
	return f
}

// Lookup merges the answers of the databases: each group of fields comes
// from the first one that has it. Errors are joined, but a database that
// fails does not hide what the others know.
func (o *Offline) Lookup(ctx context.Context, addr netip.Addr) (Info, error) {
	var in Info
	var errs []error
	for _, d := range o.dbs {
		if in.Fields() == Location|AS {
			break
		}
		got, err := d.Lookup(ctx, addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		in = in.merge(got)
	}
	return in, errors.Join(errs...)
}

// Close closes every database.
func (o *Offline) Close() error {
	var errs []error
	for _, d := range o.dbs {
		errs = append(errs, d.Close())
	}
	return errors.Join(errs...)
}

// DirName is the folder, inside the PingerPlot config directory (the
// local application data directory on Windows), that FindDBs searches by
// default.
const DirName = "geo"

// DefaultDir returns where offline databases are looked for:
// ~/.config/pingerplot/geo on Linux, ~/Library/Application
// Support/pingerplot/geo on macOS, %LocalAppData%\pingerplot\geo on
// Windows (see dirFor).
func DefaultDir() (string, error) {
	return dirFor(runtime.GOOS, os.UserConfigDir, os.UserCacheDir)
}

// dirFor is DefaultDir on goos, given os.UserConfigDir and os.UserCacheDir.
// On Windows the config directory is %AppData%, the roaming profile,
// which is copied to a server at every logoff and back at every logon on
// managed networks: no place for databases of tens of megabytes that can
// be downloaded again. They go to %LocalAppData% (os.UserCacheDir), which
// stays on the machine. Elsewhere they stay beside the settings, where
// users and scripts/fetch-geo-db.sh have always put them.
func dirFor(goos string, configDir, cacheDir func() (string, error)) (string, error) {
	base := configDir
	if goos == "windows" {
		base = cacheDir
	}
	d, err := base()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "pingerplot", DirName), nil
}

// FindDBs lists the databases in dir: every regular file named *.mmdb or
// *.csv (any case), sorted by name, so a file named to sort first (such as
// "00-wan.mmdb") is asked first. Hidden files (".name") are skipped, and
// so are ip-location-db's "-num.csv" files (the same data with addresses
// as integers). A missing dir gives no files and no error.
func FindDBs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		lower := strings.ToLower(n)
		if strings.HasPrefix(n, ".") || strings.HasSuffix(lower, "-num.csv") {
			continue
		}
		if !strings.HasSuffix(lower, ".mmdb") && !strings.HasSuffix(lower, ".csv") {
			continue
		}
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			continue
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}
