package casework

import (
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
)

// seededTrees returns the seeded catalog, as casework stores it and as the
// rules read it (aidhub.Catalog).
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
