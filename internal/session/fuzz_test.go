package session

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoad feeds Load arbitrary bytes. Load must never panic, and what it
// accepts must save, and load back to the same session: Save may not write
// what Load refuses, and Load may not accept what Save cannot keep.
func FuzzLoad(f *testing.F) {
	g := goldenText(f)
	f.Add([]byte(g))
	f.Add([]byte(g[:1234]))
	f.Add([]byte(strings.Replace(g, `"version": 1`, `"version": 2`, 1)))
	f.Add([]byte(`{"format":"pingerplot-session","version":1,"targets":[]}`))
	f.Add([]byte(`{"format":"pingerplot-session","version":1,"targets":[{"target":{"id":"a","host":"a","addr":"::1"},` +
		`"settings":{},"rounds":1,"hops":[{"ttl":1,"stats":{"sent":1,"recv":1,"best_ms":0.5,"worst_ms":0.5},` +
		`"history":[{"round":1,"time":"2026-01-01T00:00:00+02:00","from":"::ffff:1.2.3.4","rtt_ms":0.0004}]}],"events":[]}]}`))
	f.Add([]byte(`{"format":"pingerplot-session","version":1,"targets":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Load(bytes.NewReader(data))
		if err != nil {
			if !reflect.DeepEqual(s, Session{}) {
				t.Fatalf("Load returned data with error %v", err)
			}
			return
		}
		var b bytes.Buffer
		if err := Save(&b, s); err != nil {
			t.Fatalf("Load accepted what Save refuses: %v\ninput: %q", err, data)
		}
		s2, err := Load(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("Load(Save(Load(x))) = %v\nsaved: %s", err, b.Bytes())
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("a session changed through Save and Load:\n%+v\n%+v", s, s2)
		}
		var b2 bytes.Buffer
		if err := Save(&b2, s2); err != nil || !bytes.Equal(b.Bytes(), b2.Bytes()) {
			t.Fatalf("Save is not stable: %v\n%s\n%s", err, b.Bytes(), b2.Bytes())
		}
	})
}
