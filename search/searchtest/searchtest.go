// Package searchtest gives tests the search backends: a Bleve index in a
// temporary folder, and a fresh index on the Meilisearch named by
// AIDHUB_TEST_MEILI_URL and AIDHUB_TEST_MEILI_KEY (scripts/test starts one).
// With CI=true an unreachable Meilisearch fails the test; elsewhere the
// test is skipped with a note on how to start it.
package searchtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/search"
)

// Bleve returns an empty Bleve index closed when the test ends.
func Bleve(t testing.TB) *search.Bleve {
	t.Helper()
	idx, err := search.OpenBleve(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

// MeiliConfig returns the test Meilisearch with a fresh index name, or
// skips (fails in CI) when none is reachable.
func MeiliConfig(t testing.TB) search.MeiliConfig {
	t.Helper()
	url, key := os.Getenv("AIDHUB_TEST_MEILI_URL"), os.Getenv("AIDHUB_TEST_MEILI_KEY")
	how := "run the tests through ./scripts/test, which installs and starts Meilisearch 1.21, or set AIDHUB_TEST_MEILI_URL and AIDHUB_TEST_MEILI_KEY"
	if url == "" {
		dbtest.Unavailable(t, "Meilisearch", "AIDHUB_TEST_MEILI_URL is not set; "+how)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := meilisearch.New(url, meilisearch.WithAPIKey(key))
	if _, err := client.Health(ctx); err != nil {
		dbtest.Unavailable(t, "Meilisearch", err.Error()+"; "+how)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	uid := "test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		_, _ = client.DeleteIndex(context.Background(), uid)
	})
	return search.MeiliConfig{URL: url, Key: key, Index: uid}
}

// Meili returns a fresh Meilisearch index.
func Meili(t testing.TB) *search.Meili {
	t.Helper()
	cfg := MeiliConfig(t)
	idx, err := search.OpenMeili(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// Each runs body once per backend, as subtests "bleve" and "meilisearch".
func Each(t *testing.T, body func(t *testing.T, idx search.Index)) {
	t.Helper()
	t.Run("bleve", func(t *testing.T) { body(t, Bleve(t)) })
	t.Run("meilisearch", func(t *testing.T) { body(t, Meili(t)) })
}
