package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// instancesSQL matches SQL that reads or writes the instances table.
var instancesSQL = regexp.MustCompile(`(?i)\b(FROM|JOIN|UPDATE|INTO)\s+instances\b`)

// instancesOwners may hold SQL on the instances table: the compute domain
// and the store's migrations. Other domains ask compute (compute.Inventory)
// through an interface of their own.
var instancesOwners = []string{"internal/compute/", "internal/store/"}

// TestDomainBoundaries keeps the boundaries of docs/ARCHITECTURE.md: the
// API handlers talk to domain services, never to the store, and SQL on
// the instances table lives in the compute package.
func TestDomainBoundaries(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	err = filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		if strings.HasPrefix(rel, "internal/api/") {
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/kumocloud/kumo/internal/store" {
					t.Errorf("%s imports internal/store: handlers call domain services", rel)
				}
			}
		}
		if owner(rel, instancesOwners) {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && instancesSQL.MatchString(lit.Value) {
				t.Errorf("%s has SQL on the instances table: ask the compute package (compute.Inventory)", rel)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read %d Go files under %s/internal; is the walk rooted right?", files, root)
	}
}

func owner(rel string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(rel, p) {
			return true
		}
	}
	return false
}

// TestInstancesSQLPattern: the boundary test's pattern finds SQL on the
// instances table and leaves other tables and prose alone.
func TestInstancesSQLPattern(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"SELECT id FROM instances WHERE host = ?", true},
		{"JOIN instances i ON i.id = m.instance_id", true},
		{"UPDATE instances SET security_groups = ?", true},
		{"insert into instances (id) values (?)", true},
		{"SELECT * FROM instance_actions", false},
		{"list addresses of %d instances: %w", false},
		{"Failed to launch instances: max_count", false},
	} {
		if got := instancesSQL.MatchString(tc.text); got != tc.want {
			t.Errorf("%q: match %v, want %v", tc.text, got, tc.want)
		}
	}
}
