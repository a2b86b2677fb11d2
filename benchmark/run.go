// Package benchmark measures the matching engine on the data in a store,
// side by side with two baselines a team would otherwise pick, in the same
// run and on the same data: a set-based SQL matcher in PostgreSQL and one
// Meilisearch query per need. It checks that all three return the same top
// match on a sample, and times re-matching a published resource against
// every open need. `aidhub bench match` runs it.
//
// Resources with an eligibility rule (an expr expression over the need)
// are left out of both baselines, which cannot evaluate one, and out of
// the comparison: the engine that is compared runs on the resources
// without a rule. The engine's own timings are on every resource.
package benchmark

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/matching"
)

// Options say what to run.
type Options struct {
	// Workers is the sweep's workers (GOMAXPROCS when ≤ 0).
	Workers int
	// Runs is how many times the engine's sweep, the SQL matcher and the
	// Meilisearch queries are timed (at least 1).
	Runs int
	// Prefixes narrow the SQL matcher's sample, and the Meilisearch and
	// comparison samples drawn from it, to the needs of households whose
	// region starts with one of them (e.g. three district codes); empty:
	// every open need.
	Prefixes []string
	// SQLFull runs the SQL matcher once more over every open need.
	SQLFull bool
	// WorkMem is the SQL matcher's work_mem ("" leaves the server's).
	WorkMem string
	// JIT leaves PostgreSQL's JIT compilation on for the SQL matcher. It
	// is off by default: on this statement it costs seconds per run.
	JIT bool
	// MeiliBin starts that Meilisearch binary for the run; MeiliURL and
	// MeiliKey use a running one instead. Neither: no Meilisearch baseline.
	MeiliBin, MeiliURL, MeiliKey string
	// MeiliIndex names the index the baseline creates (and drops after).
	MeiliIndex string
	// MeiliSample is how many needs of the sample get one query each.
	MeiliSample int
	// MeiliWorkers is how many queries run at once (default 2).
	MeiliWorkers int
	// Rematch is how many resources of each kind (city-wide, district,
	// street or village) the publish re-match is timed for.
	Rematch int
	// ServiceRematch also times matchsvc.RematchResource, the hub's own
	// path (store read, engine upsert, ranking); it loads the matcher's
	// engine and need index first.
	ServiceRematch bool
	// AllowNoComparison lets a run in which nothing could be compared
	// (no PostgreSQL for the SQL matcher and no Meilisearch, or no open
	// need in the sample) succeed; otherwise it fails with
	// ErrNothingCompared, so that "0 mismatches" is never mistaken for
	// agreement.
	AllowNoComparison bool
	// Out receives the report as it goes.
	Out io.Writer
}

// Summary is what the run found, for callers that check it.
type Summary struct {
	OpenNeeds, SampleNeeds, MeiliNeeds int
	EngineNsPerNeed                    float64 // slowest sweep, all resources
	PlainNsPerNeed                     float64 // sweep on resources without a rule
	SQLNsPerNeed                       float64 // slowest run over the sample
	MeiliNsPerNeed                     float64 // slowest run over its sample
	Compared                           map[string]int
	Mismatches                         []Mismatch
	RematchMax                         time.Duration
}

// ErrMismatch is returned when the matchers disagree on some need.
var ErrMismatch = errors.New("benchmark: the matchers disagree on some needs")

// ErrNothingCompared is returned when no baseline could be compared with
// the engine, unless Options.AllowNoComparison.
var ErrNothingCompared = errors.New("benchmark: nothing was compared with the engine")

