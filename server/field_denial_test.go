package server_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

// TestDeniedFieldNullsOnlyItself: a field the caller may not read is null
// with one FORBIDDEN error at its own path, and its parent, which the
// caller may read, is answered (issue 13 item 5). Before, Person.age being
// Int! nulled the person, the non-null list, and so the whole household.
func TestDeniedFieldNullsOnlyItself(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		f := c.fixture(t, villageIn(t, "500103", 0))

		const q = `{ referrals { edges { node { id household { id regionCode persons { id age } } } } } }`
		r := c.try("charityA", q, nil)
		edges := list(get(r.Data, "referrals", "edges"))
		if len(edges) != 1 {
			t.Fatalf("charityA's referrals: %s", r.Raw)
		}
		h := get(edges[0], "node", "household")
		if get(h, "id") != f.household || get(h, "regionCode") == nil {
			t.Fatalf("household nulled: %s", r.Raw)
		}
		persons := list(get(h, "persons"))
		if len(persons) != 1 || get(persons[0], "id") != f.child {
			t.Fatalf("persons: %s", r.Raw)
		}
		if age, ok := persons[0].(map[string]any)["age"]; !ok || age != nil {
			t.Fatalf("age: want null, got %v (%s)", age, r.Raw)
		}
		wantOneErrorAt(t, r, "referrals", "edges", 0, "node", "household", "persons", 0, "age")

		// The same for other restricted fields: the household answers,
		// the field is null, one error at its path.
		hq := func(sel string) string { return `query($id: ID!) { household(id: $id) { id address ` + sel + ` } }` }
		for _, tc := range []struct {
			sel  string
			path []any
		}{
			{"monthlyIncomeFen", []any{"household", "monthlyIncomeFen"}},
			{"sharingConsented", []any{"household", "sharingConsented"}},
			{"spending { medicalFen }", []any{"household", "spending"}},
			{"consents { id }", []any{"household", "consents"}},
			{"applications { id }", []any{"household", "applications"}},
			{"assessments { id }", []any{"household", "assessments"}},
			{"externalId", []any{"household", "externalId"}},
			{"persons { id name birthDate }", []any{"household", "persons", 0, "birthDate"}},
			{"persons { id female }", []any{"household", "persons", 0, "female"}},
			{"persons { id groups { since } }", []any{"household", "persons", 0, "groups"}},
		} {
			t.Run(tc.sel, func(t *testing.T) {
				r := c.try("charityA", hq(tc.sel), map[string]any{"id": f.household})
				if get(r.Data, "household", "id") != f.household || get(r.Data, "household", "address") == nil {
					t.Fatalf("household nulled: %s", r.Raw)
				}
				var v any = r.Data
				for _, step := range tc.path {
					v = stepInto(t, v, step, r.Raw)
				}
				if v != nil {
					t.Fatalf("%v: want null, got %v", tc.path, v)
				}
				wantOneErrorAt(t, r, tc.path...)
				// The case manager gets it, without errors.
				c.must(t, "caseManager", hq(tc.sel), map[string]any{"id": f.household})
			})
		}

		// Two denied fields: two errors, one each; the rest answers.
		r = c.try("charityA", `query($id: ID!) { node(id: $id) { ... on Person { id name age female } } }`, map[string]any{"id": f.child})
		if get(r.Data, "node", "name") == nil || len(r.Errors) != 2 {
			t.Fatalf("two denied fields: %s", r.Raw)
		}
		// Root fields too: a refused query or mutation is null beside the
		// others, which answer (a mutation that ran keeps its result).
		r = c.try("donor", `{ viewer { role } referrals { totalCount } }`, nil)
		if get(r.Data, "viewer", "role") != "DONOR" {
			t.Fatalf("viewer nulled by a refused referrals: %s", r.Raw)
		}
		wantOneErrorAt(t, r, "referrals")
		r = c.try("charityA", `mutation($a: RecordAidInput!, $b: RevealResidentIdInput!) {
			a: recordAid(input: $a) { aidRecord { id } }
			b: revealResidentId(input: $b) { residentId } }`, map[string]any{
			"a": map[string]any{"householdId": f.household, "personId": f.child, "categoryCode": "LEGAL",
				"providerKind": "GOVERNMENT", "providerName": "区法律援助中心", "units": 1, "periodStart": "2026-12-01", "periodEnd": "2026-12-31"},
			"b": map[string]any{"personId": f.child, "reason": "配送需要核对"}})
		if get(r.Data, "a", "aidRecord", "id") == nil {
			t.Fatalf("the aid recorded is not shown: %s", r.Raw)
		}
		wantOneErrorAt(t, r, "b")

		// A need reached through the referral: its assessment is null,
		// the need is not.
		r = c.try("charityA", `query($id: ID!) { node(id: $id) { ... on Need { id assessment { id } } } }`, map[string]any{"id": f.need})
		if get(r.Data, "node", "id") == f.need {
			wantOneErrorAt(t, r, "node", "assessment")
		} else if r.code() == forbid {
			t.Fatalf("need nulled by its assessment: %s", r.Raw)
		}
	})
}

func stepInto(t *testing.T, v any, step any, raw string) any {
	t.Helper()
	switch s := step.(type) {
	case string:
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %q: not an object in %s", s, raw)
		}
		val, ok := m[s]
		if !ok {
			t.Fatalf("no %q in %s", s, raw)
		}
		return val
	case int:
		l, ok := v.([]any)
		if !ok || len(l) <= s {
			t.Fatalf("at [%d]: not a list long enough in %s", s, raw)
		}
		return l[s]
	}
	t.Fatalf("bad step %v", step)
	return nil
}

// wantOneErrorAt asserts r has exactly one error, FORBIDDEN, at path.
func wantOneErrorAt(t *testing.T, r response, path ...any) {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("want one error at %v, got %d: %s", path, len(r.Errors), r.Raw)
	}
	e := r.Errors[0]
	got := make([]string, len(e.Path))
	for i, p := range e.Path {
		got[i] = fmt.Sprint(p)
	}
	want := make([]string, len(path))
	for i, p := range path {
		want[i] = fmt.Sprint(p)
	}
	if !slices.Equal(got, want) || e.Extensions["code"] != forbid {
		t.Fatalf("want FORBIDDEN at %v, got %v %v: %s", want, e.Extensions["code"], e.Path, r.Raw)
	}
}

// TestIntrospectionShowsRestrictions: introspection does not expose
// directives applied to fields, so a client learns that Person.age is
// restricted from its description, which the generator ends with the
// policy's roles.
func TestIntrospectionShowsRestrictions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		data := c.must(t, "anonymous", `{ __type(name: "Person") { fields { name description type { kind } } } }`, nil)
		found := false
		for _, f := range list(get(data, "__type", "fields")) {
			if get(f, "name") == "age" {
				found = true
				if desc := str(get(f, "description")); desc != "Allowed: ADMIN, CASE_MANAGER." {
					t.Errorf("Person.age's description: %q", desc)
				}
				if get(f, "type", "kind") != "SCALAR" {
					t.Errorf("Person.age is not nullable: %v", f)
				}
			}
		}
		if !found {
			t.Fatalf("no Person.age in %v", data)
		}
	})
}
