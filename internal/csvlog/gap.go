package csvlog

import (
	"strconv"
	"time"
)

// GapStatus is the status of a probe-log row that stands for rounds that
// were not recorded (docs/csv-log.md): the recorder fell behind and the
// monitor no longer held them.
const GapStatus = "gap"

// WriteGap appends the row that marks rounds first, first+1, ... of target
// as not recorded, up to the target's next logged round: time is when the
// gap began as far as it is known, round is first, the probe columns are
// empty and status is GapStatus. A round that is in the log is never
// covered by a gap row, so a reader sees every round or the gap row that
// says it is missing.
func (l *Log) WriteGap(target string, first int, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := at.UTC().AppendFormat(l.buf[:0], timeLayout)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(first), 10)
	b = append(b, ',')
	b = appendField(b, target)
	b = append(b, ",,,,,"...)
	b = append(b, GapStatus...)
	b = append(b, '\n')
	l.buf = b
	return l.w.write(b)
}
