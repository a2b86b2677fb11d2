package server_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

// nullish is the outcome of a query that answers null, without an error,
// for something the caller may not see.
const nullish = "null"

// caseworkCallers are every kind of caller, with a case manager of another
// district (caseManagerB, 500106) beside the one of the household's (500103).
var caseworkCallers = []string{"anonymous", "admin", "caseManager", "caseManagerB", "charityA", "charityB", "donor"}

// expect starts from "anonymous: UNAUTHENTICATED, everyone else: FORBIDDEN"
// and sets the caller/code pairs given.
func expect(pairs ...string) map[string]string {
	m := map[string]string{}
	for _, c := range caseworkCallers {
		m[c] = forbid
	}
	m["anonymous"] = unauth
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// caseFixture is a household of 500103 referred to charityA, with consent
// to share, an application, an assessment with a need, and one aid of each
// kind of provider.
type caseFixture struct {
	caseFile
	resource, referral, application, assessment, need, aidByCharity, aidByCaseManager string
}

func (c *cwClient) fixture(t *testing.T, village string) caseFixture {
	t.Helper()
	f := caseFixture{caseFile: c.newCase(t, "caseManager", village, true), resource: c.publishedResource(t, 50)}
	f.application = str(get(c.must(t, "caseManager", qSubmit, in(map[string]any{"householdId": f.household, "channel": "CASE_MANAGER", "helpText": "孩子上学需要资助"})),
		"submitApplication", "application", "id"))
	d := c.must(t, "caseManager", qClassify, in(map[string]any{"applicationId": f.application, "needs": []any{
		map[string]any{"personId": f.child, "itemCode": "SCHOOL_GRANT", "severity": 4},
	}}))
	f.assessment = str(get(d, "classifyApplication", "assessment", "id"))
	f.need = str(get(list(get(d, "classifyApplication", "assessment", "needs"))[0], "id"))
	f.referral = str(get(c.must(t, "caseManager", qRefer, in(map[string]any{"needId": f.need, "resourceId": f.resource})), "createReferral", "referral", "id"))
	legal := func(caller string) string {
		return str(get(c.must(t, caller, qRecordAid, in(map[string]any{"householdId": f.household, "personId": f.child, "categoryCode": "LEGAL",
			"providerKind": "GOVERNMENT", "providerName": "区法律援助中心", "units": 1, "periodStart": "2026-11-01", "periodEnd": "2026-11-30"})),
			"recordAid", "aidRecord", "id"))
	}
	f.aidByCharity, f.aidByCaseManager = legal("charityA"), legal("caseManager")
	return f
}

// TestCaseworkAuthorization is the role × operation table of casework:
// every casework query and mutation, tried by every kind of caller, is
// allowed or refused with the listed code, and a refused call writes
// nothing.
func TestCaseworkAuthorization(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		village := villageIn(t, "500103", 0)
		f := c.fixture(t, village)
		fixed := func(vars map[string]any) func(string) map[string]any {
			return func(string) map[string]any { return vars }
		}
		nodeOf := func(id string) func(string) map[string]any { return fixed(map[string]any{"id": id}) }
		const qNode = `query($id: ID!) { node(id: $id) { id } }`
		// The rules for one record of the household: case workers of its
		// region, and charityA where it may see the record.
		caseworkersOnly := expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden, "charityA", hidden, "charityB", hidden)
		withCharityA := expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden, "charityA", allowed, "charityB", hidden)
		hasHousehold := func(want bool) func(t *testing.T, data map[string]any) {
			return func(t *testing.T, data map[string]any) {
				found := false
				for _, e := range list(get(data, "households", "edges")) {
					found = found || get(e, "node", "id") == f.household
				}
				if found != want || (!want && num(get(data, "households", "totalCount")) != len(list(get(data, "households", "edges")))) {
					t.Fatalf("household listed: %v, want %v: %v", found, want, data)
				}
			}
		}
		hasReferral := func(want bool) func(t *testing.T, data map[string]any) {
			return func(t *testing.T, data map[string]any) {
				found := false
				for _, e := range list(get(data, "referrals", "edges")) {
					found = found || get(e, "node", "id") == f.referral
				}
				if found != want {
					t.Fatalf("referral listed: %v, want %v: %v", found, want, data)
				}
			}
		}
		aidCount := func(n int) func(t *testing.T, data map[string]any) {
			return func(t *testing.T, data map[string]any) {
				if got := num(get(data, "aidHistory", "totalCount")); got != n {
					t.Fatalf("aidHistory totalCount %d, want %d", got, n)
				}
			}
		}
		newConsent := func(string) map[string]any {
			d := c.must(t, "caseManager", qConsent, in(map[string]any{"householdId": f.household, "purposes": []string{"ECONOMIC_VERIFICATION"}, "grantedByPersonId": f.head, "method": "REMOTE"}))
			return in(map[string]any{"consentId": get(d, "recordConsent", "consent", "id"), "reason": "户主撤回"})
		}
		newApplication := func(string) map[string]any {
			d := c.must(t, "caseManager", qSubmit, in(map[string]any{"householdId": f.household, "channel": "PAPER", "helpText": "法律咨询"}))
			return in(map[string]any{"applicationId": get(d, "submitApplication", "application", "id"), "needs": []any{map[string]any{"categoryCode": "LEGAL", "severity": 2}}})
		}
		newPending := func(string) map[string]any {
			return in(map[string]any{"referralId": c.refer(t, c.newCase(t, "caseManager", village, true), f.resource), "to": "ACCEPTED"})
		}
		newPendingCancel := func(caller string) map[string]any {
			m := newPending(caller)
			m["in"].(map[string]any)["to"] = "CANCELLED"
			return m
		}
		newCaseToRefer := func(string) map[string]any {
			cf := c.newCase(t, "caseManager", village, true)
			return in(map[string]any{"householdId": cf.household, "personId": cf.child, "resourceId": f.resource, "itemCode": "SCHOOL_GRANT"})
		}

		ops := []struct {
			name  string
			setup func(caller string) map[string]any
			query string
			want  map[string]string
			// check, when set, looks at an allowed answer.
			check map[string]func(t *testing.T, data map[string]any)
		}{
			// queries
			{"household", nodeOf(f.household), `query($id: ID!) { household(id: $id) { id regionCode } }`,
				expect("admin", allowed, "caseManager", allowed, "caseManagerB", nullish, "charityA", allowed, "charityB", nullish), nil},
			{"household: unknown ID", nodeOf(globalID("Household", 999999)), `query($id: ID!) { household(id: $id) { id } }`,
				expect("admin", nullish, "caseManager", nullish, "caseManagerB", nullish, "charityA", nullish, "charityB", nullish), nil},
			{"households", fixed(nil), `{ households { totalCount edges { node { id } } } }`,
				expect("admin", allowed, "caseManager", allowed, "caseManagerB", allowed, "charityA", allowed, "charityB", allowed),
				map[string]func(*testing.T, map[string]any){
					"admin": hasHousehold(true), "caseManager": hasHousehold(true), "charityA": hasHousehold(true),
					"caseManagerB": hasHousehold(false), "charityB": hasHousehold(false),
				}},
			{"households: another region's prefix", fixed(nil), `{ households(filter: {regionPrefix: "500103"}) { totalCount edges { node { id } } } }`,
				expect("admin", allowed, "caseManager", allowed, "caseManagerB", allowed, "charityA", allowed, "charityB", allowed),
				map[string]func(*testing.T, map[string]any){"caseManagerB": hasHousehold(false), "charityB": hasHousehold(false)}},
			{"households: by resident ID", func(string) map[string]any { return map[string]any{"r": f.childID} },
				`query($r: String) { households(filter: {residentId: $r}) { totalCount edges { node { id } } } }`,
				// The filter looks at every member; a charity sees only the referred ones.
				expect("admin", allowed, "caseManager", allowed, "caseManagerB", allowed, "charityA", forbid, "charityB", forbid),
				map[string]func(*testing.T, map[string]any){"caseManager": hasHousehold(true), "caseManagerB": hasHousehold(false), "charityB": hasHousehold(false)}},
			{"aidHistory", nodeOf(f.household), `query($id: ID!) { aidHistory(householdId: $id) { totalCount edges { node { providerName } } } }`,
				withCharityA, map[string]func(*testing.T, map[string]any){"caseManager": aidCount(2), "admin": aidCount(2), "charityA": aidCount(1)}},
			{"referrals", fixed(nil), `{ referrals { totalCount edges { node { id status } } } }`,
				expect("admin", allowed, "caseManager", allowed, "caseManagerB", allowed, "charityA", allowed, "charityB", allowed),
				map[string]func(*testing.T, map[string]any){
					"admin": hasReferral(true), "caseManager": hasReferral(true), "charityA": hasReferral(true),
					"caseManagerB": hasReferral(false), "charityB": hasReferral(false),
				}},
			{"referrals: by household", nodeOf(f.household), `query($id: ID) { referrals(filter: {householdId: $id}) { totalCount edges { node { id } } } }`,
				expect("admin", allowed, "caseManager", allowed, "caseManagerB", allowed, "charityA", allowed, "charityB", allowed),
				map[string]func(*testing.T, map[string]any){"caseManagerB": hasReferral(false), "charityB": hasReferral(false), "charityA": hasReferral(true)}},
			{"node: Household", nodeOf(f.household), qNode, withCharityA, nil},
			{"node: unknown Household", nodeOf(globalID("Household", 999999)), qNode,
				expect("admin", hidden, "caseManager", hidden, "caseManagerB", hidden, "charityA", hidden, "charityB", hidden), nil},
			{"node: Person referred", nodeOf(f.child), qNode, withCharityA, nil},
			{"node: Person not referred", nodeOf(f.head), qNode, caseworkersOnly, nil},
			{"node: Referral", nodeOf(f.referral), qNode, withCharityA, nil},
			{"node: Consent", nodeOf(f.consent), qNode, caseworkersOnly, nil},
			{"node: Application", nodeOf(f.application), qNode, caseworkersOnly, nil},
			{"node: Assessment", nodeOf(f.assessment), qNode, caseworkersOnly, nil},
			{"node: Need", nodeOf(f.need), qNode, caseworkersOnly, nil},
			{"node: AidRecord by charityA", nodeOf(f.aidByCharity), qNode, withCharityA, nil},
			{"node: AidRecord by the case manager", nodeOf(f.aidByCaseManager), qNode, caseworkersOnly, nil},

			// mutations
			{"registerHousehold", func(string) map[string]any {
				return in(map[string]any{"regionCode": village, "members": []any{member("周六", c.ids.next("19660606", false), "HEAD")}})
			}, qRegister, expect("admin", allowed, "caseManager", allowed), nil},
			{"registerHousehold in 500106", func(string) map[string]any {
				return in(map[string]any{"regionCode": villageIn(t, "500106", 0), "members": []any{member("吴七", c.ids.next("19670707", false), "HEAD")}})
			}, qRegister, expect("admin", allowed, "caseManagerB", allowed), nil},
			{"addPerson", func(string) map[string]any {
				return in(map[string]any{"householdId": f.household, "person": member("王小三", c.ids.next("20180808", false), "CHILD")})
			}, qAddPerson, expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden), nil},
			{"recordConsent", fixed(in(map[string]any{"householdId": f.household, "purposes": []string{"SHARE_WITH_CHARITIES"}, "grantedByPersonId": f.head, "method": "PAPER"})),
				qConsent, expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden), nil},
			{"revokeConsent", newConsent, qRevoke, expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden), nil},
			{"submitApplication", fixed(in(map[string]any{"householdId": f.household, "channel": "HOTLINE", "helpText": "需要心理疏导"})),
				qSubmit, expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden), nil},
			{"classifyApplication", newApplication, qClassify, expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden), nil},
			{"createAssessment", fixed(in(map[string]any{"householdId": f.household, "needs": []any{map[string]any{"categoryCode": "PSYCHOLOGICAL", "severity": 1}}})),
				qAssess, expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden), nil},
			{"recordAid", fixed(in(map[string]any{"householdId": f.household, "personId": f.child, "categoryCode": "LEGAL", "providerKind": "OTHER",
				"providerName": "志愿律师", "units": 1, "periodStart": "2026-11-02", "periodEnd": "2026-11-03"})),
				qRecordAid, withCharityA, nil},
			{"createReferral", newCaseToRefer, qRefer, expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden), nil},
			{"transitionReferral: accept", newPending, qMove, expect("admin", allowed, "caseManager", forbid, "caseManagerB", hidden, "charityA", allowed, "charityB", hidden), nil},
			{"transitionReferral: cancel", newPendingCancel, qMove, expect("admin", allowed, "caseManager", allowed, "caseManagerB", hidden, "charityA", forbid, "charityB", hidden), nil},
			{"revealResidentId", fixed(in(map[string]any{"personId": f.child, "reason": "核对户籍信息"})), qReveal,
				expect("caseManager", allowed, "caseManagerB", hidden), nil},
		}
		for _, op := range ops {
			for _, caller := range caseworkCallers {
				want, listed := op.want[caller]
				if !listed {
					t.Fatalf("%s: no expectation for %s", op.name, caller)
				}
				t.Run(op.name+"/"+caller, func(t *testing.T) {
					vars := op.setup(caller)
					audited := c.auditCount(t)
					before := c.fingerprint()
					resp := c.try(caller, op.query, vars)
					got := resp.code()
					if got == "" && want == nullish {
						for field, v := range resp.Data {
							if v != nil {
								t.Fatalf("%s = %v, want null; response: %s", field, v, resp.Raw)
							}
							got = nullish
						}
					}
					if got != want {
						t.Fatalf("code = %q, want %q; response: %s", got, want, resp.Raw)
					}
					if want == allowed {
						if resp.Data == nil {
							t.Fatalf("allowed but no data: %s", resp.Raw)
						}
						for field, v := range resp.Data {
							if v == nil {
								t.Fatalf("allowed but %s is null: %s", field, resp.Raw)
							}
						}
						// Every casework mutation appends to the audit log.
						if strings.HasPrefix(op.query, "mutation") && c.auditCount(t) <= audited {
							t.Fatalf("%s was not audited", op.name)
						}
						if check := op.check[caller]; check != nil {
							check(t, resp.Data)
						}
					}
					if want != allowed {
						if msg := resp.Errors; want != nullish && (len(msg) == 0 || msg[0].Message == "" || msg[0].Message == "internal error") {
							t.Fatalf("refused without a message: %s", resp.Raw)
						}
						if after := c.fingerprint(); after != before {
							t.Fatalf("a refused call wrote:\nbefore %s\nafter  %s", before, after)
						}
					}
				})
			}
		}
		c.assertNoResidentIDs(t, c.ids.all, func(body string) bool { return strings.Contains(body, `"revealResidentId":{`) })
	})
}

