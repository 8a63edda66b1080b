package wallet_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletd/walletd/internal/repo"
)

// TestNoFloatInMoneyPaths scans the engine and the btcd backend (all their
// non-test Go files) for floating point: float32, float64 and the
// strconv/math float helpers. Amounts, fees, fee rates and sizes are
// integers parsed exactly.
func TestNoFloatInMoneyPaths(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	banned := map[string]bool{"float32": true, "float64": true, "ParseFloat": true, "FormatFloat": true,
		"Float64frombits": true, "Float64bits": true, "Round": true}
	for _, dir := range []string{"coins/wallet", "coins/chain/btcdws"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.Ident:
					if banned[x.Name] {
						t.Errorf("%s: %s", fset.Position(x.Pos()), x.Name)
					}
				case *ast.BasicLit:
					if x.Kind == token.FLOAT {
						t.Errorf("%s: float literal %s", fset.Position(x.Pos()), x.Value)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
