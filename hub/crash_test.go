package hub_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/demo"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/jobs"
	"github.com/aidhub/aidhub/search"
)

// TestCrash_KilledHubCatchesUpAtOnce runs a real `aidhub serve`, writes to
// its database from this process (as `aidhub import` does) and kills the
// hub with kill -9 while it runs jobs. The jobs it had fetched stay
// `running`; a restarted hub must retry them at once, not after River's
// five-minute stuck-job rescue: within seconds of the restart the search
// index holds every published resource, matching answers for every one as
// the store does, and no outbox job is left undone.
func TestCrash_KilledHubCatchesUpAtOnce(t *testing.T) {
	bin := buildAidhub(t)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		dataDir, dbURL := t.TempDir(), ""
		if d.IsPostgres() {
			var schema string
			if err := d.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(dbtest.PostgresURL())
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			dbURL = u.String()
		} else {
			dataDir = filepath.Dir(d.Where) // the hub opens the same SQLite file
		}

		// This process writes through an offline hub, as the import
		// command does; the serving hub delivers the jobs.
		w, err := hub.New(ctx, d, hub.Config{Offline: true, DataDir: dataDir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.DB = nil; w.Close() })
		today := w.Catalog.Today()
		if _, err := demo.Load(ctx, w.Catalog, today); err != nil {
			t.Fatal(err)
		}
		if _, err := demo.LoadCasework(ctx, w.Casework, today); err != nil {
			t.Fatal(err)
		}
		tmpl := matchedResource(t, w)
		token, err := w.Tokens.Create(admin, auth.NewToken{Role: auth.Admin, Label: "crash test"})
		if err != nil {
			t.Fatal(err)
		}
		jobsOf, err := jobs.NewClient(d, jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}

		a := startHub(t, bin, dataDir, dbURL)
		a.caughtUp(t, w, token, 60*time.Second) // the demo's jobs

		// Writers publish copies of a resource that matches demo needs
		// until the hub is killed with jobs in flight.
		var n atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					publishCopy(t, w, tmpl, fmt.Sprintf("%s 第%d份", tmpl.Title, n.Add(1)))
					time.Sleep(20 * time.Millisecond) // a pace the hub keeps up with
				}
			}()
		}
		orphans := a.killWithJobsInFlight(t, d)
		killed := time.Now()
		close(stop)
		wg.Wait()
		t.Logf("killed with %d jobs running after %d publishes", len(orphans), n.Load())

		b := startHub(t, bin, dataDir, dbURL)
		for i := range 3 { // and the restarted hub goes on working
			publishCopy(t, w, tmpl, fmt.Sprintf("%s 重启后第%d份", tmpl.Title, i+1))
		}
		// The orphans first, then everything.
		deadline := time.Now().Add(15 * time.Second)
		for _, id := range orphans {
			for {
				j, err := jobsOf.JobGet(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if j.State == rivertype.JobStateCompleted {
					if !slices.ContainsFunc(j.Errors, func(e rivertype.AttemptError) bool { return strings.Contains(e.Error, "orphaned") }) {
						t.Errorf("job %d (%s) was not retried as an orphan: %+v", id, j.Kind, j.Errors)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("orphaned job %d (%s) is %s %s after the restart\nhub stderr:\n%s", id, j.Kind, j.State,
						time.Since(b.started).Round(time.Millisecond), b.stderr)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		t.Logf("%s: orphans done %s after the restart (%s after the kill)", d.Engine,
			time.Since(b.started).Round(10*time.Millisecond), time.Since(killed).Round(10*time.Millisecond))
		took := b.caughtUp(t, w, token, 15*time.Second)
		t.Logf("%s: search and matching caught up %s after the restart (%s after the kill)", d.Engine,
			took.Round(10*time.Millisecond), time.Since(killed).Round(10*time.Millisecond))
		b.stop(t)
	})
}

// buildAidhub builds the command into a temporary folder.
func buildAidhub(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aidhub")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/aidhub")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/aidhub: %v\n%s", err, out)
	}
	return bin
}

