package server_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/server"
)

// End-to-end casework through GraphQL: households, consent, one
// application classified into needs, referrals in their closed loop, the aid
// ledger and the duplicate-aid rule, the audited reveal, bad input, and
// privacy (no resident ID in clear in any response or log line).

const (
	qRegister = `mutation($in: RegisterHouseholdInput!) { registerHousehold(input: $in) { household {
		id regionCode regionName address monthlyIncomeFen spending { medicalFen educationFen housingFen otherFen }
		persons { id name relation residentId birthDate age female groups { group { code } since until active } possibleDuplicateOf { id } } } } }`
	qAddPerson = `mutation($in: AddPersonInput!) { addPerson(input: $in) { person { id name relation residentId birthDate age female household { id } } } }`
	qConsent   = `mutation($in: RecordConsentInput!) { recordConsent(input: $in) { consent { id purposes method active grantedBy { id } } } }`
	qRevoke    = `mutation($in: RevokeConsentInput!) { revokeConsent(input: $in) { consent { id active revokedAt revokeReason } } }`
	qSubmit    = `mutation($in: SubmitApplicationInput!) { submitApplication(input: $in) { application {
		id status channel helpText categories { code } applicant { id } history { status actorRole } } } }`
	qClassify = `mutation($in: ClassifyApplicationInput!) { classifyApplication(input: $in) {
		application { id status assessment { id } history { status actorRole note } }
		assessment { id current needs { id status severity category { code } item { code } person { id } } } } }`
	qAssess    = `mutation($in: CreateAssessmentInput!) { createAssessment(input: $in) { assessment { id current supersedes { id } needs { id status } } } }`
	qRecordAid = `mutation($in: RecordAidInput!) { recordAid(input: $in) { aidRecord {
		id source providerKind providerName overridden amountFen units periodStart periodEnd person { id } category { code } } } }`
	qRefer = `mutation($in: CreateReferralInput!) { createReferral(input: $in) { referral {
		id status units periodStart periodEnd overridden organization { id } person { id } need { id } household { id } } } }`
	qMove   = `mutation($in: TransitionReferralInput!) { transitionReferral(input: $in) { referral { id status declineReason } } }`
	qReveal = `mutation($in: RevealResidentIdInput!) { revealResidentId(input: $in) { residentId person { id residentId } } }`
	qCap    = `query($id: ID!) { resource(id: $id) { status capacity { units unitsTaken unitsLeft } } }`
)

// --------------------------------------------------------------- resident IDs

// checkDigit is the ISO 7064 MOD 11-2 check character of GB 11643 over the
// first 17 digits of s.
func checkDigit(s string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// residentID builds a valid 18-character resident ID: 6-digit region,
// YYYYMMDD birth date, 3-digit sequence (odd for men, even for women) and
// the check character.
func residentID(region, birth string, seq int) string {
	s := fmt.Sprintf("%s%s%03d", region, birth, seq)
	return s + string(checkDigit(s))
}

// wrongCheck returns id with a check character that does not fit.
func wrongCheck(id string) string {
	for _, c := range "0123456789X" {
		if byte(c) != id[17] {
			return id[:17] + string(c)
		}
	}
	panic("unreachable")
}

// idGen hands out resident IDs that are unique within one hub.
type idGen struct {
	mu sync.Mutex
	n  int
	// all are the IDs handed out, in their 18-character form.
	all []string
}

func (g *idGen) next(birth string, female bool) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	seq := (2*g.n + 1) % 1000
	if female {
		seq--
	}
	id := residentID("500103", birth, seq)
	g.all = append(g.all, id)
	return id
}

func TestResidentIDHelper(t *testing.T) {
	// The example number of GB 11643-1999.
	if got := residentID("110105", "19491231", 2); got != "11010519491231002X" {
		t.Fatalf("residentID = %s, want 11010519491231002X", got)
	}
	if got := wrongCheck("11010519491231002X"); got == "11010519491231002X" || len(got) != 18 {
		t.Fatalf("wrongCheck = %s", got)
	}
}

var (
	partialMask = regexp.MustCompile(`^\d{6}\*{8}\d{3}[\dX]$`)
	strictMask  = regexp.MustCompile(`^\d{3}\*{14}[\dX]$`)
)

func maskPartial(id string) string { return id[:6] + "********" + id[14:] }
func maskStrict(id string) string  { return id[:3] + "**************" + id[17:] }

// villageIn returns a real 12-digit village code under prefix.
func villageIn(t *testing.T, prefix string, n int) string {
	t.Helper()
	for _, v := range regions.Chongqing().AtLevel(regions.Village) {
		if strings.HasPrefix(v.Code, prefix) {
			if n == 0 {
				return v.Code
			}
			n--
		}
	}
	t.Fatalf("no village under %s", prefix)
	return ""
}

// --------------------------------------------------------------- the client

// cwClient sends GraphQL as the hub's callers and keeps every response body,
// so a test can scan them all for personal data at the end.
type cwClient struct {
	*hub
	ids    *idGen
	mu     sync.Mutex
	bodies []string
}

func newCW(t *testing.T, d *db.DB) *cwClient {
	return &cwClient{hub: newHub(t, d, server.Config{}), ids: &idGen{}}
}

func (c *cwClient) try(caller, query string, vars map[string]any) response {
	c.t.Helper()
	r := c.do(caller, query, vars)
	c.mu.Lock()
	c.bodies = append(c.bodies, r.Raw)
	c.mu.Unlock()
	return r
}

// must sends a request that has to succeed and returns its data.
func (c *cwClient) must(t *testing.T, caller, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := c.try(caller, query, vars)
	if len(r.Errors) > 0 || r.Data == nil {
		t.Fatalf("%s: unexpected errors: %s", caller, r.Raw)
	}
	return r.Data
}

// wantCode sends a request that has to fail with code and returns it.
func (c *cwClient) wantCode(t *testing.T, code, caller, query string, vars map[string]any) response {
	t.Helper()
	r := c.try(caller, query, vars)
	if got := r.code(); got != code {
		t.Fatalf("%s: code = %q, want %q; response: %s", caller, got, code, r.Raw)
	}
	return r
}

func in(m map[string]any) map[string]any { return map[string]any{"in": m} }

func str(v any) string { s, _ := v.(string); return s }

func num(v any) int { f, _ := v.(float64); return int(f) }

func list(v any) []any { l, _ := v.([]any); return l }

// rowOf decodes the row ID of a global ID.
func rowOf(t *testing.T, id any) int64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(str(id))
	if err != nil {
		t.Fatalf("%v is not a global ID: %v", id, err)
	}
	_, key, _ := strings.Cut(string(raw), ":")
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		t.Fatalf("%v is not a row ID: %v", id, err)
	}
	return n
}

func member(name, id, relation string, groups ...map[string]any) map[string]any {
	m := map[string]any{"name": name, "residentId": id, "relation": relation}
	if len(groups) > 0 {
		m["groups"] = groups
	}
	return m
}

// publishedResource creates and publishes, as charityA, a resource offering
// school grants in 500103 with capacity units, and returns its global ID.
func (c *cwClient) publishedResource(t *testing.T, units int) string {
	t.Helper()
	d := c.must(t, "charityA", `mutation($in: CreateResourceInput!) { createResource(input: $in) { resource { id status } } }`, in(map[string]any{
		"title": "困难家庭学生助学金", "itemCodes": []string{"SCHOOL_GRANT"}, "groupCodes": []string{"DIBAO"},
		"coverage": []string{"500103"}, "capacityUnits": units,
	}))
	id := str(get(d, "createResource", "resource", "id"))
	if st := get(d, "createResource", "resource", "status"); st != "DRAFT" {
		t.Fatalf("new resource is %v", st)
	}
	d = c.must(t, "charityA", `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { status } } }`, map[string]any{"id": id})
	if st := get(d, "publishResource", "resource", "status"); st != "PUBLISHED" {
		t.Fatalf("published resource is %v", st)
	}
	return id
}

// unitsTaken reads a resource's taken capacity through GraphQL.
func (c *cwClient) unitsTaken(t *testing.T, resource string) int {
	t.Helper()
	return num(get(c.must(t, "admin", qCap, map[string]any{"id": resource}), "resource", "capacity", "unitsTaken"))
}

// caseFile is a household registered through GraphQL with a head and a
// child, consenting to sharing with charities.
type caseFile struct {
	household, head, child, consent string
	headID, childID                 string // resident IDs in clear
}

// newCase registers a household in village as caseManager (or the given
// caseworker) and records its consent to share with charities.
func (c *cwClient) newCase(t *testing.T, caseworker, village string, consent bool) caseFile {
	t.Helper()
	cf := caseFile{headID: c.ids.next("19790615", false), childID: c.ids.next("20130301", true)}
	d := c.must(t, caseworker, qRegister, in(map[string]any{
		"regionCode": village, "address": "解放西路66号3单元", "monthlyIncomeFen": 120000,
		"members": []any{member("王大山", cf.headID, "HEAD"), member("王小雨", cf.childID, "CHILD")},
	}))
	cf.household = str(get(d, "registerHousehold", "household", "id"))
	for _, p := range list(get(d, "registerHousehold", "household", "persons")) {
		switch get(p, "relation") {
		case "HEAD":
			cf.head = str(get(p, "id"))
		case "CHILD":
			cf.child = str(get(p, "id"))
		}
	}
	if consent {
		d = c.must(t, caseworker, qConsent, in(map[string]any{
			"householdId": cf.household, "purposes": []string{"SHARE_WITH_CHARITIES"}, "grantedByPersonId": cf.head, "method": "ELECTRONIC",
		}))
		cf.consent = str(get(d, "recordConsent", "consent", "id"))
	}
	return cf
}

