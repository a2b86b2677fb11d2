package synthpop

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/regions"
)

func fixedNow() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }

func testWorld(t testing.TB) *world {
	t.Helper()
	d := dbtest.SQLite(t)
	svc := catalog.NewService(d, regions.Chongqing(), audit.New(d, fixedNow), fixedNow)
	if _, err := svc.SeedDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	cat, err := svc.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWorld(cat, regions.Chongqing(), fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// draw generates persons and resources in memory, as Run would.
func draw(t testing.TB, w *world, persons, resources int, seed int64) ([]*chunk, *popGen, [][]any) {
	t.Helper()
	rr := rand.New(rand.NewPCG(uint64(seed), 1))
	orgs := genOrganizations(w, rr, min(200, max(20, resources/4)), 1, map[string]bool{})
	rg := newResourceGen(w, rr, orgs, 1)
	var rs [][]any
	for range resources {
		r, _, _, _ := rg.next()
		rs = append(rs, r)
	}
	pg := newPopGen(w, rand.New(rand.NewPCG(uint64(seed), 2)), persons, orgs, rg)
	var chunks []*chunk
	for !pg.done() {
		c, err := pg.chunk(chunkPersons)
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, c)
	}
	return chunks, pg, rs
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.3f, want %.3f ± %.3f", what, got, want, tol)
	} else {
		t.Logf("%s = %.3f (want %.3f ± %.3f)", what, got, want, tol)
	}
}

