package aidhub_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The house rules of ARCHITECTURE.md, checked on every run: which internal
// packages each package may import, which packages may not talk to a
// database at all, and which package owns each table. A new package or a
// new table fails here until it is given its place — on purpose: the place
// is a decision, written down once.

const module = "github.com/aidhub/aidhub"

// mayImport lists, per package (its path inside the module, "" for the
// root), the internal packages it may import. Lower layers never import
// higher ones; the engine imports only the vocabulary.
var mayImport = map[string][]string{
	// vocabulary and leaf utilities
	"":           {},
	"regions":    {},
	"secret":     {},
	"residentid": {""},
	"buildinfo":  {},
	"matching":   {"", "rules"}, // the pure engine: plain values in, matches out
	"rules":      {},            // the rule language's guard and errors, shared by the engines
	// the pure early-warning engine: households and signals in, warnings out
	"warning/detect": {"", "rules"},
	// test support: a headless Chromium for the tests of pages the hub serves
	"internal/browsertest": {},
	// infrastructure
	"db":         {},
	"db/dbtest":  {"db", "migrations"},
	"jobs":       {"db"},
	"migrations": {"db", "jobs"},
	"auth":       {"", "db", "regions"},
	"audit":      {"", "auth", "db"},
	// domain services, each the owner of its tables
	"catalog":           {"", "audit", "auth", "db", "jobs", "matching", "regions"},
	"casework":          {"", "audit", "auth", "catalog", "db", "jobs", "regions", "residentid", "secret"},
	"search":            {"", "catalog", "db", "jobs"},
	"search/searchtest": {"db/dbtest", "search"},
	"matchsvc":          {"", "auth", "casework", "catalog", "db", "jobs", "matching"},
	"warning":           {"", "audit", "auth", "casework", "catalog", "db", "jobs", "regions", "warning/detect"},
	// adapters: GraphQL and HTTP never reach the database themselves
	"graph":                     {"", "auth", "casework", "catalog", "graph/gqltypes", "graph/model", "matching", "matchsvc", "regions", "search", "warning", "warning/detect"},
	"graph/gqltypes":            {"", "regions"},
	"graph/model":               {"", "casework", "catalog", "matching", "matchsvc", "warning", "warning/detect"},
	"graph/internal/allowedgen": {"auth", "graph"},
	"server":                    {"", "auth", "casework", "catalog", "db", "graph", "matchsvc", "search", "server/explorer", "warning"},
	"server/explorer":           {}, // GraphiQL's page and its embedded assets
	// wiring and tools
	"hub":        {"", "audit", "auth", "buildinfo", "casework", "catalog", "db", "jobs", "matching", "matchsvc", "migrations", "regions", "search", "secret", "warning"},
	"demo":       {"", "auth", "casework", "catalog", "db", "regions", "residentid", "warning"},
	"synthpop":   {"", "audit", "auth", "casework", "catalog", "db", "regions", "residentid", "secret", "warning/detect"},
	"benchmark":  {"", "catalog", "db", "hub", "matching", "matchsvc", "synthpop", "warning", "warning/detect"},
	"cmd/aidhub": {"*"},
}

// noDatabase are packages that must not import a database driver or bun:
// they reach the store only through the domain services.
var noDatabase = []string{"", "matching", "rules", "warning/detect", "graph", "graph/gqltypes", "graph/model", "server"}

var databaseImports = []string{"github.com/uptrace/bun", "database/sql", "github.com/jackc/pgx", "modernc.org/sqlite"}

// owner says which package owns each table: only it reads or writes it.
var owner = map[string]string{
	"population_groups": "catalog", "service_categories": "catalog", "service_items": "catalog",
	"plan_entries": "catalog", "organizations": "catalog", "resources": "catalog",
	"resource_items": "catalog", "resource_groups": "catalog", "resource_coverage": "catalog",
	"households": "casework", "persons": "casework", "group_memberships": "casework",
	"consents": "casework", "applications": "casework", "application_events": "casework",
	"assessments": "casework", "needs": "casework", "aid_records": "casework",
	"referrals": "casework", "referral_events": "casework",
	"need_matches": "matchsvc",
	"api_tokens":   "auth",
	"audit_log":    "audit",
	"signals":      "warning", "warning_types": "warning", "warning_calibrations": "warning",
	"warning_thresholds": "warning", "warning_peer_medians": "warning", "warnings": "warning",
	"warning_events": "warning",
}

// mayTouchAnyTable are the exceptions, each for a reason: migrations
// define the tables; the population generator bulk-loads millions of rows
// with COPY, which no service API does; the benchmark's SQL matcher is
// the baseline the engine is measured against and must query the tables.
var mayTouchAnyTable = []string{"migrations", "synthpop", "benchmark"}

type pkgInfo struct {
	imports map[string]bool
	files   []*ast.File
	names   []string
}