// TestCaseworkFieldAccess checks what each caller sees of a household: a
// charity with a referral and consent sees the fields needed to deliver, with
// the strict mask, and nothing else; after consent is revoked it sees
// nothing; another charity never sees it; donors are refused everywhere; and
// node(id) answers the same way without leaking what exists.
func TestCaseworkFieldAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		f := c.fixture(t, villageIn(t, "500103", 0))
		vars := map[string]any{"id": f.household}
		const qDeliver = `query($id: ID!) { household(id: $id) { regionCode regionName address persons { id name relation residentId household { id } } } }`

		// charityA sees what it needs to deliver: the referred child only, strictly masked.
		data := c.must(t, "charityA", qDeliver, vars)
		persons := list(get(data, "household", "persons"))
		if get(data, "household", "regionCode") == nil || get(data, "household", "address") != "解放西路66号3单元" || len(persons) != 1 {
			t.Fatalf("charityA sees %v", data)
		}
		p := persons[0]
		if get(p, "id") != f.child || get(p, "name") != "王小雨" || get(p, "residentId") != maskStrict(f.childID) || !strictMask.MatchString(str(get(p, "residentId"))) {
			t.Fatalf("charityA sees person %v; residentId want %s", p, maskStrict(f.childID))
		}
		data = c.must(t, "caseManager", qDeliver, vars)
		if persons := list(get(data, "household", "persons")); len(persons) != 2 || get(persons[1], "residentId") != maskPartial(f.childID) {
			t.Fatalf("caseManager sees %v", data)
		}

		// Fields for case workers only: FORBIDDEN for the charity.
		for _, sel := range []string{
			"monthlyIncomeFen", "spending { medicalFen }", "consents { id }", "sharingConsented", "applications { id }",
			"assessments { id }", "currentAssessment { id }", "externalId",
			"persons { birthDate }", "persons { age }", "persons { female }", "persons { groups { since } }", "persons { possibleDuplicateOf { id } }",
		} {
			t.Run("charityA/"+sel, func(t *testing.T) {
				q := `query($id: ID!) { household(id: $id) { regionCode ` + sel + ` } }`
				c.wantCode(t, forbid, "charityA", q, vars)
				c.must(t, "caseManager", q, vars)
			})
		}
		// Records reached through the referral are no wider.
		data = c.must(t, "charityA", `query($id: ID!) { node(id: $id) { ... on Referral { status need { id } household { id } person { id residentId } resource { id } } } }`,
			map[string]any{"id": f.referral})
		if get(data, "node", "need") != nil || get(data, "node", "household", "id") != f.household || get(data, "node", "person", "residentId") != maskStrict(f.childID) {
			t.Fatalf("charityA's referral: %v", data)
		}
		c.wantCode(t, forbid, "charityA", `query($id: ID!) { node(id: $id) { ... on Person { birthDate } } }`, map[string]any{"id": f.child})
		c.wantCode(t, forbid, "charityA", qReveal, in(map[string]any{"personId": f.child, "reason": "配送需要核对"}))

		// charityB never sees it, and cannot tell it from nothing.
		if data := c.must(t, "charityB", qDeliver, vars); get(data, "household") != nil {
			t.Fatalf("charityB sees %v", data)
		}
		for _, id := range []string{f.household, f.child, f.head, f.referral, f.need, f.aidByCharity} {
			missing := c.wantCode(t, hidden, "charityB", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			typ := strings.SplitN(decodeGlobal(id), ":", 2)[0]
			absent := c.wantCode(t, hidden, "charityB", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": globalID(typ, 999999)})
			if a, b := strings.ReplaceAll(missing.Errors[0].Message, id, "ID"), strings.ReplaceAll(absent.Errors[0].Message, globalID(typ, 999999), "ID"); a != b {
				t.Fatalf("NOT_FOUND differs for a hidden and a missing %s: %q vs %q", typ, a, b)
			}
		}
		c.wantCode(t, hidden, "charityB", `query($id: ID!) { aidHistory(householdId: $id) { totalCount } }`, vars)

		// Donors are refused everywhere, whatever exists.
		for _, q := range []struct {
			query string
			vars  map[string]any
		}{
			{qDeliver, vars},
			{`{ households { totalCount } }`, nil},
			{`query($id: ID!) { aidHistory(householdId: $id) { totalCount } }`, vars},
			{`{ referrals { totalCount } }`, nil},
			{`query($id: ID!) { node(id: $id) { id } }`, vars},
			{`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": f.child}},
			{`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": f.referral}},
			{`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": globalID("Household", 999999)}},
			{`query($id: ID!) { node(id: $id) { ... on Resource { title } } }`, map[string]any{"id": f.resource}},
		} {
			r := c.try("donor", q.query, q.vars)
			if strings.Contains(q.query, "Resource") {
				if len(r.Errors) > 0 {
					t.Fatalf("donor cannot read a published resource: %s", r.Raw)
				}
				continue
			}
			if r.code() != forbid {
				t.Fatalf("donor: code %q, want FORBIDDEN: %s", r.code(), r.Raw)
			}
		}

		// Consent revoked: charityA sees the household no more, and is told
		// why (CONSENT_REQUIRED, as the README promises) wherever it reads
		// the household, one of the persons referred to it or its own aid:
		// it knows them through its referral, so this reveals nothing. Its
		// referral stays, without the household's data.
		c.must(t, "caseManager", qRevoke, in(map[string]any{"consentId": f.consent, "reason": "户主撤回授权"}))
		consentRequired := func(r response, path string) {
			t.Helper()
			for _, e := range r.Errors {
				var at []string
				for _, p := range e.Path {
					at = append(at, fmt.Sprint(p))
				}
				if e.Extensions["code"] == "CONSENT_REQUIRED" && strings.Join(at, ".") == path &&
					e.Extensions["messageZh"] != nil && !strings.Contains(e.Message, "\n") {
					return
				}
			}
			t.Fatalf("no CONSENT_REQUIRED at %s: %s", path, r.Raw)
		}
		r := c.wantCode(t, "CONSENT_REQUIRED", "charityA", qDeliver, vars)
		if r.Data == nil || get(r.Data, "household") != nil {
			t.Fatalf("charityA sees after revocation: %s", r.Raw)
		}
		consentRequired(r, "household")
		for _, id := range []string{f.household, f.child, f.aidByCharity} {
			r := c.wantCode(t, "CONSENT_REQUIRED", "charityA", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			if get(r.Data, "node") != nil {
				t.Fatalf("node %s after revocation: %s", id, r.Raw)
			}
		}
		// The head was not referred to charityA: still nothing to tell.
		c.wantCode(t, hidden, "charityA", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": f.head})
		// charityB has no referral: NOT_FOUND as before, consent or not.
		c.wantCode(t, hidden, "charityB", `query($id: ID!) { node(id: $id) { id } }`, vars)
		data = c.must(t, "charityA", `{ households { totalCount edges { node { id } } } }`, nil)
		if num(get(data, "households", "totalCount")) != 0 || len(list(get(data, "households", "edges"))) != 0 {
			t.Fatalf("charityA lists households after revocation: %v", data)
		}
		r = c.wantCode(t, "CONSENT_REQUIRED", "charityA", `{ referrals { totalCount edges { node { id status household { id } person { id residentId } } } } }`, nil)
		edges := list(get(r.Data, "referrals", "edges"))
		if len(edges) != 1 || get(edges[0], "node", "id") != f.referral || get(edges[0], "node", "household") != nil || get(edges[0], "node", "person") != nil {
			t.Fatalf("charityA's referrals after revocation: %s", r.Raw)
		}
		consentRequired(r, "referrals.edges.0.node.household")
		consentRequired(r, "referrals.edges.0.node.person")
		r = c.wantCode(t, "CONSENT_REQUIRED", "charityA", `query($id: ID!) { node(id: $id) { ... on AidRecord { id household { id } } } }`, map[string]any{"id": f.aidByCharity})
		consentRequired(r, "node")
		c.wantCode(t, "CONSENT_REQUIRED", "charityA", `query($id: ID!) { aidHistory(householdId: $id) { totalCount } }`, vars)
		c.wantCode(t, "CONSENT_REQUIRED", "charityA", qRecordAid, in(map[string]any{"householdId": f.household, "personId": f.child, "categoryCode": "LEGAL",
			"providerKind": "CHARITY", "providerName": "x", "units": 1, "periodStart": "2026-11-05", "periodEnd": "2026-11-06"}))
		// The case manager still sees all, but can refer no more.
		if data := c.must(t, "caseManager", `query($id: ID!) { household(id: $id) { sharingConsented persons { id } } }`, vars); get(data, "household", "sharingConsented") != false {
			t.Fatalf("sharingConsented after revocation: %v", data)
		}
		c.wantCode(t, "CONSENT_REQUIRED", "caseManager", qRefer, in(map[string]any{"householdId": f.household, "personId": f.head, "resourceId": f.resource, "itemCode": "SCHOOL_GRANT"}))

		c.assertNoResidentIDs(t, c.ids.all, func(string) bool { return false })
	})
}

func (c *cwClient) auditCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := c.db.QueryRowContext(context.Background(), "SELECT count(*) FROM audit_log").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func decodeGlobal(id string) string {
	raw, _ := base64.RawURLEncoding.DecodeString(id)
	return string(raw)
}
