package matching_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/matching"
)

func TestWeights_Validate(t *testing.T) {
	if err := matching.DefaultWeights().Validate(); err != nil {
		t.Fatalf("default weights: %v", err)
	}
	// Every weight zero leaves no scale: a score out of 100 of nothing.
	if err := (matching.Weights{}).Validate(); err == nil || !strings.Contains(err.Error(), "at least one must be above zero") {
		t.Fatalf("zero weights: %v", err)
	}
	if err := (matching.Weights{Waiting: 1}).Validate(); err != nil {
		t.Fatalf("one weight: %v", err)
	}
	for _, tc := range []struct {
		name string
		set  func(*matching.Weights)
		want string
	}{
		{"NegativeSeverity", func(w *matching.Weights) { w.Severity = -1 }, "weight severity is -1"},
		{"NaNDistance", func(w *matching.Weights) { w.Distance = math.NaN() }, "weight distance is NaN"},
		{"PlusInfScarcity", func(w *matching.Weights) { w.Scarcity = math.Inf(1) }, "weight scarcity is +Inf"},
		{"MinusInfWaiting", func(w *matching.Weights) { w.Waiting = math.Inf(-1) }, "weight waiting is -Inf"},
		{"NegativeZeroIsFine", func(w *matching.Weights) { w.Priority = math.Copysign(0, -1) }, ""},
		{"TinyNegativeEntitlement", func(w *matching.Weights) { w.Entitlement = -1e-300 }, "weight entitlement is -1e-300"},
		{"NegativeItemFit", func(w *matching.Weights) { w.ItemFit = -0.5 }, "weight itemFit is -0.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := matching.DefaultWeights()
			tc.set(&w)
			err := w.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if _, err := matching.NewEngine(testCatalog(t), w, aidhub.DefaultColours()); err == nil {
				t.Fatal("NewEngine took the weights")
			}
		})
	}
}

func TestColours_Validate(t *testing.T) {
	if err := aidhub.DefaultColours().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    aidhub.Colours
		want string
	}{
		{aidhub.Colours{Blue: 0, Yellow: 14, Orange: 30, Red: 60}, "blue is 0 days"},
		{aidhub.Colours{Blue: -7, Yellow: 14, Orange: 30, Red: 60}, "blue is -7 days"},
		{aidhub.Colours{Blue: 7, Yellow: 7, Orange: 30, Red: 60}, "yellow is 7 days; it must be more than blue"},
		{aidhub.Colours{Blue: 7, Yellow: 14, Orange: 10, Red: 60}, "orange is 10 days"},
		{aidhub.Colours{Blue: 7, Yellow: 14, Orange: 30, Red: 30}, "red is 30 days"},
	} {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.c, err, tc.want)
		}
		if _, err := matching.NewEngine(testCatalog(t), matching.DefaultWeights(), tc.c); err == nil {
			t.Errorf("%+v: NewEngine took the thresholds", tc.c)
		}
	}
}

func TestColours_Of(t *testing.T) {
	c := aidhub.DefaultColours()
	for _, tc := range []struct {
		days int
		want aidhub.Colour
	}{
		{0, aidhub.Green}, {6, aidhub.Green}, {7, aidhub.Blue}, {13, aidhub.Blue}, {14, aidhub.Yellow},
		{29, aidhub.Yellow}, {30, aidhub.Orange}, {59, aidhub.Orange}, {60, aidhub.Red}, {10000, aidhub.Red},
	} {
		if got := c.Of(tc.days); got != tc.want {
			t.Errorf("%d days: %s, want %s", tc.days, got, tc.want)
		}
	}
	names := []string{}
	for col := aidhub.Green; col <= aidhub.Red; col++ {
		names = append(names, col.String())
		var back aidhub.Colour
		if err := back.UnmarshalText([]byte(col.String())); err != nil || back != col {
			t.Errorf("%s does not read back: %v %v", col, back, err)
		}
	}
	if got := strings.Join(names, " "); got != "GREEN BLUE YELLOW ORANGE RED" {
		t.Errorf("names %q", got)
	}
}

