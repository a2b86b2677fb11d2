package hub_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/search/searchtest"
)

// collector is a loopback OTLP/HTTP receiver: it keeps the bodies posted
// to /v1/traces.
type collector struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" {
		c.mu.Lock()
		c.bodies = append(c.bodies, b)
		c.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (c *collector) all() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Join(c.bodies, nil)
}

func tracedHub(t *testing.T, endpoint string) *hub.Hub {
	t.Helper()
	h, err := hub.New(context.Background(), dbtest.SQLite(t), hub.Config{Index: searchtest.Bleve(t), Now: fixedNow, DataDir: t.TempDir(), OTLPEndpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestTracing: with an endpoint, SQL spans reach it over OTLP/HTTP (sent
// at the latest when the hub closes), named for the service and without
// the statements' arguments; without one the hub works and records
// nothing.
func TestTracing(t *testing.T) {
	t.Run("endpoint", func(t *testing.T) {
		c := &collector{}
		srv := httptest.NewServer(c)
		defer srv.Close()
		h := tracedHub(t, srv.URL)
		ctx := auth.WithPrincipal(context.Background(), auth.System)
		if _, err := h.Catalog.ResourcesChangedSince(ctx, fixedNow()); err != nil {
			t.Fatal(err)
		}
		h.DB = nil // dbtest closes it
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		got := c.all()
		if len(got) == 0 {
			t.Fatal("no OTLP/HTTP request reached the endpoint")
		}
		for _, want := range []string{"aidhub", "SELECT", "resources"} {
			if !bytes.Contains(got, []byte(want)) {
				t.Errorf("the exported spans lack %q", want)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		h := tracedHub(t, "")
		t.Cleanup(func() {
			h.DB = nil
			h.Close()
		})
		ctx := auth.WithPrincipal(context.Background(), auth.System)
		if _, err := h.Catalog.ResourcesChangedSince(ctx, fixedNow()); err != nil {
			t.Fatal(err)
		}
		_, span := h.Tracer.Tracer("test").Start(ctx, "x")
		defer span.End()
		if span.IsRecording() || span.SpanContext().IsValid() {
			t.Error("without an endpoint spans are recorded")
		}
	})
}