// TestShares checks the drawn population against the assumptions of
// model.go on 60,000 persons.
func TestShares(t *testing.T) {
	w := testWorld(t)
	const persons = 60_000
	chunks, pg, _ := draw(t, w, persons, 2000, 7)
	today := w.today

	var (
		households, assessed, needs, aided, referred int
		belowLine, personsSeen                       int
		householdOf                                  = map[int64]int{} // household → size
		primary                                      = map[string]int{}
		sizeHist                                     [7]int
		ages                                         = map[string][]int{}
		categories                                   = map[string]int{}
		severities                                   [6]int
		waits                                        []int
		needsOf                                      = map[int64]int{}
		twoGroups                                    int
	)
	income := map[int64]int64{}
	for _, c := range chunks {
		households += len(c.households)
		for _, h := range c.households {
			income[h[0].(int64)] = h[3].(int64)
		}
		for _, p := range c.persons {
			householdOf[p[1].(int64)]++
		}
		personsSeen += len(c.persons)
		groupsOf := map[int64][]string{}
		for _, m := range c.memberships {
			groupsOf[m[1].(int64)] = append(groupsOf[m[1].(int64)], m[2].(string))
		}
		for _, p := range c.persons {
			gs := groupsOf[p[0].(int64)]
			if len(gs) == 0 || len(gs) > 2 {
				t.Fatalf("person with groups %v", gs)
			}
			if len(gs) == 2 {
				twoGroups++
			}
			primary[gs[0]]++
			age := (&casework.Person{BirthDate: aidhub.Date{Time: p[6].(time.Time)}}).Age(today)
			ages[gs[0]] = append(ages[gs[0]], age)
		}
		assessed += len(c.assessments)
		needs += len(c.needs)
		for _, n := range c.needs {
			needsOf[n[1].(int64)]++
			categories[n[4].(string)]++
			severities[n[6].(int64)]++
			opened := n[7].(time.Time)
			waits = append(waits, int(today.Sub(opened).Hours()/24))
		}
		aided += len(c.aid)
		referred += len(c.referrals)
		for _, a := range c.aid {
			start, end := a[10].(time.Time), a[11].(time.Time)
			if end.Before(start) || end.After(today.Time) || today.Sub(start) > 366*24*time.Hour {
				t.Fatalf("aid period %s–%s", start, end)
			}
		}
	}
	for id, size := range householdOf {
		sizeHist[size]++
		if float64(income[id])/float64(size) < dibaoLineFen {
			belowLine += size
		}
	}
	if personsSeen != persons || pg.made != persons {
		t.Fatalf("%d persons drawn, want %d", personsSeen, persons)
	}

	for _, k := range kindSpecs {
		tol := 0.012
		if k.share < 5 {
			tol = 0.006
		}
		within(t, "share of "+k.group, float64(primary[k.group])/persons, k.share/100, tol)
	}
	within(t, "persons in two groups", float64(twoGroups)/persons, secondGroupShare, 0.02)
	within(t, "mean household size", float64(persons)/float64(households), 2.2, 0.1)
	if sizeHist[0] != 0 || len(householdOf) != households {
		t.Errorf("household sizes %v", sizeHist)
	}
	for s := 1; s <= 6; s++ {
		if sizeHist[s] == 0 {
			t.Errorf("no household of %d", s)
		}
	}
	within(t, "assessed households", float64(assessed)/float64(households), assessedShare, 0.02)
	within(t, "needs per assessed household", float64(needs)/float64(assessed), 1.6, 0.1)
	for a, n := range needsOf {
		if n < 1 || n > 3 {
			t.Fatalf("assessment %d has %d needs", a, n)
		}
	}
	within(t, "aid records per need", float64(aided)/float64(needs), aidedShare, 0.02)
	within(t, "referrals per need", float64(referred)/float64(needs), referredShare*0.9*0.75*0.85, 0.003)
	if referred == 0 {
		t.Error("no referrals")
	}
	within(t, "persons below the 低保 line", float64(belowLine)/persons, 0.6, 0.1)

	// categories: basic living, medical and education most common
	roots := map[string]int{}
	for c, n := range categories {
		roots[w.catRoot[c]] += n
	}
	var order []string
	for r := range roots {
		order = append(order, r)
	}
	slices.SortFunc(order, func(a, b string) int { return roots[b] - roots[a] })
	if top := order[:3]; !slices.Contains(top, "BASIC_LIVING") || !slices.Contains(top, "MEDICAL") || !slices.Contains(top, "EDUCATION") {
		t.Errorf("the commonest needs are %v (%v)", top, roots)
	} else {
		t.Logf("needs by category root: %v", roots)
	}
	for s := 1; s <= 5; s++ {
		if severities[s] == 0 {
			t.Errorf("no need of severity %d", s)
		}
	}
	colours := [5]int{}
	for _, d := range waits {
		if d < 1 || d >= 180 {
			t.Fatalf("a need waits %d days", d)
		}
		switch {
		case d < 7:
			colours[0]++
		case d < 14:
			colours[1]++
		case d < 30:
			colours[2]++
		case d < 60:
			colours[3]++
		default:
			colours[4]++
		}
	}
	for i, n := range colours {
		if n < needs/20 {
			t.Errorf("watchlist colour %d has only %d of %d needs", i, n, needs)
		}
	}

	// ages by group
	share := func(g string, f func(int) bool) float64 {
		n := 0
		for _, a := range ages[g] {
			if f(a) {
				n++
			}
		}
		return float64(n) / float64(max(len(ages[g]), 1))
	}
	if x := share("TEKUN", func(a int) bool { return a >= 60 }); x < 0.8 {
		t.Errorf("TEKUN 60 and over: %.2f", x)
	}
	for _, g := range []string{"ORPHAN", "UNATTENDED_CHILD", "DISTRESSED_CHILD"} {
		if x := share(g, func(a int) bool { return a < 18 }); x != 1 {
			t.Errorf("%s under 18: %.2f", g, x)
		}
	}
	if x := share("LEFT_BEHIND_ELDERLY", func(a int) bool { return a >= 60 }); x != 1 {
		t.Errorf("LEFT_BEHIND_ELDERLY 60 and over: %.2f", x)
	}
}

