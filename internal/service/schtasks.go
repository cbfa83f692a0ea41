package service

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
)

// Task is the logon task that starts the dashboard.
type Task struct {
	Name string // as Task Scheduler shows it, from TaskName
	// User is the account whose logon starts the task and that it runs
	// as ("DOMAIN\user"). A task for the registering user alone is what a
	// standard user may create (MS-TSCH 3.2.5.4.2); a logon trigger for
	// any user, which `schtasks /SC ONLOGON` makes, needs an administrator.
	User      string
	Command   string // absolute path of pingerplot.exe
	Arguments string // "ui"
	// Elevated runs it with the highest privileges the user has, without a
	// UAC prompt ("Run with highest privileges"; schtasks /RL HIGHEST).
	Elevated bool
}

// TaskName names the logon task of one user: task names are machine-wide,
// so two users each get their own.
func TaskName(user string) string {
	if i := strings.LastIndexByte(user, '\\'); i >= 0 {
		user = user[i+1:]
	}
	user = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`<>:"/\|?*`, r) || r < ' ' {
			return '_'
		}
		return r
	}, user)
	return "PingerPlot dashboard (" + user + ")"
}

// runLevel is the XML spelling of schtasks' /RL LIMITED and /RL HIGHEST.
func (t Task) runLevel() string {
	if t.Elevated {
		return "HighestAvailable"
	}
	return "LeastPrivilege"
}