func TestDay(t *testing.T) {
	if d := aidhub.DayOf(time.Date(2000, 1, 1, 23, 59, 0, 0, time.UTC)); d != 0 {
		t.Errorf("2000-01-01 is day %d", d)
	}
	sh := time.FixedZone("CST", 8*3600)
	// 2026-03-15 01:00 in Chongqing is still 2026-03-14 in UTC; the day
	// is the calendar day where the time was taken.
	d := aidhub.DayOf(time.Date(2026, 3, 15, 1, 0, 0, 0, sh))
	if d.String() != "2026-03-15" {
		t.Errorf("got %s", d)
	}
	if p, err := aidhub.ParseDay("2026-03-15"); err != nil || p != d || p.Time() != time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC) {
		t.Errorf("parse: %v %v", p, err)
	}
	if d := aidhub.DayOf(time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)); d != -1 {
		t.Errorf("1999-12-31 is day %d", d)
	}
	if _, err := aidhub.ParseDay("15/03/2026"); err == nil {
		t.Error("parsed a bad date")
	}
}

func TestCatalog_BlockedUntil(t *testing.T) {
	cat := testCatalog(t)
	d := func(s string) aidhub.Day {
		v, err := aidhub.ParseDay(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// BASIC_LIVING has a 30-day window: a one-day grant on 03-01 covers to
	// 03-30; a three-month allowance covers its period.
	if got := cat.BlockedUntil("BASIC_LIVING", []aidhub.Aid{{Category: "BASIC_LIVING", Start: d("2026-03-01"), End: d("2026-03-01")}}); got != d("2026-03-30") {
		t.Errorf("one-off grant: %s", got)
	}
	if got := cat.BlockedUntil("BASIC_LIVING", []aidhub.Aid{{Category: "BASIC_LIVING", Start: d("2026-01-01"), End: d("2026-03-31")}, {Category: "BASIC_LIVING", Start: d("2026-02-01"), End: d("2026-02-01")}}); got != d("2026-03-31") {
		t.Errorf("allowance: %s", got)
	}
	if got := cat.BlockedUntil("LEGAL", []aidhub.Aid{{Category: "LEGAL", Start: d("2026-03-01"), End: d("2026-03-01")}}); got != 0 {
		t.Errorf("no rule: %s", got)
	}
	// The category tree: aid in a sub-category meets the need above it,
	// not the other way round, and aid in another category meets nothing.
	inpatient := aidhub.Aid{Category: "MEDICAL_INPATIENT", Start: d("2026-03-01"), End: d("2026-03-01")}
	escort := aidhub.Aid{Category: "MEDICAL", Start: d("2026-03-01"), End: d("2026-03-01")}
	if got := cat.BlockedUntil("MEDICAL", []aidhub.Aid{inpatient}); got != d("2026-05-29") {
		t.Errorf("inpatient aid for a MEDICAL need: %s, want 2026-05-29", got)
	}
	if got := cat.BlockedUntil("MEDICAL_INPATIENT", []aidhub.Aid{escort}); got != 0 {
		t.Errorf("MEDICAL aid for an inpatient need: %s, want none", got)
	}
	if got := cat.BlockedUntil("MEDICAL", []aidhub.Aid{{Category: "BASIC_LIVING", Start: d("2026-03-01"), End: d("2026-03-01")}}); got != 0 {
		t.Errorf("BASIC_LIVING aid for a MEDICAL need: %s, want none", got)
	}
	if a, until, ok := cat.BlockingAid("MEDICAL", []aidhub.Aid{escort, inpatient}); !ok || until != d("2026-05-29") || a != escort {
		t.Errorf("BlockingAid: %v %s %v, want the first of two that block as long", a, until, ok)
	}
	if got := cat.BlockedUntil("NO_SUCH", nil); got != 0 {
		t.Errorf("unknown: %s", got)
	}
	// The need is blocked on the last covered day and free the day after.
	e := newEngine(t, cat, matching.Resource{ID: 1, Items: []string{"MEAL_ASSISTANCE"}, Coverage: []string{"50"}})
	n := &matching.Need{ID: 1, Region: "500103001003", Category: "BASIC_LIVING", Severity: 3, Age: 40,
		BlockedUntil: cat.BlockedUntil("BASIC_LIVING", []aidhub.Aid{{Category: "BASIC_LIVING", Start: d("2026-03-01"), End: d("2026-03-01")}})}
	if ms := e.Match(n, d("2026-03-30"), 5); len(ms) != 0 {
		t.Errorf("matched on the last covered day: %v", ms)
	}
	if ms := e.Match(n, d("2026-03-31"), 5); len(ms) != 1 {
		t.Errorf("not matched the day after: %v", ms)
	}
}

func TestEngine_SetResourcesRefuses(t *testing.T) {
	cat := testCatalog(t)
	e := newEngine(t, cat, matching.Resource{ID: 1, Items: []string{"MEAL_ASSISTANCE"}, Coverage: []string{"500103"}})
	ok := matching.Resource{ID: 2, Items: []string{"MEAL_ASSISTANCE"}, Coverage: []string{"500103"}}
	for _, tc := range []struct {
		name string
		set  func(*matching.Resource)
		want string
	}{
		{"RuleSyntax", func(r *matching.Resource) { r.Rule = "age >= " }, "resource 2: rule does not compile"},
		{"RuleUnknownName", func(r *matching.Resource) { r.Rule = "agee >= 60" }, "resource 2: rule does not compile: unknown name agee"},
		{"RuleNotBool", func(r *matching.Resource) { r.Rule = "age + 1" }, "resource 2: rule does not compile"},
		{"RuleTypes", func(r *matching.Resource) { r.Rule = `age > "60"` }, "resource 2: rule does not compile"},
		{"UnknownItem", func(r *matching.Resource) { r.Items = []string{"NOPE"} }, `resource 2: offers unknown item "NOPE"`},
		{"UnknownGroup", func(r *matching.Resource) { r.Groups = []string{"NOPE"} }, `resource 2: is for unknown group "NOPE"`},
		{"Coverage", func(r *matching.Resource) { r.Coverage = []string{"50a"} }, "resource 2: coverage"},
		{"CoverageLong", func(r *matching.Resource) { r.Coverage = []string{"5001030010031"} }, "more than 12 digits"},
		{"Ages", func(r *matching.Resource) { r.AgeMin, r.AgeMax = ptr(70), ptr(60) }, "ageMin 70 is above ageMax 60"},
		{"Window", func(r *matching.Resource) { r.ValidFrom, r.ValidUntil = ptr(aidhub.Day(10)), ptr(aidhub.Day(9)) }, "validFrom"},
		{"Region", func(r *matching.Resource) { r.Region = "Chongqing" }, "resource 2: region"},
		{"NoID", func(r *matching.Resource) { r.ID = 0 }, "has no ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.set(&r)
			err := e.SetResources([]matching.Resource{ok, r})
			if r.ID == 0 {
				err = e.SetResources([]matching.Resource{r})
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("SetResources: got %v, want %q", err, tc.want)
			}
			if err := e.Upsert(r); err == nil {
				t.Fatal("Upsert took it")
			}
			// Nothing changed: resource 1 is still there, 2 is not.
			if _, ok := e.Resource(1); !ok || e.Len() != 1 {
				t.Fatalf("the engine changed: %d resources", e.Len())
			}
		})
	}
	if err := e.SetResources([]matching.Resource{ok, ok}); err == nil || !strings.Contains(err.Error(), "resource 2 is listed twice") {
		t.Fatalf("duplicate ID: %v", err)
	}
	if err := matching.CheckRule(`age >= 60 && "DIBAO" in groups`); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestEngine_UpsertRemove(t *testing.T) {
	cat := testCatalog(t)
	e := newEngine(t, cat)
	n := &matching.Need{ID: 1, Region: "500103001003", Category: "BASIC_LIVING", Severity: 3, Age: 40, Groups: []string{"DIBAO"}}
	r := matching.Resource{ID: 5, Items: []string{"MEAL_ASSISTANCE"}, Coverage: []string{"500103"}}
	if err := e.Upsert(r); err != nil {
		t.Fatal(err)
	}
	if ms := e.Match(n, 9000, 3); len(ms) != 1 {
		t.Fatalf("after upsert: %v", ms)
	}
	// Moving the resource to another district takes it away from the need.
	r.Coverage = []string{"500105"}
	if err := e.Upsert(r); err != nil {
		t.Fatal(err)
	}
	if ms := e.Match(n, 9000, 3); len(ms) != 0 {
		t.Fatalf("after moving: %v", ms)
	}
	if ok, fs := e.WhyNot(n, 5, 9000); ok || len(fs) != 1 || fs[0].Filter != matching.FilterCoverage {
		t.Fatalf("why not: %v %v", ok, fs)
	}
	// The caller's slices are copied: changing them later changes nothing.
	r.Coverage[0] = "500103"
	if ms := e.Match(n, 9000, 3); len(ms) != 0 {
		t.Fatalf("the engine shares the caller's slice: %v", ms)
	}
	e.Remove(5)
	e.Remove(5)
	if ok, fs := e.WhyNot(n, 5, 9000); ok || len(fs) != 1 || fs[0].Filter != matching.FilterResource {
		t.Fatalf("removed: %v %v", ok, fs)
	}
	if e.Len() != 0 {
		t.Fatalf("%d resources left", e.Len())
	}
}

// TestEngine_Consistency checks on random data that Match agrees with
// WhyNot on every pair, that a small limit keeps the head of the full
// ranking, that MatchResource and Sweep agree with Match, and that
// NeedIndex.Remove takes needs out.
func TestEngine_Consistency(t *testing.T) {
	cat, spec := defaultCatalog(t)
	rng := rand.New(rand.NewPCG(5, 6))
	villages := sampleVillages(100, rng)
	today, _ := aidhub.ParseDay("2026-03-15")
	rs := genResources(spec, villages, 1000, today, rng)
	e, err := matching.NewEngine(cat, matching.DefaultWeights(), aidhub.DefaultColours())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetResources(rs); err != nil {
		t.Fatal(err)
	}
	pop := matching.NewPopulation(cat)
	gen := newPersonGen(spec, villages, 1200, today, rng)
	var needs []matching.Need
	for len(needs) < 1500 {
		needs = append(needs, gen.next()...)
	}
	for i := range needs {
		if _, err := pop.AddNeed(&needs[i]); err != nil {
			t.Fatal(err)
		}
	}
	ix := matching.NewNeedIndex(pop)
	full := make([][]matching.Match, len(needs))
	pairs := map[[2]int64]float64{}
	matched := 0
	for i := range needs {
		n := &needs[i]
		full[i] = e.Match(n, today, 1000)
		checkMatches(t, n.ID, full[i])
		if len(full[i]) > 0 {
			matched++
		}
		if head := e.Match(n, today, 3); !slices.EqualFunc(head, full[i][:min(3, len(full[i]))], sameMatch) {
			t.Fatalf("need %d: limit 3 gives %v, the full ranking starts %v", n.ID, head, full[i][:min(3, len(full[i]))])
		}
		for _, m := range full[i] {
			pairs[[2]int64{n.ID, m.ResourceID}] = m.Score
		}
		if i%10 == 0 { // WhyNot on every resource is slow; a tenth of the needs is plenty
			for _, r := range rs {
				ok, fs := e.WhyNot(n, r.ID, today)
				_, in := pairs[[2]int64{n.ID, r.ID}]
				if ok != in || ok != (len(fs) == 0) {
					t.Fatalf("need %d, resource %d: WhyNot %v %v, Match lists it: %v", n.ID, r.ID, ok, fs, in)
				}
			}
		}
	}
	if matched < len(needs)/4 {
		t.Fatalf("only %d of %d needs matched: the generator is too strict to test anything", matched, len(needs))
	}
	found := 0
	for _, r := range rs {
		nms := e.MatchResource(r.ID, ix, today, 100000)
		for _, nm := range nms {
			s, ok := pairs[[2]int64{nm.NeedID, r.ID}]
			if !ok || s != nm.Score {
				t.Fatalf("resource %d, need %d: MatchResource scores %v, Match %v (listed: %v)", r.ID, nm.NeedID, nm.Score, s, ok)
			}
			checkFactors(t, nm.NeedID, r.ID, nm.Score, nm.Factors)
		}
		found += len(nms)
		if head := e.MatchResource(r.ID, ix, today, 2); len(nms) > 0 && !slices.EqualFunc(head, nms[:min(2, len(nms))], func(a, b matching.NeedMatch) bool {
			return a.NeedID == b.NeedID && a.Score == b.Score
		}) {
			t.Fatalf("resource %d: limit 2 gives %v", r.ID, head)
		}
	}
	if found != len(pairs) {
		t.Fatalf("MatchResource found %d pairs, Match %d", found, len(pairs))
	}
	st, err := e.Sweep(pop, today, 3, func(i int, m *matching.Match, c aidhub.Colour) {
		want := full[i]
		if (m == nil) != (len(want) == 0) || m != nil && !sameMatch(*m, want[0]) {
			t.Errorf("need %d: sweep %v, match %v", needs[i].ID, m, want)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Needs != len(needs) || st.Matched != matched {
		t.Fatalf("sweep stats %d needs %d matched, want %d %d", st.Needs, st.Matched, len(needs), matched)
	}
	// Closing needs takes them out of MatchResource and the sweep.
	for i := 0; i < len(needs); i += 2 {
		ix.Remove(i)
	}
	for _, r := range rs[:50] {
		for _, nm := range e.MatchResource(r.ID, ix, today, 100000) {
			if nm.Index%2 == 0 {
				t.Fatalf("resource %d matches closed need %d", r.ID, nm.NeedID)
			}
		}
	}
	st2, _ := e.Sweep(pop, today, 2, nil)
	if st2.Needs != len(needs)/2 {
		t.Fatalf("after closing half: %d needs", st2.Needs)
	}
}

func sameMatch(a, b matching.Match) bool {
	return a.ResourceID == b.ResourceID && a.Score == b.Score && slices.Equal(a.Factors, b.Factors)
}

func TestMatch_Allocations(t *testing.T) {
	cat, spec := defaultCatalog(t)
	rng := rand.New(rand.NewPCG(1, 2))
	villages := sampleVillages(200, rng)
	today, _ := aidhub.ParseDay("2026-03-15")
	e, _ := matching.NewEngine(cat, matching.DefaultWeights(), aidhub.DefaultColours())
	if err := e.SetResources(genResources(spec, villages, 2000, today, rng)); err != nil {
		t.Fatal(err)
	}
	gen := newPersonGen(spec, villages, 1000, today, rng)
	var n matching.Need
	for {
		ns := gen.next()
		if ms := e.Match(&ns[0], today, 10); len(ms) > 0 {
			n = ns[0]
			break
		}
	}
	allocs := testing.AllocsPerRun(100, func() { e.Match(&n, today, 10) })
	if allocs > 2 {
		t.Errorf("Match allocates %.0f times; want the result and its factors only", allocs)
	}
}

// TestEngine_Concurrent matches, explains and sweeps while resources
// change (run with -race).
func TestEngine_Concurrent(t *testing.T) {
	cat, spec := defaultCatalog(t)
	rng := rand.New(rand.NewPCG(7, 8))
	villages := sampleVillages(50, rng)
	today, _ := aidhub.ParseDay("2026-03-15")
	rs := genResources(spec, villages, 300, today, rng)
	e := newEngine(t, cat, rs...)
	pop := matching.NewPopulation(cat)
	gen := newPersonGen(spec, villages, 300, today, rng)
	var needs []matching.Need
	for len(needs) < 300 {
		needs = append(needs, gen.next()...)
	}
	for i := range needs {
		if _, err := pop.AddNeed(&needs[i]); err != nil {
			t.Fatal(err)
		}
	}
	ix := matching.NewNeedIndex(pop)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := range 200 {
			r := rs[k%len(rs)]
			if k%3 == 0 {
				e.Remove(r.ID)
			} else if err := e.Upsert(r); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for k := 0; ; k++ {
		select {
		case <-done:
			return
		default:
		}
		n := &needs[k%len(needs)]
		for _, m := range e.Match(n, today, 5) {
			e.WhyNot(n, m.ResourceID, today)
		}
		e.MatchResource(rs[k%len(rs)].ID, ix, today, 5)
		if k%50 == 0 {
			if _, err := e.Sweep(pop, today, 2, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}
