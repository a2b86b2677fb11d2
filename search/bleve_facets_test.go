package search

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// segmentedBleve is a Bleve index whose documents lie in several segments:
// one merged segment, where values held by a single document get scorch's
// "1-hit" encoding instead of a bitmap, and newer ones that replace and
// delete some of its documents. more adds further changes on top.
type segmentedBleve struct {
	*Bleve
	more func()
}

func newSegmentedBleve(t *testing.T) segmentedBleve {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := OpenBleve(dir)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	codes := func(prefix string, n, max int) []string {
		var out []string
		for range 1 + rng.IntN(max) {
			out = append(out, prefix+strconv.Itoa(rng.IntN(n)))
		}
		return out
	}
	upsert := func(first, last, step int64) {
		t.Helper()
		var docs []Document
		for id := first; id <= last; id += step {
			docs = append(docs, Document{
				ID: id, Version: 1, Title: "助学金 " + strconv.FormatInt(id, 10), OrganizationID: int64(1 + rng.IntN(150)), // many values seen once
				Categories: codes("C", 12, 3), Groups: codes("G", 10, 4), Coverage: []string{"50"},
				District: fmt.Sprintf("5001%02d", rng.IntN(30)), Location: []string{}, ValidUntil: NoEnd,
			})
		}
		if err := b.Upsert(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	for first := int64(1); first <= 400; first += 100 {
		upsert(first, first+99, 1)
	}
	// Closing persists every segment; force-merged into one, values of a
	// single document are "1-hit" encoded. Reopened with merges off (in
	// a small index scorch would soon merge everything into one segment).
	b.Close()
	target, err := os.Readlink(filepath.Join(dir, bleveLink))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := bleve.OpenUsing(filepath.Join(dir, target), map[string]any{
		"scorchMergePlanOptions": map[string]any{"MaxSegmentsPerTier": 1000, "FloorSegmentSize": 1, "FloorSegmentFileSize": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	b = &Bleve{dir: dir, idx: idx, target: target}
	t.Cleanup(func() { b.Close() })
	adv, err := idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	if err := adv.(*scorch.Scorch).ForceMerge(ctx, nil); err != nil {
		t.Fatal(err)
	}
	upsert(401, 600, 1)
	upsert(1, 600, 7)
	if err := b.Delete(ctx, []int64{2, 3, 50, 333, 599}); err != nil {
		t.Fatal(err)
	}

	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		t.Fatalf("reader is %T, not a scorch snapshot", r)
	}
	if n := len(snap.Segments()); n < 2 {
		t.Fatalf("%d segments; the test needs several", n)
	}
	oneHit := 0
	for _, s := range snap.Segments() {
		for _, field := range []string{"organizationId", bleveSortKey} {
			dict, err := s.Segment().Dictionary(field)
			if err != nil {
				t.Fatal(err)
			}
			for id := 1; id <= 600; id++ {
				term := strconv.Itoa(id)
				if field == bleveSortKey {
					term = fmt.Sprintf("%019d", id)
				}
				pl, err := dict.PostingsList([]byte(term), nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, one := pl.Iterator(false, false, false, nil).(segment.OptimizablePostingsIterator).DocNum1Hit(); one {
					oneHit++
				}
			}
		}
	}
	if oneHit == 0 {
		t.Fatal("no 1-hit postings; the test needs some")
	}
	return segmentedBleve{b, func() {
		upsert(1, 600, 11)
		if err := b.Delete(ctx, []int64{5, 6, 7, 8, 400, 401}); err != nil {
			t.Fatal(err)
		}
	}}
}

// TestBleveFacets_BitmapsCountAsDocValues checks the two ways the Bleve
// backend counts facets against each other.
func TestBleveFacets_BitmapsCountAsDocValues(t *testing.T) {
	ctx := context.Background()
	b := newSegmentedBleve(t)
	idx, err := b.index()
	if err != nil {
		t.Fatal(err)
	}
	attrs := []string{"categories", "groups", "district", "organizationId"}
	compare := func() {
		t.Helper()
		for _, req := range []Request{
			{Limit: 1},
			{Limit: 1, Filter: Filter{Groups: []string{"G3"}}},
			{Limit: 1, Filter: Filter{Categories: []string{"C1", "C2"}, Groups: []string{"G4"}}},
			{Limit: 1, Text: "助学"},
		} {
			m, err := matching(ctx, idx, b.query(req))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.local == nil {
				t.Fatal("matches not placed in segments")
			}
			want, err := m.countOnDocValues(ctx, attrs)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.facets.count(ctx, m.snap.Segments(), m.local, attrs)
			if err != nil || got == nil {
				t.Fatalf("%+v: bitmaps: %v, %v", req, got, err)
			}
			for i, a := range attrs {
				if !maps.Equal(got[i], want[i]) {
					t.Errorf("%+v %s:\nbitmaps     %v\ndoc values  %v", req, a, got[i], want[i])
				}
			}
			req.Facets = FacetFields
			res, err := b.Search(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != m.len() {
				t.Errorf("%+v: %d matches, search says %d", req, m.len(), res.Total)
			}
		}
	}
	compare()
	// The postings read above stay cached per segment: later deletions
	// in those segments and new segments must still count right.
	b.more()
	compare()
}

// TestBleveScan_PagesAsBleve checks pages found by walking the sort key
// against Bleve's own search: same total, same hits in the same order,
// same facets, for pages from the first to past the last.
func TestBleveScan_PagesAsBleve(t *testing.T) {
	ctx := context.Background()
	b := newSegmentedBleve(t)
	scanAlways = true
	defer func() { scanAlways = false }()
	compare := func() {
		t.Helper()
		for _, f := range []Filter{
			{},
			{Groups: []string{"G3"}},
			{Categories: []string{"C1", "C2"}, Groups: []string{"G4"}},
			{OrganizationIDs: []int64{7}},
			{Items: []string{"NONE"}},
		} {
			for _, page := range [][2]int{{0, 20}, {0, 1}, {20, 20}, {13, 7}, {100, 50}, {300, 100}, {520, 100}, {585, 20}, {900, 10}} {
				req := Request{Filter: f, Offset: page[0], Limit: page[1], Facets: FacetFields}
				scanPages = false
				want, err := b.Search(ctx, req)
				scanPages = true
				if err != nil {
					t.Fatal(err)
				}
				idx, err := b.index()
				if err != nil {
					t.Fatal(err)
				}
				got, walked, err := b.searchByID(ctx, idx, req)
				if err != nil {
					t.Fatal(err)
				}
				if !walked {
					t.Fatalf("%+v: not walked", req)
				}
				if got.Total != want.Total || !reflect.DeepEqual(got.Hits, want.Hits) || !reflect.DeepEqual(got.Facets, want.Facets) {
					t.Errorf("%+v:\nwalk  %d %v\nbleve %d %v", req, got.Total, got.Hits, want.Total, want.Hits)
				}
			}
		}
	}
	compare()
	b.more()
	compare()
}
