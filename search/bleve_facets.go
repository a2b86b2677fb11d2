package search

import (
	"context"
	"encoding/binary"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Facets of the Bleve index.
//
// Bleve's own facets read the doc values of every matching document, and
// doc values are compressed in blocks of 1,024 documents: a broad search
// (the public landing page matches all 50,000 resources) spends most of
// its time there, and a narrow one unpacks a block per match. Here the
// matches are collected once into a bitmap per index segment, and a
// value's count is that bitmap ANDed with the value's postings. Segments
// never change once written, so each segment's postings of the facet
// fields are read once and kept while the segment is live: the cost of a
// count follows the number of distinct values, not of matches. An index
// that does not number documents the way scorch does is counted document
// by document instead. The same match sets give pages in ID order
// (bleve_scan.go).

// facetSize is how many values a facet keeps, the most frequent first: as
// many as Meilisearch's maxValuesPerFacet.
const facetSize = 200

// facetBitmapMin is the number of matches from which counting on posting
// bitmaps beats visiting each match's doc values.
const facetBitmapMin = 64

// matchSet is every document matching a query in one snapshot of the index.
type matchSet struct {
	r    index.IndexReader
	snap *scorch.IndexSnapshot // nil when the index is not scorch's
	ids  docIDs                // in index order
	// local holds the matches per segment of snap, numbered within the
	// segment; nil when they could not be placed (see bitmaps).
	local []*roaring.Bitmap
}

// matching finds every document matching q, without scoring. Close the
// set when done with it.
func matching(ctx context.Context, idx bleve.Index, q query.Query) (*matchSet, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	m := &matchSet{r: r}
	if err := m.collect(ctx, idx, q); err != nil {
		r.Close()
		return nil, err
	}
	if snap, ok := r.(*scorch.IndexSnapshot); ok {
		m.snap = snap
		m.local = m.bitmaps()
	}
	return m, nil
}

func (m *matchSet) Close() error { return m.r.Close() }

func (m *matchSet) len() int { return m.ids.len() }

func (m *matchSet) collect(ctx context.Context, idx bleve.Index, q query.Query) error {
	s, err := q.Searcher(ctx, m.r, idx.Mapping(), bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		return err
	}
	defer s.Close()
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
	for {
		dm, err := s.Next(sctx)
		if err != nil {
			return err
		}
		if dm == nil {
			return nil
		}
		m.ids.add(dm.IndexInternalID)
		sctx.DocumentMatchPool.Put(dm)
		if m.ids.len()%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// bitmaps places the matches in the segments of the snapshot. It returns
// nil when the index does not number documents the way scorch does today:
// 8-byte big-endian numbers running through the segments in order.
func (m *matchSet) bitmaps() []*roaring.Bitmap {
	segs := m.snap.Segments()
	offsets := make([]uint64, len(segs)+1)
	for i, s := range segs {
		offsets[i+1] = offsets[i] + s.Segment().Count()
	}
	local := make([]*roaring.Bitmap, len(segs))
	nums := make([]uint32, 0, 1024)
	flush := func(i int) {
		if len(nums) > 0 {
			if local[i] == nil {
				local[i] = roaring.New()
			}
			local[i].AddMany(nums)
			nums = nums[:0]
		}
	}
	seg := 0
	for i := range m.ids.len() {
		id := m.ids.at(i)
		if len(id) != 8 {
			return nil
		}
		n := binary.BigEndian.Uint64(id)
		if n < offsets[seg] || n >= offsets[seg+1] {
			flush(seg)
			seg = sort.Search(len(segs), func(i int) bool { return offsets[i+1] > n })
			if seg == len(segs) {
				return nil
			}
		}
		nums = append(nums, uint32(n-offsets[seg]))
	}
	flush(seg)
	return local
}

// facets counts the values of each facet field over the matches.
func (m *matchSet) facets(ctx context.Context, cache *facetCache, fields []string) ([]Facet, error) {
	attrs := make([]string, len(fields))
	for i, f := range fields {
		attrs[i] = facetAttribute[f]
	}
	var (
		counts []map[string]int
		err    error
	)
	if m.local != nil && m.len() >= facetBitmapMin {
		counts, err = cache.count(ctx, m.snap.Segments(), m.local, attrs)
	}
	if counts == nil && err == nil {
		counts, err = m.countOnDocValues(ctx, attrs)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Facet, len(fields))
	for i, f := range fields {
		values := make([]FacetValue, 0, len(counts[i]))
		for v, n := range counts[i] {
			values = append(values, FacetValue{Value: v, Count: n})
		}
		sortFacet(values)
		if len(values) > facetSize {
			values = values[:facetSize]
		}
		out[i] = Facet{Field: f, Values: values}
	}
	return out, nil
}

// bleveFacets counts the values of each facet field over every document
// matching q. It reads its own snapshot of the index, which a write may
// have moved on from since the page of hits was read; counts then follow
// the newer state, as they will on the next search anyway.
func bleveFacets(ctx context.Context, idx bleve.Index, cache *facetCache, q query.Query, fields []string) ([]Facet, error) {
	m, err := matching(ctx, idx, q)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return m.facets(ctx, cache, fields)
}

// countOnDocValues counts facet values document by document.
func (m *matchSet) countOnDocValues(ctx context.Context, attrs []string) ([]map[string]int, error) {
	counts := make([]map[string]int, len(attrs))
	byAttr := make(map[string]map[string]int, len(attrs))
	for i, a := range attrs {
		counts[i] = map[string]int{}
		byAttr[a] = counts[i]
	}
	dvr, err := m.r.DocValueReader(attrs)
	if err != nil {
		return nil, err
	}
	visit := func(field string, term []byte) {
		if c := byAttr[field]; c != nil {
			c[string(term)]++
		}
	}
	for i := range m.ids.len() {
		if err := dvr.VisitDocValues(m.ids.at(i), visit); err != nil {
			return nil, err
		}
		if i%4096 == 4095 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return counts, nil
}

// docIDs are internal document IDs back to back in one buffer: no
// pointer per match for the garbage collector to follow.
type docIDs struct {
	buf  []byte
	ends []int
}

func (d *docIDs) add(id []byte) {
	d.buf = append(d.buf, id...)
	d.ends = append(d.ends, len(d.buf))
}

func (d *docIDs) len() int { return len(d.ends) }

func (d *docIDs) at(i int) []byte {
	start := 0
	if i > 0 {
		start = d.ends[i-1]
	}
	return d.buf[start:d.ends[i]:d.ends[i]]
}

// facetPostings are the documents of each value of one facet field in one
// segment, copied out of the segment.
type facetPostings struct {
	terms []string
	docs  []*roaring.Bitmap
}

// facetCache keeps facetPostings per live segment and field; the zero
// value is empty and ready.
type facetCache struct {
	mu   sync.Mutex
	segs map[segment.Segment]map[string]*facetPostings
}

// count counts facet values on posting bitmaps, segment by segment, or
// returns nil counts when a segment's postings are not bitmaps.
func (c *facetCache) count(ctx context.Context, segs []*scorch.SegmentSnapshot, local []*roaring.Bitmap, attrs []string) ([]map[string]int, error) {
	counts := make([]map[string]int, len(attrs))
	for a := range attrs {
		counts[a] = map[string]int{}
	}
	for i, s := range segs {
		if local[i] == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for a, attr := range attrs {
			p, err := c.postings(s.Segment(), attr)
			if err != nil || p == nil {
				return nil, err
			}
			// Postings may include deleted documents; the matches never
			// do, so the AND leaves them out.
			for t, docs := range p.docs {
				if n := local[i].AndCardinality(docs); n > 0 {
					counts[a][p.terms[t]] += int(n)
				}
			}
		}
	}
	c.prune(segs)
	return counts, nil
}

// postings returns the facet postings of one field of a segment, reading
// them on first use; nil when the segment's postings are not bitmaps.
func (c *facetCache) postings(seg segment.Segment, field string) (*facetPostings, error) {
	c.mu.Lock()
	p := c.segs[seg][field]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	dict, err := seg.Dictionary(field)
	if err != nil {
		return nil, err
	}
	p = &facetPostings{}
	var pl segment.PostingsList
	terms := dict.AutomatonIterator(everything{}, nil, nil)
	for {
		e, err := terms.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		var docs *roaring.Bitmap
		docs, pl, err = postingsOf(dict, e.Term, pl)
		if err != nil || docs == nil {
			return nil, err
		}
		p.terms = append(p.terms, e.Term)
		p.docs = append(p.docs, docs.Clone()) // the segment's own may live in its memory map
	}
	c.mu.Lock()
	if c.segs == nil {
		c.segs = map[segment.Segment]map[string]*facetPostings{}
	}
	if c.segs[seg] == nil {
		c.segs[seg] = map[string]*facetPostings{}
	}
	c.segs[seg][field] = p
	c.mu.Unlock()
	return p, nil
}

// prune forgets segments that merges have retired: those not in the
// snapshot just searched. A search on an older snapshot that still needs
// one reads it again.
func (c *facetCache) prune(live []*scorch.SegmentSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.segs) <= len(live) {
		return
	}
	keep := make(map[segment.Segment]bool, len(live))
	for _, s := range live {
		keep[s.Segment()] = true
	}
	for seg := range c.segs {
		if !keep[seg] {
			delete(c.segs, seg)
		}
	}
}

// postingsOf returns the documents of a term in a segment's dictionary,
// including deleted ones, and the postings list for reuse; nil documents
// when the segment does not hold postings as bitmaps.
func postingsOf(dict segment.TermDictionary, term string, prealloc segment.PostingsList) (*roaring.Bitmap, segment.PostingsList, error) {
	pl, err := dict.PostingsList([]byte(term), nil, prealloc)
	if err != nil {
		return nil, nil, err
	}
	bits, ok := pl.Iterator(false, false, false, nil).(segment.OptimizablePostingsIterator)
	if !ok {
		return nil, pl, nil
	}
	if doc, one := bits.DocNum1Hit(); one { // a value of one document: no bitmap in the segment
		return roaring.BitmapOf(uint32(doc)), pl, nil
	}
	if bm := bits.ActualBitmap(); bm != nil {
		return bm, pl, nil
	}
	return roaring.New(), pl, nil
}

// everything is the automaton that accepts every term.
type everything struct{}

func (everything) Start() int               { return 0 }
func (everything) IsMatch(int) bool         { return true }
func (everything) CanMatch(int) bool        { return true }
func (everything) WillAlwaysMatch(int) bool { return true }
func (everything) Accept(int, byte) int     { return 0 }
