package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/server"
)

// fanOut is a query whose n fragments each spread the next one twice: a
// body of a few hundred bytes that expands to 2^n fields.
func fanOut(n int) string {
	var b strings.Builder
	b.WriteString("{ viewer { ...F0 } }")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " fragment F%d on Viewer { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Viewer { role }", n)
	return b.String()
}

// ids returns n global IDs of organizations: 45,000 of them fit a 1 MiB body.
func ids(n int) []any { return repeat(orgID(1), n) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// costlyRequests are the requests that used to cost seconds of CPU (or
// would, with the limit gone), each with the code and field of its refusal.
var costlyRequests = []struct {
	name, query string
	vars        func() map[string]any
	code, field string
}{
	{"45,000 organizationIds", `query($ids: [ID!]) { searchResources(filter: {organizationIds: $ids}) { totalCount } }`,
		func() map[string]any { return map[string]any{"ids": ids(45000)} }, "BAD_USER_INPUT", "filter.organizationIds"},
	{"60,000 statuses", `query($s: [ResourceStatus!]) { resources(filter: {statuses: $s}) { totalCount } }`,
		func() map[string]any { return map[string]any{"s": repeat("PUBLISHED", 60000)} }, "BAD_USER_INPUT", "filter.statuses"},
	{"organizationIds inside a filter variable", `query($f: SearchFilter) { searchResources(filter: $f) { totalCount } }`,
		func() map[string]any { return map[string]any{"f": map[string]any{"organizationIds": ids(101)}} }, "BAD_USER_INPUT", "filter.organizationIds"},
	{"literal list of facets", `{ searchResources(facets: ["category", "group", "district", "organization", "category"]) { totalCount } }`,
		func() map[string]any { return nil }, "BAD_USER_INPUT", "facets"},
	{"fragment fan-out of 2^22", fanOut(22), func() map[string]any { return nil }, "SELECTION_LIMIT_EXCEEDED", ""},
	{"fragment fan-out of 2^64", fanOut(64), func() map[string]any { return nil }, "SELECTION_LIMIT_EXCEEDED", ""},
	// Under the token limit, these took 0.5 s and 9 s to validate.
	{"900 fragments spreading one another", fanOut(900), func() map[string]any { return nil }, "SELECTION_LIMIT_EXCEEDED", ""},
	{"9,000 fields of one name", "{ viewer { " + strings.Repeat("role ", 9000) + "} }", func() map[string]any { return nil }, "SELECTION_LIMIT_EXCEEDED", ""},
	{"300 fields named id in 1 kB", `{ node(id: "x") { ` + strings.Repeat("id ", 300) + "} }", func() map[string]any { return nil }, "SELECTION_LIMIT_EXCEEDED", ""},
	{"2,400 objects of one name", "{ " + strings.Repeat("viewer { role } ", 2400) + "}", func() map[string]any { return nil }, "SELECTION_LIMIT_EXCEEDED", ""},
}

// TestRequestCost sends each request that used to cost seconds and checks
// it is refused, before execution, with a code naming what is too long.
// How long the refusals take is measured by BenchmarkRefusal.
func TestRequestCost(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	for _, c := range costlyRequests {
		for _, caller := range []string{"anonymous", "caseManager"} {
			t.Run(c.name+"/"+caller, func(t *testing.T) {
				resp := h.do(caller, c.query, c.vars())
				if resp.code() != c.code || resp.Data != nil {
					t.Fatalf("code %q, want %q: %.300s", resp.code(), c.code, resp.Raw)
				}
				if got, _ := resp.Errors[0].Extensions["field"].(string); got != c.field {
					t.Fatalf("field %q, want %q: %.300s", got, c.field, resp.Raw)
				}
				if c.field != "" && !strings.HasPrefix(resp.Errors[0].Message, c.field+": ") {
					t.Fatalf("the message does not name %s: %s", c.field, resp.Errors[0].Message)
				}
				t.Log(resp.Errors[0].Message)
			})
		}
	}
	t.Run("a list too long is refused as the transport refuses a variable", func(t *testing.T) {
		body := mustJSON(map[string]any{"query": costlyRequests[0].query, "variables": costlyRequests[0].vars()})
		for accept, status := range map[string]int{"application/json": 200, "application/graphql-response+json": 400} {
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", accept)
			if resp := h.send(req); resp.Status != status || resp.code() != "BAD_USER_INPUT" || !strings.HasPrefix(resp.ContentType, accept) {
				t.Fatalf("%s: %d %s %.200s", accept, resp.Status, resp.ContentType, resp.Raw)
			}
		}
	})
	t.Run("over GET", func(t *testing.T) {
		vars := string(mustJSON(map[string]any{"s": repeat("PUBLISHED", 200)}))
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/graphql?query="+url.QueryEscape(costlyRequests[1].query)+"&variables="+url.QueryEscape(vars), nil)
		if resp := h.send(req); resp.code() != "BAD_USER_INPUT" || resp.Errors[0].Extensions["field"] != "filter.statuses" {
			t.Fatalf("%d %.300s", resp.Status, resp.Raw)
		}
	})
	t.Run("lists within their maxima run", func(t *testing.T) {
		h.must(t, "anonymous", `query($s: [ResourceStatus!]) { resources(filter: {statuses: $s}) { totalCount } }`,
			map[string]any{"s": []any{"PUBLISHED", "PAUSED", "CLOSED", "EXPIRED", "DRAFT"}})
		h.must(t, "anonymous", fanOut(12), nil) // 4,097 fields
		// A document of more than 1 kB with fragments and repeated fields.
		var b strings.Builder
		b.WriteString("{ viewer { ...V role } catalog { groups { ...G } categories { code ...C children { ...C children { ...C } } } } }")
		b.WriteString(" fragment V on Viewer { role regionPrefix organization { name } }")
		b.WriteString(" fragment G on PopulationGroup { code nameZh nameEn tier }")
		b.WriteString(" fragment C on ServiceCategory { code nameZh nameEn items { code nameZh } }")
		for b.Len() < 1100 {
			b.WriteString(" ")
		}
		h.must(t, "anonymous", b.String(), nil)
		h.must(t, "anonymous", b.String(), nil) // remembered
	})
	t.Run("a fan-out just over the limit", func(t *testing.T) {
		if resp := h.do("anonymous", fanOut(13), nil); resp.code() != "SELECTION_LIMIT_EXCEEDED" {
			t.Fatalf("%.300s", resp.Raw)
		}
	})
	t.Run("nested lists are counted where they are", func(t *testing.T) {
		groups := repeat(map[string]any{"groupCode": "DIBAO", "since": "2024-01-01"}, 21)
		in := map[string]any{"regionCode": "500103001001", "members": []any{
			map[string]any{"name": "甲", "residentId": "500103199001011234", "relation": "HEAD"},
			map[string]any{"name": "乙", "residentId": "500103199001011234", "relation": "SPOUSE", "groups": groups},
		}}
		before := h.fingerprint()
		resp := h.do("caseManager", `mutation($in: RegisterHouseholdInput!) { registerHousehold(input: $in) { household { id } } }`, map[string]any{"in": in})
		if resp.code() != "BAD_USER_INPUT" || resp.Errors[0].Extensions["field"] != "input.members[1].groups" {
			t.Fatalf("%.300s", resp.Raw)
		}
		if h.fingerprint() != before {
			t.Fatal("a refused mutation wrote")
		}
	})
	t.Run("a mutation over a maximum writes nothing", func(t *testing.T) {
		coverage := repeat("500103", 51)
		before := h.fingerprint()
		resp := h.do("charityA", `mutation { createResource(input: {title: "助学金", itemCodes: ["SCHOOL_GRANT"], coverage: [`+
			strings.TrimSuffix(strings.Repeat(`"500103", `, len(coverage)), ", ")+`]}) { resource { id } } }`, nil)
		if resp.code() != "BAD_USER_INPUT" || resp.Errors[0].Extensions["field"] != "input.coverage" {
			t.Fatalf("%.300s", resp.Raw)
		}
		if h.fingerprint() != before {
			t.Fatal("a refused mutation wrote")
		}
	})
}

// TestProduction_NoSuggestions sends, in production, a mistake of each kind
// that gqlparser answers with "Did you mean …" and checks the answer names
// nothing of the schema, anonymously and with a token; outside production
// the same mistakes still get their suggestions.
func TestProduction_NoSuggestions(t *testing.T) {
	d := dbtest.SQLite(t)
	prod := newHub(t, d, server.Config{Production: true})
	dev := newHub(t, dbtest.SQLite(t), server.Config{})
	cases := []struct {
		kind, query string
		vars        map[string]any
		leak        string // a name of the schema the suggestion gives away
	}{
		{"field", `{ viewr { role } }`, nil, `"viewer"`},
		{"field on a type", `{ resources { edges { node { titel } } } }`, nil, `"title"`},
		{"field of an interface", `{ node(id: "x") { title } }`, nil, `"Resource"`},
		{"argument", `{ resources(filtr: {}) { totalCount } }`, nil, `"filter"`},
		{"input field", `{ resources(filter: {categoryCod: "X"}) { totalCount } }`, nil, `"categoryCode"`},
		{"enum value", `{ resources(filter: {statuses: [PUBLISHD]}) { totalCount } }`, nil, `PUBLISHED`},
		{"type", `{ resources { edges { node { ...F } } } } fragment F on Resourc { title }`, nil, `"Resource"`},
		{"subfields", `{ viewer }`, nil, `"viewer { ... }"`},
	}
	for _, c := range cases {
		for _, caller := range []string{"anonymous", "charityA"} {
			t.Run(c.kind+"/"+caller, func(t *testing.T) {
				dresp := dev.do(caller, c.query, c.vars)
				if !strings.Contains(dresp.Raw, "Did you mean") {
					t.Fatalf("outside production the mistake gets no suggestion, so the case tests nothing: %s", dresp.Raw)
				}
				resp := prod.do(caller, c.query, c.vars)
				if len(resp.Errors) == 0 || resp.code() == "" {
					t.Fatalf("no coded error: %s", resp.Raw)
				}
				if strings.Contains(resp.Raw, "Did you mean") || strings.Contains(resp.Raw, c.leak) {
					t.Fatalf("production suggests %s: %s", c.leak, resp.Raw)
				}
				t.Log(resp.Errors[0].Message)
			})
		}
	}
}

// TestInvalidUTF8 sends text that is not UTF-8 in the query, in variables,
// escaped as a lone surrogate and over GET, and checks each is refused with
// BAD_USER_INPUT naming the field, and nothing written; before, it was
// stored as U+FFFD.
func TestInvalidUTF8(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHub(t, d, server.Config{})
		post := func(body string) response {
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+h.tokens["charityA"])
			return h.send(req)
		}
		const create = `mutation($in: CreateResourceInput!) { createResource(input: $in) { resource { id title } } }`
		withTitle := func(title string) string {
			return `{"query":"` + create + `","variables":{"in":{"title":"` + title + `","itemCodes":["SCHOOL_GRANT"],"coverage":["500103"]}}}`
		}
		// Bodies are written with \xNN for bytes that are not UTF-8.
		raw := strings.NewReplacer(`\xff`, "\xff", `\xfe`, "\xfe", `\xc3`, "\xc3", `\xe4`, "\xe4", `\xb8`, "\xb8").Replace
		cases := []struct {
			name, body, field string
		}{
			{"in a title literal", `{"query":"mutation { createResource(input: {title: \"棉被\xff\xfe\", itemCodes: [\"SCHOOL_GRANT\"]}) { resource { id } } }"}`, "input.title"},
			{"in a list literal", `{"query":"mutation { createResource(input: {title: \"棉被\", itemCodes: [\"SCHOOL_GRANT\", \"\xc3(\"]}) { resource { id } } }"}`, "input.itemCodes[1]"},
			{"in a variable", withTitle("\xc3\x28"), "$in.title"},
			{"in a list variable", `{"query":"` + create + `","variables":{"in":{"title":"棉被","itemCodes":["SCHOOL_GRANT","\xe4\xb8"]}}}`, "$in.itemCodes[1]"},
			{"an escaped lone surrogate", withTitle(`\ud800`), "$in.title"},
			{"an escaped lone low surrogate", withTitle(`棉被\udc00`), "$in.title"},
			{"in operationName", `{"query":"` + create + `","operationName":"\xff","variables":{"in":{"title":"x"}}}`, "operationName"},
			{"in a comment of the query", "{\"query\":\"# \xff\\n{ viewer { role } }\"}", "query"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := h.fingerprint()
				resp := post(raw(c.body))
				if resp.Status != http.StatusBadRequest || resp.code() != "BAD_USER_INPUT" || resp.Data != nil {
					t.Fatalf("%d %s", resp.Status, resp.Raw)
				}
				if f := resp.Errors[0].Extensions["field"]; f != c.field {
					t.Fatalf("field %v, want %s: %s", f, c.field, resp.Raw)
				}
				if !strings.Contains(resp.Errors[0].Message, "UTF-8") {
					t.Fatalf("message: %s", resp.Raw)
				}
				if h.fingerprint() != before {
					t.Fatal("text that is not UTF-8 was written")
				}
			})
		}
		t.Run("over GET", func(t *testing.T) {
			for q, field := range map[string]string{
				"query=" + url.QueryEscape(`{ resources(filter: {categoryCode: "`) + "%FF" + url.QueryEscape(`"}) { totalCount } }`):                                                                    "filter.categoryCode",
				"query=" + url.QueryEscape(`query($c: String) { resources(filter: {categoryCode: $c}) { totalCount } }`) + "&variables=" + url.QueryEscape(`{"c":"`) + "%C3%28" + url.QueryEscape(`"}`): "$c",
			} {
				req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/graphql?"+q, nil)
				if resp := h.send(req); resp.Status != http.StatusBadRequest || resp.code() != "BAD_USER_INPUT" || resp.Errors[0].Extensions["field"] != field {
					t.Fatalf("%s: %d %s", q, resp.Status, resp.Raw)
				}
			}
		})
		t.Run("text still goes in", func(t *testing.T) {
			// A surrogate pair (😀), U+FFFD sent as itself and Chinese.
			resp := post(withTitle(`棉被\ud83d\ude00\ufffd`))
			if len(resp.Errors) > 0 {
				t.Fatal(resp.Raw)
			}
			if title := get(resp.Data, "createResource", "resource", "title"); title != "棉被😀\uFFFD" {
				t.Fatalf("title %q", title)
			}
		})
	})
}

