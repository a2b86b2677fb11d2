package graph

import (
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// TestPolicy_CoversEveryField fails when a field has no access rule, so a
// new field is a decision, never public by accident.
func TestPolicy_CoversEveryField(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	for name, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if _, ok := ruleFor(name, f.Name); !ok {
				t.Errorf("%s.%s has no access rule in graph/policy.go", name, f.Name)
			}
		}
	}
	for key := range fieldRules {
		typ, field, _ := strings.Cut(key, ".")
		def := schema.Types[typ]
		if def == nil || def.Fields.ForName(field) == nil {
			t.Errorf("policy names %s, which is not in the schema", key)
		}
	}
	for typ := range typeRules {
		if schema.Types[typ] == nil {
			t.Errorf("policy names type %s, which is not in the schema", typ)
		}
	}
}

func TestPolicy_MutationsAreNeverPublic(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	for _, f := range schema.Mutation.Fields {
		if r, _ := ruleFor("Mutation", f.Name); r.roles == nil {
			t.Errorf("Mutation.%s is public", f.Name)
		}
	}
}

// TestPolicy_GatesEveryNode fails when node(id:) could return a type that
// is not public without a rule of its own: Query.node itself is public.
func TestPolicy_GatesEveryNode(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	for _, def := range schema.GetPossibleTypes(schema.Types["Node"]) {
		if r := typeRules[def.Name]; r.roles != nil {
			if _, ok := nodeRules[def.Name]; !ok {
				t.Errorf("node(id:) returns %s, which is not public, without a rule in nodeRules", def.Name)
			}
		}
	}
	for typ := range nodeRules {
		if def := schema.Types[typ]; def == nil || !slices.Contains(def.Interfaces, "Node") {
			t.Errorf("nodeRules names %s, which is not a Node type", typ)
		}
	}
}
