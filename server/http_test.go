package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/server"
)

// TestContract checks through introspection that the public names of the
// API are there: clients are written against them.
func TestContract(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	resp := h.do("anonymous", `{ __schema {
		queryType { fields { name } }
		mutationType { fields { name } }
		types { name kind }
	} }`, nil)
	if len(resp.Errors) > 0 {
		t.Fatal(resp.Raw)
	}
	names := func(path ...string) []string {
		var out []string
		for _, f := range get(resp.Data, path...).([]any) {
			out = append(out, f.(map[string]any)["name"].(string))
		}
		return out
	}
	queries, mutations := names("__schema", "queryType", "fields"), names("__schema", "mutationType", "fields")
	for _, q := range []string{"catalog", "resources", "resource", "organizations", "node", "viewer"} {
		if !slices.Contains(queries, q) {
			t.Errorf("Query.%s missing", q)
		}
	}
	for _, m := range []string{"createOrganization", "createResource", "updateResource", "publishResource", "pauseResource", "closeResource"} {
		if !slices.Contains(mutations, m) {
			t.Errorf("Mutation.%s missing", m)
		}
	}
	types := map[string]string{}
	for _, ty := range get(resp.Data, "__schema", "types").([]any) {
		m := ty.(map[string]any)
		types[m["name"].(string)] = m["kind"].(string)
	}
	for name, kind := range map[string]string{"Node": "INTERFACE", "PageInfo": "OBJECT", "ResourceConnection": "OBJECT", "Date": "SCALAR", "Fen": "SCALAR", "DivisionCode": "SCALAR", "ResourceStatus": "ENUM"} {
		if types[name] != kind {
			t.Errorf("type %s is %q, want %s", name, types[name], kind)
		}
	}
}

// TestPublishAndList is the README's session: a charity creates, publishes
// and lists a resource, and an anonymous caller then finds it.
func TestPublishAndList(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	created := h.do("charityA", `mutation {
		createResource(input: {title: "冬季送温暖棉被发放", itemCodes: ["WINTER_SUPPLIES"], groupCodes: ["DIBAO", "TEKUN"],
			coverage: ["500103"], capacityUnits: 200, validFrom: "2026-11-28", validUntil: "2027-02-28",
			address: "渝中区解放碑街道", divisionCode: "500103003", lat: 29.557, lng: 106.577}) {
			resource { id status version }
		}
	}`, nil)
	id, _ := get(created.Data, "createResource", "resource", "id").(string)
	if id == "" || get(created.Data, "createResource", "resource", "status") != "DRAFT" {
		t.Fatalf("create: %s", created.Raw)
	}
	if anon := h.do("anonymous", `query($id: ID!) { resource(id: $id) { title } }`, map[string]any{"id": id}); anon.code() != "NOT_FOUND" {
		t.Fatalf("a draft is visible to anonymous callers: %s", anon.Raw)
	}
	pub := h.do("charityA", `mutation($id: ID!) { publishResource(input: {id: $id, expectedVersion: 1}) { resource { status version publishedAt } } }`, map[string]any{"id": id})
	if get(pub.Data, "publishResource", "resource", "status") != "PUBLISHED" || get(pub.Data, "publishResource", "resource", "version") != 2.0 {
		t.Fatalf("publish: %s", pub.Raw)
	}
	list := h.do("anonymous", `{ resources(filter: {coversRegion: "500103001003", categoryCode: "BASIC_LIVING", groupCode: "TEKUN"}) {
		totalCount edges { cursor node { id title organization { name } location { divisionName } capacity { unitsLeft } } } } }`, nil)
	edges, _ := get(list.Data, "resources", "edges").([]any)
	if len(edges) != 1 || get(edges[0], "node", "id") != id || get(edges[0], "node", "title") != "冬季送温暖棉被发放" {
		t.Fatalf("list: %s", list.Raw)
	}
	if name := get(edges[0], "node", "location", "divisionName"); name != "重庆市渝中区解放碑街道" {
		t.Errorf("divisionName = %v", name)
	}
}

