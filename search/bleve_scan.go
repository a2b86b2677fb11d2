package search

import (
	"context"
	"html"
	"strconv"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Pages in ID order without text, for the Bleve index.
//
// Without text, hits are ordered by ID. Bleve finds a page by reading the
// sort key of every match and keeping the best in a heap: for the landing
// page, 50,000 doc-value reads to show 20. The sort key's term dictionary
// already lists the IDs in order, so here the matches are gathered as
// bitmaps (as for facets) and the dictionaries of the segments holding
// matches are walked in step, in ID order, until the page is full: a walk
// of about (offset+limit) × documents / matches terms. A term walked costs
// about twice a match ranked by Bleve, so when the walk would pass more
// terms than half the matches (a narrow filter, a page near the end)
// Bleve's own way is used.

// scanPages turns the walk on, scanAlways takes it whatever it costs:
// tests set them to compare the walk with Bleve page by page.
var scanPages, scanAlways = true, false

// scanMaxTerms is the longest walk tried.
const scanMaxTerms = 20_000

// searchByID answers a request without text and without a point, or
// reports false when it should go to Bleve's own search.
func (b *Bleve) searchByID(ctx context.Context, idx bleve.Index, req Request) (*Result, bool, error) {
	if !scanPages || req.Text != "" || req.Near != nil || idx.Mapping().FieldMappingForPath(bleveSortKey).Type == "" {
		return nil, false, nil
	}
	m, err := matching(ctx, idx, b.query(req))
	if err != nil {
		return nil, false, wrapf(err, "search: bleve search")
	}
	defer m.Close()
	if m.local == nil {
		return nil, false, nil
	}
	total := m.len()
	end := min(req.Offset+req.Limit, total)
	var ids []int64
	if req.Offset < end {
		// The walk passes every document of the segments holding matches,
		// deleted ones included, until it has seen end matches.
		docs := 0
		for i, s := range m.snap.Segments() {
			if m.local[i] != nil {
				docs += int(s.Segment().Count())
			}
		}
		if walk := end * docs / total; !scanAlways && (walk > total/2 || walk > scanMaxTerms) {
			return nil, false, nil
		}
		var ok bool
		if ids, ok, err = m.walkIDs(ctx, req.Offset, end); err != nil || !ok {
			return nil, false, err
		}
	}
	out := &Result{Total: total, Hits: make([]Hit, 0, len(ids))}
	if len(ids) > 0 {
		titles, err := b.titles(ctx, idx, ids)
		if err != nil {
			return nil, false, err
		}
		for _, id := range ids {
			title, ok := titles[id]
			if !ok {
				continue // deleted since the matches were read
			}
			out.Hits = append(out.Hits, Hit{ID: id, Highlight: html.EscapeString(title)})
		}
	}
	if len(req.Facets) > 0 {
		if out.Facets, err = m.facets(ctx, &b.facets, req.Facets); err != nil {
			return nil, false, wrapf(err, "search: bleve facets")
		}
	}
	return out, true, nil
}

// walkIDs returns the IDs of the matches from position offset (counted
// from 0 in ID order) up to end, or false when a segment's postings are
// not bitmaps.
func (m *matchSet) walkIDs(ctx context.Context, offset, end int) ([]int64, bool, error) {
	// One cursor per segment holding matches, on its sort-key dictionary.
	type cursor struct {
		local *roaring.Bitmap
		dict  segment.TermDictionary
		terms segment.DictionaryIterator
		term  string // current; "" when done
		pl    segment.PostingsList
		pi    segment.PostingsIterator
	}
	next := func(c *cursor) error {
		e, err := c.terms.Next()
		c.term = ""
		if e != nil {
			c.term = e.Term
		}
		return err
	}
	var cursors []*cursor
	for i, s := range m.snap.Segments() {
		if m.local[i] == nil {
			continue
		}
		dict, err := s.Segment().Dictionary(bleveSortKey)
		if err != nil {
			return nil, false, err
		}
		c := &cursor{local: m.local[i], dict: dict, terms: dict.AutomatonIterator(everything{}, nil, nil)}
		if err := next(c); err != nil {
			return nil, false, err
		}
		cursors = append(cursors, c)
	}
	ids := make([]int64, 0, end-offset)
	for seen, steps := 0, 1; seen < end; steps++ {
		var c *cursor // the cursor on the smallest term
		for _, o := range cursors {
			if o.term != "" && (c == nil || o.term < c.term) {
				c = o
			}
		}
		if c == nil {
			break // fewer matches than counted: cannot happen on one snapshot
		}
		var err error
		if c.pl, err = c.dict.PostingsList([]byte(c.term), nil, c.pl); err != nil {
			return nil, false, err
		}
		c.pi = c.pl.Iterator(false, false, false, c.pi)
		bits, ok := c.pi.(segment.OptimizablePostingsIterator)
		if !ok {
			return nil, false, nil
		}
		// The term's documents in this segment may include deleted
		// versions of the resource; the matches hold only the live one.
		match := false
		if doc, one := bits.DocNum1Hit(); one {
			match = c.local.Contains(uint32(doc))
		} else if bm := bits.ActualBitmap(); bm != nil {
			match = c.local.Intersects(bm)
		}
		if match {
			if seen >= offset {
				id, err := strconv.ParseInt(c.term, 10, 64)
				if err != nil {
					return nil, false, err
				}
				ids = append(ids, id)
			}
			seen++
		}
		if err := next(c); err != nil {
			return nil, false, err
		}
		if steps%4096 == 0 && ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
	}
	return ids, true, nil
}

// titles reads the titles of resources by ID.
func (b *Bleve) titles(ctx context.Context, idx bleve.Index, ids []int64) (map[int64]string, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = docID(id)
	}
	sr := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery(keys), len(keys), 0, false)
	sr.Fields = []string{"title"}
	sr.Score = "none"
	res, err := idx.SearchInContext(ctx, sr)
	if err != nil {
		return nil, wrapf(err, "search: bleve titles")
	}
	out := make(map[int64]string, len(res.Hits))
	for _, h := range res.Hits {
		id, _ := strconv.ParseInt(h.ID, 10, 64)
		title, _ := h.Fields["title"].(string)
		out[id] = title
	}
	return out, nil
}
