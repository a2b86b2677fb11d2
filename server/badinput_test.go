package server_test

import (
	"strings"
	"testing"

	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/server"
)

// TestBadInput sends every mutation bad input and checks for a clear error
// with a code, a message, and no write at all.
func TestBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHub(t, d, server.Config{})
		published := func() map[string]any {
			return map[string]any{"id": resourceID(h.resource(h.orgA, catalog.Published).ID)}
		}
		draft := func() map[string]any { return map[string]any{"id": resourceID(h.resource(h.orgA, catalog.Draft).ID)} }
		closed := func() map[string]any { return map[string]any{"id": resourceID(h.resource(h.orgA, catalog.Closed).ID)} }
		none := func() map[string]any { return nil }
		const create = `mutation($in: CreateResourceInput!) { createResource(input: $in) { resource { id } } }`
		const update = `mutation($in: UpdateResourceInput!) { updateResource(input: $in) { resource { id } } }`
		res := func(fields map[string]any) func() map[string]any {
			return func() map[string]any {
				in := map[string]any{"title": "助学金", "itemCodes": []string{"SCHOOL_GRANT"}, "coverage": []string{"500103"}, "capacityUnits": 5}
				for k, v := range fields {
					in[k] = v
				}
				return map[string]any{"in": in}
			}
		}
		upd := func(fields map[string]any) func() map[string]any {
			return func() map[string]any {
				in := map[string]any{"id": resourceID(h.resource(h.orgA, catalog.Published).ID)}
				for k, v := range fields {
					in[k] = v
				}
				return map[string]any{"in": in}
			}
		}
		long := func(n int) string { return strings.Repeat("助", n) }

		cases := []struct {
			name   string
			caller string
			vars   func() map[string]any
			query  string
			want   string
		}{
			// createOrganization
			{"org: unknown division code", "admin", none, `mutation { createOrganization(input: {name: "新慈善会", kind: CHARITY, divisionCode: "500199"}) { organization { id } } }`, "BAD_USER_INPUT"},
			{"org: division outside Chongqing", "admin", none, `mutation { createOrganization(input: {name: "新慈善会", kind: CHARITY, divisionCode: "510104"}) { organization { id } } }`, "BAD_USER_INPUT"},
			{"org: malformed division code", "admin", none, `mutation { createOrganization(input: {name: "新慈善会", kind: CHARITY, divisionCode: "50A"}) { organization { id } } }`, "BAD_USER_INPUT"},
			{"org: empty name", "admin", none, `mutation { createOrganization(input: {name: "  ", kind: CHARITY, divisionCode: "500103"}) { organization { id } } }`, "BAD_USER_INPUT"},
			{"org: oversized name", "admin", func() map[string]any { return map[string]any{"n": long(101)} }, `mutation($n: String!) { createOrganization(input: {name: $n, kind: CHARITY, divisionCode: "500103"}) { organization { id } } }`, "BAD_USER_INPUT"},
			{"org: unknown kind", "admin", none, `mutation { createOrganization(input: {name: "新慈善会", kind: CLUB, divisionCode: "500103"}) { organization { id } } }`, "GRAPHQL_VALIDATION_FAILED"},
			{"org: bad website", "admin", none, `mutation { createOrganization(input: {name: "新慈善会", kind: CHARITY, divisionCode: "500103", website: "javascript:alert(1)"}) { organization { id } } }`, "BAD_USER_INPUT"},
			{"org: duplicate name", "admin", none, `mutation { createOrganization(input: {name: "重庆市慈善总会", kind: CHARITY, divisionCode: "500103"}) { organization { id } } }`, "CONFLICT"},

			// createResource
			{"resource: unknown coverage code", "charityA", res(map[string]any{"coverage": []string{"500199"}}), create, "BAD_USER_INPUT"},
			{"resource: coverage outside Chongqing", "charityA", res(map[string]any{"coverage": []string{"510104"}}), create, "BAD_USER_INPUT"},
			{"resource: unknown location division", "charityA", res(map[string]any{"divisionCode": "500103999"}), create, "BAD_USER_INPUT"},
			{"resource: negative capacity", "charityA", res(map[string]any{"capacityUnits": -5}), create, "BAD_USER_INPUT"},
			{"resource: zero capacity", "charityA", res(map[string]any{"capacityUnits": 0}), create, "BAD_USER_INPUT"},
			{"resource: absurd budget", "charityA", res(map[string]any{"capacityBudgetFen": 1e15}), create, "BAD_USER_INPUT"},
			{"resource: fractional fen", "charityA", res(map[string]any{"capacityBudgetFen": 10.5}), create, "BAD_USER_INPUT"},
			{"resource: negative income ceiling", "charityA", res(map[string]any{"incomeCeilingFen": -1}), create, "BAD_USER_INPUT"},
			{"resource: age range inverted", "charityA", res(map[string]any{"ageMin": 60, "ageMax": 18}), create, "BAD_USER_INPUT"},
			{"resource: age over 150", "charityA", res(map[string]any{"ageMax": 200}), create, "BAD_USER_INPUT"},
			{"resource: validity ends before it starts", "charityA", res(map[string]any{"validFrom": "2026-12-01", "validUntil": "2026-11-01"}), create, "BAD_USER_INPUT"},
			{"resource: impossible date", "charityA", res(map[string]any{"validFrom": "2026-02-30"}), create, "BAD_USER_INPUT"},
			{"resource: oversized title", "charityA", res(map[string]any{"title": long(201)}), create, "BAD_USER_INPUT"},
			{"resource: oversized description", "charityA", res(map[string]any{"description": long(5001)}), create, "BAD_USER_INPUT"},
			{"resource: unknown item", "charityA", res(map[string]any{"itemCodes": []string{"FREE_MONEY"}}), create, "BAD_USER_INPUT"},
			{"resource: unknown group", "charityA", res(map[string]any{"groupCodes": []string{"RICH"}}), create, "BAD_USER_INPUT"},
			{"resource: latitude out of range", "charityA", res(map[string]any{"lat": 95.0, "lng": 106.5}), create, "BAD_USER_INPUT"},
			{"resource: latitude without longitude", "charityA", res(map[string]any{"lat": 29.5}), create, "BAD_USER_INPUT"},
			{"resource: malformed organization ID", "admin", res(map[string]any{"organizationId": "not-an-id"}), create, "BAD_USER_INPUT"},
			{"resource: unknown organization", "admin", res(map[string]any{"organizationId": orgID(999999)}), create, "NOT_FOUND"},
			{"resource: resource ID as organization ID", "admin", res(map[string]any{"organizationId": resourceID(1)}), create, "BAD_USER_INPUT"},

			// updateResource
			{"update: unknown ID", "charityA", func() map[string]any {
				return map[string]any{"in": map[string]any{"id": resourceID(999999), "title": "x"}}
			}, update, "NOT_FOUND"},
			{"update: malformed ID", "charityA", func() map[string]any { return map[string]any{"in": map[string]any{"id": "%%%", "title": "x"}} }, update, "BAD_USER_INPUT"},
			{"update: title cleared", "charityA", upd(map[string]any{"title": nil}), update, "BAD_USER_INPUT"},
			{"update: age range inverted", "charityA", upd(map[string]any{"ageMin": 70, "ageMax": 10}), update, "BAD_USER_INPUT"},
			{"update: stale version", "charityA", upd(map[string]any{"expectedVersion": 1, "title": "新"}), update, "CONFLICT"},
			{"update: published made expired", "charityA", upd(map[string]any{"validFrom": "2026-01-01", "validUntil": "2026-06-30"}), update, "BAD_USER_INPUT"},
			{"update: published loses its items", "charityA", upd(map[string]any{"itemCodes": []string{}}), update, "BAD_USER_INPUT"},
			{"update: closed", "charityA", func() map[string]any {
				return map[string]any{"in": map[string]any{"id": closed()["id"], "title": "复活"}}
			}, update, "CONFLICT"},

			// lifecycle
			{"publish: already published", "charityA", published, `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { id } } }`, "CONFLICT"},
			{"publish: closed", "charityA", closed, `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { id } } }`, "CONFLICT"},
			{"publish: expired", "charityA", func() map[string]any {
				r := h.do("charityA", create, res(map[string]any{"validFrom": "2026-01-01", "validUntil": "2026-06-30"})())
				return map[string]any{"id": get(r.Data, "createResource", "resource", "id")}
			}, `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { id } } }`, "BAD_USER_INPUT"},
			{"publish: no items", "charityA", func() map[string]any {
				r := h.do("charityA", create, res(map[string]any{"itemCodes": []string{}})())
				return map[string]any{"id": get(r.Data, "createResource", "resource", "id")}
			}, `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { id } } }`, "BAD_USER_INPUT"},
			{"publish: no capacity", "charityA", func() map[string]any {
				r := h.do("charityA", create, res(map[string]any{"capacityUnits": nil})())
				return map[string]any{"id": get(r.Data, "createResource", "resource", "id")}
			}, `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { id } } }`, "BAD_USER_INPUT"},
			{"pause: draft", "charityA", draft, `mutation($id: ID!) { pauseResource(input: {id: $id}) { resource { id } } }`, "CONFLICT"},
			{"close: closed", "charityA", closed, `mutation($id: ID!) { closeResource(input: {id: $id}) { resource { id } } }`, "CONFLICT"},
			{"close: stale version", "charityA", published, `mutation($id: ID!) { closeResource(input: {id: $id, expectedVersion: 1}) { resource { id } } }`, "CONFLICT"},

			// catalog
			{"group: duplicate code", "admin", none, `mutation { createPopulationGroup(input: {code: "DIBAO", nameZh: "低保", nameEn: "Dibao", tier: 2}) { group { code } } }`, "CONFLICT"},
			{"group: lowercase code", "admin", none, `mutation { createPopulationGroup(input: {code: "dibao2", nameZh: "低保", nameEn: "Dibao", tier: 2}) { group { code } } }`, "BAD_USER_INPUT"},
			{"group: tier 0", "admin", none, `mutation { createPopulationGroup(input: {code: "NEW_GROUP", nameZh: "新", nameEn: "New", tier: 0}) { group { code } } }`, "BAD_USER_INPUT"},
			{"group: unknown", "admin", none, `mutation { updatePopulationGroup(input: {code: "NOPE", tier: 1}) { group { code } } }`, "NOT_FOUND"},
			{"group: delete referenced", "admin", published, `mutation { deletePopulationGroup(input: {code: "DIBAO"}) { deletedCode } }`, "CONFLICT"},
			{"category: unknown parent", "admin", none, `mutation { createServiceCategory(input: {code: "NEW_CAT", parentCode: "NOPE", nameZh: "新", nameEn: "New"}) { category { code } } }`, "BAD_USER_INPUT"},
			{"category: cycle through a child", "admin", none, `mutation { updateServiceCategory(input: {code: "CARE", parentCode: "CHILD_CARE"}) { category { code } } }`, "BAD_USER_INPUT"},
			{"category: parent of itself", "admin", none, `mutation { updateServiceCategory(input: {code: "CARE", parentCode: "CARE"}) { category { code } } }`, "BAD_USER_INPUT"},
			{"category: negative duplicate window", "admin", none, `mutation { updateServiceCategory(input: {code: "CARE", duplicateWindowDays: -1}) { category { code } } }`, "BAD_USER_INPUT"},
			{"category: delete with items", "admin", none, `mutation { deleteServiceCategory(input: {code: "LEGAL"}) { deletedCode } }`, "CONFLICT"},
			{"category: delete with children", "admin", none, `mutation { deleteServiceCategory(input: {code: "CARE"}) { deletedCode } }`, "CONFLICT"},
			{"item: unknown category", "admin", none, `mutation { createServiceItem(input: {code: "NEW_ITEM", categoryCode: "NOPE", nameZh: "新", nameEn: "New"}) { item { code } } }`, "BAD_USER_INPUT"},
			{"item: delete referenced", "admin", published, `mutation { deleteServiceItem(input: {code: "SCHOOL_GRANT"}) { deletedCode } }`, "CONFLICT"},
			{"plan: unknown item", "admin", none, `mutation { setPlanEntry(input: {groupCode: "DIBAO", itemCode: "NOPE", level: ENTITLED}) { entry { level } } }`, "BAD_USER_INPUT"},
			{"plan: unknown group", "admin", none, `mutation { setPlanEntry(input: {groupCode: "NOPE", itemCode: "TUTORING", level: ENTITLED}) { entry { level } } }`, "BAD_USER_INPUT"},
			{"plan: remove absent entry", "admin", none, `mutation { removePlanEntry(input: {groupCode: "DIBAO", itemCode: "ASSISTIVE_DEVICES"}) { group { code } } }`, "NOT_FOUND"},

			// queries
			{"resources: page too large", "anonymous", none, `{ resources(first: 101) { totalCount } }`, "BAD_USER_INPUT"},
			{"resources: page of zero", "anonymous", none, `{ resources(first: 0) { totalCount } }`, "BAD_USER_INPUT"},
			{"resources: negative page", "anonymous", none, `{ resources(first: -3) { totalCount } }`, "BAD_USER_INPUT"},
			{"resources: bad cursor", "anonymous", none, `{ resources(after: "garbage") { totalCount } }`, "BAD_USER_INPUT"},
			{"resources: unknown category", "anonymous", none, `{ resources(filter: {categoryCode: "NOPE"}) { totalCount } }`, "BAD_USER_INPUT"},
			{"resources: unknown region", "anonymous", none, `{ resources(filter: {coversRegion: "500199001001"}) { totalCount } }`, "BAD_USER_INPUT"},
			{"resource: malformed ID", "anonymous", none, `{ resource(id: "garbage") { title } }`, "BAD_USER_INPUT"},
			{"node: garbage ID", "anonymous", none, `{ node(id: "garbage") { id } }`, "NOT_FOUND"},
			{"catalog: plan of unknown group", "anonymous", none, `{ catalog { plan(groupCode: "NOPE") { level } } }`, "NOT_FOUND"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				vars := c.vars()
				before := h.fingerprint()
				resp := h.do(c.caller, c.query, vars)
				if got := resp.code(); got != c.want {
					t.Fatalf("code = %q, want %q; response: %s", got, c.want, resp.Raw)
				}
				t.Logf("%s: %s", c.want, resp.Errors[0].Message)
				if msg := resp.Errors[0].Message; msg == "" || msg == "internal error" {
					t.Fatalf("message %q does not say what is wrong", msg)
				}
				if after := h.fingerprint(); after != before {
					t.Fatalf("bad input wrote:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
	})
}
