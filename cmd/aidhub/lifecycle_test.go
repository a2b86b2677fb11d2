package main

import (
	"strings"
	"testing"
	"time"
)

// TestServe_SecondDemoAndStop: a second `serve --demo` on a store that
// has data says it kept it (not "organizations 0 … demo data", as if the
// store were empty), and a hub that stops says "stopped" after draining.
func TestServe_SecondDemoAndStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stop := func(s *serveProc) {
		t.Helper()
		s.cancel()
		select {
		case code := <-s.done:
			s.done <- code // for startServe's cleanup
			if code != 0 {
				t.Fatalf("serve exit %d\n%s", code, s.stderr)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop")
		}
	}
	first := startServe(t, env{}, "--demo", "--data", dir, "--addr", "127.0.0.1:0")
	stop(first)
	if logs := first.stderr.String(); !strings.Contains(logs, `"message":"demo data"`) || !strings.Contains(logs, `"message":"stopped"`) {
		t.Errorf("first serve: no demo data or stopped line:\n%s", logs)
	}
	second := startServe(t, env{}, "--demo", "--data", dir, "--addr", "127.0.0.1:0")
	stop(second)
	logs := second.stderr.String()
	if !strings.Contains(logs, "the store is not empty, it is kept as it is") || strings.Contains(logs, `"message":"demo data"`) {
		t.Errorf("second serve --demo does not say it kept the store:\n%s", logs)
	}
}
