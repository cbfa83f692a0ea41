package session

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// bigSession is one 30-hop target with a full default history (3600
// rounds per hop).
func bigSession(b testing.TB) Session {
	addr := netip.MustParseAddr("192.0.2.30")
	const rounds, hops = monitor.DefaultHistory, 30
	r := Record{
		Target: monitor.Target{ID: "big", Host: "big.example", Addr: addr, Settings: settings(b, config.Options{}, addr)},
		Rounds: rounds, Started: t0, Last: t0.Add(rounds * time.Second),
	}
	for ttl := 1; ttl <= hops; ttl++ {
		from := netip.MustParseAddr(fmt.Sprintf("10.0.%d.1", ttl))
		h := monitor.Hop{Hop: hopstat.Hop{TTL: ttl, Reached: ttl == hops, Stats: stats(rounds, 10*time.Millisecond)}}
		h.Stats.Sent = rounds
		for n := 1; n <= rounds; n++ {
			h.History = append(h.History, monitor.Sample{Round: n, Time: t0.Add(time.Duration(n) * time.Second),
				From: from, RTT: time.Duration(ttl)*time.Millisecond + time.Duration(n)*time.Microsecond})
		}
		r.Hops = append(r.Hops, h)
	}
	return Session{Records: []Record{r}}
}

func BenchmarkSave(b *testing.B) {
	s := bigSession(b)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Save(&buf, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB/file")
}

func BenchmarkLoad(b *testing.B) {
	var buf bytes.Buffer
	if err := Save(&buf, bigSession(b)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	for b.Loop() {
		if _, err := Load(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
