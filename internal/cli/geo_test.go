package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pingerplot/pingerplot/internal/report"
)

// labASN is an ASN database in ip-location-db's CSV layout that places
// loopback and a private range in made-up ASes.
const labASN = "127.0.0.0,127.255.255.255,64512,Loopback Lab\n10.0.0.0,10.255.255.255,64513,\"Lab, WAN\"\n"

// isolateConfig points the config and cache directories at empty temporary
// ones, so the tests never see the user's databases or cache.
func isolateConfig(t *testing.T) (configDir string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("os.UserConfigDir follows XDG_CONFIG_HOME on Linux only")
	}
	base := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(base, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(base, "cache"))
	return filepath.Join(base, "config")
}

func TestGeoFlagUsage(t *testing.T) {
	for _, args := range [][]string{
		{"report", "--geo-db", "x.mmdb", "192.0.2.1"},
		{"report", "--online-lookups", "192.0.2.1"},
	} {
		var out, errb bytes.Buffer
		if code := Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb}); code != 2 || !strings.Contains(errb.String(), "apply to -z/--aslookup") {
			t.Errorf("Run(%q) = %d, %q; want a usage error", args, code, errb.String())
		}
	}
	var out bytes.Buffer
	Run(context.Background(), []string{"report", "--help"}, Env{Stdout: &out, Stderr: &out})
	for _, want := range []string{"-z, --aslookup", "--geo-db", "--online-lookups", "ipwho.is", "never sent"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report --help lacks %q", want)
		}
	}
}

func TestOpenASFromConfigDir(t *testing.T) {
	cfg := isolateConfig(t)
	dir := filepath.Join(cfg, "pingerplot", "geo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "asn-ipv4.csv"), []byte(labASN), 0o644)

	var errb bytes.Buffer
	env := Env{Stdout: &bytes.Buffer{}, Stderr: &errb}
	g := geoFlags{asLookup: true}
	as, err := g.openAS(env)
	if err != nil {
		t.Fatal(err)
	}
	defer as.close()
	if errb.Len() != 0 {
		t.Errorf("stderr = %q; want nothing with an ASN database present", errb.String())
	}
	hops := []report.Hop{{TTL: 1, Addr: "10.1.2.3", Others: []report.Responder{{Addr: "127.0.0.1"}}}, {TTL: 2}, {TTL: 3, Addr: "8.8.8.8"}}
	for _, h := range hops {
		if a, err := netip.ParseAddr(h.Addr); err == nil {
			as.start(a)
		}
	}
	as.start(netip.MustParseAddr("127.0.0.1"))
	as.wait(context.Background())
	as.fill(hops, env)
	if h := hops[0]; h.ASN != 64513 || h.ASName != "Lab, WAN" || h.Others[0].ASN != 64512 {
		t.Errorf("hop 1 = %+v; want AS64513 Lab, WAN with 127.0.0.1 in AS64512", h)
	}
	if hops[1].ASN != 0 || hops[2].ASN != 0 {
		t.Errorf("silent and unknown hops got an AS: %+v %+v", hops[1], hops[2])
	}
}

func TestOpenASWithoutDatabase(t *testing.T) {
	isolateConfig(t)
	var errb bytes.Buffer
	g := geoFlags{asLookup: true}
	as, err := g.openAS(Env{Stdout: &bytes.Buffer{}, Stderr: &errb})
	if err != nil {
		t.Fatalf("openAS without a database = %v; want no failure", err)
	}
	as.close()
	if !strings.Contains(errb.String(), "no offline ASN database") || !strings.Contains(errb.String(), "scripts/fetch-geo-db.sh") {
		t.Errorf("stderr = %q; want a hint naming the fetch script", errb.String())
	}
	if strings.Count(errb.String(), "no offline ASN database") != 1 {
		t.Errorf("hint printed more than once: %q", errb.String())
	}

	// A named database that cannot be opened is an error.
	g.dbs = pathList{filepath.Join(t.TempDir(), "missing.mmdb")}
	if _, err := g.openAS(Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}); err == nil || !strings.Contains(err.Error(), "missing.mmdb") {
		t.Errorf("openAS with a missing --geo-db = %v; want an error naming it", err)
	}
}

// TestReportAS runs the report command against loopback with an ASN
// database given by --geo-db. It needs a probe backend (Linux).
func TestReportAS(t *testing.T) {
	isolateConfig(t)
	db := filepath.Join(t.TempDir(), "lab-asn.csv")
	os.WriteFile(db, []byte(labASN), 0o644)
	var out, errb bytes.Buffer
	// UDP: loopback answers it for any user, with no ping socket or raw
	// socket allowed, so a failed report is a failure of the code.
	code := Run(context.Background(), []string{"report", "-u", "-z", "--geo-db", db, "-n", "-c", "1", "--json", "127.0.0.1"},
		Env{Stdout: &out, Stderr: &errb})
	if code != 0 {
		t.Fatalf("report -u -z against loopback exited %d; want 0\nstderr: %s", code, errb.String())
	}
	var rep report.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !rep.Settings.ASLookup || len(rep.Hops) != 1 || rep.Hops[0].ASN != 64512 || rep.Hops[0].ASName != "Loopback Lab" {
		t.Errorf("report = %+v; want aslookup and one hop in AS64512", rep)
	}
	if errb.Len() != 0 {
		t.Errorf("stderr = %q; want nothing", errb.String())
	}

	out.Reset()
	if code := Run(context.Background(), []string{"report", "-u", "-z", "--geo-db", db, "-n", "-c", "1", "127.0.0.1"}, Env{Stdout: &out, Stderr: &errb}); code != 0 {
		t.Fatalf("text report exited %d; want 0\nstderr: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "AS64512") || !strings.Contains(out.String(), " AS ") {
		t.Errorf("text report lacks the AS column:\n%s", out.String())
	}
}
