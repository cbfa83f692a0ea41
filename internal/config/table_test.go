package config

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestTableDrivesValidation changes bounds and modes in a copy of Table
// and checks that validation follows the copy, not rules of its own.
func TestTableDrivesValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(t []Option) // applied to the copy
		in     Options
		before string // the problem with Table; "" for none
		after  string // the problem with the edited copy
	}{
		{"history maximum lowered", func(tb []Option) { setMax(tb, "history", 100) },
			Options{History: new(200)}, "", "history: 200 is out of range: want 1 to 100"},
		{"history maximum raised", func(tb []Option) { setMax(tb, "history", 1<<21) },
			Options{History: new(1<<20 + 1)}, "history: 1048577 is out of range: want 1 to 1048576", ""},
		{"interval minimum raised", func(tb []Option) { setMin(tb, "interval", 1) },
			Options{Interval: new(Seconds(MinInterval))}, "", "interval: 0.05 s is out of range: want from 1 s to 86400 s"},
		{"port for icmp too", func(tb []Option) { at(tb, "port").Modes = nil },
			Options{Port: new(80)}, `port: only udp and tcp probes use a port; set "mode" to "udp" or "tcp", or remove "port"`, ""},
		{"first_ttl free of max_hops", func(tb []Option) { at(tb, "first_ttl").AtMost = "" },
			Options{FirstTTL: new(40)}, "first_ttl: 40 is above max_hops (30)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := func(tb []Option) string {
				var p problems
				tt.in.checkWith(tb, "", &p)
				tt.in.checkTogetherWith(tb, "", &p)
				return strings.Join(p, "; ")
			}
			if got := run(Table()); got != tt.before {
				t.Errorf("with Table: got %q; want %q", got, tt.before)
			}
			tb := Table()
			tt.edit(tb)
			if got := run(tb); got != tt.after {
				t.Errorf("with the edited copy: got %q; want %q", got, tt.after)
			}
		})
	}
}

func at(tb []Option, key string) *Option {
	for i := range tb {
		if tb[i].Key == key {
			return &tb[i]
		}
	}
	panic("no option " + key)
}

func setMax(tb []Option, key string, v float64) { at(tb, key).Max = &v }
func setMin(tb []Option, key string, v float64) { at(tb, key).Min = &v }

// TestTableCoversOptions checks that every field of Options has exactly
// one row, so a new field cannot bypass the table.
func TestTableCoversOptions(t *testing.T) {
	full := Options{}
	v := reflect.ValueOf(&full).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		f.Set(reflect.New(f.Type().Elem()))
	}
	got := map[string]int{}
	for _, op := range Table() {
		if _, set := op.field.value(&full); set {
			got[op.Key]++
		}
		op.field.clear(&full)
	}
	if !reflect.DeepEqual(full, Options{}) {
		t.Errorf("fields left after clearing every row: %+v; want none", full)
	}
	if n := v.NumField(); len(got) != n {
		t.Errorf("rows that reach a field: got %d; want %d (one per field of Options)", len(got), n)
	}
}

// TestTableDefaults checks the table's defaults against what Settings
// fills in for unset options.
func TestTableDefaults(t *testing.T) {
	s, err := Options{}.Settings()
	if err != nil {
		t.Fatal(err)
	}
	o := FromSettings(s)
	for _, op := range Table() {
		v, set := op.field.value(&o)
		if op.Default == nil || !set {
			continue
		}
		if !reflect.DeepEqual(normal(v), normal(op.Default)) {
			t.Errorf("%s: Settings fills in %v; want the table's default %v", op.Key, v, op.Default)
		}
	}
	for mode, want := range PortOption().DefaultByMode {
		s, err := Options{Mode: new(mode)}.Settings()
		if err != nil {
			t.Fatal(err)
		}
		if got := int(s.Trace.Port); got != want {
			t.Errorf("port for %s: got %d; want %d", mode, got, want)
		}
	}
}

func normal(v any) any {
	if n, ok := toFloat(v); ok {
		return n
	}
	return v
}

// TestTableJSON checks what GET /api/options serves: every key, and the
// bounds as numbers.
func TestTableJSON(t *testing.T) {
	b, err := json.Marshal(Table())
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(optionKeys()) {
		t.Fatalf("got %d options; want %d", len(got), len(optionKeys()))
	}
	h := got[indexOf(optionKeys(), "history")]
	if h["key"] != "history" || h["max"] != float64(MaxHistory) || h["min"] != 1.0 {
		t.Errorf("history = %v; want key history, min 1, max %d", h, MaxHistory)
	}
	p := got[indexOf(optionKeys(), "port")]
	if !reflect.DeepEqual(p["modes"], []any{"udp", "tcp"}) {
		t.Errorf("port modes = %v; want [udp tcp]", p["modes"])
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// TestDocsOptionTable checks docs/config.md's option table against Table:
// the same keys in the same order, and the type, default and range
// columns as the table describes them.
func TestDocsOptionTable(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	in := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### Options"):
			in = true
		case in && strings.HasPrefix(line, "#"):
			in = false
		case in && strings.HasPrefix(line, "| `"):
			cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	tb := Table()
	if len(rows) != len(tb) {
		t.Errorf("docs/config.md lists %d options; want %d", len(rows), len(tb))
	}
	for i := 0; i < len(rows) && i < len(tb); i++ {
		op, r := tb[i], rows[i]
		want := []string{"`" + op.Key + "`", docType(op), op.describeDefault(), op.describeRange()}
		if len(r) < 5 {
			t.Errorf("row %d: got %q; want 5 columns", i, r)
			continue
		}
		if got := r[:4]; !reflect.DeepEqual(got, want) {
			t.Errorf("row %d: got %q; want %q", i, strings.Join(got, " | "), strings.Join(want, " | "))
		}
	}
}

// docType is the Type column: the table's type, as the docs name it.
func docType(op Option) string { return op.Type }

func TestMergeEdit(t *testing.T) {
	tcp443 := Options{Mode: new("tcp"), Port: new(443)}
	tests := []struct {
		name       string
		base, over Options
		wantPort   *int // nil: unset
		wantMode   string
	}{
		{"new mode without a port drops the old port", tcp443, Options{Mode: new("udp")}, nil, "udp"},
		{"new mode with a port keeps it", tcp443, Options{Mode: new("udp"), Port: new(53)}, new(53), "udp"},
		{"same mode keeps the port", tcp443, Options{Mode: new("TCP")}, new(443), "TCP"},
		{"icmp drops an inherited port", Options{Port: new(443)}, Options{Interval: new(Seconds(2e9))}, nil, "icmp"},
		{"a port given with icmp stays, for Settings to refuse", Options{}, Options{Port: new(443)}, new(443), "icmp"},
		{"another key keeps the port", tcp443, Options{Size: new(100)}, new(443), "tcp"},
	}
	for _, tt := range tests {
		got := tt.base.MergeEdit(tt.over)
		if !reflect.DeepEqual(got.Port, tt.wantPort) || got.mode() != strings.ToLower(tt.wantMode) {
			t.Errorf("%s: got port %v, mode %s; want port %v, mode %s", tt.name, deref(got.Port), got.mode(), deref(tt.wantPort), tt.wantMode)
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestTableModeFirst checks that "mode" comes before every option that
// depends on it: FromSettings reads the rows in order.
func TestTableModeFirst(t *testing.T) {
	keys := optionKeys()
	mode := indexOf(keys, "mode")
	for i, op := range Table() {
		if op.Modes != nil && i < mode {
			t.Errorf("%s is row %d; want it after mode (row %d)", op.Key, i, mode)
		}
	}
}
