package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/search/searchtest"
	"github.com/aidhub/aidhub/server"
)

const (
	jsonType     = "application/json"
	responseType = "application/graphql-response+json"
)

// raw sends one HTTP request to the hub with the headers given as pairs.
func (h *hub) raw(method, target, body string, header ...string) response {
	h.t.Helper()
	var req *http.Request
	if body == "" {
		req, _ = http.NewRequest(method, h.srv.URL+target, nil)
	} else {
		req, _ = http.NewRequest(method, h.srv.URL+target, strings.NewReader(body))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return h.send(req)
}

// TestGraphQLOverHTTP checks the transport against the GraphQL-over-HTTP
// specification: the media type follows Accept, requests that are not
// GraphQL requests are 4xx with a code and no data, requests GraphQL
// refuses before execution follow one rule (200 with application/json, 400
// with application/graphql-response+json, never a data entry), and GET
// runs queries only. scripts/http-audit runs graphql-http's audit too.
func TestGraphQLOverHTTP(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	post := func(body, accept string) response {
		t.Helper()
		if accept == "" {
			return h.raw(http.MethodPost, "/graphql", body, "Content-Type", jsonType)
		}
		return h.raw(http.MethodPost, "/graphql", body, "Content-Type", jsonType, "Accept", accept)
	}
	noData := func(t *testing.T, r response) {
		t.Helper()
		if strings.Contains(r.Raw, `"data"`) {
			t.Fatalf("a refused request has a data entry: %s", r.Raw)
		}
	}

	t.Run("the media type follows Accept", func(t *testing.T) {
		for accept, want := range map[string]string{
			"":                                  jsonType,
			"*/*":                               jsonType,
			"application/*":                     jsonType,
			"application/json":                  jsonType,
			"application/graphql-response+json": responseType,
			"application/graphql-response+json, application/json;q=0.9": responseType,
			"application/json, application/graphql-response+json":       jsonType,
			"application/json;q=0.5, application/graphql-response+json": responseType,
			"text/html, */*;q=0.8": jsonType,
			"application/graphql-response+json;q=0, application/json": jsonType,
		} {
			r := post(`{"query":"{ __typename }"}`, accept)
			if r.Status != 200 || !strings.HasPrefix(r.ContentType, want) || get(r.Data, "__typename") != "Query" {
				t.Errorf("Accept %q: %d %s %s, want %s", accept, r.Status, r.ContentType, r.Raw, want)
			}
		}
		for _, accept := range []string{"text/html", "application/xml, text/plain", "application/graphql-response+json;q=0"} {
			r := post(`{"query":"{ __typename }"}`, accept)
			if r.Status != http.StatusNotAcceptable || r.code() != "NOT_ACCEPTABLE" || !strings.HasPrefix(r.ContentType, jsonType) {
				t.Errorf("Accept %q: %d %s %s", accept, r.Status, r.ContentType, r.Raw)
			}
			noData(t, r)
		}
	})

	// Every refusal before execution, under both media types.
	var aliases strings.Builder
	for i := 0; i < 31; i++ {
		fmt.Fprintf(&aliases, " a%d: __typename", i)
	}
	refusals := []struct{ name, body, code string }{
		{"parse", `{"query":"{ viewer { role "}`, "GRAPHQL_PARSE_FAILED"},
		{"validation", `{"query":"{ secrets }"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"variable coercion", `{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":null}}`, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown operation", `{"query":"query A { __typename }","operationName":"B"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"complexity", fmt.Sprintf(`{"query":%q}`, "{ organizations(first: 100) { edges { node { resources(first: 100) { edges { node { title items { code } } } } } } } }"), "COMPLEXITY_LIMIT_EXCEEDED"},
		{"depth", fmt.Sprintf(`{"query":%q}`, "{ catalog { categories { children { children { children { children { children { children { children { children { children { children { code } } } } } } } } } } } } }"), "DEPTH_LIMIT_EXCEEDED"},
		{"aliases", fmt.Sprintf(`{"query":%q}`, "{"+aliases.String()+" }"), "ALIAS_LIMIT_EXCEEDED"},
		{"page range", `{"query":"{ resources(first: 100000) { totalCount } }"}`, "BAD_USER_INPUT"},
		{"tokens", fmt.Sprintf(`{"query":%q}`, "{ viewer { role "+strings.Repeat("__typename ", 12000)+"} }"), ""},
	}
	for _, c := range refusals {
		t.Run("refused before execution/"+c.name, func(t *testing.T) {
			for accept, status := range map[string]int{"": 200, jsonType: 200, responseType: 400} {
				r := post(c.body, accept)
				if r.Status != status || len(r.Errors) == 0 || (c.code != "" && r.code() != c.code) || r.code() == "" {
					t.Fatalf("Accept %q: %d %s, want %d %s", accept, r.Status, r.Raw[:min(len(r.Raw), 300)], status, c.code)
				}
				noData(t, r)
			}
		})
	}
	t.Run("executed requests are 200 with data, field errors or not", func(t *testing.T) {
		for _, accept := range []string{jsonType, responseType} {
			r := post(`{"query":"mutation { createOrganization(input: {name: \"x\", kind: CHARITY, divisionCode: \"500103\"}) { organization { id } } }"}`, accept)
			if r.Status != 200 || r.code() != "UNAUTHENTICATED" || !strings.Contains(r.Raw, `"data":{"createOrganization":null}`) {
				t.Fatalf("%s: %d %s", accept, r.Status, r.Raw)
			}
		}
	})
	t.Run("an unknown persisted query is 200: the APQ handshake", func(t *testing.T) {
		body := `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("ab", 32) + `"}}}`
		for _, accept := range []string{jsonType, responseType} {
			if r := post(body, accept); r.Status != 200 || r.code() != "PERSISTED_QUERY_NOT_FOUND" {
				t.Fatalf("%s: %d %s", accept, r.Status, r.Raw)
			}
		}
	})

	// Requests that are not GraphQL requests: 4xx and a code, whatever
	// the media type, with a message of ours (no Go type, no echo).
	const marker = "SENT-BODY-MARKER"
	notRequests := []struct {
		name, method, contentType, body string
		status                          int
		code, allow                     string
	}{
		{"PUT", http.MethodPut, jsonType, `{"query":"{ __typename }"}`, 405, "METHOD_NOT_ALLOWED", "GET, POST, OPTIONS"},
		{"DELETE", http.MethodDelete, "", "", 405, "METHOD_NOT_ALLOWED", "GET, POST, OPTIONS"},
		{"PATCH", http.MethodPatch, jsonType, `{"query":"{ __typename }"}`, 405, "METHOD_NOT_ALLOWED", "GET, POST, OPTIONS"},
		{"text/plain", http.MethodPost, "text/plain", `{"query":"{ __typename }"}`, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"no Content-Type", http.MethodPost, "", `{"query":"{ __typename }"}`, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"form", http.MethodPost, "application/x-www-form-urlencoded", `query=%7B__typename%7D`, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"not UTF-8 charset", http.MethodPost, "application/json; charset=latin1", `{"query":"{ __typename }"}`, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"empty body", http.MethodPost, jsonType, "", 400, "BAD_USER_INPUT", ""},
		{"not JSON", http.MethodPost, jsonType, `{ "not a JSON ` + marker, 400, "BAD_USER_INPUT", ""},
		{"truncated JSON", http.MethodPost, jsonType, `{"query":"{ __typename }","variables":{"` + marker, 400, "BAD_USER_INPUT", ""},
		{"an array", http.MethodPost, jsonType, `["` + marker + `"]`, 400, "BAD_USER_INPUT", ""},
		{"null", http.MethodPost, jsonType, `null`, 400, "BAD_USER_INPUT", ""},
		{"two JSON values", http.MethodPost, jsonType, `{"query":"{ __typename }"} {"query":"` + marker + `"}`, 400, "BAD_USER_INPUT", ""},
		{"no query", http.MethodPost, jsonType, `{"qeury":"{ __typename }"}`, 400, "BAD_USER_INPUT", ""},
		{"query a number", http.MethodPost, jsonType, `{"query":5}`, 400, "BAD_USER_INPUT", ""},
		{"query an object", http.MethodPost, jsonType, `{"query":{"q":"` + marker + `"}}`, 400, "BAD_USER_INPUT", ""},
		{"operationName a list", http.MethodPost, jsonType, `{"query":"{ __typename }","operationName":["` + marker + `"]}`, 400, "BAD_USER_INPUT", ""},
		{"variables a string", http.MethodPost, jsonType, `{"query":"{ __typename }","variables":"` + marker + `"}`, 400, "BAD_USER_INPUT", ""},
		{"extensions a list", http.MethodPost, jsonType, `{"query":"{ __typename }","extensions":[0]}`, 400, "BAD_USER_INPUT", ""},
		{"GET without a query", http.MethodGet, "", "", 400, "BAD_USER_INPUT", ""},
	}
	for _, c := range notRequests {
		t.Run("not a GraphQL request/"+c.name, func(t *testing.T) {
			for _, accept := range []string{jsonType, responseType} {
				header := []string{"Accept", accept}
				if c.contentType != "" {
					header = append(header, "Content-Type", c.contentType)
				}
				r := h.raw(c.method, "/graphql", c.body, header...)
				if r.Status != c.status || r.code() != c.code || len(r.Errors) != 1 || r.Errors[0].Message == "" {
					t.Fatalf("%s: %d %s, want %d %s", accept, r.Status, r.Raw, c.status, c.code)
				}
				if c.allow != "" && r.Header.Get("Allow") != c.allow {
					t.Fatalf("Allow %q, want %q", r.Header.Get("Allow"), c.allow)
				}
				noData(t, r)
				for _, leak := range []string{marker, "RawParams", "Go struct", "Go value", "unmarshal", "json:", "transport not supported"} {
					if strings.Contains(r.Raw, leak) {
						t.Fatalf("the error shows %q: %s", leak, r.Raw)
					}
				}
			}
		})
	}
	t.Run("GET with variables that are not a JSON object", func(t *testing.T) {
		for _, v := range []string{"x", "[1]", `"s"`, "{"} {
			r := h.raw(http.MethodGet, "/graphql?query="+url.QueryEscape("{ __typename }")+"&variables="+url.QueryEscape(v), "")
			if r.Status != 400 || r.code() != "BAD_USER_INPUT" {
				t.Fatalf("%q: %d %s", v, r.Status, r.Raw)
			}
		}
	})
	t.Run("GET query with variables", func(t *testing.T) {
		q := "query=" + url.QueryEscape("query($n: Int) { resources(first: $n) { totalCount } }") + "&variables=" + url.QueryEscape(`{"n":5}`)
		if r := h.raw(http.MethodGet, "/graphql?"+q, "", "Accept", responseType); r.Status != 200 || len(r.Errors) > 0 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("GET mutation is 405 with Allow: POST under either media type", func(t *testing.T) {
		q := url.QueryEscape(`mutation { createOrganization(input: {name: "经由GET", kind: CHARITY, divisionCode: "500103"}) { organization { id } } }`)
		before := h.fingerprint()
		for _, accept := range []string{"", jsonType, responseType} {
			r := h.raw(http.MethodGet, "/graphql?query="+q, "", "Accept", accept, "Authorization", "Bearer "+h.tokens["admin"])
			if r.Status != 405 || r.Header.Get("Allow") != "POST" || r.code() != "METHOD_NOT_ALLOWED" {
				t.Fatalf("%q: %d %v %s", accept, r.Status, r.Header, r.Raw)
			}
			noData(t, r)
		}
		if h.fingerprint() != before {
			t.Fatal("a mutation over GET wrote")
		}
	})
	t.Run("HEAD and OPTIONS", func(t *testing.T) {
		if r := h.raw(http.MethodHead, "/graphql", ""); r.Status != 405 || r.Header.Get("Allow") != "GET, POST, OPTIONS" {
			t.Fatalf("HEAD: %d %v", r.Status, r.Header)
		}
		if r := h.raw(http.MethodOptions, "/graphql", ""); r.Status != 204 || r.Header.Get("Allow") != "GET, POST, OPTIONS" {
			t.Fatalf("OPTIONS: %d %v", r.Status, r.Header)
		}
	})
	t.Run("a subscription over HTTP is refused at once", func(t *testing.T) {
		r := h.raw(http.MethodPost, "/graphql", `{"query":"subscription { matchSuggested { score } }"}`,
			"Content-Type", jsonType, "Authorization", "Bearer "+h.tokens["caseManager"])
		if r.Status != 400 || r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "websocket") {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("variable errors name the variable, not Go kinds", func(t *testing.T) {
		const q = `query($n: Int = 5, $f: ResourceFilter, $id: ID = "x") { resources(first: $n, filter: $f) { totalCount } node(id: $id) { id } }`
		for vars, want := range map[string]string{
			`{"n":true}`:                "variable $n: must be an Int",
			`{"n":{"a":1}}`:             "variable $n: must be an Int",
			`{"n":[1]}`:                 "variable $n: must be an Int",
			`{"n":1.5}`:                 "variable $n: must be an Int",
			`{"n":"x"}`:                 "variable $n: must be an Int",
			`{"f":[1]}`:                 "variable $f: must be a ResourceFilter",
			`{"f":"x"}`:                 "variable $f: must be a ResourceFilter",
			`{"f":{"statuses":[true]}}`: "variable $f.statuses[0]: ",
			`{"f":{"nope":1}}`:          "variable $f.nope: unknown field",
			`{"id":true}`:               "variable $id: must be an ID",
		} {
			r := post(`{"query":`+fmt.Sprintf("%q", q)+`,"variables":`+vars+`}`, "")
			if r.Status != 200 || r.code() != "GRAPHQL_VALIDATION_FAILED" || !strings.HasPrefix(r.Errors[0].Message, want) {
				t.Fatalf("%s: %d %s, want %q", vars, r.Status, r.Raw, want)
			}
			for _, gokind := range []string{"bool", "map", "slice", "float64", "int64", "UseNumber", "value 0"} {
				if strings.Contains(r.Errors[0].Message, gokind) {
					t.Fatalf("%s: the message names %q: %s", vars, gokind, r.Raw)
				}
			}
		}
	})
	t.Run("authentication errors follow Accept", func(t *testing.T) {
		for accept, want := range map[string]string{"": jsonType, "*/*": jsonType, responseType: responseType} {
			r := h.raw(http.MethodPost, "/graphql", `{"query":"{ __typename }"}`, "Content-Type", jsonType, "Accept", accept, "Authorization", "Bearer aht_forged")
			if r.Status != 401 || r.code() != "UNAUTHENTICATED" || !strings.HasPrefix(r.ContentType, want) {
				t.Fatalf("%q: %d %s %s", accept, r.Status, r.ContentType, r.Raw)
			}
		}
	})
	t.Run("transport codes reach the request log", func(t *testing.T) {
		h.raw(http.MethodPut, "/graphql", "", "X-Request-ID", "transport-code-0001")
		for _, l := range strings.Split(h.logs.String(), "\n") {
			if strings.Contains(l, "transport-code-0001") && strings.Contains(l, `"message":"request"`) {
				if !strings.Contains(l, "METHOD_NOT_ALLOWED") {
					t.Fatalf("request line without the code: %s", l)
				}
				return
			}
		}
		t.Fatalf("no request line:\n%s", h.logs.String())
	})
}

// TestErrorCodes checks that errors name what is wrong the way every
// BAD_USER_INPUT does: a `first` out of range is the range error before
// any complexity, a scalar refusing its value names the input path, and
// an eligibility rule that does not compile says where in one sentence.
func TestErrorCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Wired as a process is: the catalog checks rules with the engine.
		h := newHubWithIndex(t, d, server.Config{}, searchtest.Bleve(t))
		wantInput := func(t *testing.T, r response, field, message string) {
			t.Helper()
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != field || r.Errors[0].Message != message {
				t.Fatalf("want BAD_USER_INPUT %s %q: %s", field, message, r.Raw)
			}
		}

		t.Run("page ranges are checked before complexity", func(t *testing.T) {
			for q, want := range map[string]string{
				`{ resources(first: 100000) { totalCount } }`:                                                             "first: must be 1 to 100, got 100000",
				`{ resources(first: -1) { totalCount } }`:                                                                 "first: must be 1 to 100, got -1",
				`{ resources(first: 0) { totalCount } }`:                                                                  "first: must be 1 to 100, got 0",
				`{ organizations { edges { node { resources(first: 100000) { edges { node { title } } } } } } }`:          "first: must be 1 to 100, got 100000",
				`{ ...F } fragment F on Query { searchResources(first: 2147483647) { totalCount } }`:                      "first: must be 1 to 100, got 2147483647",
				`{ organizations(first: 100) { edges { node { resources(first: 101) { edges { node { title } } } } } } }`: "first: must be 1 to 100, got 101",
			} {
				wantInput(t, h.do("anonymous", q, nil), "first", want)
			}
			r := h.do("anonymous", `query($n: Int) { resources(first: $n) { totalCount } }`, map[string]any{"n": 100000})
			wantInput(t, r, "first", "first: must be 1 to 100, got 100000")
			if fmt.Sprint(r.Errors[0].Path) != "[resources]" {
				t.Fatalf("path: %s", r.Raw)
			}
			wantInput(t, h.do("caseManager", `{ matches(needId: "TmVlZDox", first: 1000) { need { id } } }`, nil), "first", "first: must be 1 to 100, got 1000")
			// In range, the complexity limit still holds.
			if r := h.do("anonymous", `{ organizations(first: 100) { edges { node { resources(first: 100) { edges { node { title items { code } } } } } } } }`, nil); r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
				t.Fatal(r.Raw)
			}
		})

		t.Run("scalar errors name the input path", func(t *testing.T) {
			const create = `mutation($in: CreateResourceInput!) { createResource(input: $in) { resource { id } } }`
			res := func(k string, v any) map[string]any {
				in := map[string]any{"title": "助学金", "itemCodes": []string{"SCHOOL_GRANT"}, "coverage": []string{"500103"}, "capacityUnits": 5}
				in[k] = v
				return map[string]any{"in": in}
			}
			before := h.fingerprint()
			for _, c := range []struct {
				query         string
				vars          map[string]any
				field, prefix string
			}{
				{create, res("coverage", []string{"500103", "5001"}), "input.coverage[1]", `input.coverage[1]: "5001" is not a division code`},
				{create, res("validUntil", "2027-13-45"), "input.validUntil", `input.validUntil: "2027-13-45" is not a date`},
				{create, res("capacityBudgetFen", true), "input.capacityBudgetFen", `input.capacityBudgetFen: a Fen amount is a whole number of fen, got a boolean`},
				{create, res("divisionCode", 500103), "input.divisionCode", `input.divisionCode: a DivisionCode is a string`},
				{`mutation { createResource(input: {title: "助学金", itemCodes: ["SCHOOL_GRANT"], coverage: ["5001"], capacityUnits: 5}) { resource { id } } }`, nil,
					"input.coverage[0]", `input.coverage[0]: "5001" is not a division code`},
				{`mutation { createResource(input: {title: "助学金", itemCodes: ["SCHOOL_GRANT"], coverage: ["500103"], validFrom: "2027-13-45"}) { resource { id } } }`, nil,
					"input.validFrom", `input.validFrom: "2027-13-45" is not a date`},
				{`{ resources(filter: {coversRegion: "5001"}) { totalCount } }`, nil, "filter.coversRegion", `filter.coversRegion: "5001" is not a division code`},
			} {
				r := h.do("charityA", c.query, c.vars)
				if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field || !strings.HasPrefix(r.Errors[0].Message, c.prefix) {
					t.Fatalf("want %s %q…: %s", c.field, c.prefix, r.Raw)
				}
				if strings.Contains(r.Errors[0].Message, "%!") {
					t.Fatalf("bad format: %s", r.Raw)
				}
			}
			if h.fingerprint() != before {
				t.Fatal("a refused mutation wrote")
			}
		})

		t.Run("eligibilityRule errors are one sentence with a line and column", func(t *testing.T) {
			const create = `mutation($r: String) { createResource(input: {title: "助学金", itemCodes: ["SCHOOL_GRANT"], coverage: ["500103"], capacityUnits: 5, eligibilityRule: $r}) { resource { id } } }`
			before := h.fingerprint()
			for rule, want := range map[string]struct {
				message      string
				line, column float64
			}{
				"age >= 60 &&\n  \"DIBAO\" in grups": {`eligibilityRule: rule does not compile: unknown name grups (line 2, column 14)`, 2, 14},
				`age >= && "DIBAO" in groups`:        {`eligibilityRule: rule does not compile: unexpected token Operator("&&") (line 1, column 8)`, 1, 8},
				"agee >= 60":                         {`eligibilityRule: rule does not compile: unknown name agee (line 1, column 1)`, 1, 1},
				"age + 1":                            {`eligibilityRule: rule does not compile: expected bool, but got int`, 0, 0},
			} {
				r := h.do("charityA", create, map[string]any{"r": rule})
				wantInput(t, r, "eligibilityRule", want.message)
				ext := r.Errors[0].Extensions
				if line, _ := ext["line"].(float64); line != want.line {
					t.Fatalf("%q: line %v, want %v: %s", rule, ext["line"], want.line, r.Raw)
				}
				if col, _ := ext["column"].(float64); col != want.column {
					t.Fatalf("%q: column %v, want %v: %s", rule, ext["column"], want.column, r.Raw)
				}
			}
			if h.fingerprint() != before {
				t.Fatal("a refused rule was written")
			}
		})
	})
}