func loadPackages(t *testing.T) map[string]*pkgInfo {
	t.Helper()
	fset := token.NewFileSet()
	pkgs := map[string]*pkgInfo{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" && strings.HasPrefix(path, "scripts") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			dir = ""
		}
		full, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		p := pkgs[dir]
		if p == nil {
			p = &pkgInfo{imports: map[string]bool{}}
			pkgs[dir] = p
		}
		p.files = append(p.files, full)
		p.names = append(p.names, path)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			p.imports[path] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func internal(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rest, ok := strings.CutPrefix(path, module+"/")
	return rest, ok
}

func TestArchitecture_ImportDirection(t *testing.T) {
	for dir, p := range loadPackages(t) {
		allowed, known := mayImport[dir]
		if !known {
			t.Errorf("package %q has no place in the house: add it to mayImport in architecture_test.go and to ARCHITECTURE.md", dir)
			continue
		}
		for imp := range p.imports {
			in, ok := internal(imp)
			if !ok || slices.Contains(allowed, "*") {
				continue
			}
			if !slices.Contains(allowed, in) {
				t.Errorf("package %q imports %q, against the direction of the layers (it may import %q)", dir, in, allowed)
			}
		}
		if slices.Contains(noDatabase, dir) {
			for imp := range p.imports {
				for _, db := range databaseImports {
					// database/sql/driver is only the Valuer and Scanner
					// interfaces a domain value (aidhub.Date) implements.
					if imp == db || strings.HasPrefix(imp, db+"/") && imp != "database/sql/driver" {
						t.Errorf("package %q imports %s: it must reach the store only through the domain services", dir, imp)
					}
				}
			}
		}
	}
}

// Where SQL names a table: after FROM, JOIN, INTO, UPDATE or TABLE in a
// literal that holds SQL, as the whole argument of bun's TableExpr-like
// calls ("needs AS n"), or in a bun model tag.
var (
	sqlVerb      = regexp.MustCompile(`\b(SELECT|INSERT|UPDATE|DELETE|COPY|JOIN|FROM)\b`)
	sqlTableName = regexp.MustCompile(`(?i)\b(?:from|join|into|update|table)\s+"?([a-z_]+)"?`)
	tableArg     = regexp.MustCompile(`^"?([a-z_]+)"?(?:\s+AS\s+[a-z_]+)?$`)
	modelTag     = regexp.MustCompile(`\btable:([a-z_]+)`)
	tableCalls   = []string{"TableExpr", "ModelTableExpr", "Table", "Join", "CopyFrom"}
)

// tablesNamed returns the tables a string literal names, given whether it
// is the argument of a table-naming call.
func tablesNamed(s string, tableCall bool) []string {
	var out []string
	if tableCall {
		if m := tableArg.FindStringSubmatch(s); m != nil {
			out = append(out, m[1])
		}
	}
	if tableCall || sqlVerb.MatchString(s) {
		for _, m := range sqlTableName.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
	}
	for _, m := range modelTag.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestArchitecture_TableOwners(t *testing.T) {
	// Every table the migrations create has an owner.
	created := regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)`)
	files, _ := filepath.Glob("migrations/pg/*.up.sql")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range created.FindAllStringSubmatch(string(b), -1) {
			if _, ok := owner[m[1]]; !ok {
				t.Errorf("%s creates table %s with no owner: add it to owner in architecture_test.go and to ARCHITECTURE.md", f, m[1])
			}
		}
	}

	var problems []string
	for dir, p := range loadPackages(t) {
		if slices.Contains(mayTouchAnyTable, dir) {
			continue
		}
		for i, f := range p.files {
			if generated(f) {
				continue
			}
			inCall := map[*ast.BasicLit]bool{}
			queries := p.imports["github.com/uptrace/bun"]
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					sel, named := n.Fun.(*ast.SelectorExpr)
					tableCall := named && slices.Contains(tableCalls, sel.Sel.Name)
					for _, a := range n.Args {
						if lit, ok := a.(*ast.BasicLit); ok && (tableCall || queries) {
							inCall[lit] = true
						}
					}
				case *ast.CompositeLit:
					for _, e := range n.Elts {
						if lit, ok := e.(*ast.BasicLit); ok && queries {
							inCall[lit] = true
						}
					}
				}
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				// In a package that queries (imports bun), an argument or a
				// list element that is exactly a table's name is taken as
				// one: helpers pass table names on to TableExpr.
				for _, table := range tablesNamed(s, inCall[lit]) {
					if own, isTable := owner[table]; isTable && own != dir {
						problems = append(problems, p.names[i]+": table "+table+" belongs to "+own)
					}
				}
				return true
			})
		}
	}
	sort.Strings(problems)
	for _, pr := range slices.Compact(problems) {
		t.Error(pr)
	}
}

// generated reports whether f carries Go's "Code generated ... DO NOT EDIT." line.
func generated(f *ast.File) bool {
	for _, g := range f.Comments {
		for _, c := range g.List {
			if strings.HasPrefix(c.Text, "// Code generated ") && strings.HasSuffix(c.Text, " DO NOT EDIT.") {
				return true
			}
		}
	}
	return false
}
