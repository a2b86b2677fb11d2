package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/search/searchtest"
	"github.com/aidhub/aidhub/server"
)

// Early warning through GraphQL: signals in, warnings raised by the
// evaluation job, the steps a case manager takes on them up to an
// application, its needs, their matches and a referral; the subscription;
// who may do what; and the statements a page of warnings costs.

const (
	qRecordSignals = `mutation($in: [SignalInput!]!) { recordSignals(input: $in) { results { duplicate
		signal { id source externalId kind observedOn month amountFen status recordedAt } } } }`
	qWarnings = `query($f: WarningFilter) { warnings(filter: $f, first: 50) { totalCount edges { node {
		id typeCode type { code nameZh severity slaDays } severity state month raisedAt dueOn overdue version
		regionCode regionName responsibleCode responsibleName household { id } person { id }
		evidence { explanation explanationZh measure value peerMedian adjusted
			threshold { typeCode districtCode districtName scope value method explanation explanationZh }
			facts { name value } signals { id kind source amountFen } }
		history { state at note } } } } }`
	qTransition = `mutation($in: TransitionWarningInput!) { transitionWarning(input: $in) {
		warning { id state version visitNote outcome dismissReason application { id } history { state note } }
		application { id status helpText household { id } } } }`
)

// yuzhongVillage is 渝中区七星岗街道华一坡社区.
const yuzhongVillage = "500103001003"