// Run runs the benchmark on the hub's store. The hub's clock sets the day.
func Run(ctx context.Context, h *hub.Hub, o Options) (*Summary, error) {
	o = o.withDefaults()
	r := &runner{h: h, o: o, p: printer(o.Out), sum: &Summary{Compared: map[string]int{}}, today: h.Matcher.Today()}
	persons, err := r.describeStore(ctx)
	if err != nil {
		return nil, err
	}

	// 1. The engine, loaded from the store as the hub loads it.
	engine, ix, perPerson, err := r.loadEngine(ctx, persons)
	if err != nil {
		return nil, err
	}
	if r.sum.EngineNsPerNeed, err = r.sweep(engine, "sweep", o.Runs); err != nil {
		return nil, err
	}
	resources, err := r.sweepPlain(ctx, engine)
	if err != nil {
		return nil, err
	}
	sample, sampleIDs, engineSample := r.drawSample()

	// 2. The SQL matcher.
	sqlSample, err := r.sqlBaseline(ctx, engine, sample, sampleIDs, engineSample)
	if err != nil {
		return nil, err
	}

	// 3. One Meilisearch query per need.
	r.p("\n## Meilisearch, one query per need (resources without a rule)")
	if o.MeiliBin == "" && o.MeiliURL == "" {
		r.p("skipped: no Meilisearch given")
	} else if err := runMeili(ctx, h, o, r.p, r.sum, resources, r.pop, sample, r.today, engineSample, sqlSample, r.report); err != nil {
		return nil, err
	}

	// 4. Publishing one resource: re-matching it against every open need.
	r.p("\n## publish re-match: one resource against every open need (fifty best)")
	if err := rematch(ctx, h, o, r.p, r.sum, engine, ix, resources, r.today); err != nil {
		return nil, err
	}
	return r.summarize(perPerson)
}

