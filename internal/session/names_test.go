package session

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// TestNoNamesRoundTrip: a target saved with names off comes back with
// names off, through the file and through a monitor; only its settings
// carry the key, and a second save is the same file.
func TestNoNamesRoundTrip(t *testing.T) {
	want := fixture(t)
	want.Records[1].Target.NoNames = true
	data := save(t, want)
	// (The golden fixture's first target is named "dns": count the key's form.)
	if n := strings.Count(string(data), `"dns":`); n != 1 || !strings.Contains(string(data), `"history":10,"dns":false}`) {
		t.Errorf("the file has %d dns keys; want one, false, last in the settings of web:\n%s", n, data)
	}
	got, err := Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Load(Save(s)) != s: NoNames %v, %v, %v; want false, true, false",
			got.Records[0].Target.NoNames, got.Records[1].Target.NoNames, got.Records[2].Target.NoNames)
	}
	if again := save(t, got); !bytes.Equal(again, data) {
		t.Errorf("Save(Load(file)) differs from the file")
	}

	m := monitor.New(monitor.Config{}) // never Run: no prober needed
	defer m.Close()
	for _, a := range got.Targets() {
		if _, err := m.Restore(a.Target, a.Hops, a.Events, a.Rounds, a.Started); err != nil {
			t.Fatal(err)
		}
	}
	for _, tg := range m.Targets() {
		if tg.NoNames != (tg.ID == "web") {
			t.Errorf("restored %s has NoNames %v; want %v", tg.ID, tg.NoNames, tg.ID == "web")
		}
		if sn, _ := m.Snapshot(tg.ID, true); sn.NoNames != tg.NoNames {
			t.Errorf("snapshot of restored %s has NoNames %v; want %v", tg.ID, sn.NoNames, tg.NoNames)
		}
	}
}

// TestNoDNSKeyMeansNames: sessions written before the key existed (the
// golden file has none) load with names on, and so does "dns": true.
func TestNoDNSKeyMeansNames(t *testing.T) {
	text := goldenText(t)
	if strings.Contains(text, `"dns":`) {
		t.Fatalf("the golden session has a dns key; this test needs one without")
	}
	for name, file := range map[string]string{
		"no key":   text,
		"dns true": strings.Replace(text, `"history":10}`, `"history":10,"dns":true}`, 1),
	} {
		s, err := Load(strings.NewReader(file))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, r := range s.Records {
			if r.Target.NoNames {
				t.Errorf("%s: %s loaded with names off; want on", name, r.Target.ID)
			}
		}
	}
	if _, err := Load(strings.NewReader(strings.Replace(text, `"history":10}`, `"history":10,"dns":"off"}`, 1))); err == nil ||
		!strings.Contains(err.Error(), "dns") || !strings.Contains(err.Error(), "nothing was loaded") {
		t.Errorf(`a session with "dns": "off" = %v; want refused, naming dns`, err)
	}
}