// signal is one SignalInput.
func signal(ext, kind, observedOn string, extra map[string]any) map[string]any {
	m := map[string]any{"externalId": ext, "kind": kind, "observedOn": observedOn}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// incomeFall is a household's income of 3,000 yuan a month falling to
// 1,000 in 2026-11, as the human resources bureau (HRSS) sends it.
func incomeFall(household string) []any {
	var out []any
	for i, m := range []struct {
		month string
		yuan  int
	}{{"2026-08", 3000}, {"2026-09", 3100}, {"2026-10", 2900}, {"2026-11", 1000}} {
		out = append(out, signal(fmt.Sprintf("inc-%s-%d", household, i), "INCOME", m.month+"-28",
			map[string]any{"source": "HRSS", "householdId": household, "amountFen": m.yuan * 100}))
	}
	return out
}

// waitForWarnings polls warnings as caller until every type in want is
// among them: the evaluation job raises them after recordSignals commits.
func waitForWarnings(t *testing.T, h *hub, caller string, filter map[string]any, want ...string) []any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		data := h.must(t, caller, qWarnings, map[string]any{"f": filter})
		edges := list(get(data, "warnings", "edges"))
		var got []string
		for _, e := range edges {
			got = append(got, str(get(e, "node", "typeCode")))
		}
		missing := false
		for _, w := range want {
			missing = missing || !slices.Contains(got, w)
		}
		if !missing {
			return edges
		}
		if time.Now().After(deadline) {
			t.Fatalf("warnings %v after 30 s, want %v among them", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func warningOf(t *testing.T, edges []any, typeCode string) map[string]any {
	t.Helper()
	for _, e := range edges {
		if n := get(e, "node").(map[string]any); n["typeCode"] == typeCode {
			return n
		}
	}
	t.Fatalf("no %s warning", typeCode)
	return nil
}

// TestWarningLoop is the whole loop through GraphQL: a household's income
// falls and the medical insurance feed reports a hospitalisation; the
// evaluation job raises warnings with their evidence and thresholds; the
// case manager acknowledges, visits, opens an application, classifies it
// into a need, finds its match and refers it.
func TestWarningLoop(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := &cwClient{hub: newHubWithIndex(t, d, server.Config{}, searchtest.Bleve(t)), ids: &idGen{}}
		cf := c.newCase(t, "caseManager", yuzhongVillage, true)
		resource := str(get(c.must(t, "charityA", `mutation { createResource(input: {title: "住院押金援助", itemCodes: ["INPATIENT_AID"], coverage: ["500103"], capacityUnits: 5}) { resource { id } } }`, nil),
			"createResource", "resource", "id"))
		c.must(t, "charityA", `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { status } } }`, map[string]any{"id": resource})

		// Signals: the income, then the feed's admission and its bill.
		data := c.must(t, "admin", qRecordSignals, map[string]any{"in": incomeFall(cf.household)})
		results := list(get(data, "recordSignals", "results"))
		if len(results) != 4 || get(results[3], "duplicate") != false || get(results[3], "signal", "month") != "2026-11" ||
			get(results[3], "signal", "amountFen") != float64(100000) || get(results[3], "signal", "status") != nil {
			t.Fatalf("recordSignals: %v", results)
		}
		again := c.must(t, "admin", qRecordSignals, map[string]any{"in": incomeFall(cf.household)[3:]})
		if r := list(get(again, "recordSignals", "results"))[0]; get(r, "duplicate") != true || get(r, "signal", "id") != get(results[3], "signal", "id") {
			t.Errorf("the same signal again: %v", r)
		}
		fed := c.must(t, "feed", qRecordSignals, map[string]any{"in": []any{
			signal("adm-1", "HOSPITALISATION", "2026-11-20", map[string]any{"personId": cf.head}),
			signal("oop-1", "MEDICAL_SPENDING", "2026-11-25", map[string]any{"householdId": cf.household, "amountFen": 200000}),
		}})
		for _, r := range list(get(fed, "recordSignals", "results")) {
			if get(r, "signal", "source") != "MEDICAL_INSURANCE" || get(r, "duplicate") != false {
				t.Errorf("the feed's signal: %v", r)
			}
		}
		// The feed sees what it stored, not whose it is.
		r := c.do("feed", `mutation($in: [SignalInput!]!) { recordSignals(input: $in) { results { signal { id household { id } } } } }`,
			map[string]any{"in": []any{signal("adm-1", "HOSPITALISATION", "2026-11-20", map[string]any{"personId": cf.head})}})
		if r.code() != "FORBIDDEN" || get(r.Data, "recordSignals", "results") == nil {
			t.Errorf("the feed reads a signal's household: %s", r.Raw)
		}

		edges := waitForWarnings(t, c.hub, "caseManager", nil, "INCOME_SUDDEN_DROP", "HOSPITALISATION_HIGH_OOP")
		drop := warningOf(t, edges, "INCOME_SUDDEN_DROP")
		if drop["state"] != "NEW" || drop["severity"] != "HIGH" || drop["month"] != "2026-11" || drop["dueOn"] != "2026-12-05" ||
			drop["overdue"] != false || drop["responsibleCode"] != yuzhongVillage[:9] || get(drop, "household", "id") != cf.household ||
			!strings.Contains(str(drop["responsibleName"]), "七星岗街道") || get(drop, "type", "slaDays") != float64(7) {
			t.Errorf("income warning: %v", drop)
		}
		ev := drop["evidence"].(map[string]any)
		if ev["measure"] != "INCOME_DROP" || ev["value"].(float64) < 0.6 || !strings.Contains(str(ev["explanation"]), "%") || ev["explanationZh"] == "" {
			t.Errorf("evidence: %v", ev)
		}
		th := ev["threshold"].(map[string]any)
		if th["scope"] != "FIXED" || th["value"] != 0.3 || th["districtName"] != "渝中区" ||
			!strings.Contains(str(th["explanation"]), "30 %") || !strings.Contains(str(th["explanationZh"]), "渝中区") {
			t.Errorf("threshold: %v", th)
		}
		var kinds []string
		for _, s := range list(ev["signals"]) {
			kinds = append(kinds, str(get(s, "kind")))
		}
		if len(kinds) < 4 || !slices.Contains(kinds, "INCOME") {
			t.Errorf("evidence signals %v", kinds)
		}
		hosp := warningOf(t, edges, "HOSPITALISATION_HIGH_OOP")
		if get(hosp, "person", "id") != cf.head || len(list(get(hosp, "evidence", "facts"))) == 0 || get(hosp, "evidence", "measure") != nil {
			t.Errorf("hospitalisation warning: %v", hosp)
		}
		hospKinds := ""
		for _, s := range list(get(hosp, "evidence", "signals")) {
			hospKinds += str(get(s, "kind")) + "/" + str(get(s, "source")) + " "
		}
		if !strings.Contains(hospKinds, "HOSPITALISATION/MEDICAL_INSURANCE") {
			t.Errorf("hospitalisation evidence: %s", hospKinds)
		}
		if data := c.must(t, "caseManagerB", qWarnings, nil); num(get(data, "warnings", "totalCount")) != 0 {
			t.Errorf("沙坪坝区's case manager sees 渝中区's warnings: %v", data)
		}

		// The steps: acknowledge, visit, open the application.
		step := func(in map[string]any) map[string]any {
			t.Helper()
			in["warningId"] = drop["id"]
			return c.must(t, "caseManager", qTransition, map[string]any{"in": in})["transitionWarning"].(map[string]any)
		}
		if w := step(map[string]any{"action": "ACKNOWLEDGE", "version": drop["version"]}); get(w, "warning", "state") != "ACKNOWLEDGED" {
			t.Fatalf("acknowledge: %v", w)
		}
		if w := step(map[string]any{"action": "VISIT", "note": "入户核查：户主住院，家庭收入骤降"}); get(w, "warning", "state") != "VISITED" || get(w, "warning", "visitNote") == "" {
			t.Fatalf("visit: %v", w)
		}
		opened := step(map[string]any{"action": "OPEN_APPLICATION", "helpText": "户主住院，申请医疗救助", "categoryCodes": []string{"MEDICAL_INPATIENT"}})
		app := str(get(opened, "application", "id"))
		if get(opened, "warning", "state") != "RESOLVED" || get(opened, "warning", "outcome") != "APPLICATION_OPENED" ||
			get(opened, "warning", "application", "id") != app || get(opened, "application", "status") != "SUBMITTED" ||
			get(opened, "application", "household", "id") != cf.household || len(list(get(opened, "warning", "history"))) != 4 {
			t.Fatalf("open application: %v", opened)
		}

		// The application's need, its match, the referral.
		classified := c.must(t, "caseManager", qClassify, in(map[string]any{"applicationId": app, "needs": []any{
			map[string]any{"personId": cf.head, "categoryCode": "MEDICAL_INPATIENT", "severity": 4},
		}}))
		need := str(get(list(get(classified, "classifyApplication", "assessment", "needs"))[0], "id"))
		matches := list(get(c.must(t, "caseManager", `query($n: ID) { matches(needId: $n) { matches { resource { id } score } } }`, map[string]any{"n": need}), "matches"))
		if len(matches) != 1 || len(list(get(matches[0], "matches"))) == 0 || get(list(get(matches[0], "matches"))[0], "resource", "id") != resource {
			t.Fatalf("matches of the need: %v", matches)
		}
		ref := c.must(t, "caseManager", qRefer, in(map[string]any{"needId": need, "resourceId": resource}))
		if get(ref, "createReferral", "referral", "status") != "PENDING" || get(ref, "createReferral", "referral", "need", "id") != need {
			t.Fatalf("referral: %v", ref)
		}
	})
}

// TestWarningRaisedSubscription: a case manager of 渝中区 subscribed to
// warningRaised receives the warning new signals raise there; one of
// 大渡口区 does not, and receives its own district's.
func TestWarningRaisedSubscription(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := &cwClient{hub: newHubWithIndex(t, d, server.Config{}, searchtest.Bleve(t)), ids: &idGen{}}
		tok, err := c.app.Tokens.Create(context.Background(), auth.NewToken{Role: auth.CaseManager, RegionPrefix: "500104"})
		if err != nil {
			t.Fatal(err)
		}
		c.tokens["caseManagerDadukou"] = tok
		yuzhong := c.newCase(t, "admin", yuzhongVillage, false)
		dadukou := c.newCase(t, "admin", villageIn(t, "500104", 0), false)

		sub := c.subscribe(t, "caseManager", `subscription { warningRaised(regionPrefix: "500103") { id typeCode regionCode household { id } evidence { explanation } } }`)
		other := c.subscribe(t, "caseManagerDadukou", `subscription { warningRaised { id regionCode household { id } } }`)
		for caller, code := range map[string]string{"caseManagerDadukou": "FORBIDDEN", "charityA": "FORBIDDEN", "feed": "FORBIDDEN", "donor": "FORBIDDEN"} {
			denied := c.subscribe(t, caller, `subscription { warningRaised(regionPrefix: "500103") { id } }`)
			if m := denied.read(); !strings.Contains(fmt.Sprint(m), code) {
				t.Errorf("%s subscribed to 渝中区's warnings: %v", caller, m)
			}
		}
		time.Sleep(300 * time.Millisecond) // let the subscriptions register before the signals

		c.must(t, "admin", qRecordSignals, map[string]any{"in": incomeFall(yuzhong.household)})
		m := sub.read()
		if m["type"] != "next" || get(m, "payload", "data", "warningRaised", "household", "id") != yuzhong.household ||
			!strings.HasPrefix(str(get(m, "payload", "data", "warningRaised", "regionCode")), "500103") ||
			get(m, "payload", "data", "warningRaised", "evidence", "explanation") == "" {
			t.Fatalf("渝中区's case manager got %v", m)
		}
		// 大渡口区's own warning is the first its case manager hears of.
		c.must(t, "admin", qRecordSignals, map[string]any{"in": incomeFall(dadukou.household)})
		m = other.read()
		if m["type"] != "next" || get(m, "payload", "data", "warningRaised", "household", "id") != dadukou.household {
			t.Fatalf("大渡口区's case manager got %v, want only its own district's warning", m)
		}
	})
}
