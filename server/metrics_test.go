package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/search/searchtest"
	"github.com/aidhub/aidhub/server"
)

// scrape returns what the admin address's /metrics serves for h.
func scrape(t *testing.T, h *hub) string {
	t.Helper()
	admin := httptest.NewServer(server.MetricsHandler(h.metrics))
	defer admin.Close()
	resp, err := http.Get(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// TestMetrics: the request metrics count GraphQL requests by operation
// and outcome code and time them; the hub's registry adds the runtime,
// process, database pool, build and job queue families; and the API's own
// address does not serve them.
func TestMetrics(t *testing.T) {
	h := newHubWithIndex(t, dbtest.SQLite(t), server.Config{}, searchtest.Bleve(t))
	h.must(t, "admin", "query Who { viewer { role } }", nil)
	h.must(t, "admin", "query Who { viewer { role } }", nil)
	h.do("anonymous", "query Households { households(first: 1) { totalCount } }", nil)
	h.do("anonymous", "{ viewer { role } }", nil)
	bad, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { role } }"}`))
	bad.Header.Set("Content-Type", "application/json")
	bad.Header.Set("Authorization", "Bearer not-a-token")
	h.send(bad)
	if _, err := h.app.Jobs.Insert(context.Background(), search.SyncArgs{ResourceID: 1}, &river.InsertOpts{Queue: "nobody"}); err != nil {
		t.Fatal(err)
	}

	out := scrape(t, h)
	for _, want := range []string{
		`aidhub_graphql_requests_total{code="OK",operation="Who"} 2`,
		`aidhub_graphql_requests_total{code="UNAUTHENTICATED",operation="Households"} 1`,
		`aidhub_graphql_requests_total{code="OK",operation="(anonymous)"} 1`,
		// Refused before parsing: no operation is known yet.
		`aidhub_graphql_requests_total{code="UNAUTHENTICATED",operation="(anonymous)"} 1`,
		`aidhub_graphql_request_duration_seconds_count{operation="Who",operation_type="query"} 2`,
		`aidhub_graphql_request_duration_seconds_bucket{operation="Who",operation_type="query",le="+Inf"} 2`,
		`# TYPE aidhub_graphql_request_duration_seconds histogram`,
		`# TYPE go_goroutines gauge`,
		`# TYPE process_cpu_seconds_total counter`,
		`go_sql_max_open_connections{db_name="sqlite"}`,
		// A job on a queue no worker serves waits there.
		`aidhub_jobs{kind="search.sync",queue="nobody",state="available"} 1`,
		`aidhub_jobs_oldest_age_seconds{kind="search.sync",queue="nobody"} `,
		`aidhub_search_sync_lag_seconds `,
		`aidhub_jobs_stats_errors 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, out)
		}
	}
	build := regexp.MustCompile(`(?m)^aidhub_build_info\{commit="[^"]*",go_version="go[^"]+",version="[^"]+"\} 1$`)
	if !build.MatchString(out) {
		t.Errorf("/metrics lacks aidhub_build_info{version,commit,go_version} 1:\n%s", out)
	}

	resp, err := http.Get(h.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the API address serves /metrics: %d, want 404", resp.StatusCode)
	}
}

// TestMetricsOperationBound: operation names are the client's to choose;
// past a bound, new names share one series instead of growing the scrape.
func TestMetricsOperationBound(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	for i := 0; i < 205; i++ {
		h.do("anonymous", "query Op"+strings.Repeat("x", i)+" { viewer { role } }", nil)
	}
	out := scrape(t, h)
	if n := strings.Count(out, "aidhub_graphql_requests_total{"); n != 201 {
		t.Errorf("%d request series, want 200 names and (other)", n)
	}
	if !strings.Contains(out, `aidhub_graphql_requests_total{code="OK",operation="(other)"} 5`) {
		t.Errorf("names past the bound are not counted as (other)")
	}
}

// TestLogDurationsHaveUnits: every duration in the request log is in a
// field named with its unit, as a number.
func TestLogDurationsHaveUnits(t *testing.T) {
	h := newHub(t, dbtest.SQLite(t), server.Config{})
	h.must(t, "admin", "query Who { viewer { role } }", nil)
	h.do("anonymous", "{ nope }", nil)
	lines := 0
	for _, l := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		for k := range m {
			if (strings.Contains(k, "took") || strings.Contains(k, "duration") || strings.Contains(k, "elapsed")) && !strings.HasSuffix(k, "_ms") {
				t.Errorf("log field %q has no unit: %s", k, l)
			}
		}
		if m["message"] == "request" {
			lines++
			if _, ok := m["duration_ms"].(float64); !ok {
				t.Errorf("request line without a numeric duration_ms: %s", l)
			}
		}
	}
	if lines != 2 {
		t.Errorf("%d request lines, want 2:\n%s", lines, h.logs.String())
	}
}
