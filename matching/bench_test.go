package matching_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/matching"
)

var (
	benchWorkers   = flag.Int("sweep.workers", 2, "workers for BenchmarkSweep (the benchmark machine has 2 cores)")
	benchResources = flag.Int("bench.resources", 50_000, "resources in the benchmark fixtures")
)

// benchToday is the day the benchmarks run on.
var benchToday, _ = aidhub.ParseDay("2026-03-15")

// fixture is a generated population with its engine and need index.
type fixture struct {
	persons   int
	cat       *aidhub.Catalog
	e         *matching.Engine
	pop       *matching.Population
	ix        *matching.NeedIndex
	ids       []int64 // resource IDs
	citywide  []int64 // resources covering all of Chongqing
	sample    []matching.Need
	best      []int64 // the sweep's output: best resource per need
	colour    []aidhub.Colour
	heapBytes uint64 // engine, population, index and sweep output
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[int]*fixture{}
)

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// getFixture builds (once per size) persons monitored people over the
// 11,270 real villages with -bench.resources resources, deterministically.
func getFixture(b *testing.B, persons int) *fixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixtures[persons]; ok {
		return f
	}
	cat, spec := defaultCatalog(b)
	rng := rand.New(rand.NewPCG(2026, uint64(persons)))
	villages := sampleVillages(0, rng)
	f := &fixture{persons: persons, cat: cat}
	before := heapAfterGC()

	rs := genResources(spec, villages, *benchResources, benchToday, rng)
	e, err := matching.NewEngine(cat, matching.DefaultWeights(), aidhub.DefaultColours())
	if err != nil {
		b.Fatal(err)
	}
	if err := e.SetResources(rs); err != nil {
		b.Fatal(err)
	}
	for _, r := range rs {
		f.ids = append(f.ids, r.ID)
		if slices.Equal(r.Coverage, []string{"50"}) {
			f.citywide = append(f.citywide, r.ID)
		}
	}
	rs = nil
	pop := matching.NewPopulation(cat)
	pop.Grow(persons, persons*135/100)
	gen := newPersonGen(spec, villages, persons, benchToday, rng)
	for p := 0; p < persons; p++ {
		ns := gen.next()
		for i := range ns {
			if _, err := pop.AddNeed(&ns[i]); err != nil {
				b.Fatal(err)
			}
			if len(f.sample) < 10_000 && rng.IntN(10) == 0 {
				f.sample = append(f.sample, ns[i])
			}
		}
	}
	ix := matching.NewNeedIndex(pop)
	f.best, f.colour = make([]int64, pop.Len()), make([]aidhub.Colour, pop.Len())
	f.e, f.pop, f.ix = e, pop, ix
	after := heapAfterGC()
	f.heapBytes = after - before - uint64(len(f.ids)+len(f.citywide))*8 - sampleBytes(f.sample)
	fixtures[persons] = f
	return f
}

// sampleBytes estimates what the benchmark's own sample of needs holds, so
// that it is not counted as engine memory.
func sampleBytes(ns []matching.Need) uint64 {
	var n uint64
	for _, x := range ns {
		n += 200 + uint64(len(x.Groups))*16
	}
	return n
}

func (f *fixture) reportMemory(b *testing.B) {
	b.ReportMetric(float64(f.heapBytes)/float64(f.persons), "bytes/person")
	b.ReportMetric(float64(f.heapBytes)/(1<<20), "engine-MiB")
}

// BenchmarkSweep matches every open need against the 50,000 resources,
// keeping each need's best match and colour, on -sweep.workers workers.
// Run it with -benchtime 1x.
func BenchmarkSweep(b *testing.B) {
	for _, persons := range []int{300_000, 3_080_000} {
		b.Run(fmt.Sprintf("persons=%d", persons), func(b *testing.B) {
			f := getFixture(b, persons)
			var st matching.SweepStats
			cpu0 := cpuTime()
			for b.Loop() {
				var err error
				st, err = f.e.Sweep(f.pop, benchToday, *benchWorkers, func(i int, m *matching.Match, c aidhub.Colour) {
					f.colour[i] = c
					if m != nil {
						f.best[i] = m.ResourceID
					} else {
						f.best[i] = 0
					}
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuTime() - cpu0
			f.reportMemory(b)
			// CPU seconds per sweep, all workers together: on a machine
			// shared with other work the wall time alone says little.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(st.Needs), "needs")
			b.ReportMetric(100*float64(st.Matched)/float64(st.Needs), "matched-%")
			b.ReportMetric(float64(st.Candidates)/float64(st.Needs), "candidates/need")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(st.Needs), "ns/need")
			b.Logf("%d persons, %d needs (%d blocked by the duplicate rule), %d matched; by colour %v; %d districts",
				persons, st.Needs, st.Blocked, st.Matched, st.ByColour, len(st.Districts))
		})
	}
}

// BenchmarkMatch matches one need (from a sample of 10,000) against the
// 50,000 resources, the ten best with explanations.
func BenchmarkMatch(b *testing.B) {
	f := getFixture(b, 300_000)
	b.ReportAllocs()
	i, found := 0, 0
	for b.Loop() {
		found += len(f.e.Match(&f.sample[i%len(f.sample)], benchToday, 10))
		i++
	}
	b.ReportMetric(float64(found)/float64(i), "matches/op")
}

// BenchmarkMatchResource ranks the open needs of 3,080,000 people for one
// resource, the fifty best with explanations: the work of re-matching a
// resource when it is published. "any" cycles through all resources,
// "citywide" through those covering all of Chongqing (the worst case).
func BenchmarkMatchResource(b *testing.B) {
	f := getFixture(b, 3_080_000)
	for _, tc := range []struct {
		name string
		ids  []int64
	}{{"any", f.ids}, {"citywide", f.citywide}} {
		b.Run(tc.name, func(b *testing.B) {
			if len(tc.ids) == 0 {
				b.Skip("no such resource")
			}
			b.ReportAllocs()
			i, found := 0, 0
			for b.Loop() {
				found += len(f.e.MatchResource(tc.ids[i%len(tc.ids)], f.ix, benchToday, 50))
				i++
			}
			b.ReportMetric(float64(found)/float64(i), "needs/op")
		})
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
