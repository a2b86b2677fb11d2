package hub_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/buildinfo"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/search/searchtest"
)

// TestStartLogsVersion: the hub's first line says which build runs, and
// its registry carries the build and the runtime.
func TestStartLogsVersion(t *testing.T) {
	logs := &syncBuffer{}
	h, err := hub.New(context.Background(), dbtest.SQLite(t), hub.Config{Index: searchtest.Bleve(t), Now: fixedNow, DataDir: t.TempDir(), Logs: logs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.DB = nil
		h.Close()
	})
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "hub started") {
			_ = json.Unmarshal([]byte(l), &line)
		}
	}
	bi := buildinfo.Get()
	if line["version"] != bi.Version || line["go_version"] != bi.GoVersion || line["commit"] != bi.Commit || line["level"] != "info" {
		t.Errorf("start line %v, want version %q commit %q go_version %q; logs:\n%s", line, bi.Version, bi.Commit, bi.GoVersion, logs.String())
	}
	if err := h.Matcher.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	families, err := h.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetName() == "aidhub_matcher_duration_seconds" {
			// A reload job the seeding queued may have loaded too.
			loads := uint64(0)
			for _, m := range f.GetMetric() {
				if l := m.GetLabel(); len(l) == 2 && l[0].GetValue() == "load" && l[1].GetValue() == "ok" {
					loads += m.GetHistogram().GetSampleCount()
				}
			}
			if loads == 0 {
				t.Errorf("matcher histogram after a load: %v", f.GetMetric())
			}
		}
	}
	for _, want := range []string{"aidhub_build_info", "go_goroutines", "process_cpu_seconds_total", "go_sql_open_connections", "aidhub_search_sync_lag_seconds", "aidhub_matcher_duration_seconds"} {
		if !names[want] {
			t.Errorf("the hub's registry lacks %s", want)
		}
	}
}