// BenchmarkRefusal measures what each costly request costs to refuse,
// through the whole handler (JSON decoding, parsing, validation, limits)
// but without the network: each must stay under 10 ms. Every iteration
// starts its query with a new comment, so none is served from the query
// cache.
func BenchmarkRefusal(b *testing.B) {
	handler := server.New(server.Config{}, server.Deps{Log: zerolog.Nop()})
	bodies := map[string][]byte{}
	for _, c := range costlyRequests {
		bodies[c.name] = mustJSON(map[string]any{"query": c.query, "variables": c.vars()})
	}
	bodies["not UTF-8 in a variable"] = []byte(`{"query":"mutation($in: CreateResourceInput!) { createResource(input: $in) { resource { id } } }","variables":{"in":{"title":"棉被\xc3\x28","itemCodes":["SCHOOL_GRANT"]}}}`)
	bodies["control: a small query that runs"] = []byte(`{"query":"{ viewer { role } }"}`)
	names := []string{"control: a small query that runs"}
	for _, c := range costlyRequests {
		names = append(names, c.name)
	}
	names = append(names, "not UTF-8 in a variable")
	for _, name := range names {
		const head = `{"query":"`
		body := bodies[name]
		if !bytes.HasPrefix(body, []byte(head)) {
			b.Fatalf("%s: %.40s", name, body)
		}
		b.Run(strings.NewReplacer(" ", "_", ",", "", ":", "").Replace(name), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			buf := make([]byte, 0, len(body)+32)
			n := 0
			for b.Loop() {
				n++
				buf = append(append(append(buf[:0], head+"#"...), strconv.Itoa(n)+`\n`...), body[len(head):]...)
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(buf))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code == http.StatusInternalServerError {
					b.Fatal(rec.Body.String())
				}
			}
		})
	}
}
