package server_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/search/searchtest"
	"github.com/aidhub/aidhub/server"
)

// rounds is how often each write is followed at once by the queries that
// must see it: the re-matching jobs take tens of milliseconds, the next
// query a few, so a matcher that waited for them would fail nearly every
// round.
const rounds = 30

// TestReadYourWrites: right after a mutation returns, the same client's
// matching queries see it, with no waiting, while the re-matching jobs run
// as usual.
func TestReadYourWrites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHubWithIndex(t, d, server.Config{}, searchtest.Bleve(t))
		must := h.must
		resource := func(t *testing.T, title, item string, units int) string {
			t.Helper()
			data := must(t, "charityA", `mutation($t: String!, $i: String!, $u: Int!) { createResource(input: {title: $t, itemCodes: [$i], coverage: ["500103"], capacityUnits: $u}) { resource { id } } }`,
				map[string]any{"t": title, "i": item, "u": units})
			return get(data, "createResource", "resource", "id").(string)
		}
		transition := func(t *testing.T, mutation, id string) {
			t.Helper()
			must(t, "charityA", `mutation($id: ID!) { `+mutation+`(input: {id: $id}) { resource { status } } }`, map[string]any{"id": id})
		}
		seq := 0
		// household registers a consenting household in 华一坡 with one
		// need; it returns the household, its head and the need.
		household := func(t *testing.T, category string) (hid, pid, needID string) {
			t.Helper()
			seq++
			data := must(t, "caseManager", `mutation($in: RegisterHouseholdInput!) { registerHousehold(input: $in) { household { id persons { id } } } }`, map[string]any{"in": map[string]any{
				"regionCode": "500103001003", "monthlyIncomeFen": 60000,
				"members": []any{map[string]any{"name": fmt.Sprintf("住户%d", seq), "residentId": mResidentID("500103", "19800101", seq), "relation": "HEAD",
					"groups": []any{map[string]any{"groupCode": "DIBAO", "since": "2024-01-01"}}}},
			}})
			hid = get(data, "registerHousehold", "household", "id").(string)
			pid = get(data, "registerHousehold", "household", "persons").([]any)[0].(map[string]any)["id"].(string)
			must(t, "caseManager", `mutation($h: ID!, $p: ID!) { recordConsent(input: {householdId: $h, grantedByPersonId: $p, purposes: [SHARE_WITH_CHARITIES], method: ELECTRONIC}) { consent { id } } }`,
				map[string]any{"h": hid, "p": pid})
			return hid, pid, assess(t, must, hid, pid, category, 3)
		}
		matched := func(t *testing.T, caller, needID, resourceID string) (bool, []string) {
			t.Helper()
			data := must(t, caller, `query($n: ID!, $r: ID!) { whyNotMatched(needId: $n, resourceId: $r) { matched failures { filter } } }`,
				map[string]any{"n": needID, "r": resourceID})
			var filters []string
			for _, f := range get(data, "whyNotMatched", "failures").([]any) {
				filters = append(filters, get(f, "filter").(string))
			}
			return get(data, "whyNotMatched", "matched").(bool), filters
		}
		// matches returns the titles of a need's matches by resource ID.
		matches := func(t *testing.T, needID string) map[string]string {
			t.Helper()
			data := must(t, "caseManager", `query($n: ID) { matches(needId: $n, first: 100) { matches { resource { id title } } } }`, map[string]any{"n": needID})
			out := map[string]string{}
			for _, m := range get(data, "matches").([]any)[0].(map[string]any)["matches"].([]any) {
				out[get(m, "resource", "id").(string)] = get(m, "resource", "title").(string)
			}
			return out
		}
		bestMatch := func(t *testing.T, category string) any {
			t.Helper()
			data := must(t, "caseManager", `query($c: String) { unmetNeeds(filter: {categoryCode: $c}) { edges { node { bestMatch { resource { id } } } } } }`, map[string]any{"c": category})
			edges := get(data, "unmetNeeds", "edges").([]any)
			if len(edges) != 1 {
				t.Fatalf("unmet %s needs: %v", category, edges)
			}
			return get(edges[0], "node", "bestMatch", "resource", "id")
		}

		capped := resource(t, "门诊补助", "OUTPATIENT_SUBSIDY", 1)
		transition(t, "publishResource", capped)
		training := resource(t, "技能培训", "SKILLS_TRAINING", 100)
		transition(t, "publishResource", training)
		inpatient := resource(t, "住院救助", "INPATIENT_AID", 100)
		transition(t, "publishResource", inpatient)
		_, _, pupil := household(t, "EDUCATION")
		_, _, referred := household(t, "MEDICAL_OUTPATIENT")
		_, _, other := household(t, "MEDICAL_OUTPATIENT")
		jobless, joblessHead, _ := household(t, "EMPLOYMENT")
		type patient struct{ hid, pid, need string }
		patients := make([]patient, rounds)
		for i := range patients {
			patients[i].hid, patients[i].pid, patients[i].need = household(t, "MEDICAL_INPATIENT")
		}
		// The first matching query loads the matcher; from then on it is
		// only changed.
		if len(matches(t, pupil)) != 0 {
			t.Fatal("a need matched before any resource for it was published")
		}

		t.Run("publish, edit, pause and close", func(t *testing.T) {
			for i := range rounds {
				r := resource(t, fmt.Sprintf("文具资助%d", i), "SCHOOL_SUPPLIES", 5)
				transition(t, "publishResource", r)
				if ok, failures := matched(t, "caseManager", pupil, r); !ok {
					t.Fatalf("round %d: whyNotMatched right after publishing: %v", i, failures)
				}
				if _, ok := matches(t, pupil)[r]; !ok {
					t.Fatalf("round %d: matches right after publishing lack it", i)
				}
				if got := bestMatch(t, "EDUCATION"); got != r {
					t.Fatalf("round %d: best match right after publishing is %v, want %s", i, got, r)
				}
				title := fmt.Sprintf("文具资助%d（修订）", i)
				must(t, "charityA", `mutation($id: ID!, $t: String) { updateResource(input: {id: $id, title: $t}) { resource { id } } }`, map[string]any{"id": r, "t": title})
				if got := matches(t, pupil)[r]; got != title {
					t.Fatalf("round %d: matches right after an edit show %q, want %q", i, got, title)
				}
				if i%2 == 0 {
					transition(t, "pauseResource", r)
				} else {
					transition(t, "closeResource", r)
				}
				// The store says why; matches (below) show the engine let it go.
				if ok, failures := matched(t, "admin", pupil, r); ok || !slices.Contains(failures, "status") {
					t.Fatalf("round %d: whyNotMatched right after pausing: matched %v, %v", i, ok, failures)
				}
				if _, ok := matches(t, pupil)[r]; ok {
					t.Fatalf("round %d: matches right after pausing still have it", i)
				}
				if got := bestMatch(t, "EDUCATION"); got != nil {
					t.Fatalf("round %d: best match right after pausing is %v", i, got)
				}
			}
		})

		t.Run("referrals take and give back capacity", func(t *testing.T) {
			refer := func(t *testing.T) string {
				t.Helper()
				data := must(t, "caseManager", `mutation($n: ID!, $r: ID!) { createReferral(input: {needId: $n, resourceId: $r}) { referral { id } } }`, map[string]any{"n": referred, "r": capped})
				return get(data, "createReferral", "referral", "id").(string)
			}
			move := func(t *testing.T, caller, ref, to string) {
				t.Helper()
				vars := map[string]any{"id": ref, "to": to}
				if to == "DECLINED" {
					vars["why"] = "COULD_NOT_CONTACT"
				}
				must(t, caller, `mutation($id: ID!, $to: ReferralStatus!, $why: DeclineReason) { transitionReferral(input: {referralId: $id, to: $to, declineReason: $why}) { referral { status } } }`, vars)
			}
			setUnits := func(t *testing.T, units int) {
				t.Helper()
				must(t, "charityA", `mutation($id: ID!, $u: Int) { updateResource(input: {id: $id, capacityUnits: $u}) { resource { id } } }`, map[string]any{"id": capped, "u": units})
			}
			wantCapacity := func(t *testing.T, round int, after string) {
				t.Helper()
				if ok, failures := matched(t, "caseManager", other, capped); ok || !slices.Contains(failures, "capacity") {
					t.Fatalf("round %d: whyNotMatched right after %s: matched %v, %v", round, after, ok, failures)
				}
			}
			wantMatched := func(t *testing.T, round int, after string) {
				t.Helper()
				if ok, failures := matched(t, "caseManager", other, capped); !ok {
					t.Fatalf("round %d: whyNotMatched right after %s: %v", round, after, failures)
				}
			}
			for i := range rounds {
				ref := refer(t)
				if len(matches(t, referred)) != 0 {
					t.Fatalf("round %d: a referred need still matches: aid under way blocks its category", i)
				}
				move(t, "charityA", ref, "ACCEPTED")
				wantCapacity(t, i, "the last unit was taken")
				if i%2 == 0 {
					move(t, "caseManager", ref, "CANCELLED")
				} else {
					move(t, "charityA", ref, "DECLINED")
				}
				wantMatched(t, i, "the referral gave its unit back")
				if _, ok := matches(t, referred)[capped]; !ok {
					t.Fatalf("round %d: the need does not match again right after its referral ended", i)
				}

				ref = refer(t)
				move(t, "charityA", ref, "ACCEPTED")
				wantCapacity(t, i, "the last unit was taken again")
				setUnits(t, 2)
				wantMatched(t, i, "a unit was added")
				move(t, "caseManager", ref, "CANCELLED")
				setUnits(t, 1)
			}
		})

		t.Run("a new assessment", func(t *testing.T) {
			var previous string
			for i := range rounds {
				severity := i%5 + 1
				need := assess(t, must, jobless, joblessHead, "EMPLOYMENT", severity)
				if _, ok := matches(t, need)[training]; !ok {
					t.Fatalf("round %d: the fresh need does not match", i)
				}
				if previous != "" && len(matches(t, previous)) != 0 {
					t.Fatalf("round %d: the superseded need still matches", i)
				}
				data := must(t, "charityA", `query($r: ID!) { matchesForResource(resourceId: $r) { severity } }`, map[string]any{"r": training})
				got := get(data, "matchesForResource").([]any)
				if len(got) != 1 || get(got[0], "severity") != float64(severity) {
					t.Fatalf("round %d: matchesForResource right after the assessment: %v, want one of severity %d", i, got, severity)
				}
				previous = need
			}
		})

		t.Run("recorded aid blocks the need", func(t *testing.T) {
			for i, p := range patients {
				if _, ok := matches(t, p.need)[inpatient]; !ok {
					t.Fatalf("round %d: the need does not match before the aid", i)
				}
				must(t, "caseManager", `mutation($in: RecordAidInput!) { recordAid(input: $in) { aidRecord { id } } }`, map[string]any{"in": map[string]any{
					"householdId": p.hid, "personId": p.pid, "categoryCode": "MEDICAL_INPATIENT", "providerKind": "GOVERNMENT",
					"providerName": "渝中区医疗保障局", "amountFen": 100000, "periodStart": "2026-11-28", "periodEnd": "2026-11-28",
				}})
				if ok, failures := matched(t, "caseManager", p.need, inpatient); ok || !slices.Contains(failures, "duplicate") {
					t.Fatalf("round %d: whyNotMatched right after the aid: matched %v, %v", i, ok, failures)
				}
				if got := matches(t, p.need); len(got) != 0 {
					t.Fatalf("round %d: matches right after the aid: %v", i, got)
				}
			}
		})
	})
}

// assess records a household's assessment with one need of its head and
// returns the need.
func assess(t *testing.T, must func(*testing.T, string, string, map[string]any) map[string]any, hid, pid, category string, severity int) string {
	t.Helper()
	data := must(t, "caseManager", `mutation($h: ID!, $p: ID!, $c: String, $s: Int!) { createAssessment(input: {householdId: $h, needs: [{personId: $p, categoryCode: $c, severity: $s}]}) { assessment { needs { id } } } }`,
		map[string]any{"h": hid, "p": pid, "c": category, "s": severity})
	return get(data, "createAssessment", "assessment", "needs").([]any)[0].(map[string]any)["id"].(string)
}