// TestResourceShares checks the drawn resources.
func TestResourceShares(t *testing.T) {
	w := testWorld(t)
	rr := rand.New(rand.NewPCG(9, 1))
	orgs := genOrganizations(w, rr, 200, 1, map[string]bool{})
	names := map[string]bool{}
	kinds := map[catalog.OrgKind]int{}
	for _, o := range orgs {
		if names[o.name] {
			t.Fatalf("organization name %s twice", o.name)
		}
		names[o.name] = true
		kinds[o.kind]++
	}
	if kinds[catalog.KindGovernment] != 20 || kinds[catalog.KindCharity] == 0 || kinds[catalog.KindSocialOrganization] == 0 {
		t.Errorf("organization kinds %v", kinds)
	}
	rg := newResourceGen(w, rr, orgs, 1)
	const n = 20_000
	var district, street, city, ages, ceilings, rules, expired, future, open int
	groupCounts := [4]int{}
	for range n {
		r, items, groups, coverage := rg.next()
		if len(items) < 1 || len(items) > 3 || len(groups) > 3 || len(coverage) == 0 {
			t.Fatalf("resource with %d items, %d groups, %d coverage", len(items), len(groups), len(coverage))
		}
		groupCounts[len(groups)]++
		switch len(coverage[0][1].(string)) {
		case 2:
			city++
		case 6:
			district++
		case 9:
			street++
		}
		if r[5] != nil || r[6] != nil {
			ages++
		}
		if r[7] != nil {
			ceilings++
		}
		if r[18] != "" {
			rules++
		}
		from := r[12].(time.Time)
		switch until, _ := r[13].(time.Time); {
		case r[13] == nil:
			open++
		case until.Before(w.today.Time):
			expired++
		case from.After(w.today.Time):
			future++
		}
		if u, tk := r[8].(int64), r[9].(int64); u < 10 || u > 1000 || tk < 0 || tk > u {
			t.Fatalf("capacity %d, taken %d", u, tk)
		}
	}
	within(t, "district coverage", float64(district)/n, 0.6, 0.02)
	within(t, "street coverage", float64(street)/n, 0.3, 0.02)
	within(t, "city coverage", float64(city)/n, 0.1, 0.01)
	within(t, "age ranges", float64(ages)/n, 0.25, 0.02)
	within(t, "income ceilings", float64(ceilings)/n, 0.3, 0.02)
	within(t, "rules", float64(rules)/n, ruleShare, 0.01)
	within(t, "expired", float64(expired)/n, 0.08, 0.01)
	within(t, "not started", float64(future)/n, 0.04, 0.01)
	within(t, "open-ended", float64(open)/n, 0.10, 0.015)
	for k, c := range groupCounts {
		if c == 0 {
			t.Errorf("no resource with %d groups", k)
		}
	}
}

// TestDrawIsDeterministic draws twice with one seed and once with another.
func TestDrawIsDeterministic(t *testing.T) {
	w := testWorld(t)
	a, _, ra := draw(t, w, 12_000, 500, 1)
	b, _, rb := draw(t, w, 12_000, 500, 1)
	c, _, _ := draw(t, w, 12_000, 500, 2)
	if !reflect.DeepEqual(ra, rb) {
		t.Error("resources differ with the same seed")
	}
	if len(a) != len(b) {
		t.Fatal("chunks differ with the same seed")
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("chunk %d differs with the same seed", i)
		}
	}
	if reflect.DeepEqual(a[0].persons, c[0].persons) {
		t.Error("another seed draws the same persons")
	}
}

// TestOnlyTheDateCounts draws at the first and the last minute of one
// day in China: the same rows.
func TestOnlyTheDateCounts(t *testing.T) {
	w := testWorld(t)
	cst := time.FixedZone("CST", 8*3600)
	early, err := newWorld(w.cat, w.dir, time.Date(2026, 11, 28, 0, 0, 30, 0, cst))
	if err != nil {
		t.Fatal(err)
	}
	late, err := newWorld(w.cat, w.dir, time.Date(2026, 11, 28, 23, 59, 0, 0, cst).UTC())
	if err != nil {
		t.Fatal(err)
	}
	a, _, ra := draw(t, early, 5000, 300, 3)
	b, _, rb := draw(t, late, 5000, 300, 3)
	if !reflect.DeepEqual(ra, rb) || !reflect.DeepEqual(a, b) {
		t.Error("the rows depend on the time of day")
	}
	next, err := newWorld(w.cat, w.dir, time.Date(2026, 11, 29, 0, 0, 30, 0, cst))
	if err != nil {
		t.Fatal(err)
	}
	if c, _, _ := draw(t, next, 5000, 300, 3); reflect.DeepEqual(a, c) {
		t.Error("the next day gives the same rows")
	}
}

// TestResidentIDsAtScale draws a district's worth of people born on few
// days and checks that the sequence codes keep them apart.
func TestResidentIDsAtScale(t *testing.T) {
	w := testWorld(t)
	pg := newPopGen(w, rand.New(rand.NewPCG(1, 2)), 0, nil, nil)
	seen := map[string]bool{}
	birth := time.Date(1960, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 600 {
		m := &member{birth: birth, female: i%2 == 0}
		id, err := pg.residentID(0, m)
		if err != nil {
			t.Fatalf("person %d: %v", i, err)
		}
		if seen[string(id)] || id.Female() != m.female || !id.BirthDate().Equal(birth) || id.Region() != w.districts[0] {
			t.Fatalf("person %d: %s", i, id.Mask(0))
		}
		seen[string(id)] = true
	}
	// the sequence space of one sex, date and district is finite
	for range 400 {
		if _, err := pg.residentID(0, &member{birth: birth}); err != nil {
			return
		}
	}
	t.Error("more than 500 men born on one day in one district got numbers")
}
