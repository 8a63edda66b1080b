package spec

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// codeNames maps this package's Code constant names to their values, read
// from spec.go itself so the test cannot drift from it.
func codeNames(t *testing.T) map[string]Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "spec.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Code{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				u, ok := vs.Values[i].(*ast.UnaryExpr)
				if !ok {
					continue
				}
				lit := u.X.(*ast.BasicLit)
				v, _ := strconv.Atoi(lit.Value)
				out[n.Name] = Code(-v)
			}
		}
	}
	return out
}

// TestEveryEmittedCodeIsServed scans every non-test Go file of the module
// for references to spec's code constants (the only way code emits a code)
// and checks each is in every coin's served catalog. It also forbids raw
// numeric codes outside this package.
func TestEveryEmittedCodeIsServed(t *testing.T) {
	names := codeNames(t)
	if len(names) < 18 {
		t.Fatalf("found only %d code constants", len(names))
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // a nested module (integration/nodes)
				}
			}
			if strings.HasPrefix(d.Name(), ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inSpec := filepath.Dir(path) == filepath.Join(root, "spec")
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "spec" {
					if _, isCode := names[x.Sel.Name]; isCode {
						used[x.Sel.Name] = append(used[x.Sel.Name], fset.Position(x.Pos()).String())
					}
				}
			case *ast.UnaryExpr:
				if lit, ok := x.X.(*ast.BasicLit); ok && x.Op == token.SUB && lit.Kind == token.INT && !inSpec {
					if v, _ := strconv.Atoi(lit.Value); v >= 32000 && v <= 32768 {
						t.Errorf("%s: raw error code -%d; use a spec constant", fset.Position(x.Pos()), v)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) == 0 {
		t.Fatal("no spec codes referenced anywhere: the scan is broken")
	}
	for _, coin := range []string{"btc", "bch", "ltc"} {
		cat, err := Load(coin, false)
		if err != nil {
			t.Fatal(err)
		}
		for name, where := range used {
			code := names[name]
			if Cataloged(code) && !cat.Has(code) {
				t.Errorf("%s: spec.%s (%d) is emitted at %v but not in the catalog", coin, name, code, where)
			}
		}
	}
}
