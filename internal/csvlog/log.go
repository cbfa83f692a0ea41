// Package csvlog owns the records that must survive a crash: the CSV probe
// log (one row per probe), the CSV event log (one row per monitor event)
// and the CSV summary export of a target's per-hop table.
//
// The logs are crash-safe and size-capped. Every row is one line: fields
// never contain a line break (one is replaced by a space). A round, or an
// event, is appended with a single write(2) to a file opened with O_APPEND,
// so a kill -9 loses at most the write in flight, and opening a log cuts a
// torn last line (a kill mid-write, a partial write on a full disk) back to
// the last newline before appending. A file whose first line is not the
// expected header is not ours and is never written. Before a write would
// take a file past Config.MaxBytes the files rotate: log.csv becomes
// log.1.csv, log.1.csv becomes log.2.csv, and so on up to MaxFiles files;
// the oldest is deleted. A full disk or unwritable path makes the write
// return an error saying what to do; the log tries the file again at most
// once per Config.RetryAfter and carries on once the condition clears.
//
// Format version 1 of each file is identified by its exact header row
// (ProbeHeader, EventHeader): a later version changes the header, so a
// reader can tell the versions apart, and only adds columns at the end.
// docs/csv-log.md describes every column.
//
// This package reads monitor events and snapshots and trace rounds; it
// must not import socket code (internal/probe is used for its Kind names
// only) nor be imported by internal/monitor: the records see the
// monitor, never the other way round.
package csvlog

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// ProbeHeader is the first line of every probe log file, format version 1.
const ProbeHeader = "time,round,target,ttl,responder,host,rtt_ms,status"

// timeLayout is RFC 3339 with microseconds; times are written in UTC.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// Log is a CSV probe log. It is safe for concurrent use, so targets may
// share one (rows name their target); a path must be opened only once.
type Log struct {
	w   *writer
	mu  sync.Mutex
	buf []byte
}

// Open opens or creates the probe log at cfg.Path, repairing a torn last
// line. It fails only for what retrying cannot fix: an invalid Config, a
// file that is not a PingerPlot probe log (ErrForeign) or a path another
// open log holds. A path that cannot be written now (no permission, a full
// disk) is not an Open error: the first WriteRound reports it and later
// ones retry.
func Open(cfg Config) (*Log, error) { return openLog(cfg, nil) }

func openLog(cfg Config, openFile func(string) (file, error)) (*Log, error) {
	w, err := newWriter(cfg, "probe log", []byte(ProbeHeader+"\n"), openFile)
	if err != nil {
		return nil, err
	}
	return &Log{w: w}, nil
}

// WriteRound appends one row per probe of r for target, all with one
// write. name gives the reverse-DNS name of a responder, "" if unknown;
// it must not block (a cache lookup). nil means no names. An error says
// what went wrong and what to do; the rows of r are then lost, but the
// Log keeps going: it retries the file on a later call.
func (l *Log) WriteRound(target string, r trace.Round, name func(netip.Addr) string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = appendRound(l.buf[:0], target, r, name)
	if len(l.buf) == 0 {
		return nil
	}
	return l.w.write(l.buf)
}

// Close closes the file. Later writes fail.
func (l *Log) Close() error { return l.w.close() }

func appendRound(b []byte, target string, r trace.Round, name func(netip.Addr) string) []byte {
	for _, h := range r.Hops {
		rep := h.Reply
		t := rep.Sent
		if t.IsZero() {
			t = r.Start
		}
		b = t.UTC().AppendFormat(b, timeLayout)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(r.Index), 10)
		b = append(b, ',')
		b = appendField(b, target)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(h.TTL), 10)
		b = append(b, ',')
		if rep.From.IsValid() {
			b = rep.From.AppendTo(b)
			b = append(b, ',')
			if name != nil {
				b = appendField(b, name(rep.From))
			}
		} else {
			b = append(b, ',')
		}
		b = append(b, ',')
		if answered(rep.Kind) {
			b = appendMs(b, rep.RTT)
		}
		b = append(b, ',')
		b = append(b, status(rep)...)
		b = append(b, '\n')
	}
	return b
}

// StatusRefused is the probe log status of a TCP destination that refused
// the connection (RST): the host answered, the port is closed. It is
// apart from "reached" so that no reader of the log counts a closed port
// as up.
const StatusRefused = "refused"

// status is the probe log's status column for rep.
func status(rep result.Reply) string {
	if rep.Kind == result.Reached && rep.Closed {
		return StatusRefused
	}
	return rep.Kind.String()
}

// answered reports whether a reply of kind k carries an RTT.
func answered(k result.Kind) bool {
	return k == result.TimeExceeded || k == result.Reached || k == result.Unreachable
}

func appendMs(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 3, 64)
}

// appendField appends s as one CSV field (RFC 4180, as encoding/csv
// writes it), with any line break replaced by a space so that a row is
// always exactly one line: the torn-line repair relies on it.
func appendField(b []byte, s string) []byte {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
	}
	if !fieldNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func fieldNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || s[0] == ' ' || s[0] == '\t' {
		return true
	}
	return strings.ContainsAny(s, `,"`)
}
