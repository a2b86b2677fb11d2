package search

import (
	"context"
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bleve is the embedded index, kept under the data folder. The live index
// is whatever the symlink "current" points at; Rebuild builds a fresh index
// beside it and swaps the link, and every process using the folder follows
// the link on its next call.
type Bleve struct {
	dir string

	mu     sync.RWMutex
	idx    bleve.Index
	target string // what "current" pointed at when idx was opened

	facets facetCache // postings of facet values per segment (bleve_facets.go)
}

const bleveLink = "current"

// OpenBleve opens (creating when needed) the index in dir.
func OpenBleve(dir string) (*Bleve, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("search: bleve folder: %w", err)
	}
	b := &Bleve{dir: dir}
	if _, err := os.Readlink(filepath.Join(dir, bleveLink)); errors.Is(err, os.ErrNotExist) {
		name, err := b.create()
		if err != nil {
			return nil, err
		}
		if err := b.swapLink(name); err != nil {
			return nil, err
		}
	}
	if _, err := b.index(); err != nil {
		return nil, err
	}
	return b, nil
}

// Name implements Index.
func (b *Bleve) Name() string { return "bleve" }

func (b *Bleve) create() (string, error) {
	name := fmt.Sprintf("resources-%d.bleve", time.Now().UnixNano())
	idx, err := bleve.New(filepath.Join(b.dir, name), bleveMapping())
	if err != nil {
		return "", fmt.Errorf("search: create bleve index: %w", err)
	}
	return name, idx.Close()
}

func (b *Bleve) swapLink(name string) error {
	tmp := filepath.Join(b.dir, bleveLink+".tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(name, tmp); err != nil {
		return fmt.Errorf("search: link bleve index: %w", err)
	}
	// rename(2) replaces the link atomically: readers see old or new.
	if err := os.Rename(tmp, filepath.Join(b.dir, bleveLink)); err != nil {
		return fmt.Errorf("search: swap bleve index: %w", err)
	}
	return nil
}

// index returns the live index, reopening it when the link moved.
func (b *Bleve) index() (bleve.Index, error) {
	target, err := os.Readlink(filepath.Join(b.dir, bleveLink))
	if err != nil {
		return nil, fmt.Errorf("search: bleve index link: %w", err)
	}
	b.mu.RLock()
	idx, cur := b.idx, b.target
	b.mu.RUnlock()
	if idx != nil && cur == target {
		return idx, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.idx != nil && b.target == target {
		return b.idx, nil
	}
	// Bleve holds a file lock on an open index; without a timeout a second
	// process (reindex while serve runs) would wait forever.
	opened, err := bleve.OpenUsing(filepath.Join(b.dir, target), map[string]any{"bolt_timeout": "2s"})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("search: the Bleve index in %s is in use by another aidhub process (stop `aidhub serve` first)", b.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("search: open bleve index %s: %w", target, err)
	}
	if b.idx != nil {
		old := b.target
		b.idx.Close()
		// The old index is no one's now; remove it.
		_ = os.RemoveAll(filepath.Join(b.dir, old))
	}
	b.idx, b.target = opened, target
	return opened, nil
}

// bleveSortKey is the field hits are ordered by when scores tie: the
// resource ID zero-padded, so that string order is numeric order.
const bleveSortKey = "sortKey"

func bleveMapping() mapping.IndexMapping {
	// Only what a search reads is indexed for it: every hit's sort key and
	// facet values come from doc values, and for a broad search at 50,000
	// resources reading them is most of the work. So doc values only where
	// a sort or facet needs them, term vectors only on the title (the
	// highlighted field), no "_all" field (queries name their fields).
	// Document fields stay stored: Raw shows what the index holds.
	text := func(vectors bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = cjk.AnalyzerName
		f.IncludeInAll = false
		f.DocValues = false
		f.IncludeTermVectors = vectors
		return f
	}
	code := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = docValues
		return f
	}
	stored := bleve.NewNumericFieldMapping() // kept for Raw, never searched
	stored.Index, stored.DocValues, stored.IncludeInAll = false, false, false
	validUntil := bleve.NewNumericFieldMapping()
	validUntil.DocValues, validUntil.IncludeInAll = false, false
	// One short term per document: a numeric field would keep 16
	// precision terms per value in its doc values, all read for every hit.
	sortKey := code(true)
	sortKey.Store = false
	geo := bleve.NewGeoPointFieldMapping()
	geo.IncludeInAll = false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("title", text(true))
	for _, f := range []string{"description", "organizationName", "categoryNames", "itemNames", "groupNames", "address"} {
		doc.AddFieldMappingsAt(f, text(false))
	}
	for _, f := range []string{"categories", "groups", "district", "organizationId"} { // facets
		doc.AddFieldMappingsAt(f, code(true))
	}
	for _, f := range []string{"items", "coverage", "location"} {
		doc.AddFieldMappingsAt(f, code(false))
	}
	doc.AddFieldMappingsAt("validUntil", validUntil)
	doc.AddFieldMappingsAt("id", stored)
	doc.AddFieldMappingsAt("version", stored)
	doc.AddFieldMappingsAt(bleveSortKey, sortKey)
	doc.AddFieldMappingsAt("geo", geo)
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = cjk.AnalyzerName
	return m
}

