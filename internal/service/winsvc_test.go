package service

import (
	"reflect"
	"strings"
	"testing"
)

func TestWinService(t *testing.T) {
	w := WinService{Name: "pingerplot-monitor", Binary: `C:\Program Files\PingerPlot\pingerplot.exe`, Config: `C:\ProgramData\PingerPlot\monitor.json`}
	if got, want := w.Args(), []string{"service", "run", `C:\ProgramData\PingerPlot\monitor.json`}; !reflect.DeepEqual(got, want) {
		t.Errorf("Args() = %q; want %q", got, want)
	}
	if got := w.Account(); got != LocalService {
		t.Errorf("Account() = %q; want %q", got, LocalService)
	}
	w.Raw = true
	if got := w.Account(); got != LocalSystem {
		t.Errorf("Account() with Raw = %q; want %q", got, LocalSystem)
	}
	if d := w.Description(); !strings.Contains(d, w.Config) || !strings.Contains(d, "source pingerplot-monitor") {
		t.Errorf("Description() = %q; want the config and the event source", d)
	}
	if d := RecoveryDelays(); len(d) != 3 || d[0] <= 0 {
		t.Errorf("RecoveryDelays() = %v; want three positive delays", d)
	}
}

func TestAdminHint(t *testing.T) {
	tests := []struct{ verb, config, want string }{
		{"install", `C:\ProgramData\PingerPlot\monitor.json`, `then run: pingerplot service install C:\ProgramData\PingerPlot\monitor.json`},
		{"stop", `C:\My Configs\m.json`, `then run: pingerplot service stop "C:\My Configs\m.json"`},
	}
	for _, tt := range tests {
		got := AdminHint(tt.verb, tt.config)
		if !strings.HasSuffix(got, tt.want) || !strings.Contains(got, "Run as administrator") {
			t.Errorf("AdminHint(%q, %q) = %q; want it to say Run as administrator and end %q", tt.verb, tt.config, got, tt.want)
		}
	}
}

func TestLineWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"one line", []string{"a\n"}, []string{"a"}},
		{"pieces make one line", []string{"ab", "c\r", "\nd"}, []string{"abc", "d"}},
		{"several in one write, empty ones dropped", []string{"x\n\ny\r\n"}, []string{"x", "y"}},
		{"overlong", []string{strings.Repeat("z", maxLine+1)}, []string{strings.Repeat("z", maxLine+1)}},
	}
	for _, tt := range tests {
		var got []string
		w := &LineWriter{Emit: func(l string) { got = append(got, l) }}
		for _, s := range tt.writes {
			if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
				t.Errorf("%s: Write(%q) = %d, %v; want %d, nil", tt.name, s, n, err, len(s))
			}
		}
		w.Flush()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: lines %q; want %q", tt.name, got, tt.want)
		}
	}
}
