package graph

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

func TestShapeWalker(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	tests := []struct {
		query          string
		depth, aliases int
	}{
		{`{ viewer { role } }`, 2, 0},
		{`{ a: viewer { role } b: viewer { r: role } }`, 2, 3},
		{`{ catalog { categories { ...F } } } fragment F on ServiceCategory { children { code } }`, 4, 0},
		{`{ catalog { categories { ... on ServiceCategory { items { code } } } } }`, 4, 0},
	}
	for _, tt := range tests {
		doc, errs := gqlparser.LoadQueryWithRules(schema, tt.query, rules.NewDefaultRules())
		if errs != nil {
			t.Fatalf("%s: %v", tt.query, errs)
		}
		w := shapeWalker{doc: doc, seen: map[string]bool{}}
		if d := w.depth(doc.Operations[0].SelectionSet, 1); d != tt.depth || w.aliases != tt.aliases {
			t.Errorf("%s: depth %d aliases %d, want %d and %d", tt.query, d, w.aliases, tt.depth, tt.aliases)
		}
	}
}
