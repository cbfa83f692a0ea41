//go:build !linux

package lab

func (l *Lab) SetStamp(i int, s Stamp) error { return errUnsupported }
func (l *Lab) Stamped(i int) (uint64, error) { return 0, errUnsupported }