// matchedResource returns a published demo resource that matches at least
// one demo need.
func matchedResource(t *testing.T, w *hub.Hub) *catalog.Resource {
	t.Helper()
	rs, err := w.Catalog.ScanResources(context.Background(), 0, 1000, catalog.Published)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		ms, err := w.Matcher.MatchesForResource(admin, r.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) > 0 && search.Searchable(r) {
			return r
		}
	}
	t.Fatal("no demo resource matches a demo need")
	return nil
}

func publishCopy(t *testing.T, w *hub.Hub, r *catalog.Resource, title string) {
	t.Helper()
	p := catalog.ResourcePatch{
		Title: &title, Description: &r.Description, ItemCodes: &r.ItemCodes, GroupCodes: &r.GroupCodes, Coverage: &r.Coverage,
		AgeMin: aidhub.Opt[int]{Set: true, Value: r.AgeMin}, AgeMax: aidhub.Opt[int]{Set: true, Value: r.AgeMax},
		IncomeCeilingFen:  aidhub.Opt[int64]{Set: true, Value: r.IncomeCeilingFen},
		CapacityUnits:     aidhub.Opt[int64]{Set: true, Value: r.CapacityUnits},
		CapacityBudgetFen: aidhub.Opt[int64]{Set: true, Value: r.CapacityBudgetFen},
		ValidFrom:         aidhub.Opt[aidhub.Date]{Set: true, Value: r.ValidFrom}, ValidUntil: aidhub.Opt[aidhub.Date]{Set: true, Value: r.ValidUntil},
		Address: &r.Address, ContactName: &r.ContactName, ContactPhone: &r.ContactPhone, EligibilityRule: &r.EligibilityRule,
		DivisionCode: aidhub.Opt[string]{Set: true, Value: r.DivisionCode},
		Lat:          aidhub.Opt[float64]{Set: true, Value: r.Lat}, Lng: aidhub.Opt[float64]{Set: true, Value: r.Lng},
	}
	c, err := w.Catalog.CreateResource(admin, r.OrganizationID, p)
	if err != nil {
		t.Error(err)
		return
	}
	if _, err := w.Catalog.PublishResource(admin, c.ID, nil); err != nil {
		t.Error(err)
	}
}

