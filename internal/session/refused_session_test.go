package session

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestRefusalsRoundTrip: a TCP service check's refusals (a closed port)
// survive a save and load: the hop's and responders' refused counts and
// each refused sample, so a restored target still reads "closed", not
// "answering".
func TestRefusalsRoundTrip(t *testing.T) {
	s := fixture(t)
	marked := 0
	for r := range s.Records {
		for h := range s.Records[r].Hops {
			hop := &s.Records[r].Hops[h]
			if !hop.Reached {
				continue
			}
			hop.Stats.Refused = hop.Stats.Recv
			for i := range hop.Responders {
				hop.Responders[i].Stats.Refused = hop.Responders[i].Stats.Recv
			}
			for i := range hop.History {
				if hop.History[i].Reached {
					hop.History[i].Refused = true
					marked++
				}
			}
		}
	}
	if marked == 0 {
		t.Fatal("the fixture has no reached sample to refuse")
	}
	var buf bytes.Buffer
	if err := Save(&buf, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if n := strings.Count(buf.String(), `"refused":true`); n != marked {
		t.Errorf("saved file has %d refused samples; want %d", n, marked)
	}
	got, err := Load(&buf)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("Load(Save(s)) lost the refusals:\n got %+v\nwant %+v", got.Records, s.Records)
	}
}

func TestRefusedMustBeReached(t *testing.T) {
	for _, f := range []fileSample{
		{Round: 1, Time: "2026-01-02T03:04:05.000000Z", From: "10.0.0.1", RTT: 1, Refused: true},
	} {
		if _, err := f.sample(1); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("sample %+v: error %v; want one about refused", f, err)
		}
	}
	if _, err := (fileStats{Sent: 3, Recv: 2, Refused: 3}).stats(); err == nil {
		t.Error("stats with more refusals than replies loaded; want an error")
	}
}
