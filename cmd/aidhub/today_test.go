package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
)

func TestShiftedClock(t *testing.T) {
	day, err := aidhub.ParseDate("2026-12-01")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 on 5 March in China (15:30 UTC): the date is China's, not UTC's.
	real := time.Date(2026, 3, 5, 15, 30, 0, 0, time.UTC)
	clock := shiftedClock(day, func() time.Time { return real })
	if got := clock().In(chinaTime); got.Format("2006-01-02 15:04") != "2026-12-01 23:30" {
		t.Errorf("at start: %s, want 2026-12-01 23:30 in China", got)
	}
	// The time of day runs on, and the date moves on at midnight.
	real = real.Add(31 * time.Minute)
	if got := clock().In(chinaTime); got.Format("2006-01-02 15:04") != "2026-12-02 00:01" {
		t.Errorf("31 minutes later: %s, want 2026-12-02 00:01 in China", got)
	}
}

// serve --today puts the whole hub on that day: a resource valid until D is
// offered on D and, started on D+1, the hub expires it at once.
func TestServeToday(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const day, next = "2026-12-01", "2026-12-02"

	s := startServe(t, env{}, "--today", day, "--data", dir, "--addr", "127.0.0.1:0")
	if out := s.stdout.String(); !strings.Contains(out, "Today is "+day) {
		t.Errorf("stdout does not say the hub's date:\n%s", out)
	}
	warned := false
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["level"] == "warn" && m["today"] == day {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning naming the date %s at start:\n%s", day, s.stderr)
	}
	token := onlyToken(t, mustRun(t, env{}, "token", "create", "--role", "ADMIN", "--data", dir))
	bearer := []string{"Authorization", "Bearer " + token}
	must := func(s *serveProc, query string, out any, hdr ...string) {
		t.Helper()
		status, g := s.graphql(query, hdr...)
		if status != http.StatusOK || len(g.Errors) > 0 {
			t.Fatalf("%s: %d %+v", query, status, g.Errors)
		}
		if err := json.Unmarshal(g.Data, out); err != nil {
			t.Fatal(err)
		}
	}
	var org struct {
		CreateOrganization struct{ Organization struct{ ID string } }
	}
	must(s, `mutation { createOrganization(input: {name: "重庆市慈善总会", kind: CHARITY, divisionCode: "500103"}) { organization { id } } }`, &org, bearer...)
	var created struct {
		CreateResource struct{ Resource struct{ ID string } }
	}
	must(s, fmt.Sprintf(`mutation { createResource(input: {organizationId: %q, title: "冬季送温暖棉被发放", itemCodes: ["WINTER_SUPPLIES"], coverage: ["500103"], capacityUnits: 200, validUntil: %q}) { resource { id } } }`,
		org.CreateOrganization.Organization.ID, day), &created, bearer...)
	id := created.CreateResource.Resource.ID
	var published struct {
		PublishResource struct{ Resource struct{ Status string } }
	}
	must(s, fmt.Sprintf(`mutation { publishResource(input: {id: %q}) { resource { status } } }`, id), &published, bearer...)
	if published.PublishResource.Resource.Status != "PUBLISHED" {
		t.Fatalf("published: %+v", published)
	}
	type list struct {
		Resources struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	offered := func(s *serveProc) bool {
		t.Helper()
		var l list
		must(s, `{ resources(first: 50) { edges { node { id } } } }`, &l)
		for _, e := range l.Resources.Edges {
			if e.Node.ID == id {
				return true
			}
		}
		return false
	}
	if !offered(s) {
		t.Errorf("a resource valid until %s is not offered on %s", day, day)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("serve returned %d\n%s", code, s.stderr)
	}

	// The next day, from the environment: expired at start.
	s = startServe(t, env{"AIDHUB_TODAY": next}, "--data", dir, "--addr", "127.0.0.1:0")
	if offered(s) {
		t.Errorf("a resource valid until %s is offered on %s", day, next)
	}
	type one struct {
		Resource struct {
			Status  string
			Expired bool
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var r one
		must(s, fmt.Sprintf(`{ resource(id: %q) { status expired } }`, id), &r, bearer...)
		if r.Resource.Status == "EXPIRED" && r.Resource.Expired {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("on %s the admin reads %+v, want EXPIRED", next, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("serve returned %d\n%s", code, s.stderr)
	}

	// The flag wins over the environment: on D the window is still open.
	s = startServe(t, env{"AIDHUB_TODAY": next}, "--today", day, "--data", dir, "--addr", "127.0.0.1:0")
	var r one
	must(s, fmt.Sprintf(`{ resource(id: %q) { status expired } }`, id), &r, bearer...)
	if r.Resource.Expired {
		t.Errorf("with --today %s and AIDHUB_TODAY %s the resource reads expired", day, next)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("serve returned %d\n%s", code, s.stderr)
	}
	s.checkLogs()
}