// refer refers the case's child to resource for a school grant and returns
// the referral's ID.
func (c *cwClient) refer(t *testing.T, cf caseFile, resource string) string {
	t.Helper()
	d := c.must(t, "caseManager", qRefer, in(map[string]any{
		"householdId": cf.household, "personId": cf.child, "resourceId": resource, "itemCode": "SCHOOL_GRANT",
	}))
	return str(get(d, "createReferral", "referral", "id"))
}

func (c *cwClient) move(t *testing.T, caller, referral, to string, extra map[string]any) map[string]any {
	t.Helper()
	m := map[string]any{"referralId": referral, "to": to}
	for k, v := range extra {
		m[k] = v
	}
	d := c.must(t, caller, qMove, in(m))
	if got := get(d, "transitionReferral", "referral", "status"); got != to {
		t.Fatalf("referral is %v, want %s", got, to)
	}
	return d
}

// assertNoResidentIDs fails when any response body other than those
// allowed (reveal answers), or the server log, holds one of ids in clear.
func (c *cwClient) assertNoResidentIDs(t *testing.T, ids []string, allowed func(body string) bool) {
	t.Helper()
	c.mu.Lock()
	bodies := slices.Clone(c.bodies)
	c.mu.Unlock()
	if len(bodies) == 0 {
		t.Fatal("no responses recorded")
	}
	logs := c.logs.String()
	if n := strings.Count(logs, `"message":"request"`); n < len(bodies) {
		t.Fatalf("%d request log lines for %d responses", n, len(bodies))
	}
	for _, id := range ids {
		// The first 17 characters identify the person as well as all 18.
		needles := []string{id, id[:17], strings.ToLower(id)}
		for i, body := range bodies {
			for _, n := range needles {
				if strings.Contains(body, n) && !allowed(body) {
					t.Errorf("response %d shows resident ID %s in clear: %s", i, maskPartial(id), body)
				}
			}
		}
		for _, n := range needles {
			if strings.Contains(logs, n) {
				t.Errorf("the server log shows resident ID %s in clear", maskPartial(id))
			}
		}
	}
}

