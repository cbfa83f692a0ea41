package service

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestTaskXMLGolden(t *testing.T) {
	tests := []struct {
		file string
		task Task
	}{
		{"task-limited.xml", Task{Name: "PingerPlot dashboard (ann)", User: `PC\ann`, Command: `C:\Program Files\PingerPlot\pingerplot.exe`, Arguments: "ui"}},
		{"task-elevated.xml", Task{Name: "PingerPlot dashboard (ann)", User: `PC\ann & <co>`, Command: `C:\Tools\pingerplot.exe`, Arguments: "ui --no-browser", Elevated: true}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := tt.task.XML()
			if !bytes.HasPrefix(raw, []byte{0xFF, 0xFE, '<', 0}) {
				t.Fatalf("XML starts % x; want a UTF-16LE byte order mark and '<'", raw[:4])
			}
			// The golden file holds it as UTF-8 with LF, to be readable.
			golden(t, tt.file, bytes.ReplaceAll(decodeUTF16(raw), []byte("\r\n"), []byte("\n")))
		})
	}
}

// What install writes, status reads back, in both encodings schtasks may
// print.
func TestParseTaskXMLRoundTrip(t *testing.T) {
	for _, task := range []Task{
		{User: `PC\ann`, Command: `C:\Program Files\PingerPlot\pingerplot.exe`, Arguments: "ui"},
		{User: `DOM\b&b`, Command: `C:\t\pingerplot.exe`, Arguments: "ui --no-browser", Elevated: true},
	} {
		want := TaskInfo{User: task.User, Command: task.Command, Arguments: task.Arguments, RunLevel: task.runLevel(), Enabled: true}
		for name, b := range map[string][]byte{"utf16": task.XML(), "8-bit": decodeUTF16(task.XML())} {
			got, err := ParseTaskXML(b)
			if err != nil || got != want {
				t.Errorf("ParseTaskXML(%s of %+v) = %+v, %v; want %+v", name, task, got, err, want)
			}
		}
	}
}

func TestParseTaskXML(t *testing.T) {
	tests := []struct {
		name, in string
		want     TaskInfo
		err      bool
	}{
		{"made elsewhere, any user, disabled", `<?xml version="1.0" encoding="UTF-16"?><Task xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task"><Triggers><LogonTrigger/></Triggers><Settings><Enabled>false</Enabled></Settings><Actions><Exec><Command>C:\x\pingerplot.exe</Command></Exec></Actions></Task>`,
			TaskInfo{Command: `C:\x\pingerplot.exe`, RunLevel: "LeastPrivilege"}, false},
		{"no action", `<Task><Actions/></Task>`, TaskInfo{}, true},
		{"not XML", `ERROR: The system cannot find the file specified.`, TaskInfo{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTaskXML([]byte(tt.in))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("%s: ParseTaskXML = %+v, %v; want %+v, error %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func TestTaskName(t *testing.T) {
	tests := []struct{ user, want string }{
		{`PC\ann`, "PingerPlot dashboard (ann)"},
		{`ann`, "PingerPlot dashboard (ann)"},
		{`AD\j.o'brien`, "PingerPlot dashboard (j.o'brien)"},
		{`X\a:b*c?`, "PingerPlot dashboard (a_b_c_)"},
	}
	for _, tt := range tests {
		if got := TaskName(tt.user); got != tt.want {
			t.Errorf("TaskName(%q) = %q; want %q", tt.user, got, tt.want)
		}
	}
}

func TestSchtasksArgs(t *testing.T) {
	tests := []struct {
		got, want []string
	}{
		{CreateTaskArgs("PingerPlot dashboard (ann)", `C:\T\t.xml`), []string{"/Create", "/TN", "PingerPlot dashboard (ann)", "/XML", `C:\T\t.xml`, "/F"}},
		{DeleteTaskArgs("PingerPlot dashboard (ann)"), []string{"/Delete", "/TN", "PingerPlot dashboard (ann)", "/F"}},
		{QueryTaskArgs("PingerPlot dashboard (ann)"), []string{"/Query", "/TN", "PingerPlot dashboard (ann)", "/XML"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}

// Install hands schtasks the definition in a file that exists while it
// runs and is gone after; remove and query run the documented lines.
func TestTaskSchedulerFake(t *testing.T) {
	dir := t.TempDir()
	task := Task{Name: "PingerPlot dashboard (ann)", User: `PC\ann`, Command: `C:\P\pingerplot.exe`, Arguments: "ui", Elevated: true}
	var calls [][]string
	var seen []byte
	run := func(_ context.Context, name string, args ...string) ([]byte, error) {
		calls = append(calls, append([]string{name}, args...))
		switch args[0] {
		case "/Create":
			b, err := os.ReadFile(args[4])
			if err != nil {
				return nil, err
			}
			seen = b
		case "/Query":
			return decodeUTF16(task.XML()), nil
		case "/Delete":
			return []byte("ERROR: Access is denied."), errors.New("exit status 1")
		}
		return nil, nil
	}
	s := TaskScheduler{Run: run, TempDir: dir}
	ctx := context.Background()
	if err := s.Install(ctx, task); err != nil {
		t.Fatalf("Install: %v", err)
	}
	if len(calls) != 1 || calls[0][0] != "schtasks.exe" || !reflect.DeepEqual(calls[0][1:], CreateTaskArgs(task.Name, calls[0][5])) || !strings.HasPrefix(calls[0][5], dir) {
		t.Errorf("install ran %q; want schtasks.exe %q with a file in %s", calls, CreateTaskArgs(task.Name, "FILE"), dir)
	}
	if !bytes.Equal(seen, task.XML()) {
		t.Errorf("schtasks read a definition of %d bytes; want the task's XML (%d bytes)", len(seen), len(task.XML()))
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d files left in the temporary directory; want none", len(left))
	}
	ti, err := s.Query(ctx, task.Name)
	if err != nil || ti.Command != task.Command || ti.RunLevel != "HighestAvailable" {
		t.Errorf("Query = %+v, %v; want the command and HighestAvailable", ti, err)
	}
	if want := append([]string{"schtasks.exe"}, QueryTaskArgs(task.Name)...); !reflect.DeepEqual(calls[1], want) {
		t.Errorf("query ran %q; want %q", calls[1], want)
	}
	err = s.Remove(ctx, task.Name)
	if err == nil || !strings.Contains(err.Error(), "autostart status") {
		t.Errorf("Remove with schtasks refusing = %v; want an error saying what to check", err)
	}
	if want := append([]string{"schtasks.exe"}, DeleteTaskArgs(task.Name)...); !reflect.DeepEqual(calls[2], want) {
		t.Errorf("remove ran %q; want %q", calls[2], want)
	}
}
