package server_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/server"
)

const (
	allowed = ""
	unauth  = "UNAUTHENTICATED"
	forbid  = "FORBIDDEN"
	hidden  = "NOT_FOUND"
)

var callers = []string{"anonymous", "admin", "charityA", "charityB", "caseManager", "donor"}

// everyone builds an expectation that is the same for every caller.
func everyone(code string) map[string]string {
	m := map[string]string{}
	for _, c := range callers {
		m[c] = code
	}
	return m
}

// only allows the listed callers; anonymous gets UNAUTHENTICATED and the
// rest FORBIDDEN unless overridden.
func only(allowedCallers ...string) map[string]string {
	m := everyone(forbid)
	m["anonymous"] = unauth
	for _, c := range allowedCallers {
		m[c] = allowed
	}
	return m
}

func with(m map[string]string, caller, code string) map[string]string {
	m[caller] = code
	return m
}

// TestAuthorization is the role × operation table: every operation, tried by
// every kind of caller, is allowed or refused with the listed code, and a
// refused call writes nothing.
func TestAuthorization(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHub(t, d, server.Config{})
		resourceIn := func(status catalog.Status) func(string) map[string]any {
			return func(string) map[string]any {
				return map[string]any{"id": resourceID(h.resource(h.orgA, status).ID)}
			}
		}
		noVars := func(string) map[string]any { return nil }
		ops := []struct {
			name  string
			setup func(caller string) map[string]any
			query string
			want  map[string]string
		}{
			{"query catalog", noVars, `{ catalog { groups { code plan { level } } categories { code children { code } items { code } } } }`, everyone(allowed)},
			{"query resources", noVars, `{ resources { totalCount edges { node { title organization { name } } } } }`, everyone(allowed)},
			{"query organizations", noVars, `{ organizations { totalCount edges { node { name divisionName } } } }`, everyone(allowed)},
			{"query viewer", noVars, `{ viewer { role regionPrefix organization { name } } }`, everyone(allowed)},
			{"resource: published", resourceIn(catalog.Published), `query($id: ID!) { resource(id: $id) { title } }`, everyone(allowed)},
			{"resource: draft", resourceIn(catalog.Draft), `query($id: ID!) { resource(id: $id) { title } }`,
				with(with(everyone(hidden), "admin", allowed), "charityA", allowed)},
			{"node: draft resource", resourceIn(catalog.Draft), `query($id: ID!) { node(id: $id) { id ... on Resource { title } } }`,
				with(with(everyone(hidden), "admin", allowed), "charityA", allowed)},
			{"node: paused resource", resourceIn(catalog.Paused), `query($id: ID!) { node(id: $id) { id } }`,
				with(with(everyone(hidden), "admin", allowed), "charityA", allowed)},
			{"node: organization", func(string) map[string]any { return map[string]any{"id": orgID(h.orgB.ID)} },
				`query($id: ID!) { node(id: $id) { ... on Organization { name } } }`, everyone(allowed)},
			{"createOrganization", func(c string) map[string]any { return map[string]any{"n": "测试慈善会" + c} },
				`mutation($n: String!) { createOrganization(input: {name: $n, kind: CHARITY, divisionCode: "500103"}) { organization { id } } }`,
				only("admin")},
			{"createResource for organization A", func(string) map[string]any { return map[string]any{"org": orgID(h.orgA.ID)} },
				`mutation($org: ID) { createResource(input: {organizationId: $org, title: "助餐服务"}) { resource { status } } }`,
				only("admin", "charityA")},
			{"createResource for own organization", noVars,
				`mutation { createResource(input: {title: "助餐服务"}) { resource { status } } }`,
				with(only("charityA", "charityB"), "admin", "BAD_USER_INPUT")},
			{"updateResource: published", resourceIn(catalog.Published),
				`mutation($id: ID!) { updateResource(input: {id: $id, title: "新标题"}) { resource { title } } }`,
				only("admin", "charityA")},
			{"updateResource: draft", resourceIn(catalog.Draft),
				`mutation($id: ID!) { updateResource(input: {id: $id, title: "新标题"}) { resource { title } } }`,
				with(only("admin", "charityA"), "charityB", hidden)},
			{"publishResource", resourceIn(catalog.Draft),
				`mutation($id: ID!) { publishResource(input: {id: $id}) { resource { status } } }`,
				with(only("admin", "charityA"), "charityB", hidden)},
			{"pauseResource", resourceIn(catalog.Published),
				`mutation($id: ID!) { pauseResource(input: {id: $id}) { resource { status } } }`,
				only("admin", "charityA")},
			{"closeResource", resourceIn(catalog.Published),
				`mutation($id: ID!) { closeResource(input: {id: $id}) { resource { status } } }`,
				only("admin", "charityA")},
			{"createPopulationGroup", func(c string) map[string]any { return map[string]any{"c": "TEST_" + strings.ToUpper(c)} },
				`mutation($c: String!) { createPopulationGroup(input: {code: $c, nameZh: "测试", nameEn: "Test", tier: 3}) { group { code } } }`,
				only("admin")},
			{"updatePopulationGroup", noVars,
				`mutation { updatePopulationGroup(input: {code: "DIBAO", tier: 2}) { group { tier } } }`, only("admin")},
			{"createServiceCategory", func(c string) map[string]any { return map[string]any{"c": "CAT_" + strings.ToUpper(c)} },
				`mutation($c: String!) { createServiceCategory(input: {code: $c, parentCode: "CARE", nameZh: "测试", nameEn: "Test"}) { category { code } } }`,
				only("admin")},
			{"updateServiceCategory", noVars,
				`mutation { updateServiceCategory(input: {code: "CARE", sort: 61}) { category { sort } } }`, only("admin")},
			{"createServiceItem", func(c string) map[string]any { return map[string]any{"c": "ITEM_" + strings.ToUpper(c)} },
				`mutation($c: String!) { createServiceItem(input: {code: $c, categoryCode: "CARE", nameZh: "测试", nameEn: "Test"}) { item { code } } }`,
				only("admin")},
			{"updateServiceItem", noVars,
				`mutation { updateServiceItem(input: {code: "TUTORING", unit: "小时"}) { item { unit } } }`, only("admin")},
			{"setPlanEntry", noVars,
				`mutation { setPlanEntry(input: {groupCode: "DIBAO", itemCode: "TUTORING", level: OPTIONAL}) { entry { level } } }`,
				only("admin")},
			{"removePlanEntry", func(c string) map[string]any {
				h.do("admin", `mutation { setPlanEntry(input: {groupCode: "TEMPORARY", itemCode: "TUTORING", level: OPTIONAL}) { entry { level } } }`, nil)
				return nil
			}, `mutation { removePlanEntry(input: {groupCode: "TEMPORARY", itemCode: "TUTORING"}) { group { code } } }`, only("admin")},
			{"deleteServiceItem", func(c string) map[string]any {
				code := "DEL_" + strings.ToUpper(c)
				h.do("admin", `mutation($c: String!) { createServiceItem(input: {code: $c, categoryCode: "CARE", nameZh: "删", nameEn: "Del"}) { item { code } } }`, map[string]any{"c": code})
				return map[string]any{"c": code}
			}, `mutation($c: String!) { deleteServiceItem(input: {code: $c}) { deletedCode } }`, only("admin")},
			{"deleteServiceCategory", func(c string) map[string]any {
				code := "DELC_" + strings.ToUpper(c)
				h.do("admin", `mutation($c: String!) { createServiceCategory(input: {code: $c, nameZh: "删", nameEn: "Del"}) { category { code } } }`, map[string]any{"c": code})
				return map[string]any{"c": code}
			}, `mutation($c: String!) { deleteServiceCategory(input: {code: $c}) { deletedCode } }`, only("admin")},
			{"deletePopulationGroup", func(c string) map[string]any {
				code := "DELG_" + strings.ToUpper(c)
				h.do("admin", `mutation($c: String!) { createPopulationGroup(input: {code: $c, nameZh: "删", nameEn: "Del", tier: 5}) { group { code } } }`, map[string]any{"c": code})
				return map[string]any{"c": code}
			}, `mutation($c: String!) { deletePopulationGroup(input: {code: $c}) { deletedCode } }`, only("admin")},
		}
		for _, op := range ops {
			for _, caller := range callers {
				want, listed := op.want[caller]
				if !listed {
					t.Fatalf("%s: no expectation for %s", op.name, caller)
				}
				t.Run(op.name+"/"+caller, func(t *testing.T) {
					vars := op.setup(caller)
					before := h.fingerprint()
					resp := h.do(caller, op.query, vars)
					if got := resp.code(); got != want {
						t.Fatalf("code = %q, want %q; response: %s", got, want, resp.Raw)
					}
					if want == allowed && resp.Data == nil {
						t.Fatalf("allowed but no data: %s", resp.Raw)
					}
					if want != allowed {
						if after := h.fingerprint(); after != before {
							t.Fatalf("a refused call wrote:\nbefore %s\nafter  %s", before, after)
						}
					}
				})
			}
		}
	})
}

func globalID(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strconv.FormatInt(id, 10)))
}

func resourceID(id int64) string { return globalID("Resource", id) }
func orgID(id int64) string      { return globalID("Organization", id) }
