package server_test

import (
	"context"
	"encoding/base64"
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

// TestWarningAccessAndBadInput: every early-warning operation, as each
// caller that may not and with bad input, answers with a code (and the
// field at fault) and writes nothing.
func TestWarningAccessAndBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		cf := c.newCase(t, "caseManager", yuzhongVillage, false)
		c.must(t, "admin", qRecordSignals, map[string]any{"in": incomeFall(cf.household)})
		raised, err := c.warn.EvaluateHouseholds(context.Background(), []int64{rowOf(t, cf.household)})
		if err != nil || len(raised) == 0 {
			t.Fatalf("evaluate: %d warnings, %v", len(raised), err)
		}
		edges := list(get(c.must(t, "caseManager", qWarnings, nil), "warnings", "edges"))
		w := warningOf(t, edges, "INCOME_SUDDEN_DROP")
		sig := get(list(get(w, "evidence", "signals"))[0], "id")
		before := c.fingerprint()

		// wantField sends a request that must fail with code about field.
		wantField := func(code, field, caller, q string, vars map[string]any) {
			t.Helper()
			r := c.wantCode(t, code, caller, q, vars)
			if got, _ := r.Errors[0].Extensions["field"].(string); got != field {
				t.Errorf("%s: field %q, want %q: %s", caller, got, field, r.Raw)
			}
		}
		future := signal("x-1", "INCOME", "2026-11-29", map[string]any{"householdId": cf.household, "amountFen": 100})
		ok := signal("x-2", "INCOME", "2026-11-01", map[string]any{"source": "HRSS", "householdId": cf.household, "amountFen": 100})
		t.Run("recordSignals", func(t *testing.T) {
			vars := map[string]any{"in": []any{ok}}
			c.wantCode(t, "UNAUTHENTICATED", "anonymous", qRecordSignals, vars)
			for _, who := range []string{"caseManager", "charityA", "donor"} {
				c.wantCode(t, "FORBIDDEN", who, qRecordSignals, vars)
			}
			wantField("FORBIDDEN", "input[0].source", "feed", qRecordSignals, vars) // another source's signal
			neg := signal("x-3", "MEDICAL_SPENDING", "2026-11-01", map[string]any{"source": "HRSS", "householdId": cf.household, "amountFen": -1})
			wantField("BAD_USER_INPUT", "input[1].amountFen", "admin", qRecordSignals, map[string]any{"in": []any{ok, neg}})
			future["source"] = "HRSS"
			wantField("BAD_USER_INPUT", "input[0].observedOn", "admin", qRecordSignals, map[string]any{"in": []any{future}})
			old := signal("x-4", "INCOME", "1999-12-31", map[string]any{"source": "HRSS", "householdId": cf.household, "amountFen": 100})
			wantField("BAD_USER_INPUT", "input[0].observedOn", "admin", qRecordSignals, map[string]any{"in": []any{old}})
			noPerson := signal("x-5", "HOSPITALISATION", "2026-11-01", map[string]any{"source": "HRSS", "householdId": cf.household})
			wantField("BAD_USER_INPUT", "input[0].personId", "admin", qRecordSignals, map[string]any{"in": []any{noPerson}})
			badStatus := signal("x-6", "EMPLOYMENT", "2026-11-01", map[string]any{"source": "HRSS", "personId": cf.head, "status": "RETIRED"})
			wantField("BAD_USER_INPUT", "input[0].status", "admin", qRecordSignals, map[string]any{"in": []any{badStatus}})
			badID := signal("x-7", "INCOME", "2026-11-01", map[string]any{"source": "HRSS", "householdId": cf.head, "amountFen": 100})
			wantField("BAD_USER_INPUT", "input[0].householdId", "admin", qRecordSignals, map[string]any{"in": []any{badID}})
			unknown := signal("x-8", "INCOME", "2026-11-01", map[string]any{"source": "HRSS", "householdId": rowIDOf("Household", 999999), "amountFen": 100})
			wantField("NOT_FOUND", "input[0].householdId", "admin", qRecordSignals, map[string]any{"in": []any{unknown}})
			badSource := signal("x-9", "INCOME", "2026-11-01", map[string]any{"source": "hrss bureau", "householdId": cf.household, "amountFen": 100})
			wantField("BAD_USER_INPUT", "input[0].source", "admin", qRecordSignals, map[string]any{"in": []any{badSource}})
			changed := incomeFall(cf.household)[3].(map[string]any)
			changed["amountFen"] = 999
			wantField("CONFLICT", "input[0].externalId", "admin", qRecordSignals, map[string]any{"in": []any{changed}})
			c.wantCode(t, "BAD_USER_INPUT", "admin", qRecordSignals, map[string]any{"in": []any{}})
			many := make([]any, 101)
			for i := range many {
				many[i] = signal(fmt.Sprintf("m-%d", i), "INCOME", "2026-11-01", map[string]any{"source": "HRSS", "householdId": cf.household, "amountFen": 100})
			}
			c.wantCode(t, "BAD_USER_INPUT", "admin", qRecordSignals, map[string]any{"in": many}) // the API's longest list is 100
			if r := c.do("admin", qRecordSignals, map[string]any{"in": []any{signal("x-10", "SALARY", "2026-11-01", map[string]any{"source": "HRSS", "householdId": cf.household})}}); len(r.Errors) == 0 {
				t.Errorf("an unknown kind: %s", r.Raw)
			}
		})
		t.Run("reads", func(t *testing.T) {
			for _, q := range []string{
				`{ warnings { totalCount } }`, `{ warningTypes { code } }`, `{ thresholds { value } }`,
			} {
				c.wantCode(t, "UNAUTHENTICATED", "anonymous", q, nil)
				for _, who := range []string{"charityA", "donor", "feed"} {
					c.wantCode(t, "FORBIDDEN", who, q, nil)
				}
			}
			if n := len(list(get(c.must(t, "caseManager", `{ warningTypes { code groups { code } threshold { measure also } rule } }`, nil), "warningTypes"))); n < 32 {
				t.Errorf("%d warning types, want at least 32", n)
			}
			wantField("BAD_USER_INPUT", "first", "caseManager", `{ warnings(first: 0) { totalCount } }`, nil)
			wantField("BAD_USER_INPUT", "filter.types[0]", "caseManager", `{ warnings(filter: {types: ["NOPE"]}) { totalCount } }`, nil)
			wantField("BAD_USER_INPUT", "filter.regionPrefix", "caseManager", `{ warnings(filter: {regionPrefix: "50%"}) { totalCount } }`, nil)
			wantField("BAD_USER_INPUT", "filter.householdId", "caseManager", `query($p: ID) { warnings(filter: {householdId: $p}) { totalCount } }`, map[string]any{"p": cf.head})
			wantField("BAD_USER_INPUT", "typeCode", "caseManager", `{ thresholds(typeCode: "NOPE") { value } }`, nil)
			wantField("BAD_USER_INPUT", "regionPrefix", "caseManager", `{ thresholds(regionPrefix: "abc") { value } }`, nil)
			data := c.must(t, "caseManager", `query($f: WarningFilter) { warnings(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{
				"types": []string{"INCOME_SUDDEN_DROP"}, "severities": []string{"HIGH"}, "states": []string{"NEW"}, "overdue": false, "householdId": cf.household,
			}})
			if num(get(data, "warnings", "totalCount")) != 1 {
				t.Errorf("the filtered warnings: %v", data)
			}
			if data := c.must(t, "caseManager", `{ warnings(filter: {overdue: true}) { totalCount } }`, nil); num(get(data, "warnings", "totalCount")) != 0 {
				t.Errorf("overdue warnings on the day they were raised: %v", data)
			}
			if data := c.must(t, "caseManagerB", `{ warnings { totalCount } }`, nil); num(get(data, "warnings", "totalCount")) != 0 {
				t.Errorf("another region's warnings: %v", data)
			}
			// node(id:) by the same rules: case workers of the region only.
			for _, id := range []any{w["id"], sig} {
				q := `query($id: ID!) { node(id: $id) { id ... on Warning { typeCode } ... on Signal { kind } } }`
				if got := get(c.must(t, "caseManager", q, map[string]any{"id": id}), "node", "id"); got != id {
					t.Errorf("node(%v) = %v", id, got)
				}
				c.wantCode(t, "NOT_FOUND", "caseManagerB", q, map[string]any{"id": id})
				for _, who := range []string{"charityA", "donor", "feed"} {
					c.wantCode(t, "FORBIDDEN", who, q, map[string]any{"id": id})
				}
			}
			v := c.must(t, "feed", `{ viewer { role source regionPrefix } }`, nil)
			if get(v, "viewer", "role") != "DATA_FEED" || get(v, "viewer", "source") != "MEDICAL_INSURANCE" {
				t.Errorf("the feed's viewer: %v", v)
			}
		})
		const qUpdate = `mutation($in: WarningTypeInput!, $v: Int) { updateWarningType(input: $in, version: $v) { warningType { code version slaDays rule threshold { floor } } } }`
		typeInput := func(change map[string]any) map[string]any {
			in := map[string]any{"code": "CHILD_OUT_OF_SCHOOL", "nameZh": "适龄儿童辍学", "nameEn": "Child out of school",
				"signals": []string{"SCHOOL_LEAVING"}, "severity": "HIGH", "level": "STREET", "slaDays": 7,
				"subject": "SCHOOL_LEAVING", "rule": "childrenLeftSchool > 0"}
			for k, v := range change {
				in[k] = v
			}
			return map[string]any{"in": in}
		}
		t.Run("updateWarningType and recalibrate", func(t *testing.T) {
			for _, who := range []string{"caseManager", "charityA", "donor", "feed"} {
				c.wantCode(t, "FORBIDDEN", who, qUpdate, typeInput(nil))
				c.wantCode(t, "FORBIDDEN", who, `mutation { recalibrate { calibration { month } } }`, nil)
			}
			c.wantCode(t, "UNAUTHENTICATED", "anonymous", qUpdate, typeInput(nil))
			r := c.wantCode(t, "BAD_USER_INPUT", "admin", qUpdate, typeInput(map[string]any{"rule": "childrenLeftSchool >\n  && dependants"}))
			if ext := r.Errors[0].Extensions; ext["field"] != "rule" || ext["line"] == nil || ext["column"] == nil {
				t.Errorf("a rule that does not compile: %s", r.Raw)
			}
			wantField("BAD_USER_INPUT", "threshold.floor", "admin", qUpdate, typeInput(map[string]any{"rule": nil, "threshold": map[string]any{
				"measure": "INCOME_DROP", "method": "QUANTILE", "quantile": 0.95, "windowMonths": 12, "minN": 30, "floor": 0.6, "ceiling": 0.5, "fixed": 0.55,
			}}))
			wantField("BAD_USER_INPUT", "slaDays", "admin", qUpdate, typeInput(map[string]any{"slaDays": 0}))
			wantField("BAD_USER_INPUT", "groups", "admin", qUpdate, typeInput(map[string]any{"groups": []string{"NOPE"}}))
			c.wantCode(t, "CONFLICT", "admin", qUpdate, map[string]any{"in": typeInput(nil)["in"], "v": 7})
			wantField("BAD_USER_INPUT", "month", "admin", `mutation { recalibrate(month: "2026-13") { calibration { month } } }`, nil)
			wantField("BAD_USER_INPUT", "month", "admin", `mutation { recalibrate(month: "2026-12") { calibration { month } } }`, nil)
			if c.fingerprint() != before {
				t.Fatal("a refused change was written")
			}
			up := c.must(t, "admin", qUpdate, map[string]any{"in": typeInput(map[string]any{"slaDays": 5})["in"], "v": 1})
			if get(up, "updateWarningType", "warningType", "version") != float64(2) || get(up, "updateWarningType", "warningType", "slaDays") != float64(5) {
				t.Errorf("updateWarningType: %v", up)
			}
			cal := c.must(t, "admin", `mutation { recalibrate(month: "2026-11") { calibration { month trigger households startedAt finishedAt } } }`, nil)
			if get(cal, "recalibrate", "calibration", "month") != "2026-11" || get(cal, "recalibrate", "calibration", "trigger") != "DEMAND" ||
				num(get(cal, "recalibrate", "calibration", "households")) != 1 {
				t.Errorf("recalibrate: %v", cal)
			}
			ths := list(get(c.must(t, "caseManager", `{ thresholds(regionPrefix: "500103", typeCode: "INCOME_SUDDEN_DROP") {
				typeCode type { code } districtCode districtName group { code } month scope value raw n windowFrom windowTo method clamped explanation explanationZh } }`, nil), "thresholds"))
			if len(ths) == 0 {
				t.Error("no thresholds after recalibrate")
			}
			for _, th := range ths {
				if get(th, "typeCode") != "INCOME_SUDDEN_DROP" || get(th, "districtCode") != "500103" || !strings.Contains(str(get(th, "explanation")), "%") {
					t.Errorf("threshold %v", th)
				}
			}
			before = c.fingerprint()
		})
		t.Run("transitionWarning", func(t *testing.T) {
			step := func(change map[string]any) map[string]any {
				in := map[string]any{"warningId": w["id"], "action": "ACKNOWLEDGE"}
				for k, v := range change {
					in[k] = v
				}
				return map[string]any{"in": in}
			}
			c.wantCode(t, "UNAUTHENTICATED", "anonymous", qTransition, step(nil))
			for _, who := range []string{"charityA", "donor", "feed"} {
				c.wantCode(t, "FORBIDDEN", who, qTransition, step(nil))
			}
			c.wantCode(t, "NOT_FOUND", "caseManagerB", qTransition, step(nil)) // another region's warning
			wantField("BAD_USER_INPUT", "warningId", "caseManager", qTransition, step(map[string]any{"warningId": cf.household}))
			wantField("BAD_USER_INPUT", "note", "caseManager", qTransition, step(map[string]any{"action": "VISIT"}))
			wantField("BAD_USER_INPUT", "reason", "caseManager", qTransition, step(map[string]any{"action": "DISMISS"}))
			wantField("BAD_USER_INPUT", "outcome", "caseManager", qTransition, step(map[string]any{"action": "RESOLVE"}))
			wantField("BAD_USER_INPUT", "outcome", "caseManager", qTransition, step(map[string]any{"outcome": "REFERRED"}))
			c.wantCode(t, "CONFLICT", "caseManager", qTransition, step(map[string]any{"action": "RESOLVE", "outcome": "REFERRED"})) // not visited
			c.wantCode(t, "CONFLICT", "caseManager", qTransition, step(map[string]any{"version": 9}))
			c.wantCode(t, "BAD_USER_INPUT", "caseManager", qTransition, step(map[string]any{"action": "OPEN_APPLICATION", "categoryCodes": []string{"NOPE"}}))
			if c.fingerprint() != before {
				t.Fatal("a refused step was written")
			}
			dismissed := c.must(t, "caseManager", qTransition, step(map[string]any{"action": "DISMISS", "reason": "已核实：临时停工，下月复工"}))
			if get(dismissed, "transitionWarning", "warning", "state") != "DISMISSED" || get(dismissed, "transitionWarning", "application") != nil {
				t.Errorf("dismiss: %v", dismissed)
			}
			c.wantCode(t, "CONFLICT", "caseManager", qTransition, step(nil)) // closed
		})
	})
}

// rowIDOf is the global ID of a row of typ.
func rowIDOf(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d", typ, id)))
}

// A page of warnings with their types, households, evidence signals and
// histories costs the same statements for 10 warnings as for 40: the
// warning service's loaders read the types, the warnings' visibility, the
// signals and the histories in batches, casework's the households.
func TestSQLStatementsPerWarningPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		counter := &statementCounter{}
		d = &db.DB{DB: d.WithQueryHook(counter), Engine: d.Engine, Where: d.Where}
		// A longer wait than sqlcount_test.go's: this page is deeper (warnings,
		// their households, persons, evidence signals), and a batch split by a
		// busy machine makes the count vary.
		c := &cwClient{hub: newHub(t, d, server.Config{LoaderWait: 50 * time.Millisecond}), ids: &idGen{}}
		seed := func(n int) {
			for range n {
				cf := c.newCase(t, "caseManager", yuzhongVillage, false)
				c.must(t, "admin", qRecordSignals, map[string]any{"in": incomeFall(cf.household)})
				if _, err := c.warn.EvaluateHouseholds(context.Background(), []int64{rowOf(t, cf.household)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		const q = `{ warnings(filter: {types: ["INCOME_SUDDEN_DROP"]}, first: 100) { totalCount edges { node {
			id typeCode state type { code nameZh severity } household { id regionCode persons { id name } } person { id }
			evidence { explanation threshold { value } signals { id kind amountFen household { id } } } history { state at } } } } }`
		measure := func(warnings int) []string {
			c.must(t, "caseManager", q, nil)
			var data map[string]any
			stmts := counter.during(func() { data = c.must(t, "caseManager", q, nil) })
			edges := list(get(data, "warnings", "edges"))
			if len(edges) != warnings {
				t.Fatalf("%d warnings, want %d", len(edges), warnings)
			}
			for _, e := range edges {
				n := get(e, "node")
				if get(n, "type", "code") == nil || len(list(get(n, "household", "persons"))) == 0 || len(list(get(n, "evidence", "signals"))) < 4 ||
					len(list(get(n, "history"))) != 1 {
					t.Fatalf("a warning lacks what it points at: %v", n)
				}
			}
			return stmts
		}
		seed(10)
		small := measure(10)
		seed(30)
		large := measure(40)
		t.Logf("warnings: %d statements for 10, %d for 40", len(small), len(large))
		if len(small) != len(large) {
			t.Errorf("%d statements for 10 warnings but %d for 40; for 40:\n%s", len(small), len(large), summary(large))
		}
	})
}
