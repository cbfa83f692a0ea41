package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pingerplot/pingerplot/internal/atomicfile"
)

// UserSettings are what the app remembers between launches: engine options
// and alert thresholds for new targets, the target list with each target's
// own overrides, and the interface's preferences. They live in
// settings.json in DefaultDir.
type UserSettings struct {
	Version        int           // "version": Version when saved; a newer one is refused
	Defaults       Options       // "defaults": options every target starts from
	Targets        []TargetEntry // "targets": the target list, with overrides
	Theme          string        // "theme": "dark" or "light"; "" reads as dark
	ResumeOnLaunch bool          // "resume_on_launch": start the targets again on launch
	Sound          bool          // "sound": beep when an alert raises
	// OnlineLookups allows the Map tab, while it is open, to ask ipwho.is
	// where public hop addresses are ("online_lookups"; off by default).
	OnlineLookups bool
	// GeoDBs are offline .mmdb/.csv location and ASN databases to read
	// besides those in the config directory's geo folder ("geo_dbs").
	GeoDBs []string
	// History is where the dashboard keeps every round ("history"; on
	// by default).
	History History
}

// DefaultUser returns the settings of a first launch.
func DefaultUser() UserSettings {
	return UserSettings{Version: Version, Theme: "dark", Sound: true}
}

// SettingsFile is the user settings file's name inside its directory.
const SettingsFile = "settings.json"

// DefaultDir returns where user settings live: os.UserConfigDir()/pingerplot
// (~/.config/pingerplot on Linux, %AppData%\pingerplot on Windows). On
// Windows that is the roaming profile, which is right for a small file of
// preferences that should follow the user; downloaded databases and
// caches go to %LocalAppData% instead (geo.DefaultDir, geo.DefaultCacheFile).
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "pingerplot"), nil
}

// LoadUser reads the user settings in dir. A missing file is a first
// launch: DefaultUser and no error. A file that cannot be used (corrupt,
// invalid, or from a newer PingerPlot) returns DefaultUser and an error
// saying so, for the caller to show; LoadUser never changes the file.
// The next SaveUser keeps it aside (see SaveUser), so nothing a person
// edited by hand is lost silently.
func LoadUser(dir string) (UserSettings, error) {
	path := filepath.Join(dir, SettingsFile)
	data, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultUser(), nil
	}
	if err != nil {
		return DefaultUser(), err
	}
	s, p, _ := parseUser(data)
	if err := p.err(path); err != nil {
		return DefaultUser(), fmt.Errorf("%w\nusing the default settings; the file is kept as it is until settings are next saved, then moved aside", err)
	}
	return s, nil
}

// SaveUser validates s and atomically replaces the settings file in dir,
// creating dir if needed. If the file there now is one LoadUser would
// refuse, it is first renamed, never overwritten: a corrupt or invalid
// file to settings.json.corrupt-<its modification time>, a newer
// version's file to settings.json.v<N>-<time>. The file is private to the
// user (0600): webhook URLs carry tokens.
func SaveUser(dir string, s UserSettings) error {
	var p problems
	s.check(&p)
	if err := p.err("settings"); err != nil {
		return err
	}
	s.Version = Version
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fileUser(s)); err != nil {
		return err
	}
	data := buf.Bytes()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, SettingsFile)
	if err := keepUnreadable(path); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// keepUnreadable renames the file at path aside if LoadUser would refuse it.
