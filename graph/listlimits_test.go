package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

func TestListLimits(t *testing.T) {
	es := NewExecutableSchema(Config{Resolvers: &Resolver{}})
	strict := &ListLimits{Global: 3, Maxima: map[string]int{"SearchFilter.itemCodes": 1}}
	if err := strict.Validate(es); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query string
		vars        map[string]any
		field       string // "" when the operation passes
	}{
		{"global cap on a literal", `{ searchResources(filter: {groupCodes: ["A", "B", "C", "D"]}) { totalCount } }`, nil, "filter.groupCodes"},
		{"global cap met", `{ searchResources(filter: {groupCodes: ["A", "B", "C"]}) { totalCount } }`, nil, ""},
		{"per-field maximum", `{ searchResources(filter: {itemCodes: ["A", "B"]}) { totalCount } }`, nil, "filter.itemCodes"},
		{"a variable list", `query($g: [String!]) { searchResources(filter: {groupCodes: $g}) { totalCount } }`,
			map[string]any{"g": []any{"A", "B", "C", "D"}}, "filter.groupCodes"},
		{"a variable object", `query($f: SearchFilter) { searchResources(filter: $f) { totalCount } }`,
			map[string]any{"f": map[string]any{"itemCodes": []any{"A", "B"}}}, "filter.itemCodes"},
		{"an enum list: as many as the enum has", `query($s: [ResourceStatus!]) { resources(filter: {statuses: $s}) { totalCount } }`,
			map[string]any{"s": []any{"DRAFT", "DRAFT", "DRAFT", "DRAFT", "DRAFT", "DRAFT"}}, "filter.statuses"},
		{"an enum list within it", `{ resources(filter: {statuses: [DRAFT, PUBLISHED, PAUSED, CLOSED, EXPIRED]}) { totalCount } }`, nil, ""},
		{"in a fragment", `{ ...Q } fragment Q on Query { searchResources(facets: ["a", "b", "c", "d"]) { totalCount } }`, nil, "facets"},
		{"nested in a list", `mutation { registerHousehold(input: {regionCode: "500103", members: [{name: "a", residentId: "x", relation: HEAD, groups: [
			{groupCode: "A", since: "2024-01-01"}, {groupCode: "A", since: "2024-01-01"}, {groupCode: "A", since: "2024-01-01"}, {groupCode: "A", since: "2024-01-01"}]}]}) { household { id } } }`,
			nil, "input.members[0].groups"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQueryWithRules(es.Schema(), tt.query, rules.NewDefaultRules())
			if errs != nil {
				t.Fatal(errs)
			}
			vars, err := validator.VariableValues(es.Schema(), doc.Operations[0], tt.vars)
			if err != nil {
				t.Fatal(err)
			}
			oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: vars}
			gerr := strict.MutateOperationContext(context.Background(), oc)
			switch {
			case tt.field == "" && gerr != nil:
				t.Fatalf("refused: %v", gerr)
			case tt.field != "" && (gerr == nil || gerr.Extensions["field"] != tt.field || gerr.Extensions["code"] != "BAD_USER_INPUT"):
				t.Fatalf("got %v %v, want a refusal naming %s", gerr, gerr.Extensions, tt.field)
			}
		})
	}
}

func TestStripSuggestions(t *testing.T) {
	for in, want := range map[string]string{
		`Unknown argument "filtr" on field "Query.resources". Did you mean "filter" or "first"?`:              `Unknown argument "filtr" on field "Query.resources".`,
		`Value "PUBLISHD" does not exist in "ResourceStatus!" enum. Did you mean the enum value "PUBLISHED"?`: `Value "PUBLISHD" does not exist in "ResourceStatus!" enum.`,
		`Cannot query field "title" on type "Node". Did you mean to use an inline fragment on "Resource"?`:    `Cannot query field "title" on type "Node".`,
		`no suggestion here`: `no suggestion here`,
	} {
		if got := StripSuggestions(in); got != want {
			t.Errorf("%s: got %q", in, got)
		}
	}
}
