package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// Meili is the Meilisearch index. The hub owns its settings and applies
// them at start-up; every write waits for its task and checks the task's
// status (WaitForTask returns no error for a failed task).
type Meili struct {
	client meilisearch.ServiceManager
	uid    string
}

// MeiliConfig locates the index.
type MeiliConfig struct {
	URL   string
	Key   string
	Index string // default "resources"
}

// OpenMeili connects and applies the index settings. It does not fail when
// Meilisearch is down: writes then fail and are retried by the outbox, and
// Health reports the outage.
func OpenMeili(ctx context.Context, cfg MeiliConfig) (*Meili, error) {
	if cfg.Index == "" {
		cfg.Index = "resources"
	}
	if cfg.URL == "" {
		return nil, errors.New("search: Meilisearch URL is empty")
	}
	// No gzip: with Accept-Encoding: gzip Meilisearch streams a chunked,
	// compressed body in a second write after the headers, and on a
	// kept-alive connection that write waits for the client's delayed ACK
	// (Nagle on the server side): 40 ms added to every search. Responses
	// are a page of IDs and titles; compressing them gains nothing.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DisableCompression = true
	client := meilisearch.New(cfg.URL, meilisearch.WithAPIKey(cfg.Key),
		meilisearch.WithCustomClient(&http.Client{Timeout: 30 * time.Second, Transport: transport}))
	m := &Meili{client: client, uid: cfg.Index}
	if err := m.ensure(ctx, m.uid); err != nil && m.Health(ctx) == nil {
		// Reachable but refusing our settings: a configuration error.
		return nil, err
	}
	return m, nil
}

// Name implements Index.
func (m *Meili) Name() string { return "meilisearch" }

// settings are the index settings the hub owns.
func settings() *meilisearch.Settings {
	return &meilisearch.Settings{
		SearchableAttributes: []string{"title", "itemNames", "categoryNames", "groupNames", "organizationName", "description", "address"},
		FilterableAttributes: []string{"categories", "items", "groups", "coverage", "district", "location", "organizationId", "validUntil", "_geo"},
		SortableAttributes:   []string{"id", "_geo"},
		// sort last: relevance first, then the requested order, so the tie
		// break on id never overrides exactness.
		RankingRules:        []string{"words", "typo", "proximity", "attribute", "exactness", "sort"},
		LocalizedAttributes: []*meilisearch.LocalizedAttributes{{Locales: []string{"cmn"}, AttributePatterns: []string{"title", "description", "itemNames", "categoryNames", "groupNames", "organizationName", "address"}}},
		Pagination:          &meilisearch.Pagination{MaxTotalHits: 200_000},
		Faceting:            &meilisearch.Faceting{MaxValuesPerFacet: 200},
	}
}

// ensure creates the index when missing and applies the settings; both are
// idempotent.
func (m *Meili) ensure(ctx context.Context, uid string) error {
	if _, err := m.client.GetIndex(ctx, uid); err != nil {
		task, err := m.client.CreateIndex(ctx, &meilisearch.IndexConfig{Uid: uid, PrimaryKey: "id"})
		if err != nil {
			return wrapf(err, "search: create Meilisearch index %s", uid)
		}
		// An index created concurrently is fine: the settings follow.
		_ = m.wait(ctx, task.TaskUID)
	}
	task, err := m.client.Index(uid).UpdateSettings(ctx, settings())
	if err != nil {
		return wrapf(err, "search: Meilisearch settings of %s", uid)
	}
	return m.wait(ctx, task.TaskUID)
}

// wait waits for a task and turns a failed or canceled task into an error.
func (m *Meili) wait(ctx context.Context, taskUID int64) error {
	task, err := m.client.WaitForTask(ctx, taskUID, 20*time.Millisecond)
	if err != nil {
		return wrapf(err, "search: wait for Meilisearch task %d", taskUID)
	}
	if task.Status != meilisearch.TaskStatusSucceeded {
		return fmt.Errorf("search: Meilisearch task %d %s: %s (%s)", taskUID, task.Status, task.Error.Message, task.Error.Code)
	}
	return nil
}

