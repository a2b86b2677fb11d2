package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/search/searchtest"
	"github.com/aidhub/aidhub/server"
)

// mResidentID is a valid GB 11643 number.
func mResidentID(region, birth string, seq int) string {
	s := fmt.Sprintf("%s%s%03d", region, birth, seq)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range w {
		sum += int(s[i]-'0') * w[i]
	}
	return s + string("10X98765432"[sum%11])
}

// subscription is one graphql-transport-ws subscription.
type subscription struct {
	t    *testing.T
	conn *websocket.Conn
	ctx  context.Context
}

func (h *hub) subscribe(t *testing.T, caller, query string) *subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	s := &subscription{t: t, conn: conn, ctx: ctx}
	s.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + h.tokens[caller]}})
	if m := s.read(); m["type"] != "connection_ack" {
		t.Fatalf("init: %v", m)
	}
	s.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	return s
}

func (s *subscription) send(v any) {
	b, _ := json.Marshal(v)
	if err := s.conn.Write(s.ctx, websocket.MessageText, b); err != nil {
		s.t.Fatal(err)
	}
}

// read returns the next message that is not a keep-alive.
func (s *subscription) read() map[string]any {
	for {
		_, b, err := s.conn.Read(s.ctx)
		if err != nil {
			s.t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if m["type"] != "ping" && m["type"] != "pong" && m["type"] != "ka" {
			return m
		}
	}
}

func TestMatchingGraphQL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHubWithIndex(t, d, server.Config{}, searchtest.Bleve(t))
		must := func(caller, q string, vars map[string]any) map[string]any {
			t.Helper()
			return h.must(t, caller, q, vars)
		}
		wantCode := func(code, caller, q string, vars map[string]any) {
			t.Helper()
			if r := h.do(caller, q, vars); r.code() != code {
				t.Errorf("%s: want %s, got %s", caller, code, r.Raw)
			}
		}
		publish := func(title, extra string) string {
			t.Helper()
			data := must("charityA", `mutation { createResource(input: {title: "`+title+`", itemCodes: ["INPATIENT_AID"], coverage: ["500103"], capacityUnits: 5`+extra+`}) { resource { id } } }`, nil)
			id := get(data, "createResource", "resource", "id").(string)
			must("charityA", `mutation($id: ID!) { publishResource(input: {id: $id}) { resource { status } } }`, map[string]any{"id": id})
			return id
		}
		medical := publish("大病医疗救助", "")
		elderly := publish("老年人住院补助", ", ageMin: 60")
		if r := h.do("charityA", `mutation { createResource(input: {title: "x", itemCodes: ["INPATIENT_AID"], coverage: ["500103"], capacityUnits: 1, eligibilityRule: "age >= "}) { resource { id } } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Errorf("a rule that does not compile: %s", r.Raw)
		}

		household := must("caseManager", `mutation($in: RegisterHouseholdInput!) { registerHousehold(input: $in) { household { id persons { id } } } }`, map[string]any{"in": map[string]any{
			"regionCode": "500103001003", "monthlyIncomeFen": 60000,
			"members": []any{map[string]any{"name": "陈明", "residentId": mResidentID("500103", "19800101", 1), "relation": "HEAD", "groups": []any{map[string]any{"groupCode": "DIBAO", "since": "2024-01-01"}}}},
		}})
		hid := get(household, "registerHousehold", "household", "id").(string)
		pid := get(household, "registerHousehold", "household", "persons").([]any)[0].(map[string]any)["id"].(string)
		must("caseManager", `mutation($h: ID!, $p: ID!) { recordConsent(input: {householdId: $h, grantedByPersonId: $p, purposes: [SHARE_WITH_CHARITIES], method: ELECTRONIC}) { consent { id } } }`, map[string]any{"h": hid, "p": pid})
		assessed := must("caseManager", `mutation($h: ID!, $p: ID!) { createAssessment(input: {householdId: $h, assessedOn: "2026-10-01", needs: [{personId: $p, categoryCode: "MEDICAL_INPATIENT", severity: 4}]}) { assessment { id needs { id } } } }`, map[string]any{"h": hid, "p": pid})
		needID := get(assessed, "createAssessment", "assessment", "needs").([]any)[0].(map[string]any)["id"].(string)
		assessmentID := get(assessed, "createAssessment", "assessment", "id").(string)
		vars := map[string]any{"n": needID, "r": medical, "a": assessmentID}

		t.Run("matches with explanations", func(t *testing.T) {
			for _, q := range []string{
				`query($n: ID) { matches(needId: $n) { need { id } matches { resource { id } score factors { factor value weight contribution } } } }`,
				`query($a: ID) { matches(assessmentId: $a) { need { id } matches { resource { id } score factors { factor value weight contribution } } } }`,
			} {
				data := must("caseManager", q, vars)
				nm := get(data, "matches").([]any)
				if len(nm) != 1 {
					t.Fatalf("%s", data)
				}
				ms := nm[0].(map[string]any)["matches"].([]any)
				if len(ms) != 1 || get(ms[0], "resource", "id") != medical {
					t.Fatalf("matches %v; want only %s", ms, medical)
				}
				sum := 0.0
				for _, f := range get(ms[0], "factors").([]any) {
					sum += f.(map[string]any)["contribution"].(float64)
				}
				// Each figure is rounded on its own: within 0.01 a factor.
				if n := len(get(ms[0], "factors").([]any)); math.Abs(sum-get(ms[0], "score").(float64)) > 0.01*float64(n)+1e-9 {
					t.Errorf("contributions %v ≠ score %v", sum, get(ms[0], "score"))
				}
			}
		})

		t.Run("why not", func(t *testing.T) {
			data := must("caseManager", `query($n: ID!, $r: ID!) { whyNotMatched(needId: $n, resourceId: $r) { matched failures { filter reason } } }`, map[string]any{"n": needID, "r": elderly})
			fs := get(data, "whyNotMatched", "failures").([]any)
			if get(data, "whyNotMatched", "matched") != false || len(fs) != 1 || get(fs[0], "filter") != "age" {
				t.Errorf("%v", data)
			}
		})

		t.Run("scores are shown to 2 decimals", func(t *testing.T) {
			factors := `factors { factor value weight maxPoints contribution }`
			shown := 0
			for _, c := range []struct{ caller, query string }{
				{"caseManager", `query($n: ID) { matches(needId: $n) { matches { score ` + factors + ` } } }`},
				{"caseManager", `query($n: ID!, $r: ID!) { whyNotMatched(needId: $n, resourceId: $r) { match { score ` + factors + ` } } }`},
				{"caseManager", `{ unmetNeeds { edges { node { bestMatch { score ` + factors + ` } } } } }`},
				{"charityA", `query($r: ID!) { matchesForResource(resourceId: $r) { score ` + factors + ` } }`},
			} {
				shown += checkTwoDecimals(t, must(c.caller, c.query, vars))
			}
			// 4 answers, each a score and 7 factors of 4 figures.
			if shown < 4*(1+7*4) {
				t.Errorf("%d figures checked; want every score and factor of 4 answers", shown)
			}
		})

		t.Run("a charity sees its resource's matches without names", func(t *testing.T) {
			r := h.do("charityA", `query($r: ID!) { matchesForResource(resourceId: $r) { category { code } severity waitingDays regionCode regionName ageBand score factors { factor } } }`, vars)
			if len(r.Errors) > 0 || len(get(r.Data, "matchesForResource").([]any)) != 1 {
				t.Fatalf("%s", r.Raw)
			}
			if strings.Contains(string(r.Raw), "陈明") || strings.Contains(string(r.Raw), mResidentID("500103", "19800101", 1)[6:14]) {
				t.Errorf("the charity's view names the person: %s", r.Raw)
			}
			if got := get(r.Data, "matchesForResource").([]any)[0]; get(got, "waitingDays") != float64(58) || get(got, "ageBand") != "40–49" || get(got, "regionCode") != "500103001" {
				t.Errorf("%v", got)
			}
			wantCode("FORBIDDEN", "charityB", `query($r: ID!) { matchesForResource(resourceId: $r) { score } }`, vars)
			wantCode("FORBIDDEN", "caseManager", `query($r: ID!) { matchesForResource(resourceId: $r) { score } }`, vars)
			wantCode("UNAUTHENTICATED", "anonymous", `query($r: ID!) { matchesForResource(resourceId: $r) { score } }`, vars)
		})

		t.Run("who may ask and bad input", func(t *testing.T) {
			q := `query($n: ID) { matches(needId: $n) { need { id } } }`
			wantCode("NOT_FOUND", "caseManagerB", q, vars)
			wantCode("FORBIDDEN", "charityA", q, vars)
			wantCode("FORBIDDEN", "donor", q, vars)
			wantCode("UNAUTHENTICATED", "anonymous", q, vars)
			wantCode("BAD_USER_INPUT", "caseManager", `query($n: ID) { matches(needId: $n, first: 101) { need { id } } }`, vars)
			wantCode("BAD_USER_INPUT", "caseManager", `{ matches(needId: "bm9wZQ") { need { id } } }`, nil)
			wantCode("BAD_USER_INPUT", "caseManager", `query($r: ID) { matches(needId: $r) { need { id } } }`, vars)
			wantCode("NOT_FOUND", "caseManagerB", `query($n: ID!, $r: ID!) { whyNotMatched(needId: $n, resourceId: $r) { matched } }`, vars)
			wantCode("BAD_USER_INPUT", "caseManager", `{ unmetNeeds(filter: {minWaitingDays: -1}) { totalCount } }`, nil)
			wantCode("FORBIDDEN", "donor", `{ watchlistCounts { total } }`, nil)
		})

		t.Run("watchlist", func(t *testing.T) {
			data := must("caseManager", `{ unmetNeeds { totalCount edges { node { need { id } waitingDays colour bestMatch { resource { id } } } } } }`, nil)
			edges := get(data, "unmetNeeds", "edges").([]any)
			if len(edges) != 1 || get(edges[0], "node", "colour") != "YELLOW" && get(edges[0], "node", "colour") != "ORANGE" {
				t.Fatalf("%v", data)
			}
			if get(edges[0], "node", "colour") != "ORANGE" || get(edges[0], "node", "bestMatch", "resource", "id") != medical {
				t.Errorf("58 days is ORANGE with a best match: %v", edges[0])
			}
			data = must("caseManager", `{ watchlistCounts { districtCode districtName orange total } }`, nil)
			counts := get(data, "watchlistCounts").([]any)
			if len(counts) != 1 || get(counts[0], "districtCode") != "500103" || get(counts[0], "orange") != float64(1) {
				t.Errorf("%v", counts)
			}
			if data := must("caseManagerB", `{ unmetNeeds { totalCount } }`, nil); get(data, "unmetNeeds", "totalCount") != float64(0) {
				t.Errorf("another region's case manager sees %v", data)
			}
		})

		t.Run("publishing re-matches and tells case managers in scope", func(t *testing.T) {
			sub := h.subscribe(t, "caseManager", `subscription { matchSuggested(regionPrefix: "500103") { need { id } resource { id title } score reason } }`)
			denied := h.subscribe(t, "caseManagerB", `subscription { matchSuggested(regionPrefix: "500103") { score } }`)
			if m := denied.read(); m["type"] != "error" && !strings.Contains(fmt.Sprint(m), "FORBIDDEN") {
				t.Errorf("a case manager subscribed outside its region: %v", m)
			}
			time.Sleep(200 * time.Millisecond) // let the subscription register before the change
			fresh := publish("住院押金援助", "")
			for {
				m := sub.read()
				if m["type"] != "next" {
					t.Fatalf("subscription: %v", m)
				}
				if get(m, "payload", "data", "matchSuggested", "resource", "id") == fresh {
					if get(m, "payload", "data", "matchSuggested", "need", "id") != needID || get(m, "payload", "data", "matchSuggested", "reason") != "RESOURCE_CHANGED" {
						t.Errorf("%v", m)
					}
					if checkTwoDecimals(t, m) != 1 {
						t.Errorf("no score in %v", m)
					}
					break
				}
			}
		})

		t.Run("refer a match", func(t *testing.T) {
			q := `mutation($n: ID!, $r: ID!) { referMatch(input: {needId: $n, resourceId: $r}) { referral { id status need { id } } } }`
			if r := h.do("caseManager", q, map[string]any{"n": needID, "r": elderly}); r.code() != "CONFLICT" || !strings.Contains(string(r.Raw), "age") {
				t.Errorf("referring a resource that does not match: %s", r.Raw)
			}
			wantCode("FORBIDDEN", "charityA", q, vars)
			wantCode("NOT_FOUND", "caseManagerB", q, vars)
			data := must("caseManager", q, vars)
			if get(data, "referMatch", "referral", "status") != "PENDING" || get(data, "referMatch", "referral", "need", "id") != needID {
				t.Errorf("%v", data)
			}
			if data := must("caseManager", `{ unmetNeeds { totalCount } }`, nil); get(data, "unmetNeeds", "totalCount") != float64(0) {
				t.Errorf("a referred need stays on the watchlist: %v", data)
			}
		})
	})
}

// checkTwoDecimals fails t for every score or factor figure in v (a decoded
// response) written with more than 2 decimals, as JSON writes it; it
// returns how many it checked.
func checkTwoDecimals(t *testing.T, v any) int {
	t.Helper()
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			switch k {
			case "score", "value", "weight", "maxPoints", "contribution":
				if f, ok := x.(float64); ok {
					n++
					text, _ := json.Marshal(f)
					if _, decimals, _ := strings.Cut(string(text), "."); len(decimals) > 2 {
						t.Errorf("%s is %s: more than 2 decimals", k, text)
					}
					continue
				}
			}
			n += checkTwoDecimals(t, x)
		}
	case []any:
		for _, x := range v {
			n += checkTwoDecimals(t, x)
		}
	}
	return n
}