// auditSummaries returns every summary of the audit log.
func (c *cwClient) auditSummaries(t *testing.T) []string {
	t.Helper()
	var out []string
	rows, err := c.db.QueryContext(context.Background(), "SELECT action || ' ' || summary FROM audit_log ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// --------------------------------------------------------------- the flow

// TestCaseworkFlow walks one household through the whole loop: register,
// consent, apply, classify, refer, accept, start, deliver; then declines,
// cancellations, duplicate aid with a case manager's override, the audited
// reveal, and at the end scans every response and the log for resident IDs.
func TestCaseworkFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		ctx := context.Background()
		village := villageIn(t, "500103", 0)

		// A charity's resource, created and published through GraphQL.
		resource := c.publishedResource(t, 5)
		if got := c.unitsTaken(t, resource); got != 0 {
			t.Fatalf("unitsTaken = %d before any referral", got)
		}

		// The household, with real IDs.
		headID, spouseID := c.ids.next("19780315", false), c.ids.next("19800702", true)
		child1ID, child2ID := c.ids.next("20120901", false), c.ids.next("20150420", true)
		legacy15 := "500103500101013" // 15 digits, issued before 1999
		legacy18 := "500103" + "19" + "500101013"
		legacy18 += string(checkDigit(legacy18))
		allIDs := []string{headID, spouseID, child1ID, child2ID, legacy18}
		names := []string{"张建国", "李秀英", "张小明", "张小红", "张守田"}
		const address = "七星岗街道领事巷12号2-3"

		data := c.must(t, "caseManager", qRegister, in(map[string]any{
			"externalId": "YZ-2026-0001", "regionCode": village, "address": address, "monthlyIncomeFen": 180000,
			"spending": map[string]any{"medicalFen": 50000, "educationFen": 30000},
			"members": []any{
				member(names[0], headID, "HEAD"),
				member(names[1], spouseID, "SPOUSE", map[string]any{"groupCode": "DIBAO", "since": "2024-01-01"}),
				member(names[2], strings.ToLower(child1ID), "CHILD"), // a lower-case x is accepted too
			},
		}))
		hh := get(data, "registerHousehold", "household")
		household := str(get(hh, "id"))
		if get(hh, "regionCode") != village || !strings.HasPrefix(str(get(hh, "regionName")), "重庆市渝中区") || get(hh, "address") != address {
			t.Fatalf("household: %v", hh)
		}
		if num(get(hh, "monthlyIncomeFen")) != 180000 || num(get(hh, "spending", "medicalFen")) != 50000 || num(get(hh, "spending", "housingFen")) != 0 {
			t.Fatalf("money: %v", hh)
		}
		persons := list(get(hh, "persons"))
		if len(persons) != 3 {
			t.Fatalf("persons: %v", persons)
		}
		ids := map[string]string{} // relation/name → person global ID
		for i, p := range persons {
			id := allIDs[i]
			if got := str(get(p, "residentId")); got != maskPartial(id) || !partialMask.MatchString(got) {
				t.Fatalf("%s: residentId %q, want %q", get(p, "name"), got, maskPartial(id))
			}
			if get(p, "birthDate") != fmt.Sprintf("%s-%s-%s", id[6:10], id[10:12], id[12:14]) {
				t.Fatalf("birthDate %v from %s", get(p, "birthDate"), maskPartial(id))
			}
			ids[str(get(p, "name"))] = str(get(p, "id"))
		}
		if get(persons[1], "female") != true || get(persons[0], "female") != false || num(get(persons[0], "age")) != 48 {
			t.Fatalf("sex or age: %v", persons)
		}
		if g := list(get(persons[1], "groups")); len(g) != 1 || get(g[0], "group", "code") != "DIBAO" || get(g[0], "active") != true {
			t.Fatalf("groups: %v", g)
		}
		head, child1 := ids[names[0]], ids[names[2]]
		data = c.must(t, "caseManager", `{ households(filter: {groupCode: "DIBAO", regionPrefix: "500103"}) { totalCount edges { node { id } } } }`, nil)
		if num(get(data, "households", "totalCount")) != 1 || get(list(get(data, "households", "edges"))[0], "node", "id") != household {
			t.Fatalf("households in DIBAO: %v", data)
		}

		// addPerson: a second child, and a grandparent with a 15-digit number.
		data = c.must(t, "caseManager", qAddPerson, in(map[string]any{"householdId": household, "person": member(names[3], child2ID, "CHILD")}))
		child2 := str(get(data, "addPerson", "person", "id"))
		if get(data, "addPerson", "person", "household", "id") != household || get(data, "addPerson", "person", "residentId") != maskPartial(child2ID) {
			t.Fatalf("addPerson: %v", data)
		}
		data = c.must(t, "caseManager", qAddPerson, in(map[string]any{"householdId": household, "person": member(names[4], legacy15, "GRANDPARENT")}))
		if got := get(data, "addPerson", "person", "residentId"); got != maskPartial(legacy18) || get(data, "addPerson", "person", "birthDate") != "1950-01-01" {
			t.Fatalf("15-digit number: residentId %v, birthDate %v", got, get(data, "addPerson", "person", "birthDate"))
		}
		// The same person again: CONFLICT naming the existing person.
		r := c.wantCode(t, "CONFLICT", "caseManager", qAddPerson, in(map[string]any{"householdId": household, "person": member("张小红", child2ID, "CHILD")}))
		if r.Errors[0].Extensions["existingId"] != child2 {
			t.Fatalf("CONFLICT names %v, want %s", r.Errors[0].Extensions["existingId"], child2)
		}

		// Consent to share with charities (电子授权).
		data = c.must(t, "caseManager", qConsent, in(map[string]any{
			"householdId": household, "purposes": []string{"SHARE_WITH_CHARITIES", "ECONOMIC_VERIFICATION"},
			"grantedByPersonId": head, "method": "ELECTRONIC",
		}))
		consent := get(data, "recordConsent", "consent")
		if get(consent, "active") != true || get(consent, "grantedBy", "id") != head || len(list(get(consent, "purposes"))) != 2 {
			t.Fatalf("consent: %v", consent)
		}

		// One application, classified into needs.
		const helpText = "孩子上学缺学费，爷爷看病也困难"
		data = c.must(t, "caseManager", qSubmit, in(map[string]any{
			"householdId": household, "applicantPersonId": head, "channel": "APP", "helpText": helpText, "categoryCodes": []string{"EDUCATION", "MEDICAL"},
		}))
		app := get(data, "submitApplication", "application")
		if get(app, "status") != "SUBMITTED" || len(list(get(app, "categories"))) != 2 || get(app, "applicant", "id") != head {
			t.Fatalf("application: %v", app)
		}
		data = c.must(t, "caseManager", qClassify, in(map[string]any{
			"applicationId": get(app, "id"), "notes": "入户核实",
			"needs": []any{
				map[string]any{"personId": child1, "itemCode": "SCHOOL_GRANT", "severity": 4, "notes": "学费"},
				map[string]any{"personId": child2, "categoryCode": "EDUCATION_GRANTS", "severity": 3},
				map[string]any{"categoryCode": "MEDICAL_OUTPATIENT", "severity": 2},
			},
		}))
		cl := get(data, "classifyApplication")
		if get(cl, "application", "status") != "CLASSIFIED" || get(cl, "application", "assessment", "id") != get(cl, "assessment", "id") {
			t.Fatalf("classified: %v", cl)
		}
		if h := list(get(cl, "application", "history")); len(h) != 2 || get(h[0], "status") != "SUBMITTED" || get(h[1], "status") != "CLASSIFIED" || get(h[1], "actorRole") != "CASE_MANAGER" {
			t.Fatalf("application history: %v", h)
		}
		needs := list(get(cl, "assessment", "needs"))
		if len(needs) != 3 || get(needs[0], "category", "code") != "EDUCATION_GRANTS" || get(needs[0], "item", "code") != "SCHOOL_GRANT" ||
			get(needs[0], "person", "id") != child1 || get(needs[0], "status") != "OPEN" || num(get(needs[0], "severity")) != 4 {
			t.Fatalf("needs: %v", needs)
		}
		schoolNeed := str(get(needs[0], "id"))

		// A referral from the need.
		data = c.must(t, "caseManager", qRefer, in(map[string]any{"needId": schoolNeed, "resourceId": resource, "note": "请尽快联系"}))
		ref := get(data, "createReferral", "referral")
		referral := str(get(ref, "id"))
		if get(ref, "status") != "PENDING" || get(ref, "person", "id") != child1 || get(ref, "household", "id") != household ||
			get(ref, "need", "id") != schoolNeed || num(get(ref, "units")) != 1 || get(ref, "organization", "id") != orgID(c.orgA.ID) ||
			get(ref, "periodStart") != "2026-11-28" || get(ref, "periodEnd") != "2026-12-27" {
			t.Fatalf("referral: %v", ref)
		}
		if got := c.unitsTaken(t, resource); got != 0 {
			t.Fatalf("a PENDING referral took capacity: unitsTaken %d", got)
		}
		// The same person, category and period again: DUPLICATE_AID.
		r = c.wantCode(t, "DUPLICATE_AID", "caseManager", qRefer, in(map[string]any{"householdId": household, "personId": child1, "resourceId": resource, "itemCode": "SCHOOL_GRANT"}))
		if !strings.Contains(r.Errors[0].Message, c.orgA.Name) {
			t.Fatalf("DUPLICATE_AID does not name the provider: %s", r.Errors[0].Message)
		}

		// The charity sees its referral and moves it along.
		data = c.must(t, "charityA", `{ referrals { totalCount edges { node { id status household { regionCode } person { residentId } } } } }`, nil)
		if num(get(data, "referrals", "totalCount")) != 1 || get(list(get(data, "referrals", "edges"))[0], "node", "id") != referral {
			t.Fatalf("charityA referrals: %v", data)
		}
		if got := get(list(get(data, "referrals", "edges"))[0], "node", "person", "residentId"); got != maskStrict(child1ID) || !strictMask.MatchString(str(got)) {
			t.Fatalf("charity sees residentId %v, want %s", got, maskStrict(child1ID))
		}
		c.move(t, "charityA", referral, "ACCEPTED", nil)
		if got := c.unitsTaken(t, resource); got != 1 {
			t.Fatalf("unitsTaken = %d after ACCEPTED, want 1", got)
		}
		c.move(t, "charityA", referral, "IN_PROGRESS", map[string]any{"note": "已联系家长"})
		c.move(t, "charityA", referral, "DELIVERED", map[string]any{"deliveredAmountFen": 200000})
		if got := c.unitsTaken(t, resource); got != 1 {
			t.Fatalf("unitsTaken = %d after DELIVERED, want 1", got)
		}

		// The ledger shows the REFERRAL aid; the need is MET; history has every step.
		data = c.must(t, "caseManager", `query($h: ID!) { aidHistory(householdId: $h) { totalCount edges { node {
			source providerKind providerName provider { id } amountFen units periodStart periodEnd referral { id } person { id } category { code } item { code } overridden } } } }`,
			map[string]any{"h": household})
		edges := list(get(data, "aidHistory", "edges"))
		if num(get(data, "aidHistory", "totalCount")) != 1 || len(edges) != 1 {
			t.Fatalf("aidHistory: %v", data)
		}
		aid := get(edges[0], "node")
		if get(aid, "source") != "REFERRAL" || get(aid, "providerName") != c.orgA.Name || get(aid, "provider", "id") != orgID(c.orgA.ID) ||
			get(aid, "referral", "id") != referral || get(aid, "person", "id") != child1 || num(get(aid, "amountFen")) != 200000 ||
			num(get(aid, "units")) != 1 || get(aid, "category", "code") != "EDUCATION_GRANTS" || get(aid, "overridden") != false {
			t.Fatalf("aid record: %v", aid)
		}
		data = c.must(t, "caseManager", `query($id: ID!) { node(id: $id) { ... on Need { status } } }`, map[string]any{"id": schoolNeed})
		if get(data, "node", "status") != "MET" {
			t.Fatalf("need is %v, want MET", get(data, "node", "status"))
		}
		data = c.must(t, "caseManager", `query($id: ID!) { node(id: $id) { ... on Referral { status history { from to actorRole reason } } } }`, map[string]any{"id": referral})
		hist := list(get(data, "node", "history"))
		steps := []string{}
		for _, e := range hist {
			from := "-"
			if f, ok := get(e, "from").(string); ok {
				from = f
			}
			steps = append(steps, fmt.Sprintf("%s>%s/%s", from, get(e, "to"), get(e, "actorRole")))
		}
		if want := []string{"->PENDING/CASE_MANAGER", "PENDING>ACCEPTED/CHARITY", "ACCEPTED>IN_PROGRESS/CHARITY", "IN_PROGRESS>DELIVERED/CHARITY"}; !slices.Equal(steps, want) {
			t.Fatalf("history %v, want %v", steps, want)
		}
		if get(hist[2], "reason") != "已联系家长" {
			t.Fatalf("history reason: %v", hist[2])
		}
		// A delivered referral is done.
		c.wantCode(t, "CONFLICT", "charityA", qMove, in(map[string]any{"referralId": referral, "to": "DELIVERED"}))

		// Decline returns capacity; so does cancel.
		second := str(get(c.must(t, "caseManager", qRefer, in(map[string]any{"householdId": household, "personId": child2, "resourceId": resource, "itemCode": "SCHOOL_GRANT"})),
			"createReferral", "referral", "id"))
		c.move(t, "charityA", second, "ACCEPTED", nil)
		if got := c.unitsTaken(t, resource); got != 2 {
			t.Fatalf("unitsTaken = %d after the second ACCEPTED, want 2", got)
		}
		data = c.move(t, "charityA", second, "DECLINED", map[string]any{"declineReason": "COULD_NOT_CONTACT", "note": "电话无人接听"})
		if get(data, "transitionReferral", "referral", "declineReason") != "COULD_NOT_CONTACT" {
			t.Fatalf("declined: %v", data)
		}
		if got := c.unitsTaken(t, resource); got != 1 {
			t.Fatalf("unitsTaken = %d after DECLINED, want 1", got)
		}
		third := str(get(c.must(t, "caseManager", qRefer, in(map[string]any{"householdId": household, "personId": child2, "resourceId": resource, "itemCode": "SCHOOL_GRANT"})),
			"createReferral", "referral", "id"))
		c.move(t, "charityA", third, "ACCEPTED", nil)
		c.move(t, "charityA", third, "IN_PROGRESS", nil)
		if got := c.unitsTaken(t, resource); got != 2 {
			t.Fatalf("unitsTaken = %d, want 2", got)
		}
		c.move(t, "caseManager", third, "CANCELLED", map[string]any{"note": "家庭已搬离"})
		if got := c.unitsTaken(t, resource); got != 1 {
			t.Fatalf("unitsTaken = %d after CANCELLED, want 1", got)
		}
		// A PENDING cancel has nothing to return.
		fourth := str(get(c.must(t, "caseManager", qRefer, in(map[string]any{"householdId": household, "personId": child2, "resourceId": resource, "itemCode": "SCHOOL_GRANT"})),
			"createReferral", "referral", "id"))
		c.move(t, "caseManager", fourth, "CANCELLED", nil)
		if got := c.unitsTaken(t, resource); got != 1 {
			t.Fatalf("unitsTaken = %d after cancelling a PENDING referral, want 1", got)
		}
		data = c.must(t, "caseManager", `query($h: ID!) { referrals(filter: {householdId: $h, statuses: [DECLINED, CANCELLED]}) { totalCount } }`, map[string]any{"h": household})
		if num(get(data, "referrals", "totalCount")) != 3 {
			t.Fatalf("declined and cancelled referrals: %v", data)
		}

		// Direct aid that duplicates the delivered referral: DUPLICATE_AID
		// naming the provider and dates; a case manager overrides with a reason.
		aidIn := map[string]any{
			"householdId": household, "personId": child1, "itemCode": "TUITION_WAIVER", "providerKind": "GOVERNMENT",
			"providerName": "渝中区教育委员会", "amountFen": 150000, "periodStart": "2026-12-01", "periodEnd": "2026-12-31",
		}
		r = c.wantCode(t, "DUPLICATE_AID", "caseManager", qRecordAid, in(aidIn))
		msg := r.Errors[0].Message
		for _, want := range []string{c.orgA.Name, "2026-11-28", "2026-12-27", "EDUCATION_GRANTS"} {
			if !strings.Contains(msg, want) {
				t.Fatalf("DUPLICATE_AID message %q does not name %q", msg, want)
			}
		}
		c.wantCode(t, "FORBIDDEN", "admin", qRecordAid, in(withField(aidIn, "overrideReason", "学校另行减免，已核实")))
		data = c.must(t, "caseManager", qRecordAid, in(withField(aidIn, "overrideReason", "学校另行减免学费，经核实不重复")))
		over := get(data, "recordAid", "aidRecord")
		if get(over, "overridden") != true || get(over, "source") != "DIRECT" || get(over, "providerKind") != "GOVERNMENT" || get(over, "person", "id") != child1 {
			t.Fatalf("override: %v", over)
		}
		entries, err := c.audit.Entries(ctx, "AidRecord", rowOf(t, get(over, "id")))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != "recordAid" || !strings.Contains(entries[0].Summary, `"override":true`) || entries[0].Role != "CASE_MANAGER" {
			t.Fatalf("override audit: %+v", entries)
		}
		data = c.must(t, "caseManager", `query($h: ID!, $p: ID) { aidHistory(householdId: $h, personId: $p, categoryCode: "EDUCATION_GRANTS") { totalCount } }`,
			map[string]any{"h": household, "p": child1})
		if num(get(data, "aidHistory", "totalCount")) != 2 {
			t.Fatalf("aidHistory of child1: %v", data)
		}
		// A charity's view of the ledger is its own aid only.
		data = c.must(t, "charityA", `query($h: ID!) { aidHistory(householdId: $h) { totalCount edges { node { providerName } } } }`, map[string]any{"h": household})
		if num(get(data, "aidHistory", "totalCount")) != 1 {
			t.Fatalf("charityA aidHistory: %v", data)
		}

		// A charity is told of aid by others without their names.
		gov := c.must(t, "caseManager", qRecordAid, in(map[string]any{
			"householdId": household, "personId": child2, "itemCode": "OUTPATIENT_SUBSIDY", "providerKind": "GOVERNMENT",
			"providerName": "渝中区医疗保障局", "amountFen": 30000, "periodStart": "2026-11-20", "periodEnd": "2026-11-20",
		}))
		if get(gov, "recordAid", "aidRecord", "category", "code") != "MEDICAL_OUTPATIENT" {
			t.Fatalf("government aid: %v", gov)
		}
		r = c.wantCode(t, "DUPLICATE_AID", "charityA", qRecordAid, in(map[string]any{
			"householdId": household, "personId": child2, "categoryCode": "MEDICAL_OUTPATIENT", "amountFen": 20000,
			"periodStart": "2026-12-01", "periodEnd": "2026-12-01",
		}))
		if msg := r.Errors[0].Message; strings.Contains(msg, "医疗保障局") || !strings.Contains(msg, "another provider") || !strings.Contains(msg, "2026-11-20") || strings.Contains(msg, "override") {
			t.Fatalf("DUPLICATE_AID to a charity: %q", msg)
		}
		// The window counts from the start of a one-off aid: 30 days for outpatient care.
		c.must(t, "charityA", qRecordAid, in(map[string]any{
			"householdId": household, "personId": child2, "categoryCode": "MEDICAL_OUTPATIENT", "amountFen": 20000,
			"periodStart": "2026-12-20", "periodEnd": "2026-12-20",
		}))

		// A reassessment supersedes the assessment and keeps it as history;
		// a need assessed again keeps its opening date.
		data = c.must(t, "caseManager", qAssess, in(map[string]any{"householdId": household, "assessedOn": "2026-11-28", "needs": []any{
			map[string]any{"categoryCode": "MEDICAL_OUTPATIENT", "severity": 3},
		}}))
		if get(data, "createAssessment", "assessment", "supersedes", "id") != get(cl, "assessment", "id") || get(data, "createAssessment", "assessment", "current") != true {
			t.Fatalf("reassessment: %v", data)
		}
		data = c.must(t, "caseManager", `query($id: ID!) { household(id: $id) { assessments { id current needs { status category { code } } } currentAssessment { id } } }`,
			map[string]any{"id": household})
		asm := list(get(data, "household", "assessments"))
		if len(asm) != 2 || get(asm[0], "current") != true || get(asm[1], "current") != false || get(data, "household", "currentAssessment", "id") != get(asm[0], "id") {
			t.Fatalf("assessments: %v", data)
		}
		var old []string
		for _, n := range list(get(asm[1], "needs")) {
			old = append(old, fmt.Sprint(get(n, "category", "code"), "=", get(n, "status")))
		}
		if want := []string{"EDUCATION_GRANTS=MET", "EDUCATION_GRANTS=SUPERSEDED", "MEDICAL_OUTPATIENT=SUPERSEDED"}; !slices.Equal(old, want) {
			t.Fatalf("needs of the superseded assessment: %v, want %v", old, want)
		}

		// Same name, birth date and village: flagged for review.
		twinID := c.ids.next(headID[6:14], false)
		allIDs = append(allIDs, twinID)
		data = c.must(t, "caseManager", qRegister, in(map[string]any{"regionCode": village, "members": []any{member(names[0], twinID, "HEAD")}}))
		if twin := list(get(data, "registerHousehold", "household", "persons"))[0]; get(twin, "possibleDuplicateOf", "id") != head {
			t.Fatalf("possible duplicate not flagged: %v", twin)
		}

		// The audited reveal.
		const reason = "核对户口本原件"
		data = c.must(t, "caseManager", qReveal, in(map[string]any{"personId": head, "reason": reason}))
		if get(data, "revealResidentId", "residentId") != headID || get(data, "revealResidentId", "person", "residentId") != maskPartial(headID) {
			t.Fatalf("reveal: %v", data)
		}
		entries, err = c.audit.Entries(ctx, "Person", rowOf(t, head))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != "revealResidentId" || entries[0].TokenID == nil || entries[0].RegionPrefix != "500103" {
			t.Fatalf("reveal audit: %+v", entries)
		}
		if n, err := c.audit.Verify(ctx); err != nil || n != 0 {
			t.Fatalf("audit chain broken at %d: %v", n, err)
		}

		// Privacy: no resident ID in clear anywhere but the reveal's answer.
		isReveal := func(body string) bool { return strings.Contains(body, `"revealResidentId"`) }
		c.assertNoResidentIDs(t, append(allIDs, c.ids.all...), isReveal)
		reveals := 0
		for _, b := range c.bodies {
			if isReveal(b) {
				reveals++
			}
		}
		if reveals != 1 {
			t.Fatalf("%d reveal answers, want 1", reveals)
		}
		for _, b := range c.bodies {
			if strings.Contains(b, `"INTERNAL"`) {
				t.Errorf("internal error: %s", b)
			}
		}
		if strings.Contains(c.logs.String(), "internal error") {
			t.Errorf("internal errors logged: %s", c.logs.String())
		}
		// The audit log names no one and shows no ID, address or free text.
		summaries := c.auditSummaries(t)
		if len(summaries) < 15 {
			t.Fatalf("only %d audit entries: %v", len(summaries), summaries)
		}
		secrets := append(slices.Clone(names), address, helpText, reason, "学校另行减免学费", "电话无人接听", "家庭已搬离", "已联系家长", "入户核实", "YZ-2026-0001", legacy15)
		for _, id := range allIDs {
			secrets = append(secrets, id, id[:17], maskPartial(id), id[6:14])
		}
		for _, s := range summaries {
			for _, secret := range secrets {
				if strings.Contains(s, secret) {
					t.Errorf("audit summary %q contains %q", s, secret)
				}
			}
		}
		for _, action := range []string{"registerHousehold", "addPerson", "recordConsent", "submitApplication", "createAssessment", "createReferral", "transitionReferral", "recordAid", "revealResidentId"} {
			if !slices.ContainsFunc(summaries, func(s string) bool { return strings.HasPrefix(s, action+" ") }) {
				t.Errorf("no audit entry for %s", action)
			}
		}
	})
}