func TestPagination(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	for i := 0; i < 5; i++ {
		h.resource(h.orgA, catalog.Published)
	}
	var seen []string
	after := ""
	for page := 0; ; page++ {
		vars := map[string]any{"after": nil}
		if after != "" {
			vars["after"] = after
		}
		resp := h.do("anonymous", `query($after: String) { resources(first: 2, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`, vars)
		if got := get(resp.Data, "resources", "totalCount"); got != 5.0 {
			t.Fatalf("totalCount = %v: %s", got, resp.Raw)
		}
		for _, e := range get(resp.Data, "resources", "edges").([]any) {
			seen = append(seen, get(e, "node", "id").(string))
		}
		if get(resp.Data, "resources", "pageInfo", "hasNextPage") != true {
			break
		}
		after = get(resp.Data, "resources", "pageInfo", "endCursor").(string)
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d resources over the pages, want 5: %v", len(seen), seen)
	}
}

// TestHTTP covers GraphQL-over-HTTP behaviour: media types, status codes,
// GET, authentication failures and the request limits.
func TestHTTP(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	post := func(body string, header ...string) response {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return h.send(req)
	}
	t.Run("application/json without Accept", func(t *testing.T) {
		resp := post(`{"query":"{ viewer { role } }"}`)
		if resp.Status != 200 || !strings.HasPrefix(resp.ContentType, "application/json") || get(resp.Data, "viewer", "role") != "ANONYMOUS" {
			t.Fatalf("%d %s %s", resp.Status, resp.ContentType, resp.Raw)
		}
	})
	t.Run("graphql-response+json when asked", func(t *testing.T) {
		resp := post(`{"query":"{ viewer { role } }"}`, "Accept", "application/graphql-response+json")
		if resp.Status != 200 || !strings.HasPrefix(resp.ContentType, "application/graphql-response+json") {
			t.Fatalf("%d %s", resp.Status, resp.ContentType)
		}
	})
	t.Run("syntax error is 400 with graphql-response+json", func(t *testing.T) {
		resp := post(`{"query":"{ viewer { role "}`, "Accept", "application/graphql-response+json")
		if resp.Status != 400 || resp.code() != "GRAPHQL_PARSE_FAILED" || strings.Contains(resp.Raw, `"data"`) {
			t.Fatalf("%d %s", resp.Status, resp.Raw)
		}
	})
	t.Run("unknown field is 400 with graphql-response+json", func(t *testing.T) {
		resp := post(`{"query":"{ secrets }"}`, "Accept", "application/graphql-response+json")
		if resp.Status != 400 || resp.code() != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(resp.Raw, `"data"`) {
			t.Fatalf("%d %s", resp.Status, resp.Raw)
		}
	})
	t.Run("body that is not JSON is 400", func(t *testing.T) {
		if resp := post(`{"query":`); resp.Status != 400 {
			t.Fatalf("%d %s", resp.Status, resp.Raw)
		}
	})
	t.Run("GET query", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/graphql?query="+url.QueryEscape("{ catalog { groups { code } } }"), nil)
		resp := h.send(req)
		if resp.Status != 200 || len(get(resp.Data, "catalog", "groups").([]any)) == 0 {
			t.Fatalf("%d %s", resp.Status, resp.Raw)
		}
	})
	t.Run("GET mutation is refused and writes nothing", func(t *testing.T) {
		before := h.fingerprint()
		q := `mutation { createOrganization(input: {name: "经由GET", kind: CHARITY, divisionCode: "500103"}) { organization { id } } }`
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/graphql?query="+url.QueryEscape(q), nil)
		req.Header.Set("Authorization", "Bearer "+h.tokens["admin"])
		resp := h.send(req)
		if resp.Status != http.StatusMethodNotAllowed || resp.code() != "METHOD_NOT_ALLOWED" || resp.Header.Get("Allow") != "POST" {
			t.Fatalf("%d %v %s", resp.Status, resp.Header, resp.Raw)
		}
		if h.fingerprint() != before {
			t.Fatal("a mutation over GET wrote")
		}
	})
	t.Run("invalid token is 401", func(t *testing.T) {
		for _, auth := range []string{"Bearer aht_forged", "Bearer ", "Basic dXNlcjpwYXNz", "aht_noscheme"} {
			resp := post(`{"query":"{ viewer { role } }"}`, "Authorization", auth)
			if resp.Status != 401 || resp.code() != "UNAUTHENTICATED" {
				t.Fatalf("%q: %d %s", auth, resp.Status, resp.Raw)
			}
		}
	})
	t.Run("viewer shows the token's scope", func(t *testing.T) {
		resp := h.do("caseManager", `{ viewer { role regionPrefix organization { name } } }`, nil)
		if get(resp.Data, "viewer", "role") != "CASE_MANAGER" || get(resp.Data, "viewer", "regionPrefix") != "500103" {
			t.Fatal(resp.Raw)
		}
		resp = h.do("charityA", `{ viewer { role organization { name } } }`, nil)
		if get(resp.Data, "viewer", "organization", "name") != "重庆市慈善总会" {
			t.Fatal(resp.Raw)
		}
	})
	t.Run("body over 1 MiB is 413", func(t *testing.T) {
		big := fmt.Sprintf(`{"query":"{ viewer { role } }","variables":{"pad":%q}}`, strings.Repeat("x", 1<<20))
		if resp := post(big); resp.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d", resp.Status)
		}
	})
	t.Run("depth limit", func(t *testing.T) {
		q := "{ catalog { categories { children { children { children { children { children { children { children { children { children { children { code } } } } } } } } } } } } }"
		resp := post(fmt.Sprintf(`{"query":%q}`, q), "Accept", "application/graphql-response+json")
		if resp.Status != 400 || resp.code() != "DEPTH_LIMIT_EXCEEDED" {
			t.Fatalf("%d %s", resp.Status, resp.Raw)
		}
	})
	t.Run("depth limit through fragments", func(t *testing.T) {
		q := "{ catalog { categories { ...A } } } fragment A on ServiceCategory { children { ...B } } fragment B on ServiceCategory { children { children { children { children { children { children { children { children { children { code } } } } } } } } } }"
		if resp := post(fmt.Sprintf(`{"query":%q}`, q)); resp.code() != "DEPTH_LIMIT_EXCEEDED" {
			t.Fatalf("%d %s", resp.Status, resp.Raw)
		}
	})
	t.Run("alias limit", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < 31; i++ {
			fmt.Fprintf(&b, " a%d: viewer { role }", i)
		}
		b.WriteString(" }")
		if resp := post(fmt.Sprintf(`{"query":%q}`, b.String()), "Accept", "application/graphql-response+json"); resp.Status != 400 || resp.code() != "ALIAS_LIMIT_EXCEEDED" {
			t.Fatalf("%d %s", resp.Status, resp.Raw)
		}
	})
	t.Run("complexity limit", func(t *testing.T) {
		q := "{ organizations(first: 100) { edges { node { resources(first: 100) { edges { node { title items { code } eligibleGroups { code } } } } } } } }"
		if resp := post(fmt.Sprintf(`{"query":%q}`, q), "Accept", "application/graphql-response+json"); resp.Status != 400 || resp.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Fatalf("%d %s", resp.Status, resp.Raw)
		}
	})
	t.Run("token limit", func(t *testing.T) {
		q := "{ viewer { role " + strings.Repeat("__typename ", 12000) + "} }"
		if resp := post(fmt.Sprintf(`{"query":%q}`, q), "Accept", "application/graphql-response+json"); resp.Status != 400 || len(resp.Errors) == 0 {
			t.Fatalf("%d %s", resp.Status, resp.Raw[:min(len(resp.Raw), 300)])
		}
	})
	t.Run("automatic persisted queries", func(t *testing.T) {
		q := "{ catalog { groups { code } } }"
		sum := sha256.Sum256([]byte(q))
		ext := fmt.Sprintf(`"extensions":{"persistedQuery":{"version":1,"sha256Hash":%q}}`, hex.EncodeToString(sum[:]))
		if resp := post(`{` + ext + `}`); resp.code() != "PERSISTED_QUERY_NOT_FOUND" {
			t.Fatalf("unknown hash: %s", resp.Raw)
		}
		if resp := post(fmt.Sprintf(`{"query":%q,%s}`, q, ext)); len(resp.Errors) > 0 {
			t.Fatalf("register: %s", resp.Raw)
		}
		if resp := post(`{` + ext + `}`); len(resp.Errors) > 0 || get(resp.Data, "catalog", "groups") == nil {
			t.Fatalf("by hash: %s", resp.Raw)
		}
	})
	t.Run("health and readiness", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get(h.srv.URL + path)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %v %v", path, resp, err)
			}
			resp.Body.Close()
		}
	})
	t.Run("GraphiQL outside production", func(t *testing.T) {
		resp, err := http.Get(h.srv.URL + "/")
		if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
	})
}

