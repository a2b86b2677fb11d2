package casework

import (
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
)

// SeededEngineTree is the seeded catalog as the rules read it
// (aidhub.Catalog), for the external tests.
func SeededEngineTree(t testing.TB) *aidhub.Catalog {
	t.Helper()
	d, err := catalog.LoadDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := catalog.NewCatalog(d.Groups, d.Categories, d.Items, d.Plans).Tree()
	if err != nil {
		t.Fatal(err)
	}
	return tree
}