func withField(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

// --------------------------------------------------------------- bad input

// TestCaseworkBadInput sends the casework mutations and queries bad input:
// each answer has a code and a message, and nothing is written.
func TestCaseworkBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		village := villageIn(t, "500103", 0)
		resource := c.publishedResource(t, 10)
		cf := c.newCase(t, "caseManager", village, true)
		noConsent := c.newCase(t, "caseManager", villageIn(t, "500103", 1), false)
		// Consent that does not cover sharing, or no longer holds.
		for _, consent := range []map[string]any{
			{"purposes": []string{"ECONOMIC_VERIFICATION"}},
			{"purposes": []string{"SHARE_WITH_CHARITIES"}, "grantedAt": "2026-01-01T00:00:00Z", "expiresAt": "2026-06-30T00:00:00Z"},
		} {
			consent["householdId"], consent["grantedByPersonId"], consent["method"] = noConsent.household, noConsent.head, "PAPER"
			c.must(t, "caseManager", qConsent, in(consent))
		}
		revokedShare := c.newCase(t, "caseManager", villageIn(t, "500103", 1), true)
		withExt := member("孙八", c.ids.next("19880808", false), "HEAD")
		withExt["externalId"] = "P-EXT-1"
		c.must(t, "caseManager", qRegister, in(map[string]any{"externalId": "HH-EXT-1", "regionCode": village, "members": []any{withExt}}))
		c.must(t, "caseManager", qRevoke, in(map[string]any{"consentId": revokedShare.consent}))
		need := str(get(list(get(c.must(t, "caseManager", qAssess, in(map[string]any{
			"householdId": cf.household, "needs": []any{map[string]any{"personId": cf.child, "itemCode": "SCHOOL_GRANT", "severity": 3}},
		})), "createAssessment", "assessment", "needs"))[0], "id"))
		pending := c.refer(t, cf, resource)
		app := str(get(c.must(t, "caseManager", qSubmit, in(map[string]any{"householdId": cf.household, "channel": "HOTLINE", "helpText": "需要帮助"})),
			"submitApplication", "application", "id"))
		c.must(t, "caseManager", qClassify, in(map[string]any{"applicationId": app, "needs": []any{map[string]any{"categoryCode": "LEGAL", "severity": 1}}}))
		revoked := str(get(c.must(t, "caseManager", qConsent, in(map[string]any{
			"householdId": cf.household, "purposes": []string{"ECONOMIC_VERIFICATION"}, "grantedByPersonId": cf.head, "method": "PAPER",
		})), "recordConsent", "consent", "id"))
		c.must(t, "caseManager", qRevoke, in(map[string]any{"consentId": revoked, "reason": "本人要求"}))
		// A resource with one unit, taken.
		small := c.publishedResource(t, 1)
		other := c.newCase(t, "caseManager", village, true)
		c.move(t, "charityA", c.refer(t, other, small), "ACCEPTED", nil)
		draft := resourceID(c.resource(c.orgA, catalog.Draft).ID)
		closed := resourceID(c.resource(c.orgA, catalog.Closed).ID)
		paused := resourceID(c.resource(c.orgA, catalog.Paused).ID)

		// Resident IDs that must be refused, and never echoed.
		badCheck := wrongCheck(c.ids.next("19850101", false))
		impossible := residentID("500103", "20230230", 11)
		future := residentID("500103", "20270101", 13)
		tooOld := residentID("500103", "18991231", 15)
		badProvince := residentID("990103", "19850101", 17)
		refused := []string{badCheck, impossible, future, tooOld, badProvince}

		reg := func(fields map[string]any, members ...any) func() map[string]any {
			return func() map[string]any {
				m := map[string]any{"regionCode": village, "members": members}
				if len(members) == 0 {
					m["members"] = []any{member("赵一", c.ids.next("19700101", false), "HEAD")}
				}
				for k, v := range fields {
					m[k] = v
				}
				return in(m)
			}
		}
		add := func(p map[string]any) func() map[string]any {
			return func() map[string]any { return in(map[string]any{"householdId": cf.household, "person": p}) }
		}
		assess := func(needs ...any) func() map[string]any {
			if needs == nil {
				needs = []any{}
			}
			return func() map[string]any { return in(map[string]any{"householdId": cf.household, "needs": needs}) }
		}
		aid := func(fields map[string]any) func() map[string]any {
			return func() map[string]any {
				m := map[string]any{"householdId": cf.household, "personId": cf.head, "categoryCode": "LEGAL", "providerKind": "GOVERNMENT",
					"providerName": "区司法局", "units": 1, "periodStart": "2026-11-01", "periodEnd": "2026-11-30"}
				for k, v := range fields {
					m[k] = v
				}
				return in(m)
			}
		}
		refer := func(fields map[string]any) func() map[string]any {
			return func() map[string]any {
				m := map[string]any{"householdId": cf.household, "personId": cf.head, "resourceId": resource, "itemCode": "SCHOOL_GRANT"}
				for k, v := range fields {
					m[k] = v
				}
				return in(m)
			}
		}
		moveTo := func(ref string, fields map[string]any) func() map[string]any {
			return func() map[string]any {
				m := map[string]any{"referralId": ref}
				for k, v := range fields {
					m[k] = v
				}
				return in(m)
			}
		}
		freshPending := func() string { return c.refer(t, c.newCase(t, "caseManager", village, true), resource) }
		vars := func(m map[string]any) func() map[string]any { return func() map[string]any { return m } }
		none := func() map[string]any { return nil }
		const (
			qHousehold  = `query($id: ID!) { household(id: $id) { id } }`
			qHouseholds = `query($f: HouseholdFilter, $first: Int, $after: String) { households(filter: $f, first: $first, after: $after) { totalCount } }`
		)

		cases := []struct {
			name   string
			caller string
			vars   func() map[string]any
			query  string
			want   string
		}{
			// registerHousehold
			{"register: wrong check digit", "caseManager", reg(nil, member("赵一", badCheck, "HEAD")), qRegister, "BAD_USER_INPUT"},
			{"register: impossible birth date", "caseManager", reg(nil, member("赵一", impossible, "HEAD")), qRegister, "BAD_USER_INPUT"},
			{"register: birth date in the future", "caseManager", reg(nil, member("赵一", future, "HEAD")), qRegister, "BAD_USER_INPUT"},
			{"register: birth date before 1900", "caseManager", reg(nil, member("赵一", tooOld, "HEAD")), qRegister, "BAD_USER_INPUT"},
			{"register: unknown province", "caseManager", reg(nil, member("赵一", badProvince, "HEAD")), qRegister, "BAD_USER_INPUT"},
			{"register: 17 characters", "caseManager", reg(nil, member("赵一", badCheck[:17], "HEAD")), qRegister, "BAD_USER_INPUT"},
			{"register: letter inside the ID", "caseManager", reg(nil, member("赵一", "5001031985A1010011", "HEAD")), qRegister, "BAD_USER_INPUT"},
			{"register: unknown village code", "caseManager", reg(map[string]any{"regionCode": "500103999999"}), qRegister, "BAD_USER_INPUT"},
			{"register: district code for a village", "caseManager", reg(map[string]any{"regionCode": "500103"}), qRegister, "BAD_USER_INPUT"},
			{"register: street code for a village", "caseManager", reg(map[string]any{"regionCode": "500103001"}), qRegister, "BAD_USER_INPUT"},
			{"register: malformed region code", "caseManager", reg(map[string]any{"regionCode": "50010300100X"}), qRegister, "BAD_USER_INPUT"},
			{"register: village outside Chongqing", "admin", reg(map[string]any{"regionCode": "510104001001"}), qRegister, "BAD_USER_INPUT"},
			{"register: no members", "caseManager", vars(in(map[string]any{"regionCode": village, "members": []any{}})), qRegister, "BAD_USER_INPUT"},
			{"register: no head", "caseManager", reg(nil, member("赵一", c.ids.next("19700101", false), "SPOUSE")), qRegister, "BAD_USER_INPUT"},
			{"register: two heads", "caseManager", reg(nil, member("赵一", c.ids.next("19700101", false), "HEAD"), member("钱二", c.ids.next("19710101", true), "HEAD")), qRegister, "BAD_USER_INPUT"},
			{"register: the same ID twice", "caseManager", func() map[string]any {
				id := c.ids.next("19700101", false)
				return reg(nil, member("赵一", id, "HEAD"), member("赵一", id, "SPOUSE"))()
			}, qRegister, "BAD_USER_INPUT"},
			{"register: ID on file", "caseManager", reg(nil, member("王大山", cf.headID, "HEAD")), qRegister, "CONFLICT"},
			{"register: household external ID on file", "caseManager", reg(map[string]any{"externalId": "HH-EXT-1"}), qRegister, "CONFLICT"},
			{"register: person external ID on file", "caseManager", func() map[string]any {
				m := member("赵一", c.ids.next("19700101", false), "HEAD")
				m["externalId"] = "P-EXT-1"
				return reg(nil, m)()
			}, qRegister, "CONFLICT"},
			{"register: negative income", "caseManager", reg(map[string]any{"monthlyIncomeFen": -1}), qRegister, "BAD_USER_INPUT"},
			{"register: negative spending", "caseManager", reg(map[string]any{"spending": map[string]any{"medicalFen": -100}}), qRegister, "BAD_USER_INPUT"},
			{"register: empty name", "caseManager", reg(nil, member(" ", c.ids.next("19700101", false), "HEAD")), qRegister, "BAD_USER_INPUT"},
			{"register: unknown group", "caseManager", reg(nil, member("赵一", c.ids.next("19700101", false), "HEAD", map[string]any{"groupCode": "RICH", "since": "2024-01-01"})), qRegister, "BAD_USER_INPUT"},
			{"register: group until before since", "caseManager", reg(nil, member("赵一", c.ids.next("19700101", false), "HEAD", map[string]any{"groupCode": "DIBAO", "since": "2024-01-01", "until": "2023-01-01"})), qRegister, "BAD_USER_INPUT"},
			{"register: impossible group date", "caseManager", reg(nil, member("赵一", c.ids.next("19700101", false), "HEAD", map[string]any{"groupCode": "DIBAO", "since": "2024-02-30"})), qRegister, "BAD_USER_INPUT"},

			// addPerson
			{"addPerson: wrong check digit", "caseManager", add(member("王小二", badCheck, "CHILD")), qAddPerson, "BAD_USER_INPUT"},
			{"addPerson: impossible birth date", "caseManager", add(member("王小二", impossible, "CHILD")), qAddPerson, "BAD_USER_INPUT"},
			{"addPerson: second head", "caseManager", add(member("王小二", c.ids.next("19700101", false), "HEAD")), qAddPerson, "BAD_USER_INPUT"},
			{"addPerson: ID on file", "caseManager", add(member("王小雨", cf.childID, "CHILD")), qAddPerson, "CONFLICT"},
			{"addPerson: malformed household ID", "caseManager", func() map[string]any {
				return in(map[string]any{"householdId": "%%%", "person": member("王小二", c.ids.next("19700101", false), "CHILD")})
			}, qAddPerson, "BAD_USER_INPUT"},
			{"addPerson: person ID for a household", "caseManager", func() map[string]any {
				return in(map[string]any{"householdId": cf.head, "person": member("王小二", c.ids.next("19700101", false), "CHILD")})
			}, qAddPerson, "BAD_USER_INPUT"},
			{"addPerson: unknown household", "caseManager", func() map[string]any {
				return in(map[string]any{"householdId": globalID("Household", 999999), "person": member("王小二", c.ids.next("19700101", false), "CHILD")})
			}, qAddPerson, "NOT_FOUND"},

			// consent
			{"consent: no purpose", "caseManager", vars(in(map[string]any{"householdId": cf.household, "purposes": []string{}, "grantedByPersonId": cf.head, "method": "PAPER"})), qConsent, "BAD_USER_INPUT"},
			{"consent: unknown purpose", "caseManager", vars(in(map[string]any{"householdId": cf.household, "purposes": []string{"MARKETING"}, "grantedByPersonId": cf.head, "method": "PAPER"})), qConsent, "GRAPHQL_VALIDATION_FAILED"},
			{"consent: granted by a stranger", "caseManager", vars(in(map[string]any{"householdId": cf.household, "purposes": []string{"SHARE_WITH_CHARITIES"}, "grantedByPersonId": other.head, "method": "PAPER"})), qConsent, "BAD_USER_INPUT"},
			{"consent: expires before granted", "caseManager", vars(in(map[string]any{"householdId": cf.household, "purposes": []string{"SHARE_WITH_CHARITIES"}, "grantedByPersonId": cf.head, "method": "PAPER",
				"grantedAt": "2026-11-01T00:00:00Z", "expiresAt": "2026-10-01T00:00:00Z"})), qConsent, "BAD_USER_INPUT"},
			{"consent: granted in the future", "caseManager", vars(in(map[string]any{"householdId": cf.household, "purposes": []string{"SHARE_WITH_CHARITIES"}, "grantedByPersonId": cf.head, "method": "PAPER",
				"grantedAt": "2027-01-01T00:00:00Z"})), qConsent, "BAD_USER_INPUT"},
			{"consent: revoked twice", "caseManager", vars(in(map[string]any{"consentId": revoked})), qRevoke, "CONFLICT"},
			{"consent: revoke a household ID", "caseManager", vars(in(map[string]any{"consentId": cf.household})), qRevoke, "BAD_USER_INPUT"},

			// applications and assessments
			{"apply: empty help text", "caseManager", vars(in(map[string]any{"householdId": cf.household, "channel": "APP", "helpText": "  "})), qSubmit, "BAD_USER_INPUT"},
			{"apply: help text too long", "caseManager", vars(in(map[string]any{"householdId": cf.household, "channel": "APP", "helpText": strings.Repeat("难", 2001)})), qSubmit, "BAD_USER_INPUT"},
			{"apply: unknown category", "caseManager", vars(in(map[string]any{"householdId": cf.household, "channel": "APP", "helpText": "帮帮忙", "categoryCodes": []string{"LOTTERY"}})), qSubmit, "BAD_USER_INPUT"},
			{"apply: applicant of another household", "caseManager", vars(in(map[string]any{"householdId": cf.household, "channel": "APP", "helpText": "帮帮忙", "applicantPersonId": other.head})), qSubmit, "BAD_USER_INPUT"},
			{"classify: classified already", "caseManager", vars(in(map[string]any{"applicationId": app, "needs": []any{map[string]any{"categoryCode": "LEGAL", "severity": 1}}})), qClassify, "CONFLICT"},
			{"assess: severity 0", "caseManager", assess(map[string]any{"categoryCode": "LEGAL", "severity": 0}), qAssess, "BAD_USER_INPUT"},
			{"assess: severity 6", "caseManager", assess(map[string]any{"categoryCode": "LEGAL", "severity": 6}), qAssess, "BAD_USER_INPUT"},
			{"assess: second need bad", "caseManager", assess(map[string]any{"categoryCode": "LEGAL", "severity": 2}, map[string]any{"categoryCode": "LEGAL", "severity": -1}), qAssess, "BAD_USER_INPUT"},
			{"assess: no needs", "caseManager", assess(), qAssess, "BAD_USER_INPUT"},
			{"assess: unknown category", "caseManager", assess(map[string]any{"categoryCode": "NOPE", "severity": 2}), qAssess, "BAD_USER_INPUT"},
			{"assess: item of another category", "caseManager", assess(map[string]any{"categoryCode": "LEGAL", "itemCode": "SCHOOL_GRANT", "severity": 2}), qAssess, "BAD_USER_INPUT"},
			{"assess: person of another household", "caseManager", assess(map[string]any{"categoryCode": "LEGAL", "severity": 2, "personId": other.child}), qAssess, "BAD_USER_INPUT"},
			{"assess: assessed in the future", "caseManager", func() map[string]any {
				return in(map[string]any{"householdId": cf.household, "assessedOn": "2026-12-25", "needs": []any{map[string]any{"categoryCode": "LEGAL", "severity": 2}}})
			}, qAssess, "BAD_USER_INPUT"},

			// recordAid
			{"aid: negative amount", "caseManager", aid(map[string]any{"amountFen": -100}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: negative units", "caseManager", aid(map[string]any{"units": -1}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: neither amount nor units", "caseManager", aid(map[string]any{"units": 0}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: period ends before it starts", "caseManager", aid(map[string]any{"periodStart": "2026-11-30", "periodEnd": "2026-11-01"}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: impossible date", "caseManager", aid(map[string]any{"periodEnd": "2026-11-31"}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: unknown category", "caseManager", aid(map[string]any{"categoryCode": "NOPE"}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: REFERRAL source", "caseManager", aid(map[string]any{"source": "REFERRAL"}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: no provider", "caseManager", aid(map[string]any{"providerName": nil}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: unknown provider organization", "caseManager", aid(map[string]any{"providerOrganizationId": orgID(999999)}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: need of another category", "caseManager", aid(map[string]any{"needId": need}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: person of another household", "caseManager", aid(map[string]any{"personId": other.child}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: override by a charity", "charityA", aid(map[string]any{"overrideReason": "我们确认不重复"}), qRecordAid, "FORBIDDEN"},
			{"aid: override without words", "caseManager", aid(map[string]any{"overrideReason": "好"}), qRecordAid, "BAD_USER_INPUT"},
			{"aid: need ID for a household", "caseManager", aid(map[string]any{"needId": cf.household}), qRecordAid, "BAD_USER_INPUT"},

			// createReferral
			{"refer: without consent", "caseManager", func() map[string]any {
				return in(map[string]any{"householdId": noConsent.household, "personId": noConsent.child, "resourceId": resource, "itemCode": "SCHOOL_GRANT"})
			}, qRefer, "CONSENT_REQUIRED"},
			{"refer: consent revoked", "caseManager", func() map[string]any {
				return in(map[string]any{"householdId": revokedShare.household, "personId": revokedShare.child, "resourceId": resource, "itemCode": "SCHOOL_GRANT"})
			}, qRefer, "CONSENT_REQUIRED"},
			{"refer: draft resource", "caseManager", refer(map[string]any{"resourceId": draft}), qRefer, "NOT_FOUND"},
			{"refer: closed resource", "caseManager", refer(map[string]any{"resourceId": closed}), qRefer, "NOT_FOUND"},
			{"refer: paused resource", "caseManager", refer(map[string]any{"resourceId": paused}), qRefer, "NOT_FOUND"},
			{"refer: closed resource (admin sees it)", "admin", refer(map[string]any{"resourceId": closed}), qRefer, "CONFLICT"},
			{"refer: draft resource (admin sees it)", "admin", refer(map[string]any{"resourceId": draft}), qRefer, "CONFLICT"},
			{"refer: unknown resource", "caseManager", refer(map[string]any{"resourceId": resourceID(999999)}), qRefer, "NOT_FOUND"},
			{"refer: no capacity left", "caseManager", refer(map[string]any{"resourceId": small}), qRefer, "CAPACITY_EXHAUSTED"},
			{"refer: category the resource does not offer", "caseManager", refer(map[string]any{"itemCode": "TUTORING"}), qRefer, "BAD_USER_INPUT"},
			{"refer: period ends before it starts", "caseManager", refer(map[string]any{"periodStart": "2026-12-10", "periodEnd": "2026-12-01"}), qRefer, "BAD_USER_INPUT"},
			{"refer: period start without end", "caseManager", refer(map[string]any{"periodStart": "2026-12-10"}), qRefer, "BAD_USER_INPUT"},
			{"refer: negative amount", "caseManager", refer(map[string]any{"amountFen": -1}), qRefer, "BAD_USER_INPUT"},
			{"refer: negative units", "caseManager", refer(map[string]any{"units": -2}), qRefer, "BAD_USER_INPUT"},
			{"refer: respond within 91 days", "caseManager", refer(map[string]any{"respondWithinDays": 91}), qRefer, "BAD_USER_INPUT"},
			{"refer: need met or superseded", "caseManager", func() map[string]any {
				return in(map[string]any{"needId": need, "resourceId": resource})
			}, qRefer, "CONFLICT"},
			{"refer: neither need nor household", "caseManager", vars(in(map[string]any{"resourceId": resource})), qRefer, "BAD_USER_INPUT"},
			{"refer: household ID as resource ID", "caseManager", refer(map[string]any{"resourceId": cf.household}), qRefer, "BAD_USER_INPUT"},
			{"refer: malformed need ID", "caseManager", vars(in(map[string]any{"needId": "garbage", "resourceId": resource})), qRefer, "BAD_USER_INPUT"},
			{"refer: override by admin", "admin", refer(map[string]any{"overrideReason": "管理员确认"}), qRefer, "FORBIDDEN"},
			{"refer: duplicate of a pending referral", "caseManager", refer(map[string]any{"personId": cf.child}), qRefer, "DUPLICATE_AID"},

			// transitionReferral
			{"move: PENDING to DELIVERED", "charityA", moveTo(pending, map[string]any{"to": "DELIVERED"}), qMove, "CONFLICT"},
			{"move: PENDING to IN_PROGRESS", "charityA", moveTo(pending, map[string]any{"to": "IN_PROGRESS"}), qMove, "CONFLICT"},
			{"move: back to PENDING", "charityA", moveTo(pending, map[string]any{"to": "PENDING"}), qMove, "BAD_USER_INPUT"},
			{"move: expire by hand", "admin", moveTo(pending, map[string]any{"to": "EXPIRED"}), qMove, "FORBIDDEN"},
			{"move: decline without reason", "charityA", moveTo(pending, map[string]any{"to": "DECLINED"}), qMove, "BAD_USER_INPUT"},
			{"move: decline reason on accept", "charityA", moveTo(pending, map[string]any{"to": "ACCEPTED", "declineReason": "OTHER"}), qMove, "BAD_USER_INPUT"},
			{"move: delivered amount on accept", "charityA", moveTo(pending, map[string]any{"to": "ACCEPTED", "deliveredAmountFen": 100}), qMove, "BAD_USER_INPUT"},
			{"move: negative delivered amount", "charityA", func() map[string]any {
				ref := freshPending()
				c.move(t, "charityA", ref, "ACCEPTED", nil)
				return moveTo(ref, map[string]any{"to": "DELIVERED", "deliveredAmountFen": -5})()
			}, qMove, "BAD_USER_INPUT"},
			{"move: delivered until before the period", "charityA", func() map[string]any {
				ref := freshPending()
				c.move(t, "charityA", ref, "ACCEPTED", nil)
				return moveTo(ref, map[string]any{"to": "DELIVERED", "deliveredUntil": "2026-01-01"})()
			}, qMove, "BAD_USER_INPUT"},
			{"move: accept without capacity", "charityA", func() map[string]any {
				// Referred while a unit was free; the unit went to another referral since.
				r2 := c.publishedResource(t, 1)
				first, second := c.refer(t, c.newCase(t, "caseManager", village, true), r2), c.refer(t, c.newCase(t, "caseManager", village, true), r2)
				c.move(t, "charityA", first, "ACCEPTED", nil)
				return moveTo(second, map[string]any{"to": "ACCEPTED"})()
			}, qMove, "CAPACITY_EXHAUSTED"},
			{"move: cancelled to accepted", "charityA", func() map[string]any {
				ref := freshPending()
				c.move(t, "caseManager", ref, "CANCELLED", nil)
				return moveTo(ref, map[string]any{"to": "ACCEPTED"})()
			}, qMove, "CONFLICT"},
			{"move: unknown referral", "charityA", moveTo(globalID("Referral", 999999), map[string]any{"to": "ACCEPTED"}), qMove, "NOT_FOUND"},
			{"move: resource ID as referral ID", "charityA", moveTo(resource, map[string]any{"to": "ACCEPTED"}), qMove, "BAD_USER_INPUT"},
			{"move: unknown status", "charityA", moveTo(pending, map[string]any{"to": "DONE"}), qMove, "GRAPHQL_VALIDATION_FAILED"},

			// reveal
			{"reveal: no reason", "caseManager", vars(in(map[string]any{"personId": cf.head, "reason": ""})), qReveal, "BAD_USER_INPUT"},
			{"reveal: household ID", "caseManager", vars(in(map[string]any{"personId": cf.household, "reason": "核对身份信息"})), qReveal, "BAD_USER_INPUT"},
			{"reveal: unknown person", "caseManager", vars(in(map[string]any{"personId": globalID("Person", 999999), "reason": "核对身份信息"})), qReveal, "NOT_FOUND"},

			// queries
			{"household: malformed ID", "caseManager", vars(map[string]any{"id": "garbage"}), qHousehold, "BAD_USER_INPUT"},
			{"household: person ID", "caseManager", vars(map[string]any{"id": cf.head}), qHousehold, "BAD_USER_INPUT"},
			{"household: ID that is not a number", "caseManager", vars(map[string]any{"id": base64.RawURLEncoding.EncodeToString([]byte("Household:abc"))}), qHousehold, "BAD_USER_INPUT"},
			{"node: household ID that is not a number", "caseManager", vars(map[string]any{"id": base64.RawURLEncoding.EncodeToString([]byte("Household:abc"))}), `query($id: ID!) { node(id: $id) { id } }`, "NOT_FOUND"},
			{"node: negative household ID", "caseManager", vars(map[string]any{"id": globalID("Household", -1)}), `query($id: ID!) { node(id: $id) { id } }`, "NOT_FOUND"},
			{"households: first over 100", "caseManager", vars(map[string]any{"first": 101}), qHouseholds, "BAD_USER_INPUT"},
			{"households: first 0", "caseManager", vars(map[string]any{"first": 0}), qHouseholds, "BAD_USER_INPUT"},
			{"households: bad cursor", "caseManager", vars(map[string]any{"after": "garbage"}), qHouseholds, "BAD_USER_INPUT"},
			{"households: household ID as cursor", "caseManager", vars(map[string]any{"after": cf.household}), qHouseholds, "BAD_USER_INPUT"},
			{"households: region prefix not digits", "caseManager", vars(map[string]any{"f": map[string]any{"regionPrefix": "5001%"}}), qHouseholds, "BAD_USER_INPUT"},
			{"households: malformed resident ID", "caseManager", vars(map[string]any{"f": map[string]any{"residentId": badCheck}}), qHouseholds, "BAD_USER_INPUT"},
			{"households: unknown group", "caseManager", vars(map[string]any{"f": map[string]any{"groupCode": "NOPE"}}), qHouseholds, "BAD_USER_INPUT"},
			{"referrals: region prefix not digits", "admin", none, `{ referrals(filter: {regionPrefix: "%"}) { totalCount } }`, "BAD_USER_INPUT"},
			{"referrals: unknown status", "caseManager", none, `{ referrals(filter: {statuses: [DONE]}) { totalCount } }`, "GRAPHQL_VALIDATION_FAILED"},
			{"aidHistory: unknown category", "caseManager", vars(map[string]any{"h": cf.household}), `query($h: ID!) { aidHistory(householdId: $h, categoryCode: "NOPE") { totalCount } }`, "BAD_USER_INPUT"},
			{"referrals: first over 100", "caseManager", none, `{ referrals(first: 101) { totalCount } }`, "BAD_USER_INPUT"},
			{"referrals: malformed household ID", "caseManager", none, `{ referrals(filter: {householdId: "garbage"}) { totalCount } }`, "BAD_USER_INPUT"},
			{"referrals: resource filter with a household ID", "caseManager", vars(map[string]any{"id": cf.household}), `query($id: ID) { referrals(filter: {resourceId: $id}) { totalCount } }`, "BAD_USER_INPUT"},
			{"aidHistory: first over 100", "caseManager", vars(map[string]any{"h": cf.household}), `query($h: ID!) { aidHistory(householdId: $h, first: 101) { totalCount } }`, "BAD_USER_INPUT"},
			{"aidHistory: malformed household ID", "caseManager", none, `{ aidHistory(householdId: "x!") { totalCount } }`, "BAD_USER_INPUT"},
			{"aidHistory: person ID for the household", "caseManager", vars(map[string]any{"h": cf.head}), `query($h: ID!) { aidHistory(householdId: $h) { totalCount } }`, "BAD_USER_INPUT"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				vars := tc.vars()
				before := c.fingerprint()
				resp := c.try(tc.caller, tc.query, vars)
				if got := resp.code(); got != tc.want {
					t.Fatalf("code = %q, want %q; response: %s", got, tc.want, resp.Raw)
				}
				if msg := resp.Errors[0].Message; msg == "" || msg == "internal error" {
					t.Fatalf("message %q does not say what is wrong", msg)
				}
				t.Logf("%s: %s", tc.want, resp.Errors[0].Message)
				if after := c.fingerprint(); after != before {
					t.Fatalf("bad input wrote:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
		// No refused ID is echoed back, nor any ID on file.
		c.assertNoResidentIDs(t, append(refused, c.ids.all...), func(string) bool { return false })
	})
}

// --------------------------------------------------------------- races

// TestCaseworkConcurrency races requests through the handler: referrals of
// one person in one category, and acceptances against a small capacity.
func TestCaseworkConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		village := villageIn(t, "500103", 0)
		const capacity, referrals, racers = 3, 12, 8
		resource := c.publishedResource(t, capacity)

		// Racing referrals of the same person for the same category: one wins.
		cf := c.newCase(t, "caseManager", village, true)
		codes := race(racers, func(int) string {
			return c.try("caseManager", qRefer, in(map[string]any{"householdId": cf.household, "personId": cf.child, "resourceId": resource, "itemCode": "SCHOOL_GRANT"})).code()
		})
		if codes[""] != 1 || codes["DUPLICATE_AID"] != racers-1 {
			t.Fatalf("racing referrals: %v, want one success and %d DUPLICATE_AID", codes, racers-1)
		}

		// Acceptances racing for capacity: exactly capacity succeed.
		refs := make([]string, referrals)
		for i := range refs {
			refs[i] = c.refer(t, c.newCase(t, "caseManager", village, true), resource)
		}
		codes = race(referrals, func(i int) string {
			return c.try("charityA", qMove, in(map[string]any{"referralId": refs[i], "to": "ACCEPTED"})).code()
		})
		if codes[""] != capacity || codes["CAPACITY_EXHAUSTED"] != referrals-capacity {
			t.Fatalf("racing acceptances: %v, want %d accepted and %d CAPACITY_EXHAUSTED", codes, capacity, referrals-capacity)
		}
		if got := c.unitsTaken(t, resource); got != capacity {
			t.Fatalf("unitsTaken = %d, want %d", got, capacity)
		}
		data := c.must(t, "charityA", `{ referrals(filter: {statuses: [ACCEPTED]}, first: 100) { totalCount } }`, nil)
		if n := num(get(data, "referrals", "totalCount")); n != capacity {
			t.Fatalf("%d ACCEPTED referrals, want %d", n, capacity)
		}
		// Declines racing with acceptances: capacity stays consistent.
		var accepted, pending []string
		for _, id := range refs {
			st := get(c.must(t, "charityA", `query($id: ID!) { node(id: $id) { ... on Referral { status } } }`, map[string]any{"id": id}), "node", "status")
			if st == "ACCEPTED" {
				accepted = append(accepted, id)
			} else {
				pending = append(pending, id)
			}
		}
		codes = race(len(accepted)+len(pending), func(i int) string {
			if i < len(accepted) {
				return c.try("charityA", qMove, in(map[string]any{"referralId": accepted[i], "to": "DECLINED", "declineReason": "NO_CAPACITY"})).code()
			}
			return c.try("charityA", qMove, in(map[string]any{"referralId": pending[i-len(accepted)], "to": "ACCEPTED"})).code()
		})
		if codes[""] < capacity || codes[""]+codes["CAPACITY_EXHAUSTED"] != referrals || len(codes) > 2 {
			t.Fatalf("declines and acceptances: %v", codes)
		}
		data = c.must(t, "charityA", `{ referrals(filter: {statuses: [ACCEPTED]}, first: 100) { totalCount } }`, nil)
		if n, taken := num(get(data, "referrals", "totalCount")), c.unitsTaken(t, resource); n != taken || n > capacity {
			t.Fatalf("%d ACCEPTED referrals, unitsTaken %d, capacity %d", n, taken, capacity)
		}
	})
}

// race runs n calls at once and counts the codes they return.
func race(n int, call func(i int) string) map[string]int {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[string]int{}
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code := call(i)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

// --------------------------------------------------------------- paging

// TestCaseworkPaging walks households, referrals and aidHistory two at a
// time and checks the pages add up to the whole list, for every caller
// that may list them.
func TestCaseworkPaging(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		village := villageIn(t, "500103", 0)
		resource := c.publishedResource(t, 20)
		var first caseFile
		for i := range 5 {
			cf := c.newCase(t, "caseManager", village, true)
			if i == 0 {
				first = cf
			}
			if i%2 == 0 {
				c.refer(t, cf, resource)
			}
		}
		for i := range 5 {
			c.must(t, "caseManager", qRecordAid, in(map[string]any{"householdId": first.household, "personId": first.child, "categoryCode": "LEGAL",
				"providerKind": "OTHER", "providerName": "志愿者", "units": 1, "periodStart": fmt.Sprintf("2026-11-%02d", i+1), "periodEnd": fmt.Sprintf("2026-11-%02d", i+1)}))
		}
		lists := []struct {
			name, query string
			vars        map[string]any
			callers     map[string]int // caller → expected total
		}{
			{"households", `query($first: Int, $after: String) { households(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`,
				nil, map[string]int{"admin": 5, "caseManager": 5, "caseManagerB": 0, "charityA": 3, "charityB": 0}},
			{"referrals", `query($first: Int, $after: String) { referrals(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`,
				nil, map[string]int{"admin": 3, "caseManager": 3, "caseManagerB": 0, "charityA": 3, "charityB": 0}},
			{"aidHistory", `query($h: ID!, $first: Int, $after: String) { aidHistory(householdId: $h, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`,
				map[string]any{"h": first.household}, map[string]int{"admin": 5, "caseManager": 5}},
		}
		for _, l := range lists {
			for caller, total := range l.callers {
				t.Run(l.name+"/"+caller, func(t *testing.T) {
					all := withField(l.vars, "first", 100)
					whole := c.must(t, caller, l.query, all)[l.name]
					if num(get(whole, "totalCount")) != total || len(list(get(whole, "edges"))) != total {
						t.Fatalf("whole list: %v, want %d", whole, total)
					}
					var want, got []string
					for _, e := range list(get(whole, "edges")) {
						want = append(want, str(get(e, "node", "id")))
					}
					vars := withField(l.vars, "first", 2)
					for page := 0; ; page++ {
						if page > total {
							t.Fatalf("pages do not end: %v", got)
						}
						p := c.must(t, caller, l.query, vars)[l.name]
						edges := list(get(p, "edges"))
						if num(get(p, "totalCount")) != total || len(edges) > 2 {
							t.Fatalf("page %d: %v", page, p)
						}
						for _, e := range edges {
							got = append(got, str(get(e, "node", "id")))
						}
						if get(p, "pageInfo", "hasNextPage") != true {
							break
						}
						if len(edges) == 0 || get(p, "pageInfo", "endCursor") != get(edges[len(edges)-1], "cursor") {
							t.Fatalf("page %d: cursor %v", page, p)
						}
						vars = withField(vars, "after", get(p, "pageInfo", "endCursor"))
					}
					if !slices.Equal(got, want) {
						t.Fatalf("pages give %v, want %v", got, want)
					}
				})
			}
		}
	})
}

// --------------------------------------------------------------- household-level aid and budgets

// TestCaseworkHouseholdLevel refers a household as a whole to a resource
// that counts a budget: the charity sees the head only, the duplicate rule
// covers every member, and the budget is taken and given back.
func TestCaseworkHouseholdLevel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		village := villageIn(t, "500103", 0)
		d0 := c.must(t, "charityA", `mutation($in: CreateResourceInput!) { createResource(input: $in) { resource { id } } }`, in(map[string]any{
			"title": "冬季取暖物资", "itemCodes": []string{"WINTER_SUPPLIES"}, "coverage": []string{"500103"}, "capacityBudgetFen": 100000,
		}))
		resource := str(get(d0, "createResource", "resource", "id"))
		c.must(t, "charityA", `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { status } } }`, map[string]any{"id": resource})
		budget := func() (taken, left int) {
			cp := get(c.must(t, "admin", `query($id: ID!) { resource(id: $id) { capacity { budgetTakenFen budgetLeftFen } } }`, map[string]any{"id": resource}), "resource", "capacity")
			return num(get(cp, "budgetTakenFen")), num(get(cp, "budgetLeftFen"))
		}
		cf, other := c.newCase(t, "caseManager", village, true), c.newCase(t, "caseManager", village, true)

		c.wantCode(t, "BAD_USER_INPUT", "caseManager", qRefer, in(map[string]any{"householdId": cf.household, "resourceId": resource, "itemCode": "WINTER_SUPPLIES"}))
		ref := get(c.must(t, "caseManager", qRefer, in(map[string]any{"householdId": cf.household, "personId": cf.child, "resourceId": resource, "itemCode": "WINTER_SUPPLIES", "amountFen": 60000})),
			"createReferral", "referral")
		if get(ref, "person") != nil {
			t.Fatalf("household-level referral names a person: %v", ref)
		}
		// Any member, or the household again: the same aid.
		c.wantCode(t, "DUPLICATE_AID", "caseManager", qRefer, in(map[string]any{"householdId": cf.household, "personId": cf.head, "resourceId": resource, "itemCode": "WINTER_SUPPLIES", "amountFen": 10000}))
		c.wantCode(t, "DUPLICATE_AID", "caseManager", qRecordAid, in(map[string]any{"householdId": cf.household, "personId": cf.child, "itemCode": "TEMP_LIVING_SUPPLIES",
			"providerKind": "GOVERNMENT", "providerName": "街道办", "units": 1, "periodStart": "2026-12-01", "periodEnd": "2026-12-01"}))

		// The charity sees the head, strictly masked, and no one else.
		data := c.must(t, "charityA", `query($id: ID!) { household(id: $id) { persons { id relation residentId } } }`, map[string]any{"id": cf.household})
		persons := list(get(data, "household", "persons"))
		if len(persons) != 1 || get(persons[0], "id") != cf.head || get(persons[0], "residentId") != maskStrict(cf.headID) {
			t.Fatalf("charityA sees %v", persons)
		}
		c.wantCode(t, hidden, "charityA", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": cf.child})

		// The budget: taken on accept, checked on referral, given back on decline.
		c.move(t, "charityA", str(get(ref, "id")), "ACCEPTED", nil)
		if taken, left := budget(); taken != 60000 || left != 40000 {
			t.Fatalf("budget taken %d, left %d", taken, left)
		}
		c.wantCode(t, "CAPACITY_EXHAUSTED", "caseManager", qRefer, in(map[string]any{"householdId": other.household, "resourceId": resource, "itemCode": "WINTER_SUPPLIES", "amountFen": 50000}))
		c.move(t, "charityA", str(get(ref, "id")), "DECLINED", map[string]any{"declineReason": "NOT_ELIGIBLE"})
		if taken, left := budget(); taken != 0 || left != 100000 {
			t.Fatalf("after decline: budget taken %d, left %d", taken, left)
		}
		second := str(get(c.must(t, "caseManager", qRefer, in(map[string]any{"householdId": other.household, "resourceId": resource, "itemCode": "WINTER_SUPPLIES", "amountFen": 50000})),
			"createReferral", "referral", "id"))
		c.move(t, "charityA", second, "ACCEPTED", nil)
		c.move(t, "charityA", second, "DELIVERED", nil)
		if taken, _ := budget(); taken != 50000 {
			t.Fatalf("after delivery: budget taken %d", taken)
		}
		data = c.must(t, "caseManager", `query($h: ID!) { aidHistory(householdId: $h) { edges { node { person { id } amountFen source } } } }`, map[string]any{"h": other.household})
		edges := list(get(data, "aidHistory", "edges"))
		if len(edges) != 1 || get(edges[0], "node", "person") != nil || num(get(edges[0], "node", "amountFen")) != 50000 {
			t.Fatalf("household-level aid: %v", data)
		}
		c.assertNoResidentIDs(t, c.ids.all, func(string) bool { return false })
	})
}
