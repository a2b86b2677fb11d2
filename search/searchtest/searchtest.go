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
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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

// MeiliProcess is a Meilisearch server of a test's own, so the test can
// kill and restart it. The binary comes from AIDHUB_MEILI_BIN, which
// scripts/test sets after installing Meilisearch.
type MeiliProcess struct {
	t      testing.TB
	bin    string
	Addr   string
	Key    string
	dbPath string
	cmd    *exec.Cmd
}

// StartMeili starts a fresh Meilisearch on a free loopback port.
func StartMeili(t testing.TB) *MeiliProcess {
	t.Helper()
	bin := os.Getenv("AIDHUB_MEILI_BIN")
	if bin == "" {
		dbtest.Unavailable(t, "Meilisearch binary", "AIDHUB_MEILI_BIN is not set; run the tests through ./scripts/test, which installs Meilisearch 1.21")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var b [16]byte
	_, _ = rand.Read(b[:])
	dir := t.TempDir()
	m := &MeiliProcess{t: t, bin: bin, Addr: addr, Key: hex.EncodeToString(b[:]), dbPath: filepath.Join(dir, "data.ms")}
	m.Start()
	t.Cleanup(m.Kill)
	return m
}

// URL is the server's address.
func (m *MeiliProcess) URL() string { return "http://" + m.Addr }

// Start (re)starts the server on the same port and data, waiting until it
// is healthy.
func (m *MeiliProcess) Start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "--http-addr", m.Addr, "--master-key", m.Key, "--db-path", m.dbPath,
		"--no-analytics", "--log-level", "WARN")
	m.cmd.Stdout, m.cmd.Stderr = io.Discard, io.Discard
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start Meilisearch: %v", err)
	}
	client := meilisearch.New(m.URL(), meilisearch.WithAPIKey(m.Key))
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := client.Health(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("Meilisearch did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (m *MeiliProcess) Kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
	m.cmd = nil
}
