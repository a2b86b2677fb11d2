package graph

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

	"github.com/99designs/gqlgen/graphql/errcode"
)

// TestErrorCodes_EveryCodeListed fails when the hub's Go code uses an error
// code that ErrorCodes (and so the README's table) does not list, or when
// ErrorCodes lists one nothing uses. It finds codes where the code is
// written: constants named E… in the root package and code… or Code…
// anywhere, "code" keys of map literals, aidhub.Errorf's and errcode's
// arguments, Error{Code: …}, and gqlgen's codes by the names it emits them
// under (errcode.ValidationFailed, extension.FixedComplexityLimit, …).
func TestErrorCodes_EveryCodeListed(t *testing.T) {
	// gqlgen's codes, by the identifier the hub uses that emits them.
	gqlgen := map[string]string{
		"errcode.ValidationFailed":          errcode.ValidationFailed,
		"errcode.ParseFailed":               errcode.ParseFailed,
		"extension.FixedComplexityLimit":    CodeComplexityLimit,
		"extension.ComplexityLimit":         CodeComplexityLimit,
		"extension.AutomaticPersistedQuery": CodePersistedQueryNotFound,
	}
	if CodeValidationFailed != errcode.ValidationFailed || CodeParseFailed != errcode.ParseFailed {
		t.Errorf("the protocol codes differ from gqlgen's: %s, %s", errcode.ValidationFailed, errcode.ParseFailed)
	}
	codeLike := regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)
	used := map[string]string{} // code → where
	fset := token.NewFileSet()
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name == "generated.go" || name == "models_gen.go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rootPackage := filepath.Dir(path) == root
		found := func(e ast.Expr) {
			if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && codeLike.MatchString(v) {
					used[v] = fset.Position(lit.Pos()).String()
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if i < len(n.Values) && (rootPackage && regexp.MustCompile(`^E[A-Z]+$`).MatchString(id.Name) ||
						regexp.MustCompile(`^[cC]ode[A-Z]`).MatchString(id.Name)) {
						found(n.Values[i])
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.BasicLit); ok && k.Value == `"code"` {
					found(n.Value)
				}
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Code" {
					found(n.Value)
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && len(n.Args) > 0 {
						switch x.Name + "." + sel.Sel.Name {
						case "aidhub.Errorf", "errcode.RegisterErrorType":
							found(n.Args[0])
						case "errcode.Set":
							found(n.Args[len(n.Args)-1])
						}
					}
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok {
					if code, ok := gqlgen[x.Name+"."+n.Sel.Name]; ok {
						used[code] = fset.Position(n.Pos()).String()
					} else if x.Name == "errcode" && !strings.HasPrefix(n.Sel.Name, "Kind") && n.Sel.Name != "Set" && n.Sel.Name != "RegisterErrorType" {
						t.Errorf("%s: errcode.%s: add the code it stands for to this test and to ErrorCodes", fset.Position(n.Pos()), n.Sel.Name)
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
	listed := map[string]bool{}
	for _, c := range ErrorCodes {
		if listed[c.Code] || c.Meaning == "" {
			t.Errorf("ErrorCodes: %s is listed twice or without a meaning", c.Code)
		}
		listed[c.Code] = true
	}
	for code, where := range used {
		if !listed[code] {
			t.Errorf("%s: error code %s is not in ErrorCodes (graph/errorcodes.go), so not in the README", where, code)
		}
	}
	for code := range listed {
		if _, ok := used[code]; !ok {
			t.Errorf("ErrorCodes lists %s, which the code does not use", code)
		}
	}
	if len(used) < 15 {
		t.Errorf("found only %d codes: the scan misses where codes are written", len(used))
	}
}
