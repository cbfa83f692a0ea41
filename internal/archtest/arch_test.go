// Package archtest checks the direction of imports between the project's
// packages: data flows sockets → probes → rounds → statistics → monitor →
// everything that shows or stores it, and nothing downstream reaches back.
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const mod = "github.com/pingerplot/pingerplot/internal/"

// forbidden lists, per package, the packages its non-test files must not
// import (directly).
var forbidden = map[string][]string{
	"packet":    {"probe", "trace", "hopstat", "monitor", "alert", "cli", "report", "lab"},
	"hopstat":   {"probe", "trace", "monitor", "cli", "report", "lab", "packet"},
	"alert":     {"probe", "trace", "monitor", "cli", "report", "lab", "packet"},
	"probe":     {"trace", "hopstat", "monitor", "alert", "cli", "report", "resolve", "lab"},
	"trace":     {"hopstat", "monitor", "alert", "cli", "report", "resolve", "lab"},
	"resolve":   {"probe", "trace", "monitor", "cli", "report", "lab"},
	"report":    {"probe", "monitor", "cli", "lab"},
	"monitor":   {"cli", "report", "lab", "csvlog", "notify", "session", "web", "metrics", "recorder", "tui"},
	"csvlog":    {"cli", "lab", "web"},
	"notify":    {"cli", "lab", "web"},
	"session":   {"cli", "lab", "web", "probe"},
	"config":    {"cli", "lab", "web", "probe"},
	"privilege": {"probe", "trace", "monitor", "cli"},
	"geo":       {"probe", "trace", "monitor", "cli", "report", "web", "lab"},
	"lab":       {"probe", "trace", "hopstat", "monitor", "cli", "report"},
	// A subscriber like the others: the monitor feeds it, it feeds no one.
	"metrics": {"cli", "lab", "web", "report", "csvlog", "notify", "session", "recorder", "config"},
	// The terminal UI is a subscriber too: it shows snapshots and events
	// and stores nothing; cli wires it, never the reverse.
	"tui": {"cli", "lab", "web", "csvlog", "notify", "session", "recorder", "metrics"},
	// A leaf: the caches that use it know what they look up; it does not.
	"workqueue": {"packet", "probe", "trace", "hopstat", "alert", "monitor", "cli", "report", "resolve", "geo", "web", "lab"},
}

func TestImportDirection(t *testing.T) {
	root := filepath.Join("..")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		bans, ok := forbidden[e.Name()]
		if !ok {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(root, e.Name(), "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range bans {
					if path == mod+b || strings.HasPrefix(path, mod+b+"/") {
						t.Errorf("%s imports %s: %s must not depend on %s (see docs/architecture.md)", f, path, e.Name(), b)
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d files; the package layout moved?", checked)
	}
}

// TestNoProductImportsLab: the lab and the end-to-end tests are test
// infrastructure; no product package may import them outside tests.
func TestNoProductImportsLab(t *testing.T) {
	err := filepath.Walk(filepath.Join(".."), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if strings.Contains(path, "/lab/") || strings.Contains(path, "/e2e/") {
			return nil
		}
		af, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == mod+"lab" || p == mod+"e2e" {
				t.Errorf("%s imports %s, which is test infrastructure", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