func TestReadyz_DatabaseDown(t *testing.T) {
	d := dbtest.SQLite(t)
	h := newHub(t, d, server.Config{})
	d.Close()
	resp, err := http.Get(h.srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database closed: %d", resp.StatusCode)
	}
	if resp, _ := http.Get(h.srv.URL + "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("healthz must not depend on the database: %d", resp.StatusCode)
	}
}

func TestProduction(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{Production: true})
	if resp := h.do("anonymous", `{ __schema { queryType { name } } }`, nil); len(resp.Errors) == 0 || resp.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Fatalf("introspection in production must be FORBIDDEN: %s", resp.Raw)
	}
	if resp := h.do("anonymous", `{ viewer { role } }`, nil); len(resp.Errors) > 0 {
		t.Fatalf("ordinary queries must work: %s", resp.Raw)
	}
	resp, err := http.Get(h.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GraphiQL in production: %d", resp.StatusCode)
	}
}

// TestLogs checks the one line per request: request ID, operation, outcome,
// and nothing from the body or the token.
func TestLogs(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/graphql", strings.NewReader(
		`{"query":"mutation CreateOrg($n: String!) { createOrganization(input: {name: $n, kind: CHARITY, divisionCode: \"500199\"}) { organization { id } } }","operationName":"CreateOrg","variables":{"n":"张三的慈善会"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.tokens["admin"])
	req.Header.Set("X-Request-ID", "test-request-0001")
	resp := h.send(req)
	if resp.code() != "BAD_USER_INPUT" {
		t.Fatal(resp.Raw)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["request_id"] == "test-request-0001" && m["message"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d request lines for one request:\n%s", len(lines), h.logs.String())
	}
	l := lines[0]
	if l["operation"] != "CreateOrg" || l["operation_type"] != "mutation" || l["outcome"] != "error" || l["role"] != "ADMIN" || l["duration_ms"] == nil {
		t.Fatalf("request line: %v", l)
	}
	if codes, _ := l["error_codes"].([]any); len(codes) != 1 || codes[0] != "BAD_USER_INPUT" {
		t.Fatalf("error codes: %v", l["error_codes"])
	}
	all := h.logs.String()
	for _, secret := range []string{h.tokens["admin"], "张三"} {
		if strings.Contains(all, secret) {
			t.Fatalf("logs contain %q", secret)
		}
	}
}

// TestWebsocket runs a query over graphql-transport-ws with the token in
// the connection_init payload.
func TestWebsocket(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(websocket.StatusNormalClosure, "")
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	read := func() map[string]any {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + h.tokens["charityA"]}})
	if m := read(); m["type"] != "connection_ack" {
		t.Fatalf("init: %v", m)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "{ viewer { role } }"}})
	m := read()
	for m["type"] == "ping" || m["type"] == "ka" {
		m = read()
	}
	if m["type"] != "next" || get(m, "payload", "data", "viewer", "role") != "CHARITY" {
		t.Fatalf("next: %v", m)
	}
	if m := read(); m["type"] != "complete" {
		t.Fatalf("complete: %v", m)
	}
	// The connection's log line, written when it closes, names the role
	// its connection_init signed in as, not the tokenless upgrade's.
	conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(h.logs.String(), `"status":101`) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var line map[string]any
	for _, l := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(l, `"status":101`) {
			_ = json.Unmarshal([]byte(l), &line)
		}
	}
	if line["role"] != "CHARITY" {
		t.Errorf("websocket log line: role %v, want CHARITY; logs:\n%s", line["role"], h.logs.String())
	}
}