func keepUnreadable(path string) error {
	data, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	suffix := "corrupt"
	if err == nil {
		_, p, newer := parseUser(data)
		if len(p) == 0 {
			return nil
		}
		if newer > 0 {
			suffix = "v" + strconv.Itoa(newer)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	base := fmt.Sprintf("%s.%s-%s", path, suffix, fi.ModTime().UTC().Format("20060102T150405Z"))
	aside := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	return os.Rename(path, aside)
}

// userFile is the file layout of UserSettings, keys in the order written.
type userFile struct {
	Version        int           `json:"version"`
	Theme          string        `json:"theme"`
	ResumeOnLaunch bool          `json:"resume_on_launch"`
	Sound          bool          `json:"sound"`
	OnlineLookups  bool          `json:"online_lookups"`
	GeoDBs         []string      `json:"geo_dbs"`
	History        History       `json:"history"`
	Defaults       Options       `json:"defaults"`
	Targets        []TargetEntry `json:"targets"`
}

func fileUser(s UserSettings) userFile {
	if s.Targets == nil {
		s.Targets = []TargetEntry{}
	}
	if s.Theme == "" {
		s.Theme = "dark"
	}
	if s.GeoDBs == nil {
		s.GeoDBs = []string{}
	}
	return userFile{s.Version, s.Theme, s.ResumeOnLaunch, s.Sound, s.OnlineLookups, s.GeoDBs, s.History, s.Defaults, s.Targets}
}

var userKeys = []string{"version", "theme", "resume_on_launch", "sound", "online_lookups", "geo_dbs", "history", "defaults", "targets"}

// MarshalJSON writes the settings as the settings file does.
func (s UserSettings) MarshalJSON() ([]byte, error) { return json.Marshal(fileUser(s)) }

// UnmarshalJSON reads settings strictly and validates them, as LoadUser.
func (s *UserSettings) UnmarshalJSON(b []byte) error {
	v, p, _ := parseUser(b)
	if err := p.err(""); err != nil {
		return err
	}
	*s = v
	return nil
}

// parseUser reads a settings file; newer is the file's version when it is
// newer than Version.
func parseUser(data []byte) (s UserSettings, p problems, newer int) {
	s = DefaultUser()
	if err := checkSyntax(data); err != nil {
		p.add("", "%v", err)
		return s, p, 0
	}
	ms, err := members(data)
	if err != nil {
		p.add("", "%v", err)
		return s, p, 0
	}
	if !checkVersion(ms, &p) {
		var v int
		for _, m := range ms {
			if m.key == "version" {
				_ = json.Unmarshal(m.val, &v) // checkVersion read it already
			}
		}
		if v > Version {
			newer = v
		}
		return s, p, newer
	}
	for _, m := range ms {
		var err error
		switch {
		case isComment(m.key), m.key == "version":
		case m.key == "theme":
			err = decodeValue(m.val, &s.Theme, `"dark" or "light"`)
		case m.key == "resume_on_launch":
			err = decodeValue(m.val, &s.ResumeOnLaunch, wantBool)
		case m.key == "sound":
			err = decodeValue(m.val, &s.Sound, wantBool)
		case m.key == "online_lookups":
			err = decodeValue(m.val, &s.OnlineLookups, wantBool)
		case m.key == "geo_dbs":
			err = decodeValue(m.val, &s.GeoDBs, "a list of file paths")
		case m.key == "history":
			s.History = decodeHistory(m.val, "", &p)
		case m.key == "defaults":
			s.Defaults.decode(m.val, nil, "defaults", &p)
		case m.key == "targets":
			l, lerr := list(m.val)
			if lerr != nil {
				err = lerr
				break
			}
			for i, raw := range l {
				s.Targets = append(s.Targets, decodeEntry(raw, entryLabel(i, rawHost(raw)), &p))
			}
		default:
			p.add("", "%s", unknownKey(m.key, userKeys))
		}
		if err != nil {
			p.add("", "%s: %v", m.key, err)
		}
	}
	if len(s.GeoDBs) == 0 {
		s.GeoDBs = nil // one spelling of "none", whether the file had [] or nothing
	}
	if len(p) == 0 {
		s.check(&p)
	}
	return s, p, 0
}

// check validates settings as a whole.
func (s UserSettings) check(p *problems) {
	if s.Theme != "" && s.Theme != "dark" && s.Theme != "light" {
		p.add("", "theme: %q is not a theme; want \"dark\" or \"light\"", s.Theme)
	}
	resolve(s.Defaults, s.Targets, "", p)
}

// Resolve returns the settings' targets ready for the monitor (see the
// function Resolve); relative log paths are taken from dir.
func (s UserSettings) Resolve(dir string) ([]Resolved, error) {
	return Resolve(s.Defaults, s.Targets, dir)
}
