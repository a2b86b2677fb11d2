package server_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/search/searchtest"
	"github.com/aidhub/aidhub/server"
)

// TestMatching_DecidesAsACaseManager goes through GraphQL the way a street
// case manager works a household: the category tree, item fit that ranks
// rather than excludes, scores out of 100, reasons in both languages with
// their figures, and aid that covers a need it does not name.
func TestMatching_DecidesAsACaseManager(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHubWithIndex(t, d, server.Config{}, searchtest.Bleve(t))
		must := func(caller, q string, vars map[string]any) map[string]any {
			t.Helper()
			return h.must(t, caller, q, vars)
		}
		publish := func(title, items, extra string) string {
			t.Helper()
			data := must("charityA", `mutation { createResource(input: {title: "`+title+`", itemCodes: [`+items+`], coverage: ["500103"], capacityUnits: 5`+extra+`}) { resource { id } } }`, nil)
			id := get(data, "createResource", "resource", "id").(string)
			must("charityA", `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { status } } }`, map[string]any{"id": id})
			return id
		}
		grant := publish("春蕾助学金", `"SCHOOL_GRANT"`, "")
		waiver := publish("学费减免", `"TUITION_WAIVER"`, "")
		illness := publish("大病医疗救助", `"CRITICAL_ILLNESS_AID"`, "")
		capped := publish("低收入门诊补助", `"OUTPATIENT_SUBSIDY"`, ", incomeCeilingFen: 80000")

		household := must("caseManager", `mutation($in: RegisterHouseholdInput!) { registerHousehold(input: $in) { household { id persons { id } } } }`, map[string]any{"in": map[string]any{
			"regionCode": "500103001003", "monthlyIncomeFen": 240300,
			"members": []any{
				map[string]any{"name": "王强", "residentId": mResidentID("500103", "19800101", 11), "relation": "HEAD"},
				map[string]any{"name": "李芳", "residentId": mResidentID("500103", "19820101", 12), "relation": "SPOUSE"},
				map[string]any{"name": "王小明", "residentId": mResidentID("500103", "20140101", 13), "relation": "CHILD"},
			},
		}})
		hid := get(household, "registerHousehold", "household", "id").(string)
		persons := get(household, "registerHousehold", "household", "persons").([]any)
		head, child := get(persons[0], "id").(string), get(persons[2], "id").(string)
		assessed := must("caseManager", `mutation($h: ID!, $head: ID!, $child: ID!) { createAssessment(input: {householdId: $h, assessedOn: "2026-11-01", needs: [
			{personId: $child, itemCode: "SCHOOL_GRANT", severity: 3},
			{personId: $head, categoryCode: "MEDICAL", severity: 4}]}) { assessment { needs { id } } } }`,
			map[string]any{"h": hid, "head": head, "child": child})
		needs := get(assessed, "createAssessment", "assessment", "needs").([]any)
		schoolNeed, medicalNeed := get(needs[0], "id").(string), get(needs[1], "id").(string)

		matchQ := `query($n: ID) { matches(needId: $n) { matches { resource { id } score factors { factor value maxPoints contribution } } } }`
		t.Run("the exact item first, its siblings below it", func(t *testing.T) {
			ms := get(must("caseManager", matchQ, map[string]any{"n": schoolNeed}), "matches").([]any)[0].(map[string]any)["matches"].([]any)
			if len(ms) != 2 || get(ms[0], "resource", "id") != grant || get(ms[1], "resource", "id") != waiver {
				t.Fatalf("matches %v; want the grant, then the waiver", ms)
			}
			for i, want := range []float64{1, 0.6} {
				if fit := get(ms[i], "factors").([]any)[1]; get(fit, "factor") != "itemFit" || get(fit, "value") != want {
					t.Errorf("match %d: item fit %v, want %v", i, fit, want)
				}
				score, sum, points := get(ms[i], "score").(float64), 0.0, 0.0
				factors := get(ms[i], "factors").([]any)
				for _, f := range factors {
					sum += get(f, "contribution").(float64)
					points += get(f, "maxPoints").(float64)
				}
				// The API rounds each figure to 2 decimals on its own.
				rounding := 0.01*float64(len(factors)) + 1e-9
				if score <= 0 || score > 100 || math.Abs(sum-score) > rounding || math.Abs(points-100) > rounding {
					t.Errorf("match %d: score %v, contributions %v, points %v; want 0 < score ≤ 100 = the sum of the shares", i, score, sum, points)
				}
			}
		})
		t.Run("a parent category is met below it", func(t *testing.T) {
			ms := get(must("caseManager", matchQ, map[string]any{"n": medicalNeed}), "matches").([]any)[0].(map[string]any)["matches"].([]any)
			if len(ms) != 1 || get(ms[0], "resource", "id") != illness {
				t.Fatalf("matches %v; want the critical-illness fund for a MEDICAL need", ms)
			}
		})

		whyQ := `query($n: ID!, $r: ID!) { whyNotMatched(needId: $n, resourceId: $r) { matched failures { filter code message messageZh limit actual unit from until } } }`
		t.Run("income in yuan with the per-capita sum", func(t *testing.T) {
			w := get(must("caseManager", whyQ, map[string]any{"n": medicalNeed, "r": capped}), "whyNotMatched")
			fs := get(w, "failures").([]any)
			if get(w, "matched") != false || len(fs) != 1 {
				t.Fatalf("%v", w)
			}
			f := fs[0]
			if get(f, "code") != "INCOME" || get(f, "limit") != float64(80000) || get(f, "actual") != float64(80100) || get(f, "unit") != "FEN" ||
				get(f, "messageZh") != "人均 801 元/月 = 2,403 元 ÷ 3 人，超过上限 800 元" ||
				!strings.Contains(get(f, "message").(string), "801 yuan per person a month (2,403 yuan ÷ 3 people)") {
				t.Errorf("income failure %v", f)
			}
		})

		t.Run("referring what does not match says why in both languages", func(t *testing.T) {
			r := h.do("caseManager", `mutation($n: ID!, $r: ID!) { referMatch(input: {needId: $n, resourceId: $r}) { referral { id } } }`, map[string]any{"n": medicalNeed, "r": capped})
			if r.code() != "CONFLICT" || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Extensions["messageZh"].(string), "人均 801 元/月") ||
				fmt.Sprint(r.Errors[0].Extensions["failures"]) != "[INCOME]" {
				t.Errorf("referMatch: %s", r.Raw)
			}
		})

		t.Run("a paused resource says so; a draft stays private", func(t *testing.T) {
			must("charityA", `mutation($id: ID!) { pauseResource(input: {id: $id}) { resource { status } } }`, map[string]any{"id": waiver})
			w := get(must("caseManager", whyQ, map[string]any{"n": schoolNeed, "r": waiver}), "whyNotMatched")
			fs := get(w, "failures").([]any)
			if get(w, "matched") != false || len(fs) != 1 || get(fs[0], "code") != "STATUS" || !strings.HasPrefix(get(fs[0], "messageZh").(string), "暂停中") {
				t.Errorf("paused: %v", w)
			}
			// An expired one (as the daily job leaves it) says until when.
			expired := publish("过期助学金", `"SCHOOL_GRANT"`, ", validUntil: \"2026-12-31\"")
			rid, _ := strconv.ParseInt(strings.TrimPrefix(decodeID(t, expired), "Resource:"), 10, 64)
			if _, err := d.NewUpdate().TableExpr("resources").Set("status = ?", "EXPIRED").Set("valid_until = ?", "2026-11-27").Where("id = ?", rid).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			w = get(must("caseManager", whyQ, map[string]any{"n": schoolNeed, "r": expired}), "whyNotMatched")
			if fs := get(w, "failures").([]any); len(fs) != 1 || get(fs[0], "code") != "STATUS" || get(fs[0], "messageZh") != "已过期 2026-11-27" || get(fs[0], "until") != "2026-11-27" {
				t.Errorf("expired: %v", w)
			}
			draft := get(must("charityA", `mutation { createResource(input: {title: "草稿助学", itemCodes: ["SCHOOL_GRANT"], coverage: ["500103"], capacityUnits: 1}) { resource { id } } }`, nil),
				"createResource", "resource", "id").(string)
			if r := h.do("caseManager", whyQ, map[string]any{"n": schoolNeed, "r": draft}); r.code() != "NOT_FOUND" {
				t.Errorf("a case manager learns of a draft: %s", r.Raw)
			}
			w = get(must("admin", whyQ, map[string]any{"n": schoolNeed, "r": draft}), "whyNotMatched")
			if fs := get(w, "failures").([]any); len(fs) != 1 || get(fs[0], "messageZh") != "草稿，尚未发布" {
				t.Errorf("the admin's draft: %v", w)
			}
		})

		t.Run("aid covers a need it does not name", func(t *testing.T) {
			must("caseManager", `mutation($h: ID!, $p: ID!) { recordAid(input: {householdId: $h, personId: $p, categoryCode: "MEDICAL_INPATIENT", providerKind: GOVERNMENT, providerName: "渝中区医疗保障局", amountFen: 300000, periodStart: "2026-11-20", periodEnd: "2026-11-20"}) { aidRecord { id } } }`,
				map[string]any{"h": hid, "p": head})
			data := must("caseManager", `{ unmetNeeds { edges { node { need { id } } } } }`, nil)
			for _, e := range get(data, "unmetNeeds", "edges").([]any) {
				if get(e, "node", "need", "id") == medicalNeed {
					t.Errorf("the MEDICAL need stays on the watchlist after inpatient aid: %v", data)
				}
			}
			w := get(must("caseManager", whyQ, map[string]any{"n": medicalNeed, "r": illness}), "whyNotMatched")
			fs := get(w, "failures").([]any)
			if len(fs) != 1 || get(fs[0], "code") != "DUPLICATE" || get(fs[0], "from") != "2026-11-20" || get(fs[0], "until") != "2027-02-17" ||
				!strings.Contains(get(fs[0], "messageZh").(string), "2027-02-17（含）前") {
				t.Errorf("duplicate failure %v", w)
			}
			r := h.do("caseManager", `mutation($h: ID!, $p: ID!) { recordAid(input: {householdId: $h, personId: $p, itemCode: "MEDICAL_ESCORT", providerKind: CHARITY, providerName: "某基金会", units: 1, periodStart: "2026-11-28", periodEnd: "2026-11-28"}) { aidRecord { id } } }`,
				map[string]any{"h": hid, "p": head})
			if r.code() != "DUPLICATE_AID" || len(r.Errors) != 1 || r.Errors[0].Extensions["blockedUntil"] != "2027-02-17" ||
				r.Errors[0].Extensions["aidCategory"] != "MEDICAL_INPATIENT" || !strings.Contains(r.Errors[0].Extensions["messageZh"].(string), "防止重复帮扶") {
				t.Errorf("duplicate aid: %s", r.Raw)
			}
		})
	})
}

// decodeID reads a global ID ("Type:key" in base64).
func decodeID(t *testing.T, id string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		t.Fatalf("global ID %q: %v", id, err)
	}
	return string(b)
}