func (m *Meili) upsertInto(ctx context.Context, uid string, docs []Document) error {
	if len(docs) == 0 {
		return nil
	}
	pk := "id"
	task, err := m.client.Index(uid).AddDocuments(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	if err != nil {
		return wrapf(err, "search: Meilisearch add documents")
	}
	return m.wait(ctx, task.TaskUID)
}

// Upsert implements Index.
func (m *Meili) Upsert(ctx context.Context, docs []Document) error {
	return m.upsertInto(ctx, m.uid, docs)
}

// Delete implements Index.
func (m *Meili) Delete(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = docID(id)
	}
	task, err := m.client.Index(m.uid).DeleteDocuments(ctx, keys, nil)
	if err != nil {
		return wrapf(err, "search: Meilisearch delete documents")
	}
	return m.wait(ctx, task.TaskUID)
}

// quote makes a filter value literal. Values reaching here were already
// checked to be codes, digits or numbers; quoting is a second fence.
func quote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

func anyOf(attr string, values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = attr + " = " + quote(v)
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

func meiliFilter(req Request) string {
	var and []string
	f := req.Filter
	if len(f.Categories) > 0 {
		and = append(and, anyOf("categories", f.Categories))
	}
	if len(f.Items) > 0 {
		and = append(and, anyOf("items", f.Items))
	}
	if len(f.Groups) > 0 {
		and = append(and, anyOf("groups", f.Groups))
	}
	if len(f.OrganizationIDs) > 0 {
		ids := make([]string, len(f.OrganizationIDs))
		for i, id := range f.OrganizationIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		and = append(and, anyOf("organizationId", ids))
	}
	if f.CoversRegion != "" {
		and = append(and, anyOf("coverage", prefixes(f.CoversRegion)))
	}
	if f.LocatedIn != "" {
		and = append(and, anyOf("location", []string{f.LocatedIn}))
	}
	if req.Today > 0 {
		and = append(and, "validUntil >= "+strconv.Itoa(req.Today))
	}
	if n := req.Near; n != nil {
		and = append(and, fmt.Sprintf("_geoRadius(%s, %s, %s)", num(n.Lat), num(n.Lng), num(n.RadiusMeters)))
	}
	return strings.Join(and, " AND ")
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Highlight tags from the Private Use Area cannot occur in titles by
// accident; they become <em> after the title is HTML-escaped.
const (
	preTag  = "\ue000"
	postTag = "\ue001"
)

// Search implements Index.
func (m *Meili) Search(ctx context.Context, req Request) (*Result, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	sr := &meilisearch.SearchRequest{
		Filter:                meiliFilter(req),
		AttributesToRetrieve:  []string{"id", "title", "_geo"},
		AttributesToHighlight: []string{"title"},
		HighlightPreTag:       preTag,
		HighlightPostTag:      postTag,
		MatchingStrategy:      meilisearch.All,
		Locales:               []string{"cmn"},
		Sort:                  []string{"id:asc"},
	}
	if req.Sort == ByDistance {
		sr.Sort = []string{fmt.Sprintf("_geoPoint(%s, %s):asc", num(req.Near.Lat), num(req.Near.Lng)), "id:asc"}
	}
	for _, f := range req.Facets {
		sr.Facets = append(sr.Facets, facetAttribute[f])
	}
	// Page mode counts every match exactly; it needs an offset that is a
	// whole number of pages, which the hub's own cursors always are.
	exact := req.Offset%req.Limit == 0
	if exact {
		per := int64(req.Limit)
		sr.HitsPerPage, sr.Page = &per, int64(req.Offset/req.Limit)+1
	} else {
		sr.Offset, sr.Limit = int64(req.Offset), int64(req.Limit)
	}
	resp, err := m.client.Index(m.uid).Search(ctx, req.Text, sr)
	if err != nil {
		return nil, wrapf(err, "search: Meilisearch search")
	}
	out := &Result{Total: int(resp.TotalHits)}
	if !exact {
		out.Total = int(resp.EstimatedTotalHits)
	}
	var hits []struct {
		ID        int64  `json:"id"`
		Title     string `json:"title"`
		Geo       *Geo   `json:"_geo"`
		Formatted struct {
			Title string `json:"title"`
		} `json:"_formatted"`
	}
	if err := resp.Hits.DecodeInto(&hits); err != nil {
		return nil, wrapf(err, "search: decode Meilisearch hits")
	}
	tags := strings.NewReplacer(preTag, "<em>", postTag, "</em>")
	for _, h := range hits {
		hit := Hit{ID: h.ID, Highlight: html.EscapeString(h.Title)}
		if h.Formatted.Title != "" {
			hit.Highlight = tags.Replace(html.EscapeString(h.Formatted.Title))
		}
		if req.Near != nil && h.Geo != nil {
			d := haversineMeters(req.Near.Lat, req.Near.Lng, h.Geo.Lat, h.Geo.Lng)
			hit.DistanceMeters = &d
		}
		out.Hits = append(out.Hits, hit)
	}
	if len(req.Facets) > 0 {
		var dist map[string]map[string]int
		if len(resp.FacetDistribution) > 0 {
			if err := json.Unmarshal(resp.FacetDistribution, &dist); err != nil {
				return nil, wrapf(err, "search: decode Meilisearch facets")
			}
		}
		for _, f := range req.Facets {
			facet := Facet{Field: f, Values: []FacetValue{}}
			for v, c := range dist[facetAttribute[f]] {
				facet.Values = append(facet.Values, FacetValue{Value: v, Count: c})
			}
			sortFacet(facet.Values)
			out.Facets = append(out.Facets, facet)
		}
	}
	return out, nil
}

// haversineMeters is the great-circle distance, as both engines measure it.
func haversineMeters(lat1, lng1, lat2, lng2 float64) float64 {
	const earth = 6371008.8
	rad := math.Pi / 180
	dLat, dLng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earth * math.Asin(math.Sqrt(a))
}

// Rebuild implements Index: a new index filled beside the live one, then
// an index swap, then the old one dropped.
func (m *Meili) Rebuild(ctx context.Context, docs func(yield func(Document) error) error) error {
	tmp := fmt.Sprintf("%s_rebuild_%d", m.uid, time.Now().UnixNano())
	if err := m.ensure(ctx, tmp); err != nil {
		return err
	}
	batch := make([]Document, 0, 1000)
	flush := func() error {
		err := m.upsertInto(ctx, tmp, batch)
		batch = batch[:0]
		return err
	}
	err := docs(func(d Document) error {
		batch = append(batch, d)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		_, _ = m.client.DeleteIndex(context.WithoutCancel(ctx), tmp)
		return wrapf(err, "search: rebuild Meilisearch index")
	}
	if err := m.ensure(ctx, m.uid); err != nil {
		return err
	}
	task, err := m.client.SwapIndexes(ctx, []*meilisearch.SwapIndexesParams{{Indexes: []string{m.uid, tmp}}})
	if err != nil {
		return wrapf(err, "search: swap Meilisearch indexes")
	}
	if err := m.wait(ctx, task.TaskUID); err != nil {
		return err
	}
	if task, err := m.client.DeleteIndex(ctx, tmp); err == nil {
		_ = m.wait(ctx, task.TaskUID)
	}
	return nil
}

// Raw implements Index.
func (m *Meili) Raw(ctx context.Context) ([]map[string]any, error) {
	var out []map[string]any
	for offset := int64(0); ; offset += 1000 {
		var res meilisearch.DocumentsResult
		if err := m.client.Index(m.uid).GetDocuments(ctx, &meilisearch.DocumentsQuery{Offset: offset, Limit: 1000}, &res); err != nil {
			return nil, wrapf(err, "search: Meilisearch documents")
		}
		var page []map[string]any
		if err := res.Results.DecodeInto(&page); err != nil {
			return nil, wrapf(err, "search: decode Meilisearch documents")
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out, nil
		}
	}
}

// Health implements Index.
func (m *Meili) Health(ctx context.Context) error {
	h, err := m.client.Health(ctx)
	if err != nil {
		return wrapf(err, "search: Meilisearch unreachable")
	}
	if h.Status != "available" {
		return fmt.Errorf("search: Meilisearch is %s", h.Status)
	}
	return nil
}

// Close implements Index.
func (m *Meili) Close() error { return nil }
