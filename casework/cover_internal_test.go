package casework

import (
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
)

// TestCovers_AgreesWithTheEngine: the ledger's duplicate-aid rule and the
// engine's are one rule written twice (the engine's works on interned
// codes): for every pair of categories of the seeded catalog, and a
// one-day aid, both say the same.
func TestCovers_AgreesWithTheEngine(t *testing.T) {
	d, cat, engine := seededTrees(t)
	start, _ := aidhub.ParseDay("2026-11-01")
	covered := 0
	for _, need := range d.Categories {
		for _, aid := range d.Categories {
			w, ok := covers(cat, need.Code, aid.Code)
			until := engine.Covers(need.Code, aidhub.Aid{Category: aid.Code, Start: start, End: start})
			want := aidhub.Day(0)
			if ok {
				want = start.AddDays(w - 1)
				covered++
			}
			if until != want {
				t.Errorf("aid in %s for a need in %s: casework says %v (window %d), the engine until %s", aid.Code, need.Code, ok, w, until)
			}
		}
	}
	if covered < len(d.Categories) {
		t.Errorf("only %d pairs cover: the test proves little", covered)
	}
}

// seededTrees returns the seeded catalog, as casework and as the engine
// see its category tree, for tests that hold the two rules side by side.
func seededTrees(t testing.TB) (*catalog.Defaults, *catalog.Catalog, *aidhub.Catalog) {
	t.Helper()
	d, err := catalog.LoadDefaults()
	if err != nil {
		t.Fatal(err)
	}
	var cats []aidhub.Category
	for _, c := range d.Categories {
		mc := aidhub.Category{Code: c.Code, WindowDays: c.DuplicateWindowDays}
		if c.ParentCode != nil {
			mc.Parent = *c.ParentCode
		}
		cats = append(cats, mc)
	}
	engine, err := aidhub.NewCatalog(nil, cats, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, catalog.NewCatalog(d.Groups, d.Categories, d.Items, d.Plans), engine
}

// SeededEngineTree is the engine's view of the seeded category tree, for
// the external tests.
func SeededEngineTree(t testing.TB) *aidhub.Catalog {
	_, _, engine := seededTrees(t)
	return engine
}