// withDefaults fills in the options left at their zero value.
func (o Options) withDefaults() Options {
	if o.Runs < 1 {
		o.Runs = 1
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MeiliWorkers <= 0 {
		o.MeiliWorkers = 2
	}
	if o.MeiliIndex == "" {
		o.MeiliIndex = "bench_match"
	}
	return o
}

// printer writes one report line to out, or nowhere when out is nil.
func printer(out io.Writer) func(string, ...any) {
	if out == nil {
		out = io.Discard
	}
	return func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
}

// runner holds what the steps of one run share: the population loaded
// once, and the engine's best match for each of its needs, which every
// baseline is compared with.
type runner struct {
	h      *hub.Hub
	o      Options
	p      func(string, ...any)
	sum    *Summary
	today  aidhub.Day
	pop    *matching.Population
	best   []int64   // by population index; 0: no match
	scores []float64 // by population index
}

// describeStore prints the machine and the store's size, and returns the
// number of persons, which the engine's memory is measured against.
func (r *runner) describeStore(ctx context.Context) (persons int, err error) {
	host, _ := os.Hostname()
	r.p("bench match: %s, day %s; %s %s/%s on %s, %d CPUs, GOMAXPROCS %d; load average %s",
		r.h.DB.Where, r.today, runtime.Version(), runtime.GOOS, runtime.GOARCH, host, runtime.NumCPU(), runtime.GOMAXPROCS(0), LoadAverage())
	counts := map[string]string{
		"persons": "SELECT count(*) FROM persons", "households": "SELECT count(*) FROM households",
		"open needs":          "SELECT count(*) FROM needs WHERE status = 'OPEN'",
		"published resources": "SELECT count(*) FROM resources WHERE status = 'PUBLISHED'",
		"with a rule":         "SELECT count(*) FROM resources WHERE status = 'PUBLISHED' AND eligibility_rule <> ''",
	}
	n := map[string]int{}
	for _, k := range []string{"persons", "households", "open needs", "published resources", "with a rule"} {
		var v int
		if err := r.h.DB.NewRaw(counts[k]).Scan(ctx, &v); err != nil {
			return 0, err
		}
		n[k] = v
	}
	r.p("store: %d persons in %d households, %d open needs, %d published resources (%d with an eligibility rule)",
		n["persons"], n["households"], n["open needs"], n["published resources"], n["with a rule"])
	return n["persons"], nil
}

// loadEngine loads the engine, the population and the need index as the
// hub does, timing each and measuring the heap they take.
func (r *runner) loadEngine(ctx context.Context, persons int) (*matching.Engine, *matching.NeedIndex, float64, error) {
	r.p("\n## engine")
	heap0 := heapAfterGC()
	t := time.Now()
	engine, err := r.h.Matcher.LoadEngine(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	loadRes := time.Since(t)
	t = time.Now()
	pop, err := r.h.Matcher.LoadPopulation(ctx, engine.Catalog(), nil)
	if err != nil {
		return nil, nil, 0, err
	}
	loadNeeds := time.Since(t)
	t = time.Now()
	ix := matching.NewNeedIndex(pop)
	indexTime := time.Since(t)
	heap1 := heapAfterGC()
	r.pop = pop
	r.best = make([]int64, pop.Len())
	r.scores = make([]float64, pop.Len())
	r.sum.OpenNeeds = pop.Open()
	r.p("load: %d resources read and indexed in %s; %d open needs of %d people (subject rows) read in %s; need index built in %s",
		engine.Len(), round(loadRes), pop.Open(), pop.Persons(), round(loadNeeds), round(indexTime))
	mem := float64(heap1 - heap0)
	perPerson := mem / float64(max(persons, 1))
	r.p("engine memory (engine with its resources, population, need index; live heap after GC): %.1f MiB = %.0f bytes per person (%d persons), %.0f per open need",
		mem/(1<<20), perPerson, persons, mem/float64(max(pop.Open(), 1)))
	return engine, ix, perPerson, nil
}

// sweep matches every open need with e, runs times, keeping the last
// run's best matches, and returns the slowest run's ns per need.
func (r *runner) sweep(e *matching.Engine, label string, runs int) (float64, error) {
	slowest := 0.0
	for run := 1; run <= runs; run++ {
		cpu0, t0 := cpuTime(), time.Now()
		st, err := e.Sweep(r.pop, r.today, r.o.Workers, func(i int, m *matching.Match, _ aidhub.Colour) {
			if m != nil {
				r.best[i], r.scores[i] = m.ResourceID, m.Score
			} else {
				r.best[i], r.scores[i] = 0, 0
			}
		})
		if err != nil {
			return 0, err
		}
		wall, cpu := time.Since(t0), cpuTime()-cpu0
		per := float64(wall.Nanoseconds()) / float64(max(st.Needs, 1))
		slowest = max(slowest, per)
		r.p("%s %d: %d open needs (%d blocked by the duplicate rule), %d matched (%.1f %%); %s wall, %s CPU (%d workers); %.0f ns/need wall, %.0f ns/need CPU; %.1f index entries/need; load average %s",
			label, run, st.Needs, st.Blocked, st.Matched, 100*float64(st.Matched)/float64(max(st.Needs, 1)),
			round(wall), round(cpu), r.o.Workers, per, float64(cpu.Nanoseconds())/float64(max(st.Needs, 1)),
			float64(st.Candidates)/float64(max(st.Needs, 1)), LoadAverage())
	}
	return slowest, nil
}

// sweepPlain sweeps once more on the resources without a rule: what the
// baselines match against, and the answers they are compared with. It
// returns every resource, which the later steps index.
func (r *runner) sweepPlain(ctx context.Context, engine *matching.Engine) ([]matching.Resource, error) {
	resources, err := r.h.Matcher.LoadResources(ctx)
	if err != nil {
		return nil, err
	}
	var plain []matching.Resource
	for _, res := range resources {
		if strings.TrimSpace(res.Rule) == "" {
			plain = append(plain, res)
		}
	}
	engine2, err := matching.NewEngine(engine.Catalog(), engine.Weights(), engine.Colours())
	if err != nil {
		return nil, err
	}
	if err := engine2.SetResources(plain); err != nil {
		return nil, err
	}
	if r.sum.PlainNsPerNeed, err = r.sweep(engine2, fmt.Sprintf("sweep without rule resources (%d resources)", len(plain)), 1); err != nil {
		return nil, err
	}
	return resources, nil
}

// engineAnswer is the last sweep's answer for the need at population index i.
func (r *runner) engineAnswer(i int) Answer {
	if r.best[i] == 0 {
		return Answer{}
	}
	return Answer{Best: Best{ResourceID: r.best[i], Score: r.scores[i]}, Found: true}
}

// drawSample picks the open needs in the prefixes, in need-ID order, and
// returns their population indexes, their IDs and the engine's answers.
func (r *runner) drawSample() (sample []int, ids []int64, engineAnswers map[int64]Answer) {
	pop := r.pop
	for i := range pop.Len() {
		if pop.Closed(i) {
			continue
		}
		if len(r.o.Prefixes) == 0 || hasAnyPrefix(pop.Need(i).Region, r.o.Prefixes) {
			sample = append(sample, i)
		}
	}
	slices.SortFunc(sample, func(a, b int) int { return cmp.Compare(pop.ID(a), pop.ID(b)) })
	r.sum.SampleNeeds = len(sample)
	ids = make([]int64, len(sample))
	engineAnswers = make(map[int64]Answer, len(sample))
	for k, i := range sample {
		ids[k] = pop.ID(i)
		if a := r.engineAnswer(i); a.Found {
			engineAnswers[pop.ID(i)] = a
		}
	}
	scope := "every open need"
	if len(r.o.Prefixes) > 0 {
		scope = "the open needs of regions " + strings.Join(r.o.Prefixes, ", ")
	}
	r.p("sample: %s, %d needs (%.1f %% of the open needs)", scope, len(sample), 100*float64(len(sample))/float64(max(pop.Open(), 1)))
	return sample, ids, engineAnswers
}

// report records one comparison and prints its outcome, with the first
// twenty mismatches.
func (r *runner) report(what string, mm []Mismatch, compared int) {
	r.sum.Compared[what] += compared
	r.sum.Mismatches = append(r.sum.Mismatches, mm...)
	if len(mm) == 0 {
		r.p("check %s: the same top match (resource, score within %g) on all %d needs", what, ScoreTolerance, compared)
		return
	}
	r.p("check %s: %d of %d needs DIFFER:", what, len(mm), compared)
	for _, m := range mm[:min(len(mm), 20)] {
		r.p("  %s", m)
	}
}

// sqlBaseline times the SQL matcher on the sample, and on every open need
// when asked, and compares its answers with the engine's. It returns the
// first run's answers on the sample; nil when the store is not PostgreSQL.
func (r *runner) sqlBaseline(ctx context.Context, engine *matching.Engine, sample []int, sampleIDs []int64, engineSample map[int64]Answer) (map[int64]Answer, error) {
	var sqlSample map[int64]Answer
	r.p("\n## SQL matcher (PostgreSQL, one statement, resources without a rule)")
	if !r.h.DB.IsPostgres() {
		r.p("skipped: it is written for PostgreSQL and the store is %s", r.h.DB.Engine)
		return nil, nil
	}
	o, sum := r.o, r.sum
	sm := &SQLMatcher{DB: r.h.DB, Weights: engine.Weights(), WorkMem: o.WorkMem, JIT: o.JIT}
	r.p("settings: work_mem %s, jit %v (session only)", orDefault(o.WorkMem, "server default"), o.JIT)
	for run := 1; run <= o.Runs; run++ {
		res, err := sm.Run(ctx, r.today.String(), SQLScope{Prefixes: o.Prefixes})
		if err != nil {
			return nil, err
		}
		per := float64(res.Elapsed.Nanoseconds()) / float64(max(len(sample), 1))
		sum.SQLNsPerNeed = max(sum.SQLNsPerNeed, per)
		r.p("sql %d: %d needs, %d matched, in %s: %.1f µs/need; %.0f× the engine's sweep per need (%.0f× on the same resources); load average %s",
			run, len(sample), len(res.Best), round(res.Elapsed), per/1e3, per/sum.EngineNsPerNeed, per/sum.PlainNsPerNeed, LoadAverage())
		if run == 1 {
			sqlSample = answers(res.Best)
			r.report("engine = sql", Compare(sampleIDs, []string{"engine", "sql"}, engineSample, sqlSample), len(sampleIDs))
		}
	}
	if o.SQLFull {
		if err := r.sqlEveryNeed(ctx, sm); err != nil {
			return nil, err
		}
	}
	return sqlSample, nil
}

// sqlEveryNeed runs the SQL matcher once over every open need and compares
// it with the engine there too.
func (r *runner) sqlEveryNeed(ctx context.Context, sm *SQLMatcher) error {
	pop, sum := r.pop, r.sum
	res, err := sm.Run(ctx, r.today.String(), SQLScope{})
	if err != nil {
		return err
	}
	per := float64(res.Elapsed.Nanoseconds()) / float64(max(pop.Open(), 1))
	r.p("sql, every open need: %d needs, %d matched, in %s: %.1f µs/need; %.0f× the engine's sweep per need (%.0f× on the same resources); load average %s",
		pop.Open(), len(res.Best), round(res.Elapsed), per/1e3, per/sum.EngineNsPerNeed, per/sum.PlainNsPerNeed, LoadAverage())
	var ids []int64
	all := map[int64]Answer{}
	for i := range pop.Len() {
		if !pop.Closed(i) {
			ids = append(ids, pop.ID(i))
			if a := r.engineAnswer(i); a.Found {
				all[pop.ID(i)] = a
			}
		}
	}
	r.report("engine = sql, every open need", Compare(ids, []string{"engine", "sql"}, all, answers(res.Best)), len(ids))
	return nil
}

// summarize prints the summary against the targets and fails the run with
// ErrMismatch when any comparison disagreed.
func (r *runner) summarize(perPerson float64) (*Summary, error) {
	sum := r.sum
	r.p("\n## summary (day %s, load average %s)", r.today, LoadAverage())
	r.p("engine sweep: %.0f ns/need (slowest run); %.0f bytes per person", sum.EngineNsPerNeed, perPerson)
	if sum.SQLNsPerNeed > 0 {
		r.p("SQL matcher: %.1f µs/need, %.0f× the engine (target ≥ 20×)", sum.SQLNsPerNeed/1e3, sum.SQLNsPerNeed/sum.EngineNsPerNeed)
	}
	if sum.MeiliNsPerNeed > 0 {
		r.p("Meilisearch: %.1f µs/need, %.0f× the engine (target ≥ 100×)", sum.MeiliNsPerNeed/1e3, sum.MeiliNsPerNeed/sum.EngineNsPerNeed)
	}
	r.p("publish re-match: at most %s (target ≤ 200 ms)", round(sum.RematchMax))
	checks := 0
	for _, c := range sum.Compared {
		checks += c
	}
	if checks == 0 {
		why := r.nothingCompared()
		r.p("agreement: nothing compared: %s", why)
		if !r.o.AllowNoComparison {
			return sum, fmt.Errorf("%w: %s", ErrNothingCompared, why)
		}
		return sum, nil
	}
	r.p("agreement: %d comparisons, %d mismatches", checks, len(sum.Mismatches))
	if len(sum.Mismatches) > 0 {
		return sum, fmt.Errorf("%w: %d mismatches (listed above)", ErrMismatch, len(sum.Mismatches))
	}
	return sum, nil
}

// nothingCompared says why no baseline was compared with the engine.
func (r *runner) nothingCompared() string {
	if r.sum.SampleNeeds == 0 {
		return "the sample has no open need"
	}
	var why []string
	if !r.h.DB.IsPostgres() {
		why = append(why, fmt.Sprintf("the SQL matcher needs PostgreSQL and the store is %s", r.h.DB.Engine))
	}
	if r.o.MeiliBin == "" && r.o.MeiliURL == "" {
		why = append(why, "no Meilisearch was given")
	}
	return strings.Join(why, "; ")
}

func runMeili(ctx context.Context, h *hub.Hub, o Options, p func(string, ...any), sum *Summary,
	resources []matching.Resource, pop *matching.Population, sample []int, today aidhub.Day,
	engineSample, sqlSample map[int64]Answer, report func(string, []Mismatch, int)) error {
	url, key := o.MeiliURL, o.MeiliKey
	if o.MeiliBin != "" {
		srv, err := StartMeili(ctx, o.MeiliBin, nil)
		if err != nil {
			return err
		}
		defer srv.Stop()
		url, key = srv.URL, srv.Key
		p("started Meilisearch %s on %s (temporary database)", srv.Version(ctx), url)
	}
	snap, err := h.Catalog.Snapshot(ctx)
	if err != nil {
		return err
	}
	mb := NewMeiliBaseline(url, key, o.MeiliIndex, snap, h.Matcher.Weights())
	t := time.Now()
	indexed, err := mb.Index(ctx, resources)
	if err != nil {
		return err
	}
	defer func() { _ = mb.Drop(context.WithoutCancel(ctx)) }()
	p("indexed %d resources in %s", indexed, round(time.Since(t)))

	// every k-th need of the sample, in ID order
	k := max(len(sample)/max(o.MeiliSample, 1), 1)
	var needs []matching.Need
	for j := 0; j < len(sample) && len(needs) < o.MeiliSample; j += k {
		needs = append(needs, pop.Need(sample[j]))
	}
	sum.MeiliNeeds = len(needs)
	ids := make([]int64, len(needs))
	for i := range needs {
		ids[i] = needs[i].ID
	}
	var got map[int64]Answer
	for run := 1; run <= o.Runs; run++ {
		ans, lat, st, wall, err := meiliRun(ctx, mb, needs, today, o.MeiliWorkers)
		if err != nil {
			return err
		}
		per := float64(wall.Nanoseconds()) / float64(max(len(needs), 1))
		sum.MeiliNsPerNeed = max(sum.MeiliNsPerNeed, per)
		p("meilisearch %d: %d needs (one in %d of the sample), %d queried (the others blocked by the duplicate rule), %d requests, %.1f hits per query, %d matched; %s wall with %d at a time: %.1f µs/need, %.0f× the engine's sweep per need (%.0f× on the same resources); one need's query and scoring: p50 %s, p99 %s; load average %s",
			run, len(needs), k, st.queried, st.requests, float64(st.hits)/float64(max(st.queried, 1)), len(ans),
			round(wall), o.MeiliWorkers, per/1e3, per/sum.EngineNsPerNeed, per/sum.PlainNsPerNeed,
			roundMicro(percentile(lat, 50)), roundMicro(percentile(lat, 99)), LoadAverage())
		if run == 1 {
			got = ans
		}
	}
	if sqlSample != nil {
		report("engine = sql = meilisearch", Compare(ids, []string{"engine", "sql", "meilisearch"}, engineSample, sqlSample, got), len(ids))
	} else {
		report("engine = meilisearch", Compare(ids, []string{"engine", "meilisearch"}, engineSample, got), len(ids))
	}
	return nil
}

type meiliTotals struct{ queried, requests, hits int }

// meiliRun queries every need, workers at a time, and returns the answers
// found, each need's latency (blocked needs have none), the totals and the
// wall time.
func meiliRun(ctx context.Context, mb *MeiliBaseline, needs []matching.Need, today aidhub.Day, workers int) (map[int64]Answer, []time.Duration, meiliTotals, time.Duration, error) {
	type result struct {
		ans Answer
		lat time.Duration
		st  MeiliStats
		err error
	}
	results := make([]result, len(needs))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(needs) {
					return
				}
				t := time.Now()
				b, ok, st, err := mb.Best(ctx, &needs[i], today)
				results[i] = result{ans: Answer{Best: b, Found: ok}, lat: time.Since(t), st: st, err: err}
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	ans := map[int64]Answer{}
	var lat []time.Duration
	var tot meiliTotals
	for i, r := range results {
		if r.err != nil {
			return nil, nil, tot, 0, r.err
		}
		if r.st.Requests > 0 {
			tot.queried++
			tot.requests += r.st.Requests
			tot.hits += r.st.Hits
			lat = append(lat, r.lat)
		}
		if r.ans.Found {
			ans[needs[i].ID] = r.ans
		}
	}
	return ans, lat, tot, wall, nil
}

// rematch times ranking the open needs for a few resources of each kind,
// as publishing one does.
func rematch(ctx context.Context, h *hub.Hub, o Options, p func(string, ...any), sum *Summary,
	engine *matching.Engine, ix *matching.NeedIndex, resources []matching.Resource, today aidhub.Day) error {
	kinds := []struct {
		name string
		ok   func(cov []string) bool
	}{
		{"city-wide", func(cov []string) bool { return slices.Contains(cov, "50") }},
		{"district", func(cov []string) bool {
			return !slices.Contains(cov, "50") && slices.ContainsFunc(cov, func(c string) bool { return len(c) == 6 })
		}},
		{"street or village", func(cov []string) bool { return !slices.ContainsFunc(cov, func(c string) bool { return len(c) <= 6 }) }},
	}
	var picked []int64
	for _, kind := range kinds {
		var ids []int64
		for i := range resources {
			r := &resources[i]
			if len(ids) < o.Rematch && kind.ok(r.Coverage) && live(r, today) {
				ids = append(ids, r.ID)
			}
		}
		for _, id := range ids {
			t := time.Now()
			first := engine.MatchResource(id, ix, today, 50)
			once := time.Since(t)
			fastest := once
			for range 4 {
				t = time.Now()
				engine.MatchResource(id, ix, today, 50)
				fastest = min(fastest, time.Since(t))
			}
			sum.RematchMax = max(sum.RematchMax, once)
			r, _ := engine.Resource(id)
			p("Engine.MatchResource %s resource %d (%s; coverage %s; groups %s): %d needs; first call %s, fastest of 5 %s",
				kind.name, id, strings.Join(r.Items, ", "), strings.Join(r.Coverage, ", "), orDefault(strings.Join(r.Groups, ", "), "any"),
				len(first), roundMicro(once), roundMicro(fastest))
			picked = append(picked, id)
		}
	}
	if !o.ServiceRematch || len(picked) == 0 {
		return nil
	}
	t := time.Now()
	if err := h.Matcher.Reload(ctx); err != nil {
		return err
	}
	p("matcher loaded its engine and need index (what `aidhub serve` does at start) in %s", round(time.Since(t)))
	for _, id := range picked {
		t := time.Now()
		if err := h.Matcher.RematchResource(ctx, id); err != nil {
			return err
		}
		d := time.Since(t)
		sum.RematchMax = max(sum.RematchMax, d)
		p("matchsvc.RematchResource %d (read from the store, upsert into the engine, rank the needs, suggest): %s", id, roundMicro(d))
	}
	return nil
}

// live reports whether a resource is valid today with capacity left.
func live(r *matching.Resource, today aidhub.Day) bool {
	return (r.ValidFrom == nil || *r.ValidFrom <= today) && (r.ValidUntil == nil || *r.ValidUntil >= today) &&
		(r.UnitsLeft == nil || *r.UnitsLeft > 0) && (r.BudgetLeftFen == nil || *r.BudgetLeftFen > 0)
}

func answers(m map[int64]Best) map[int64]Answer {
	out := make(map[int64]Answer, len(m))
	for id, b := range m {
		out[id] = Answer{Best: b, Found: true}
	}
	return out
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func roundMicro(d time.Duration) time.Duration { return d.Round(time.Microsecond) }

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// LoadAverage is the 1, 5 and 15 minute load average, "?" when unknown.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
