package mv_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"

	"github.com/kumocloud/kumo/internal/mv"
)

// TestNamedVersionsSayTheirValue: V2_N is 2.N, for every name in
// versions.go, and no name lies outside the supported range.
func TestNamedVersionsSayTheirValue(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "versions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.VAR {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.CompositeLit)
				if !ok || len(lit.Elts) != 2 {
					t.Errorf("%s is not Version{major, minor}", name.Name)
					continue
				}
				major, minor := lit.Elts[0].(*ast.BasicLit), lit.Elts[1].(*ast.BasicLit)
				if want := "V" + major.Value + "_" + minor.Value; name.Name != want {
					t.Errorf("%s is %s.%s: name it %s", name.Name, major.Value, minor.Value, want)
				}
				v, err := mv.Parse(major.Value + "." + minor.Value)
				if err != nil || !mv.Supported().Contains(v) {
					t.Errorf("%s: %v is outside %v (%v)", name.Name, v, mv.Supported(), err)
				}
				named++
			}
		}
	}
	if named == 0 {
		t.Fatal("no named versions found in versions.go")
	}
}
