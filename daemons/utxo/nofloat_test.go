package utxo

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// floatAllowed lists the uses of floating point in the module's non-test
// code, by file (relative to the module root) and enclosing function ("" for
// package level), with the reason each is not money. Amounts, fees and fee
// rates are integers of satoshis parsed exactly (coins/amount); a new float
// anywhere else fails TestNoFloatForMoney.
var floatAllowed = map[string]string{
	"daemons/base/metrics.go:newMetrics":          "Prometheus histogram buckets and gauge callbacks (seconds, client counts)",
	"daemons/utxo/daemon.go:registerMetrics":      "Prometheus gauge callbacks (wallet counts, heights, booleans)",
	"integration/daemon/daemon.go:Seq":            "test helper: the event seq of a frame decoded into map[string]any",
	"integration/bench/*":                         "the load tool's latency, throughput and memory statistics",
	"integration/benchcheck/*":                    "benchmark timings (ns/op medians and their ratios), never money",
	"coins/wallet/boltstore/boltstore.go:fillFor": "bbolt's page fill fraction (Bucket.FillPercent), never money",
}

// floatUses returns "file:function" for every float32/float64 type or
// conversion and every strconv.ParseFloat in the module's non-test Go files.
func floatUses(t *testing.T, root string) map[string][]string {
	t.Helper()
	uses := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // a nested module (integration/nodes)
				}
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
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			fn := ""
			if fd, ok := decl.(*ast.FuncDecl); ok {
				fn = fd.Name.Name
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.Ident:
					if x.Name == "float64" || x.Name == "float32" {
						k := rel + ":" + fn
						uses[k] = append(uses[k], fset.Position(x.Pos()).String())
					}
				case *ast.SelectorExpr:
					if id, ok := x.X.(*ast.Ident); ok && id.Name == "strconv" && x.Sel.Name == "ParseFloat" {
						k := rel + ":" + fn
						uses[k] = append(uses[k], fset.Position(x.Pos()).String())
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return uses
}

// TestNoFloatForMoney scans the module for floating point and fails on any
// use outside floatAllowed: money never goes through float64 (issue 9).
func TestNoFloatForMoney(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	uses := floatUses(t, root)
	if len(uses) == 0 {
		t.Fatal("the scan found no floating point at all, not even the metrics: it is broken")
	}
	var bad []string
	for k, where := range uses {
		if _, ok := floatAllowed[k]; ok {
			continue
		}
		if dir, _, _ := strings.Cut(k, ":"); floatAllowed[filepath.ToSlash(filepath.Dir(dir))+"/*"] != "" {
			continue
		}
		bad = append(bad, k+" at "+strings.Join(where, ", "))
	}
	for k := range floatAllowed {
		if strings.HasSuffix(k, "/*") {
			continue
		}
		if _, used := uses[k]; !used {
			bad = append(bad, k+" is allowed but no longer uses floating point: drop it from floatAllowed")
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("floating point in %s: amounts, fees and fee rates are exact integers (coins/amount); "+
			"if this is not money, add it to floatAllowed with the reason", b)
	}
}