// toBleve is a Document as Bleve indexes it: the organization ID as a
// keyword, the point under "geo" with Bleve's lat/lon names.
func toBleve(d Document) map[string]any {
	m := map[string]any{
		"id": d.ID, "version": d.Version, "title": d.Title, "description": d.Description,
		"organizationId": strconv.FormatInt(d.OrganizationID, 10), "organizationName": d.OrganizationName,
		"categories": d.Categories, "categoryNames": d.CategoryNames, "items": d.Items, "itemNames": d.ItemNames,
		"groups": d.Groups, "groupNames": d.GroupNames, "coverage": d.Coverage,
		"location": d.Location, "address": d.Address, "validUntil": d.ValidUntil,
		bleveSortKey: fmt.Sprintf("%019d", d.ID),
	}
	if d.District != "" {
		m["district"] = d.District // an empty keyword would count as a facet value
	}
	if d.Geo != nil {
		m["geo"] = map[string]any{"lat": d.Geo.Lat, "lon": d.Geo.Lng}
	}
	return m
}

// Upsert implements Index.
func (b *Bleve) Upsert(ctx context.Context, docs []Document) error {
	idx, err := b.index()
	if err != nil {
		return err
	}
	batch := idx.NewBatch()
	for _, d := range docs {
		if err := batch.Index(docID(d.ID), toBleve(d)); err != nil {
			return wrapf(err, "search: bleve index %d", d.ID)
		}
	}
	return wrapf(idx.Batch(batch), "search: bleve upsert")
}

// Delete implements Index.
func (b *Bleve) Delete(ctx context.Context, ids []int64) error {
	idx, err := b.index()
	if err != nil {
		return err
	}
	batch := idx.NewBatch()
	for _, id := range ids {
		batch.Delete(docID(id))
	}
	return wrapf(idx.Batch(batch), "search: bleve delete")
}

