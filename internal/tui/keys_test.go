package tui

import (
	"slices"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   []string // successive reads
		want []Action
	}{
		{"q", []string{"q"}, []Action{Quit}},
		{"Q", []string{"Q"}, []Action{Quit}},
		{"ctrl-c", []string{"\x03"}, []Action{Quit}},
		{"p", []string{"p"}, []Action{Pause}},
		{"r", []string{"r"}, []Action{Reset}},
		{"n", []string{"n"}, []Action{Names}},
		{"d", []string{"d"}, []Action{Display}},
		{"?", []string{"?"}, []Action{Help}},
		{"h", []string{"h"}, []Action{Help}},
		{"tab", []string{"\t"}, []Action{Next}},
		{"shift-tab", []string{"\x1b[Z"}, []Action{Prev}},
		{"shift-tab split across reads", []string{"\x1b", "[", "Z"}, []Action{Prev}},
		{"ctrl-l", []string{"\x0c"}, []Action{Redraw}},
		{"e", []string{"e"}, []Action{Ext}},
		{"E", []string{"E"}, []Action{Ext}},
		{"digits", []string{"19"}, []Action{Select1, Select1 + 8}},
		{"zero and letters mean nothing", []string{"0xyz"}, nil},
		{"arrow keys mean nothing", []string{"\x1b[A\x1bOB\x1b[1;5C"}, nil},
		{"lone ESC keeps the next key", []string{"\x1b", "q"}, []Action{Quit}},
		{"several keys in one read", []string{"dnp\tq"}, []Action{Display, Names, Pause, Next, Quit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			var got []Action
			for _, in := range tt.in {
				got = append(got, d.Decode([]byte(in))...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Decode(%q) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		from    View
		a       Action
		targets int
		want    View
	}{
		{"names on", View{}, Names, 1, View{Names: true}},
		{"names off", View{Names: true}, Names, 1, View{}},
		{"display cycles to strip", View{}, Display, 1, View{Mode: Strip}},
		{"display cycles back", View{Mode: Strip}, Display, 1, View{Mode: Stats}},
		{"help", View{}, Help, 1, View{Help: true}},
		{"pause", View{}, Pause, 1, View{Paused: true}},
		{"resume", View{Paused: true}, Pause, 1, View{}},
		{"next wraps", View{Target: 2}, Next, 3, View{Target: 0}},
		{"prev wraps", View{Target: 0}, Prev, 3, View{Target: 2}},
		{"select 2", View{}, Select1 + 1, 3, View{Target: 1}},
		{"select beyond the targets", View{Target: 1}, Select1 + 5, 3, View{Target: 1}},
		{"a key clears the message", View{Message: "reset"}, None, 1, View{}},
		{"reset and quit change no view", View{Names: true}, Reset, 1, View{Names: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.from.Apply(tt.a, tt.targets); got != tt.want {
				t.Errorf("%+v.Apply(%v, %d) = %+v; want %+v", tt.from, tt.a, tt.targets, got, tt.want)
			}
		})
	}
}