// hubProc is a running `aidhub serve`.
type hubProc struct {
	cmd     *exec.Cmd
	addr    string
	started time.Time
	stderr  *syncBuffer
	exited  chan struct{}
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

// startHub starts `aidhub serve` on a free port over dataDir and, when set,
// the PostgreSQL at dbURL, with Bleve in dataDir, and waits until it listens.
func startHub(t *testing.T, bin, dataDir, dbURL string) *hubProc {
	t.Helper()
	p := &hubProc{stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", dataDir)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AIDHUB_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, "AIDHUB_LOG_LEVEL=warn")
	if dbURL != "" {
		p.cmd.Env = append(p.cmd.Env, "AIDHUB_DATABASE_URL="+dbURL)
	}
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "aidhub is serving http://"); ok {
				addr, _, _ := strings.Cut(rest, "/")
				addrc <- addr
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.addr = <-addrc:
	case <-p.exited:
		t.Fatalf("aidhub serve exited: %s", p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("aidhub serve did not listen within 60 s: %s", p.stderr)
	}
	return p
}

// killWithJobsInFlight freezes the hub (SIGSTOP) at a moment it runs jobs,
// then kills it (SIGKILL), and returns the jobs it left running.
func (p *hubProc) killWithJobsInFlight(t *testing.T, d *db.DB) []int64 {
	t.Helper()
	running := func() []int64 {
		var ids []int64
		if err := d.NewSelect().TableExpr("river_job").Column("id").Where("state = 'running'").Scan(context.Background(), &ids); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if len(running()) == 0 {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		if ids := running(); len(ids) > 0 { // frozen: these stay running
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-p.exited
			return ids
		}
		if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the hub never ran a job within 60 s")
	return nil
}

func (p *hubProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Errorf("aidhub serve did not stop within 20 s of SIGINT")
	}
}

// caughtUp waits until the hub has done every outbox job, its search
// answers with every searchable resource and its matching with what the
// store says for every resource, and returns how long after the hub's
// start that was.
func (p *hubProc) caughtUp(t *testing.T, w *hub.Hub, token string, within time.Duration) time.Duration {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	var why string
	for time.Now().Before(deadline) {
		why = p.behind(t, w, token)
		if why == "" {
			return time.Since(p.started)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var states []string
	_ = w.DB.NewSelect().TableExpr("river_job").ColumnExpr("kind || ':' || state").Where("state <> 'completed'").Scan(ctx, &states)
	t.Fatalf("not caught up %s after the hub's start: %s\njobs not completed: %v\nhub stderr:\n%s", time.Since(p.started).Round(time.Millisecond), why, states, p.stderr)
	return 0
}

// behind says what the hub has not caught up with yet, "" when nothing.
func (p *hubProc) behind(t *testing.T, w *hub.Hub, token string) string {
	t.Helper()
	ctx := context.Background()
	undone, err := w.DB.NewSelect().TableExpr("river_job").
		Where("kind IN ('search.sync', 'matching.resource', 'matching.household', 'matching.reload')").
		Where("state <> 'completed'").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if undone > 0 {
		return fmt.Sprintf("%d outbox jobs not completed", undone)
	}
	rs, err := w.Catalog.ScanResources(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, r := range rs {
		if search.Searchable(r) {
			want[resourceID(r.ID)] = r.Title
		}
	}
	if got := p.search(t); !maps.Equal(want, got) {
		return fmt.Sprintf("search has %d resources, the store %d searchable (or a title differs)", len(got), len(want))
	}
	if err := w.Matcher.Reload(ctx); err != nil { // the store's answer
		t.Fatal(err)
	}
	for _, r := range rs {
		if !search.Searchable(r) {
			continue
		}
		ms, err := w.Matcher.MatchesForResource(admin, r.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		var data struct {
			MatchesForResource []struct{ Severity int } `json:"matchesForResource"`
		}
		p.graphql(t, token, `query($id: ID!) { matchesForResource(resourceId: $id, first: 100) { severity } }`, map[string]any{"id": resourceID(r.ID)}, &data)
		if len(data.MatchesForResource) != len(ms) {
			return fmt.Sprintf("matching: resource %d matches %d needs, the store says %d", r.ID, len(data.MatchesForResource), len(ms))
		}
	}
	return ""
}

// resourceID is the global ID of a resource: base64url("Resource:<id>").
func resourceID(id int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "Resource:%d", id))
}

// search returns the title of every resource the hub's search finds, by
// global ID.
func (p *hubProc) search(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	var after any
	for {
		var data struct {
			SearchResources struct {
				Edges []struct {
					Node struct{ ID, Title string }
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		p.graphql(t, "", `query($after: String) { searchResources(first: 100, after: $after) {
			edges { node { id title } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after}, &data)
		for _, e := range data.SearchResources.Edges {
			out[e.Node.ID] = e.Node.Title
		}
		if !data.SearchResources.PageInfo.HasNextPage {
			return out
		}
		after = data.SearchResources.PageInfo.EndCursor
	}
}

var httpClient = &http.Client{Timeout: 20 * time.Second}

func (p *hubProc) graphql(t *testing.T, token, query string, vars map[string]any, into any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST /graphql: %d: %v", resp.StatusCode, err)
	}
	if len(out.Errors) > 0 {
		t.Fatalf("POST /graphql %s: %+v", query, out.Errors)
	}
	if err := json.Unmarshal(out.Data, into); err != nil {
		t.Fatal(err)
	}
}
