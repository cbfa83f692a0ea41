package csvlog

import (
	"strconv"
	"sync"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// EventHeader is the first line of every event log file, format version 1.
const EventHeader = "time,target,kind,ttl,message,condition,value,threshold"

// EventLog is a CSV event log: one row per monitor.Event, with the crash
// safety, caps and retries of the probe log. It is safe for concurrent use.
type EventLog struct {
	w   *writer
	mu  sync.Mutex
	buf []byte
}

// OpenEvents opens or creates the event log at cfg.Path; it fails for
// the same reasons as Open.
func OpenEvents(cfg Config) (*EventLog, error) { return openEvents(cfg, nil) }

func openEvents(cfg Config, openFile func(string) (file, error)) (*EventLog, error) {
	w, err := newWriter(cfg, "event log", []byte(EventHeader+"\n"), openFile)
	if err != nil {
		return nil, err
	}
	return &EventLog{w: w}, nil
}

// Write appends e as one row with one write. Errors are as WriteRound's.
func (l *EventLog) Write(e monitor.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = appendEvent(l.buf[:0], e)
	return l.w.write(l.buf)
}

// Close closes the file. Later writes fail.
func (l *EventLog) Close() error { return l.w.close() }

func appendEvent(b []byte, e monitor.Event) []byte {
	b = e.Time.UTC().AppendFormat(b, timeLayout)
	b = append(b, ',')
	b = appendField(b, string(e.Target))
	b = append(b, ',')
	b = appendField(b, string(e.Kind))
	b = append(b, ',')
	if e.TTL != 0 {
		b = strconv.AppendInt(b, int64(e.TTL), 10)
	}
	b = append(b, ',')
	b = appendField(b, e.Message)
	b = append(b, ',')
	if e.Condition != "" {
		b = appendField(b, string(e.Condition))
		b = append(b, ',')
		b = strconv.AppendFloat(b, e.Value, 'f', 3, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, e.Threshold, 'f', 3, 64)
	} else {
		b = append(b, ',', ',')
	}
	return append(b, '\n')
}
