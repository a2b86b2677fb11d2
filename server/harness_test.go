package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	apphub "github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/matchsvc"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/secret"
	"github.com/aidhub/aidhub/server"
	"github.com/aidhub/aidhub/warning"
)

// fixedNow is the tests' clock: 2026-11-28 12:00 in Chongqing.
func fixedNow() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }

// hub is a real handler over a real database with one token per role.
type hub struct {
	t       *testing.T
	db      *db.DB
	svc     *catalog.Service
	srv     *httptest.Server
	logs    *syncBuffer
	orgA    *catalog.Organization
	orgB    *catalog.Organization
	tokens  map[string]string // "admin", "charityA", "charityB", "caseManager", "caseManagerB", "donor", "feed", "anonymous" ("")
	app     *apphub.Hub       // set by newHubWithIndex: the index, its syncer and job queue
	cw      *casework.Service
	matcher *matchsvc.Service
	warn    *warning.Service
	audit   *audit.Log
	// metrics is the registry the handler records into: the process
	// hub's when app is set.
	metrics *prometheus.Registry
}

// testKeys are the personal-data keys of every test hub.
func testKeys(t *testing.T) *secret.Keys {
	k, err := secret.NewKeys([]byte("aidhub server tests: 32 bytes or more of key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHub(t *testing.T, d *db.DB, cfg server.Config) *hub {
	t.Helper()
	dir := regions.Chongqing()
	svc := catalog.NewService(d, dir, audit.New(d, fixedNow), fixedNow)
	if _, err := svc.SeedDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	return serve(t, d, cfg, svc, auth.NewTokens(d, dir, fixedNow), nil, nil)
}

// newHubWithIndex is newHub wired the way a process is (package hub): the
// catalog writes its outbox, the job queue delivers it to idx, and
// searchResources serves from idx.
func newHubWithIndex(t *testing.T, d *db.DB, cfg server.Config, idx search.Index) *hub {
	t.Helper()
	app, err := apphub.New(context.Background(), d, apphub.Config{Index: idx, Now: fixedNow, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		app.DB = nil // the test's database helper closes the database
		app.Close()
	})
	return serve(t, d, cfg, app.Catalog, app.Tokens, app.Index, app)
}

// serve creates the organizations and tokens every test uses and starts
// the handler over svc (and idx, when not nil).
func serve(t *testing.T, d *db.DB, cfg server.Config, svc *catalog.Service, tokens *auth.Tokens, idx search.Index, app *apphub.Hub) *hub {
	t.Helper()
	ctx := context.Background()
	admin := auth.WithPrincipal(ctx, auth.System)
	orgA, err := svc.CreateOrganization(admin, catalog.NewOrganization{Name: "重庆市慈善总会", Kind: catalog.KindCharity, DivisionCode: "500103"})
	if err != nil {
		t.Fatal(err)
	}
	orgB, err := svc.CreateOrganization(admin, catalog.NewOrganization{Name: "沙坪坝区社会工作服务中心", Kind: catalog.KindSocialOrganization, DivisionCode: "500106"})
	if err != nil {
		t.Fatal(err)
	}
	h := &hub{t: t, db: d, svc: svc, orgA: orgA, orgB: orgB, logs: &syncBuffer{}, tokens: map[string]string{"anonymous": ""}}
	var feed *warning.Feed
	if app != nil {
		// The process's own services: its jobs re-match and publish to
		// the subscriptions this handler serves.
		h.app, h.audit, h.cw, h.matcher, h.warn = app, app.Audit, app.Casework, app.Matcher, app.Warning
		feed = app.WarningFeed
	} else {
		h.audit = audit.New(d, fixedNow)
		h.cw = casework.NewService(d, regions.Chongqing(), testKeys(t), svc, h.audit, fixedNow)
		if h.matcher, err = matchsvc.New(d, svc, h.cw, matchsvc.DefaultConfig(), fixedNow); err != nil {
			t.Fatal(err)
		}
		// No job queue: signals are evaluated when a test asks.
		h.warn = warning.NewService(d, regions.Chongqing(), svc, h.cw, h.audit, fixedNow)
		if _, err := h.warn.SeedDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		feed = h.warn.NewFeed(100 * time.Millisecond)
	}
	for name, nt := range map[string]auth.NewToken{
		"admin":       {Role: auth.Admin},
		"charityA":    {Role: auth.Charity, OrganizationID: orgA.ID},
		"charityB":    {Role: auth.Charity, OrganizationID: orgB.ID},
		"caseManager": {Role: auth.CaseManager, RegionPrefix: "500103"},
		// caseManagerB works in 沙坪坝区, outside caseManager's region.
		"caseManagerB": {Role: auth.CaseManager, RegionPrefix: "500106"},
		"donor":        {Role: auth.Donor},
		// feed is the medical insurance bureau's system sending signals.
		"feed": {Role: auth.DataFeed, Source: "MEDICAL_INSURANCE"},
	} {
		tok, err := tokens.Create(ctx, nt)
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[name] = tok
	}
	h.metrics = prometheus.NewRegistry()
	if app != nil {
		h.metrics = app.Metrics
	}
	log := zerolog.New(h.logs)
	// A tracer as serve always has one (a no-op provider without an OTLP
	// endpoint), so every test runs the handler serve runs.
	var tracer trace.TracerProvider = tracenoop.NewTracerProvider()
	if app != nil {
		tracer = app.Tracer
	}
	h.srv = httptest.NewServer(server.New(cfg, server.Deps{DB: d, Catalog: svc, Casework: h.cw, Matcher: h.matcher, Warning: h.warn, WarningFeed: feed, Tokens: tokens, Search: idx, Log: log, Metrics: h.metrics, Tracer: tracer}))
	t.Cleanup(h.srv.Close)
	return h
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Status      int
	ContentType string
	Header      http.Header
	Data        map[string]any
	Errors      []gqlError
	Raw         string
}

func (r response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// do posts a GraphQL request as the named caller.
func (h *hub) do(caller, query string, vars map[string]any) response {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok := h.tokens[caller]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return h.send(req)
}

// must posts a GraphQL request as the named caller and fails t on any
// error; it returns the data.
func (h *hub) must(t *testing.T, caller, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := h.do(caller, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %s", caller, r.Raw)
	}
	return r.Data
}

func (h *hub) send(req *http.Request) response {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Header: resp.Header, Raw: string(raw)}
	var parsed struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil && strings.HasPrefix(out.ContentType, "application/") {
		h.t.Fatalf("response is not JSON: %v: %s", err, raw)
	}
	out.Data, out.Errors = parsed.Data, parsed.Errors
	return out
}

// get walks a path of keys through decoded JSON.
func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// fingerprint summarizes every table a mutation might write, so a refused
// mutation can be shown to have written nothing.
func (h *hub) fingerprint() string {
	h.t.Helper()
	var parts []string
	for _, q := range []string{
		"SELECT count(*) || '/' || coalesce(sum(version), 0) || '/' || coalesce(max(updated_at), '') FROM resources",
		"SELECT count(*) FROM resource_items",
		"SELECT count(*) FROM resource_groups",
		"SELECT count(*) FROM resource_coverage",
		"SELECT count(*) FROM organizations",
		"SELECT count(*) || '/' || coalesce(sum(tier), 0) FROM population_groups",
		"SELECT count(*) || '/' || coalesce(sum(duplicate_window_days), 0) FROM service_categories",
		"SELECT count(*) FROM service_items",
		"SELECT count(*) FROM plan_entries",
		"SELECT count(*) FROM api_tokens",
		"SELECT coalesce(sum(units_taken), 0) || '/' || coalesce(sum(budget_taken_fen), 0) FROM resources",
		// Casework: every table a casework mutation writes.
		"SELECT count(*) || '/' || coalesce(sum(version), 0) FROM households",
		"SELECT count(*) FROM persons",
		"SELECT count(*) FROM group_memberships",
		"SELECT count(*) || '/' || count(revoked_at) FROM consents",
		"SELECT count(*) || '/' || coalesce(sum(CASE WHEN status = 'SUBMITTED' THEN 1 ELSE 0 END), 0) FROM applications",
		"SELECT count(*) FROM application_events",
		"SELECT count(*) || '/' || count(superseded_at) FROM assessments",
		"SELECT count(*) || '/' || coalesce(sum(CASE WHEN status = 'OPEN' THEN 1 ELSE 0 END), 0) FROM needs",
		"SELECT count(*) || '/' || coalesce(sum(version), 0) FROM referrals",
		"SELECT count(*) FROM referral_events",
		"SELECT count(*) FROM aid_records",
		"SELECT count(*) FROM audit_log",
		// Early warning.
		"SELECT count(*) FROM signals",
		"SELECT count(*) || '/' || coalesce(sum(version), 0) FROM warning_types",
		"SELECT count(*) FROM warning_calibrations",
		"SELECT count(*) || '/' || coalesce(sum(version), 0) FROM warnings",
		"SELECT count(*) FROM warning_events",
	} {
		var s string
		if h.db.IsPostgres() {
			q = strings.ReplaceAll(q, "coalesce(max(updated_at), '')", "coalesce(max(updated_at)::text, '')")
		}
		if err := h.db.QueryRowContext(context.Background(), q).Scan(&s); err != nil {
			h.t.Fatalf("%s: %v", q, err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// resource creates a resource for org through the service, ready to publish,
// and moves it to status.
func (h *hub) resource(org *catalog.Organization, status catalog.Status) *catalog.Resource {
	h.t.Helper()
	ctx := auth.WithPrincipal(context.Background(), auth.System)
	title, items, groups, cover := "困难家庭学生助学金", []string{"SCHOOL_GRANT"}, []string{"DIBAO"}, []string{"500103"}
	r, err := h.svc.CreateResource(ctx, org.ID, catalog.ResourcePatch{
		Title: &title, ItemCodes: &items, GroupCodes: &groups, Coverage: &cover,
		CapacityUnits: aidhub.Some(int64(10)),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	switch status {
	case catalog.Draft:
	case catalog.Published:
		r, err = h.svc.PublishResource(ctx, r.ID, nil)
	case catalog.Paused:
		if _, err = h.svc.PublishResource(ctx, r.ID, nil); err == nil {
			r, err = h.svc.PauseResource(ctx, r.ID, nil)
		}
	case catalog.Closed:
		r, err = h.svc.CloseResource(ctx, r.ID, nil)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}