func terms(field string, values []string) query.Query {
	qs := make([]query.Query, len(values))
	for i, v := range values {
		tq := bleve.NewTermQuery(v)
		tq.SetField(field)
		qs[i] = tq
	}
	if len(qs) == 1 {
		// A bare term, so an unscored conjunction around it can be
		// computed on posting bitmaps (a one-child disjunction cannot).
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// query builds the Bleve query of a request. Text is scored; every
// filter is not: without text the whole search runs unscored, and with
// text the filters sit in the boolean query's filter clause. Unscored,
// Bleve combines term postings as bitmaps instead of walking and scoring
// each one, which is most of the cost at 50,000 resources.
func (b *Bleve) query(req Request) query.Query {
	filters := bleveFilters(req)
	var filter query.Query
	switch len(filters) {
	case 0:
	case 1:
		filter = filters[0]
	default:
		filter = bleve.NewConjunctionQuery(filters...)
	}
	if req.Text == "" {
		if filter == nil {
			return bleve.NewMatchAllQuery()
		}
		return filter
	}
	var fields []query.Query
	for _, f := range []string{"title", "description", "organizationName", "categoryNames", "itemNames", "groupNames", "address"} {
		mq := bleve.NewMatchQuery(req.Text)
		mq.SetField(f)
		mq.Analyzer = cjk.AnalyzerName
		mq.SetOperator(query.MatchQueryOperatorAnd)
		if f == "title" {
			mq.SetBoost(3)
		}
		fields = append(fields, mq)
	}
	text := bleve.NewDisjunctionQuery(fields...)
	if filter == nil {
		return text
	}
	q := bleve.NewBooleanQuery()
	q.Must = text
	q.AddFilter(filter)
	return q
}

// bleveFilters turns a request's filter, validity date and radius into
// Bleve queries that must all match.
func bleveFilters(req Request) []query.Query {
	var must []query.Query
	f := req.Filter
	if len(f.Categories) > 0 {
		must = append(must, terms("categories", f.Categories))
	}
	if len(f.Items) > 0 {
		must = append(must, terms("items", f.Items))
	}
	if len(f.Groups) > 0 {
		must = append(must, terms("groups", f.Groups))
	}
	if len(f.OrganizationIDs) > 0 {
		ids := make([]string, len(f.OrganizationIDs))
		for i, id := range f.OrganizationIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		must = append(must, terms("organizationId", ids))
	}
	if f.CoversRegion != "" {
		must = append(must, terms("coverage", prefixes(f.CoversRegion)))
	}
	if f.LocatedIn != "" {
		must = append(must, terms("location", []string{f.LocatedIn}))
	}
	if req.Today > 0 {
		min := float64(req.Today)
		inclusive := true
		nq := bleve.NewNumericRangeInclusiveQuery(&min, nil, &inclusive, nil)
		nq.SetField("validUntil")
		must = append(must, nq)
	}
	if req.Near != nil {
		gq := bleve.NewGeoDistanceQuery(req.Near.Lng, req.Near.Lat, fmt.Sprintf("%fm", req.Near.RadiusMeters))
		gq.SetField("geo")
		must = append(must, gq)
	}
	return must
}

// Search implements Index.
func (b *Bleve) Search(ctx context.Context, req Request) (*Result, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	idx, err := b.index()
	if err != nil {
		return nil, err
	}
	if out, ok, err := b.searchByID(ctx, idx, req); err != nil || ok {
		return out, err // see bleve_scan.go
	}
	sr := bleve.NewSearchRequestOptions(b.query(req), req.Limit, req.Offset, false)
	if req.Text == "" {
		sr.Score = "none" // nothing to rank by: hits are ordered by ID or distance
	}
	sr.Fields = []string{"title"}
	if req.Text != "" {
		sr.Highlight = bleve.NewHighlightWithStyle("html")
		sr.Highlight.AddField("title")
	}
	var geoSort *search.SortGeoDistance
	if req.Near != nil {
		gs, err := search.NewSortGeoDistance("geo", "m", req.Near.Lng, req.Near.Lat, false)
		if err != nil {
			return nil, wrapf(err, "search: bleve geo sort")
		}
		geoSort = gs
	}
	// Ties break on the ID, so equal scores come back in a stable order.
	// geoAt is where the distance sits among the sort keys.
	var order search.SortOrder
	geoAt := -1
	byID := idSort(idx)
	switch {
	case req.Sort == ByDistance && req.Text != "":
		// With text, relevance still ranks first (as on Meilisearch, whose
		// sort rule comes after the relevance rules); distance breaks ties.
		order, geoAt = search.SortOrder{&search.SortScore{Desc: true}, geoSort, byID}, 1
	case req.Sort == ByDistance:
		order, geoAt = search.SortOrder{geoSort, byID}, 0
	case req.Text == "":
		order = search.SortOrder{byID}
	default:
		order = search.SortOrder{&search.SortScore{Desc: true}, byID}
	}
	if geoSort != nil && geoAt < 0 {
		order, geoAt = append(order, geoSort), len(order) // carried only to report distances
	}
	sr.SortByCustom(order)
	// Facets are counted apart (bleve_facets.go), at the same time as the
	// page of hits is found: two passes over the matches, on two cores.
	var (
		facets   []Facet
		facetErr error
		counted  chan struct{}
	)
	if len(req.Facets) > 0 {
		counted = make(chan struct{})
		go func() {
			defer close(counted)
			facets, facetErr = bleveFacets(ctx, idx, &b.facets, b.query(req), req.Facets)
		}()
	}
	res, err := idx.SearchInContext(ctx, sr)
	if counted != nil {
		<-counted
	}
	if err != nil {
		return nil, wrapf(err, "search: bleve search")
	}
	if facetErr != nil {
		return nil, wrapf(facetErr, "search: bleve facets")
	}
	out := &Result{Total: int(res.Total), Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		id, _ := strconv.ParseInt(h.ID, 10, 64)
		hit := Hit{ID: id}
		title, _ := h.Fields["title"].(string)
		hit.Highlight = html.EscapeString(title)
		if frags := h.Fragments["title"]; len(frags) > 0 {
			hit.Highlight = strings.NewReplacer("<mark>", "<em>", "</mark>", "</em>").Replace(frags[0])
		}
		if geoSort != nil && geoAt < len(h.Sort) {
			// Bleve reports the sort key encoded; decode it back to meters.
			if d, err := strconv.ParseFloat(geoSort.DecodeValue(h.Sort[geoAt]), 64); err == nil {
				hit.DistanceMeters = &d
			}
		}
		out.Hits = append(out.Hits, hit)
	}
	out.Facets = facets
	return out, nil
}

// Rebuild implements Index: a fresh index beside the live one, then the
// link swap.
func (b *Bleve) Rebuild(ctx context.Context, docs func(yield func(Document) error) error) error {
	name, err := b.create()
	if err != nil {
		return err
	}
	idx, err := bleve.Open(filepath.Join(b.dir, name))
	if err != nil {
		return wrapf(err, "search: open new bleve index")
	}
	batch := idx.NewBatch()
	flush := func() error {
		if batch.Size() == 0 {
			return nil
		}
		err := idx.Batch(batch)
		batch.Reset()
		return err
	}
	err = docs(func(d Document) error {
		if err := batch.Index(docID(d.ID), toBleve(d)); err != nil {
			return err
		}
		if batch.Size() >= 1000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if cerr := idx.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.RemoveAll(filepath.Join(b.dir, name))
		return wrapf(err, "search: rebuild bleve index")
	}
	if err := b.swapLink(name); err != nil {
		return err
	}
	_, err = b.index()
	return err
}

// Raw implements Index.
func (b *Bleve) Raw(ctx context.Context) ([]map[string]any, error) {
	idx, err := b.index()
	if err != nil {
		return nil, err
	}
	n, err := idx.DocCount()
	if err != nil {
		return nil, err
	}
	sr := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), int(n)+1, 0, false)
	sr.Fields = []string{"*"}
	res, err := idx.SearchInContext(ctx, sr)
	if err != nil {
		return nil, wrapf(err, "search: bleve raw")
	}
	out := make([]map[string]any, 0, len(res.Hits))
	for _, h := range res.Hits {
		m := map[string]any{"_id": h.ID}
		for k, v := range h.Fields {
			m[k] = v
		}
		out = append(out, m)
	}
	return out, nil
}

// Health implements Index.
func (b *Bleve) Health(ctx context.Context) error {
	_, err := b.index()
	return err
}

// Close implements Index.
func (b *Bleve) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.idx == nil {
		return nil
	}
	err := b.idx.Close()
	b.idx = nil
	return err
}

// idSort orders by resource ID (document IDs are strings, so "10" < "9").
// An index created before the sort key existed keeps its own mapping until
// `aidhub reindex`; it is ordered by its numeric "id" field instead.
func idSort(idx bleve.Index) search.SearchSort {
	if idx.Mapping().FieldMappingForPath(bleveSortKey).Type == "" {
		return &search.SortField{Field: "id", Type: search.SortFieldAsNumber, Missing: search.SortFieldMissingLast}
	}
	return &search.SortField{Field: bleveSortKey, Type: search.SortFieldAsString, Missing: search.SortFieldMissingLast}
}