// XML is the task definition in the Task Scheduler schema, UTF-16 with a
// byte order mark as schtasks /XML reads it. Compared with what
// `schtasks /Create /SC ONLOGON /TR ...` makes, it differs on purpose:
// the trigger names the user (so no administrator is needed), the
// execution time limit is off (the default stops a task after 72 hours,
// which would end the dashboard on the third day), it runs on battery,
// and at normal priority (the default is below normal, which would delay
// reading replies on a busy machine).
func (t Task) XML() []byte {
	var b strings.Builder
	esc := func(s string) string {
		var e strings.Builder
		xml.EscapeText(&e, []byte(s)) //nolint:errcheck // a strings.Builder does not fail
		return e.String()
	}
	cmd := t.Command
	if strings.ContainsAny(cmd, " \t") {
		cmd = `"` + cmd + `"`
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Starts the PingerPlot dashboard when %[1]s logs on. Written by: pingerplot autostart install. Remove with: pingerplot autostart remove.</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>%[1]s</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>%[1]s</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>%[2]s</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>false</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>5</Priority>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>%[3]s</Command>
      <Arguments>%[4]s</Arguments>
    </Exec>
  </Actions>
</Task>
`, esc(t.User), t.runLevel(), esc(cmd), esc(t.Arguments))
	text := strings.ReplaceAll(b.String(), "\n", "\r\n")
	u := utf16.Encode([]rune(text))
	out := make([]byte, 2, 2+2*len(u))
	out[0], out[1] = 0xFF, 0xFE // UTF-16LE byte order mark
	for _, c := range u {
		out = append(out, byte(c), byte(c>>8))
	}
	return out
}

// Command lines of schtasks.exe (learn.microsoft.com, "schtasks create",
// "schtasks delete", "schtasks query"). /F replaces a task of the same
// name, so install twice is an update.
func CreateTaskArgs(name, xmlPath string) []string {
	return []string{"/Create", "/TN", name, "/XML", xmlPath, "/F"}
}

func DeleteTaskArgs(name string) []string { return []string{"/Delete", "/TN", name, "/F"} }

// QueryTaskArgs asks for the task's definition as XML, which, unlike the
// list formats, is not translated into the system's language.
func QueryTaskArgs(name string) []string { return []string{"/Query", "/TN", name, "/XML"} }

// TaskInfo is what ParseTaskXML reads back from a task definition.
type TaskInfo struct {
	User      string // the logon trigger's user ("" = any user)
	Command   string
	Arguments string
	RunLevel  string // "LeastPrivilege" or "HighestAvailable"
	Enabled   bool
}

// ParseTaskXML reads a task definition as schtasks /Query /XML prints it:
// UTF-16 with a byte order mark, or 8-bit text still declaring UTF-16
// (what reaches a pipe). Only the first Exec action is read.
func ParseTaskXML(b []byte) (TaskInfo, error) {
	b = decodeUTF16(b)
	// The declaration may name an encoding these bytes no longer have.
	if i := bytes.Index(b, []byte("?>")); bytes.HasPrefix(bytes.TrimSpace(b), []byte("<?xml")) && i >= 0 {
		b = b[i+2:]
	}
	var v struct {
		Triggers struct {
			Logon []struct {
				UserID string `xml:"UserId"`
			} `xml:"LogonTrigger"`
		}
		Principals struct {
			Principal []struct {
				RunLevel string
			}
		}
		Settings struct {
			Enabled *bool
		}
		Actions struct {
			Exec []struct {
				Command   string
				Arguments string
			}
		}
	}
	if err := xml.Unmarshal(b, &v); err != nil {
		return TaskInfo{}, fmt.Errorf("read the task definition: %w", err)
	}
	var ti TaskInfo
	if len(v.Actions.Exec) == 0 {
		return ti, errors.New("read the task definition: it runs no program")
	}
	ti.Command = strings.Trim(strings.TrimSpace(v.Actions.Exec[0].Command), `"`)
	ti.Arguments = strings.TrimSpace(v.Actions.Exec[0].Arguments)
	if len(v.Triggers.Logon) > 0 {
		ti.User = strings.TrimSpace(v.Triggers.Logon[0].UserID)
	}
	ti.RunLevel = "LeastPrivilege"
	if len(v.Principals.Principal) > 0 && v.Principals.Principal[0].RunLevel != "" {
		ti.RunLevel = strings.TrimSpace(v.Principals.Principal[0].RunLevel)
	}
	ti.Enabled = v.Settings.Enabled == nil || *v.Settings.Enabled
	return ti, nil
}

// decodeUTF16 turns UTF-16 (LE or BE, with a byte order mark) into UTF-8
// and returns anything else unchanged.
func decodeUTF16(b []byte) []byte {
	if len(b) < 2 {
		return b
	}
	var le bool
	switch {
	case b[0] == 0xFF && b[1] == 0xFE:
		le = true
	case b[0] == 0xFE && b[1] == 0xFF:
	default:
		return b
	}
	b = b[2:]
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if le {
			u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
		} else {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
	}
	return []byte(string(utf16.Decode(u)))
}

// TaskScheduler creates, removes and reads logon tasks with schtasks.exe.
type TaskScheduler struct {
	// Run runs schtasks; nil means Exec.
	Run Runner
	// TempDir is where the task definition is written for schtasks to
	// read; "" means os.TempDir().
	TempDir string
}

func (s TaskScheduler) run(ctx context.Context, args ...string) ([]byte, error) {
	run := s.Run
	if run == nil {
		run = Exec
	}
	return run(ctx, "schtasks.exe", args...)
}

// Install registers t, replacing a task of the same name.
func (s TaskScheduler) Install(ctx context.Context, t Task) error {
	f, err := os.CreateTemp(s.TempDir, "pingerplot-task-*.xml")
	if err != nil {
		return fmt.Errorf("write the task definition: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(t.XML()); err != nil {
		f.Close()
		return fmt.Errorf("write the task definition: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the task definition: %w", err)
	}
	if _, err := s.run(ctx, CreateTaskArgs(t.Name, filepath.Clean(f.Name()))...); err != nil {
		return fmt.Errorf("create the logon task: %w", err)
	}
	return nil
}

// Remove deletes the named task.
func (s TaskScheduler) Remove(ctx context.Context, name string) error {
	if _, err := s.run(ctx, DeleteTaskArgs(name)...); err != nil {
		return fmt.Errorf("delete the logon task %q (pingerplot autostart status shows whether there is one): %w", name, err)
	}
	return nil
}

// Query reads the named task back. A task that does not exist is an
// error: schtasks says so only in the system's language, so the caller
// shows its words.
func (s TaskScheduler) Query(ctx context.Context, name string) (TaskInfo, error) {
	out, err := s.run(ctx, QueryTaskArgs(name)...)
	if err != nil {
		return TaskInfo{}, err
	}
	return ParseTaskXML(out)
}
