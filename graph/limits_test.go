package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

func TestShapeWalker(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	tests := []struct {
		query                  string
		depth, aliases, fields int
	}{
		{`{ viewer { role } }`, 2, 0, 2},
		{`{ a: viewer { role } b: viewer { r: role } }`, 2, 3, 4},
		{`{ catalog { categories { ...F } } } fragment F on ServiceCategory { children { code } }`, 4, 0, 4},
		{`{ catalog { categories { ... on ServiceCategory { items { code } } } } }`, 4, 0, 4},
		// A fragment spread twice counts twice; its depth is where it is spread.
		{`{ catalog { a: categories { ...F } b: categories { ...F } } } fragment F on ServiceCategory { c: children { code } }`, 4, 4, 7},
		{fanOut(10), 2, 0, 1 + 1<<10},
		{fanOut(40), 2, 0, 1 + 1<<40},
	}
	for _, tt := range tests {
		doc, errs := gqlparser.LoadQueryWithRules(schema, tt.query, rules.NewDefaultRules())
		if errs != nil {
			t.Fatalf("%s: %v", tt.query, errs)
		}
		s := measureShape(doc, doc.Operations[0].SelectionSet)
		want := shape{depth: tt.depth, aliases: tt.aliases, fields: min(tt.fields, shapeCap)}
		if s != want {
			t.Errorf("%.80s: got %+v, want %+v", tt.query, s, want)
		}
	}
}

// fanOut is a document whose n fragments each spread the next one twice:
// a few bytes per level that expand to 2^n fields.
func fanOut(n int) string {
	var b strings.Builder
	b.WriteString("{ viewer { ...F0 } }")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " fragment F%d on Viewer { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Viewer { role }", n)
	return b.String()
}

func TestValidationWork(t *testing.T) {
	tests := []struct {
		query string
		want  int
	}{
		{`{ viewer { role } }`, 2},
		// Two fields named role: the walk visits 3 selections, one pair is compared.
		{`{ viewer { role role } }`, 3 + 1},
		// Two viewers of 1 selection each: 4 visited, the viewers and their roles compared.
		{`{ viewer { role } viewer { role } }`, 4 + 1 + 1},
		// F0 spreads F1 twice: the operation walks F0 and F1, F0 walks F1, F1 itself;
		// the two spreads of F1 are one pair.
		{fanOut(1), (2 + 2 + 1) + (2 + 1) + 1 + 1},
	}
	for _, tt := range tests {
		doc, err := parser.ParseQuery(&ast.Source{Input: tt.query})
		if err != nil {
			t.Fatal(err)
		}
		if got := validationWork(doc, 1<<30); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.query, got, tt.want)
		}
	}
	doc, _ := parser.ParseQuery(&ast.Source{Input: fanOut(900)})
	if got := validationWork(doc, 10000); got <= 10000 || got > 10000+2000 {
		t.Errorf("900 fragments: %d, want a count stopped just past 10000", got)
	}
}

// TestLexedWork holds the count made from tokens to the one made from the
// syntax tree.
func TestLexedWork(t *testing.T) {
	for _, q := range []string{
		`{ viewer { role } }`,
		`{ viewer { role role } }`,
		`query Q($a: Int = 1, $f: ResourceFilter = {statuses: [DRAFT]}) @x(y: {z: [1, 2]}) { a: viewer { role } viewer @include(if: true) { role r: role } }`,
		`{ node(id: "x") { ... on Resource { title id } ... { id } ...F ...F } } fragment F on Resource @d { title items { code } }`,
		`# comment
		mutation { createResource(input: {title: "{ not a brace }", coverage: ["1"]}) { resource { id ... on Resource { id } } } }`,
		fanOut(5), fanOut(30),
		`{ catalog { ...A ...B } } fragment A on Catalog { groups { ...G } ...B } fragment B on Catalog { items { code } ...C } fragment C on Catalog { groups { code } } fragment G on PopulationGroup { code code }`,
		"{ viewer { " + strings.Repeat("role ", 300) + "} }",
		"{ " + strings.Repeat("viewer { role role } ", 40) + "}",
	} {
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatal(err)
		}
		want := validationWork(doc, 1<<30)
		if got, ok := lexedWork(q, 1<<30, 0); !ok || got != want {
			t.Errorf("%.60s: lexed %d %v, parsed %d", q, got, ok, want)
		}
	}
	for _, q := range []string{`{ viewer { role }`, `{ viewer { ... } }`, `fragment F { a }`, `{ a } }`} {
		if _, ok := lexedWork(q, 1<<30, 0); ok {
			t.Errorf("%s: not a document, yet counted", q)
		}
	}
	if _, ok := lexedWork("{ viewer { "+strings.Repeat("role ", 300)+"} }", 1<<30, 100); ok {
		t.Error("past the token limit, yet counted")
	}
	if n, ok := lexedWork(fanOut(900), 10000, 10000); !ok || n <= 10000 {
		t.Errorf("900 fragments: %d %v", n, ok)
	}
	if n, ok := lexedWork("{ viewer { "+strings.Repeat("role ", 9000)+"} }", 10000, 10000); !ok || n <= 10000 {
		t.Errorf("9,000 roles: %d %v", n, ok)
	}
}
