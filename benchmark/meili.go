package benchmark

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/matching"
)

// MeiliServer is a Meilisearch process of the benchmark's own, on a free
// loopback port with a random master key and a temporary database.
type MeiliServer struct {
	URL, Key string
	dir      string
	cmd      *exec.Cmd
}

// StartMeili starts the Meilisearch binary bin (scripts/meilisearch
// installs 1.21 and prints its path) and waits until it is healthy. Its
// log goes to logs when not nil.
func StartMeili(ctx context.Context, bin string, logs io.Writer) (*MeiliServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	dir, err := os.MkdirTemp("", "aidhub-bench-meili-")
	if err != nil {
		return nil, err
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	m := &MeiliServer{URL: "http://" + addr, Key: hex.EncodeToString(b[:]), dir: dir}
	m.cmd = exec.Command(bin, "--http-addr", addr, "--master-key", m.Key, "--db-path", filepath.Join(dir, "data.ms"),
		"--dump-dir", filepath.Join(dir, "dumps"), "--no-analytics", "--env", "development", "--log-level", "WARN")
	if logs == nil {
		logs = io.Discard
	}
	m.cmd.Stdout, m.cmd.Stderr = logs, logs
	if err := m.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("benchmark: start Meilisearch %s: %w", bin, err)
	}
	client := meilisearch.New(m.URL, meilisearch.WithAPIKey(m.Key))
	deadline := time.Now().Add(30 * time.Second)
	for {
		hctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := client.Health(hctx)
		cancel()
		if err == nil {
			return m, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			m.Stop()
			return nil, fmt.Errorf("benchmark: Meilisearch did not become healthy: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Version is the server's version, "" when it cannot be read.
func (m *MeiliServer) Version(ctx context.Context) string {
	v, err := meilisearch.New(m.URL, meilisearch.WithAPIKey(m.Key)).Version(ctx)
	if err != nil {
		return ""
	}
	return v.PkgVersion
}

// Stop kills the process and removes its database.
func (m *MeiliServer) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		_ = m.cmd.Wait()
		m.cmd = nil
	}
	if m.dir != "" {
		os.RemoveAll(m.dir)
		m.dir = ""
	}
}

// meiliDoc is a resource as the Meilisearch baseline indexes it: every
// hard filter an attribute to filter on, absent limits as sentinels so
// that each filter is one comparison, and what the client-side score reads.
type meiliDoc struct {
	ID            int64    `json:"id"`
	Items         []string `json:"items"`
	Categories    []string `json:"categories"` // of its items, and every category above those
	Groups        []string `json:"groups"`
	AnyGroup      bool     `json:"anyGroup"`
	Coverage      []string `json:"coverage"`
	AgeMin        int      `json:"ageMin"`
	AgeMax        int      `json:"ageMax"`
	IncomeCeiling int64    `json:"incomeCeiling"`
	ValidFrom     int64    `json:"validFrom"`  // aidhub.Day
	ValidUntil    int64    `json:"validUntil"` // aidhub.Day
	UnitsLeft     int64    `json:"unitsLeft"`
	UnitsTotal    int64    `json:"unitsTotal"` // 0: units not counted
	BudgetLeft    int64    `json:"budgetLeft"`
	Location      string   `json:"location"`
}

// Sentinels for absent limits: within float64's exact integers, as
// Meilisearch compares numbers as float64.
const (
	noCeiling  = 1<<53 - 1
	noCapacity = 1<<53 - 1
	maxAge     = 150
	farPast    = -1 << 31
	farFuture  = 1<<31 - 1
)

// meiliAttributes are the filterable attributes.
var meiliAttributes = []string{"categories", "groups", "anyGroup", "coverage", "ageMin", "ageMax",
	"incomeCeiling", "validFrom", "validUntil", "unitsLeft", "budgetLeft"}

// meiliRetrieve is what a hit carries back for the client-side score.
var meiliRetrieve = []string{"id", "items", "unitsLeft", "unitsTotal", "location"}

// MeiliBaseline matches a need with one Meilisearch query: the hard
// filters as a filter expression, the score computed in the client over
// every hit (it depends on the need, so Meilisearch cannot rank by it).
type MeiliBaseline struct {
	client meilisearch.ServiceManager
	uid    string
	sc     *scorer
	// PageSize is how many hits one request asks for; a need with more
	// candidates pages on (and counts the extra requests).
	PageSize int
}

// NewMeiliBaseline uses index uid on the Meilisearch at url.
func NewMeiliBaseline(url, key, uid string, cat *catalog.Catalog, w matching.Weights) *MeiliBaseline {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DisableCompression = true // see search.OpenMeili: gzip adds a delayed-ACK wait
	transport.MaxIdleConnsPerHost = 16
	hc := &http.Client{Timeout: 60 * time.Second, Transport: transport}
	return &MeiliBaseline{
		client: meilisearch.New(url, meilisearch.WithAPIKey(key), meilisearch.WithCustomClient(hc)),
		uid:    uid,
		sc:     newScorer(cat, w), PageSize: 1000,
	}
}

// wait waits for a task and turns a failed one into an error (WaitForTask
// itself does not).
func (b *MeiliBaseline) wait(ctx context.Context) func(*meilisearch.TaskInfo, error) error {
	return func(info *meilisearch.TaskInfo, err error) error {
		if err != nil {
			return err
		}
		return b.waitTask(ctx, info)
	}
}

func (b *MeiliBaseline) waitTask(ctx context.Context, info *meilisearch.TaskInfo) error {
	task, err := b.client.WaitForTask(ctx, info.TaskUID, 50*time.Millisecond)
	if err != nil {
		return err
	}
	if task.Status != meilisearch.TaskStatusSucceeded {
		return fmt.Errorf("benchmark: Meilisearch task %d (%s) %s: %s", task.UID, task.Type, task.Status, task.Error.Message)
	}
	return nil
}

// Index creates the index with its settings and adds every resource
// without an eligibility rule (rules are Go expressions a filter cannot
// express; the baselines leave such resources out). It returns how many
// were indexed.
func (b *MeiliBaseline) Index(ctx context.Context, resources []matching.Resource) (int, error) {
	if err := b.wait(ctx)(b.client.CreateIndex(ctx, &meilisearch.IndexConfig{Uid: b.uid, PrimaryKey: "id"})); err != nil {
		return 0, fmt.Errorf("benchmark: create Meilisearch index: %w", err)
	}
	off := "disabled"
	settings := &meilisearch.Settings{
		FilterableAttributes: meiliAttributes,
		SearchableAttributes: []string{"items"},
		PrefixSearch:         &off,
		Pagination:           &meilisearch.Pagination{MaxTotalHits: 100_000},
	}
	if err := b.wait(ctx)(b.client.Index(b.uid).UpdateSettings(ctx, settings)); err != nil {
		return 0, fmt.Errorf("benchmark: Meilisearch settings: %w", err)
	}
	docs := make([]meiliDoc, 0, len(resources))
	for i := range resources {
		if strings.TrimSpace(resources[i].Rule) != "" {
			continue
		}
		docs = append(docs, b.doc(&resources[i]))
	}
	pk := "id"
	const batch = 10_000
	for i := 0; i < len(docs); i += batch {
		part := docs[i:min(i+batch, len(docs))]
		if err := b.wait(ctx)(b.client.Index(b.uid).AddDocuments(ctx, part, &meilisearch.DocumentOptions{PrimaryKey: &pk})); err != nil {
			return 0, fmt.Errorf("benchmark: Meilisearch documents: %w", err)
		}
	}
	return len(docs), nil
}

func (b *MeiliBaseline) doc(r *matching.Resource) meiliDoc {
	d := meiliDoc{
		ID: r.ID, Items: r.Items, Groups: r.Groups, AnyGroup: len(r.Groups) == 0, Location: r.Region,
		AgeMin: 0, AgeMax: maxAge, IncomeCeiling: noCeiling, ValidFrom: farPast, ValidUntil: farFuture,
		UnitsLeft: noCapacity, BudgetLeft: noCapacity,
	}
	if d.Groups == nil {
		d.Groups = []string{}
	}
	for _, it := range r.Items {
		for _, c := range b.sc.ancestors(b.sc.itemCat[it]) {
			if !slices.Contains(d.Categories, c) {
				d.Categories = append(d.Categories, c)
			}
		}
	}
	for _, c := range r.Coverage {
		d.Coverage = append(d.Coverage, strings.TrimSpace(c))
	}
	if r.AgeMin != nil {
		d.AgeMin = *r.AgeMin
	}
	if r.AgeMax != nil {
		d.AgeMax = *r.AgeMax
	}
	if r.IncomeCeilingFen != nil {
		d.IncomeCeiling = *r.IncomeCeilingFen
	}
	if r.ValidFrom != nil {
		d.ValidFrom = int64(*r.ValidFrom)
	}
	if r.ValidUntil != nil {
		d.ValidUntil = int64(*r.ValidUntil)
	}
	if r.UnitsLeft != nil {
		d.UnitsLeft = *r.UnitsLeft
		if r.UnitsTotal != nil {
			d.UnitsTotal = *r.UnitsTotal
		}
	}
	if r.BudgetLeftFen != nil {
		d.BudgetLeft = *r.BudgetLeftFen
	}
	return d
}

// Blocked reports whether the duplicate-aid rule blocks the need today:
// then no query is sent.
func Blocked(n *matching.Need, today aidhub.Day) bool {
	return n.BlockedUntil != 0 && today <= n.BlockedUntil
}

// Filter is the need's hard filters as a Meilisearch filter expression.
// The category filter is the need's category (set it from the item when
// the need names only an item): a resource's categories list those of its
// items and every category above them, so the resources with an item in
// the category or below it pass. An item the need names does not filter;
// it only ranks (item fit).
func Filter(n *matching.Need, today aidhub.Day) string {
	var f strings.Builder
	fmt.Fprintf(&f, "categories = %s", strconv.Quote(n.Category))
	if len(n.Groups) == 0 {
		f.WriteString(" AND anyGroup = true")
	} else {
		f.WriteString(" AND (anyGroup = true OR groups IN [")
		for i, g := range n.Groups {
			if i > 0 {
				f.WriteString(", ")
			}
			f.WriteString(strconv.Quote(g))
		}
		f.WriteString("])")
	}
	f.WriteString(" AND coverage IN [")
	for l := 1; l <= len(n.Region); l++ {
		if l > 1 {
			f.WriteString(", ")
		}
		f.WriteString(strconv.Quote(n.Region[:l]))
	}
	f.WriteString("]")
	fmt.Fprintf(&f, " AND ageMin <= %d AND ageMax >= %d AND incomeCeiling >= %d", n.Age, n.Age, n.IncomePerCapitaFen)
	fmt.Fprintf(&f, " AND validFrom <= %d AND validUntil >= %d AND unitsLeft > 0 AND budgetLeft > 0", today, today)
	return f.String()
}

// MeiliStats is the work of one need's query.
type MeiliStats struct {
	Requests int // search requests sent (more than one when paging)
	Hits     int // candidates scored
}

type meiliHit struct {
	ID         int64    `json:"id"`
	Items      []string `json:"items"`
	UnitsLeft  int64    `json:"unitsLeft"`
	UnitsTotal int64    `json:"unitsTotal"`
	Location   string   `json:"location"`
}

type meiliPage struct {
	Hits      []meiliHit `json:"hits"`
	TotalHits int        `json:"totalHits"`
}

// Best finds the best resource for one need: no query when the duplicate
// rule blocks it (or it names an item outside its category, which the
// engine refuses), else one search (through the client's SearchRaw,
// decoded into a struct: its generic hit maps cost more to decode than
// the search itself on a page of a thousand hits) for every candidate
// (paging when there are more than PageSize) scored in the client, ranked
// as the engine ranks a need's matches: item fit first, then score, then
// resource ID.
func (b *MeiliBaseline) Best(ctx context.Context, n *matching.Need, today aidhub.Day) (Best, bool, MeiliStats, error) {
	var st MeiliStats
	if Blocked(n, today) || n.Region == "" {
		return Best{}, false, st, nil
	}
	if n.Item != "" {
		cat, ok := b.sc.itemCat[n.Item]
		if !ok || n.Category != "" && n.Category != cat {
			return Best{}, false, st, nil
		}
		if n.Category == "" {
			c := *n
			c.Category = cat
			n = &c
		}
	}
	filter := Filter(n, today)
	f := b.sc.need(n, today)
	var best Best
	bestFit := 0.0
	found := false
	hpp := int64(b.PageSize)
	for page := 1; ; page++ {
		raw, err := b.client.Index(b.uid).SearchRaw(ctx, "", &meilisearch.SearchRequest{
			Filter: filter, Page: int64(page), HitsPerPage: &hpp, AttributesToRetrieve: meiliRetrieve,
		})
		if err != nil {
			return Best{}, false, st, fmt.Errorf("benchmark: Meilisearch search: %w", err)
		}
		var res meiliPage
		if err := json.Unmarshal(*raw, &res); err != nil {
			return Best{}, false, st, fmt.Errorf("benchmark: Meilisearch search: %w", err)
		}
		st.Requests++
		st.Hits += len(res.Hits)
		for i := range res.Hits {
			h := &res.Hits[i]
			var left, total *int64
			if h.UnitsTotal > 0 {
				left, total = &h.UnitsLeft, &h.UnitsTotal
			}
			fit := b.sc.fit(n, n.Category, h.Items)
			s := b.sc.score(f, fit, b.sc.entitlement(n, n.Category, h.Items), proximity(n.Region, h.Location), scarcity(left, total))
			if !found || fit > bestFit || fit == bestFit && (s > best.Score || s == best.Score && h.ID < best.ResourceID) {
				best, bestFit, found = Best{ResourceID: h.ID, Score: s}, fit, true
			}
		}
		if page*b.PageSize >= res.TotalHits || len(res.Hits) == 0 {
			return best, found, st, nil
		}
	}
}

// Drop deletes the index.
func (b *MeiliBaseline) Drop(ctx context.Context) error {
	return b.wait(ctx)(b.client.DeleteIndex(ctx, b.uid))
}
