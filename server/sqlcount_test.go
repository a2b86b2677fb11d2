package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/server"
)

// A page costs a constant number of SQL statements whatever its length:
// the records each row points at, and the facts their visibility rules
// ask about, are read in batches by the per-request loaders, not one per
// row.

// statementCounter is a bun query hook that records the statements run
// while it is armed.
type statementCounter struct {
	mu    sync.Mutex
	armed bool
	seen  []string
}

func (c *statementCounter) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed {
		c.seen = append(c.seen, e.Query)
	}
	return ctx
}

func (c *statementCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

// during returns the statements run while fn ran.
func (c *statementCounter) during(fn func()) []string {
	c.mu.Lock()
	c.armed, c.seen = true, nil
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = false
	return c.seen
}

const (
	qUnmetWithPeople = `{ unmetNeeds(first: 100) { totalCount edges { node {
		need { id status person { id name residentId household { id } } }
		household { id regionCode persons { id name relation } } } } } }`
	qReferralsWithAll = `{ referrals(first: 100) { totalCount edges { node { id status
		household { id address persons { id name relation } }
		person { id name household { id } }
		need { id status }
		resource { id title organization { id } }
		organization { id name } } } } }`
)

func TestSQLStatementsPerPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		counter := &statementCounter{}
		// The hub's services all run on the counted copy (one pool).
		d = &db.DB{DB: d.WithQueryHook(counter), Engine: d.Engine, Where: d.Where}
		// A loader waits this long for the rows' resolvers, which run
		// concurrently, before it reads: long enough that a busy test
		// machine does not split a batch and make the count vary.
		c := &cwClient{hub: newHub(t, d, server.Config{LoaderWait: 20 * time.Millisecond}), ids: &idGen{}}
		village := villageIn(t, "500103", 0)
		resource := c.publishedResource(t, 100)
		seed := func(n int) {
			for range n {
				cf := c.newCase(t, "caseManager", village, true)
				needs := list(get(c.must(t, "caseManager", qAssess, in(map[string]any{"householdId": cf.household, "needs": []any{
					map[string]any{"categoryCode": "EDUCATION_GRANTS", "itemCode": "SCHOOL_GRANT", "personId": cf.child, "severity": 3},
					map[string]any{"categoryCode": "PSYCHOLOGICAL", "personId": cf.head, "severity": 2},
				}})), "createAssessment", "assessment", "needs"))
				c.must(t, "caseManager", qRefer, in(map[string]any{"needId": get(needs[0], "id"), "resourceId": resource}))
			}
		}
		type page struct{ caller, name, query, list string }
		pages := []page{
			{"caseManager", "unmetNeeds", qUnmetWithPeople, "unmetNeeds"},
			{"caseManager", "referrals", qReferralsWithAll, "referrals"},
			{"charityA", "referrals", qReferralsWithAll, "referrals"},
		}
		// measure returns the statements of each page and checks that every
		// row came back with what it points at.
		measure := func(households int) [][]string {
			var out [][]string
			for _, p := range pages {
				// The first matching read builds the matcher's index, once;
				// the page's own cost is what a repeat costs.
				c.must(t, p.caller, p.query, nil)
				var data map[string]any
				stmts := counter.during(func() { data = c.must(t, p.caller, p.query, nil) })
				edges := list(get(data, p.list, "edges"))
				if len(edges) < households {
					t.Fatalf("%s as %s: %d rows for %d households", p.name, p.caller, len(edges), households)
				}
				for _, e := range edges {
					n := get(e, "node")
					if p.list == "referrals" && (get(n, "household", "id") == nil || len(list(get(n, "household", "persons"))) == 0 ||
						get(n, "person", "id") == nil || get(n, "resource", "id") == nil) {
						t.Fatalf("%s as %s: a row lacks what it points at: %v", p.name, p.caller, n)
					}
					if p.list == "unmetNeeds" && (get(n, "household", "id") == nil || get(n, "need", "person", "household", "id") == nil) {
						t.Fatalf("%s as %s: a row lacks what it points at: %v", p.name, p.caller, n)
					}
				}
				out = append(out, stmts)
			}
			return out
		}
		seed(10)
		small := measure(10)
		seed(30)
		large := measure(40)
		for i, p := range pages {
			t.Logf("%s as %s: %d statements for 10 households, %d for 40", p.name, p.caller, len(small[i]), len(large[i]))
			if len(small[i]) != len(large[i]) {
				t.Errorf("%s as %s: %d statements for 10 households but %d for 40; for 40:\n%s",
					p.name, p.caller, len(small[i]), len(large[i]), summary(large[i]))
			}
		}
	})
}

// summary counts statements by their beginning, which is enough to tell
// which read runs once per row.
func summary(stmts []string) string {
	counts := map[string]int{}
	var order []string
	for _, q := range stmts {
		key := q
		if i := strings.Index(key, " WHERE "); i > 0 {
			key = key[:i]
		}
		if len(key) > 160 {
			key = key[:160]
		}
		if counts[key] == 0 {
			order = append(order, key)
		}
		counts[key]++
	}
	var b strings.Builder
	for _, k := range order {
		fmt.Fprintf(&b, "%4d × %s\n", counts[k], k)
	}
	return b.String()
}

// Each mutation field reads through loaders of its own: what one field
// wrote is what the next field's answer shows, not rows cached before it.
func TestLoadersFreshForEachMutationField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := newCW(t, d)
		cf := c.newCase(t, "caseManager", villageIn(t, "500103", 0), true)
		data := c.must(t, "caseManager", `mutation($a: AddPersonInput!, $b: AddPersonInput!) {
			a: addPerson(input: $a) { person { household { persons { id } } } }
			b: addPerson(input: $b) { person { household { persons { id } } } } }`, map[string]any{
			"a": map[string]any{"householdId": cf.household, "person": member("王小风", c.ids.next("20150101", false), "CHILD")},
			"b": map[string]any{"householdId": cf.household, "person": member("王小云", c.ids.next("20170101", true), "CHILD")},
		})
		if a, b := len(list(get(data, "a", "person", "household", "persons"))), len(list(get(data, "b", "person", "household", "persons"))); a != 3 || b != 4 {
			t.Fatalf("members after the first addPerson: %d, after the second: %d; want 3 and 4", a, b)
		}
	})
}
