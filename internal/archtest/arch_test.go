// Package archtest checks the direction of imports between the project's
// packages: data flows sockets → probes → rounds → statistics → monitor →
// everything that shows or stores it, and nothing downstream reaches back.
// The check is over transitive imports (deps_test.go): a package that may
// not use the prober must not reach it through a third package either.
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
