package graph

import (
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// TestPolicy_DeniedFieldsAreNullable fails when a field some role can be
// refused on an object it may see is non-null: the refusal's null would
// then propagate and null the allowed parent (e.g. a charity's household
// for Person.age).
func TestPolicy_DeniedFieldsAreNullable(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	deniable := DeniableFields(schema)
	if len(deniable) == 0 {
		t.Fatal("no deniable fields: the walk found nothing")
	}
	for _, key := range deniable {
		typ, field, _ := strings.Cut(key, ".")
		if f := schema.Types[typ].Fields.ForName(field); f.Type.NonNull {
			t.Errorf("%s is %s: a refusal would null its parent; make it nullable", key, f.Type)
		}
	}
	for _, want := range []string{"Person.age", "Person.birthDate", "Household.monthlyIncomeFen", "Need.assessment", "Query.referrals", "Mutation.createReferral"} {
		if !slices.Contains(deniable, want) {
			t.Errorf("%s is not found deniable (a CHARITY may see its parent, not it)", want)
		}
	}
	for _, never := range []string{"Household.id", "Person.name", "Query.viewer", "Subscription.matchSuggested"} {
		if slices.Contains(deniable, never) {
			t.Errorf("%s is found deniable", never)
		}
	}
}

// TestPolicy_SchemaShowsIt fails when the schema's @allowed directives or
// "Allowed: ..." sentences differ from the policy: `go generate ./...`
// (graph/internal/allowedgen) writes them from it.
func TestPolicy_SchemaShowsIt(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	marked := 0
	for name, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			roles, _ := RolesFor(name, f.Name)
			d := f.Directives.ForName("allowed")
			if roles == nil {
				if d != nil {
					t.Errorf("%s.%s is public but marked @allowed", name, f.Name)
				}
				continue
			}
			marked++
			if d == nil {
				t.Errorf("%s.%s is restricted to %v but has no @allowed", name, f.Name, roles)
				continue
			}
			var got []string
			for _, v := range d.Arguments.ForName("roles").Value.Children {
				got = append(got, v.Value.Raw)
			}
			want := make([]string, len(roles))
			for i, r := range roles {
				want[i] = string(r)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s.%s: @allowed(roles: %v), the policy says %v", name, f.Name, got, want)
			}
			if sentence := "Allowed: " + strings.Join(want, ", ") + "."; !strings.HasSuffix(f.Description, sentence) {
				t.Errorf("%s.%s: description %q does not end with %q", name, f.Name, f.Description, sentence)
			}
		}
	}
	if marked == 0 {
		t.Fatal("no restricted field found")
	}
	if d := schema.Types["Person"].Fields.ForName("age").Directives.ForName("allowed"); d == nil {
		t.Error("Person.age is not marked")
	}
}
