package matching

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/aidhub/aidhub"
)

// DistrictStats counts the open needs of one district by colour, and how
// many of them some resource matches.
type DistrictStats struct {
	District string                 `json:"district"`
	Needs    [aidhub.NumColours]int `json:"needs"`   // by Colour
	Matched  [aidhub.NumColours]int `json:"matched"` // by Colour
}

// SweepStats is what a sweep found: open needs, how many have a match,
// how many the duplicate-aid rule holds back, by colour and by district
// (ordered by code).
type SweepStats struct {
	Needs   int `json:"needs"`
	Matched int `json:"matched"`
	Blocked int `json:"blocked"`
	// Candidates is how many resource-index entries the sweep looked at:
	// the work, which follows the resources offering each need's category
	// in its region rather than all resources.
	Candidates int64                  `json:"candidates"`
	ByColour   [aidhub.NumColours]int `json:"byColour"`
	Districts  []DistrictStats        `json:"districts"`
}

// sweepChunk is how many needs a worker takes at a time.
const sweepChunk = 4096

// Sweep matches every open need of p against the resources today, best
// resource only, with workers goroutines (GOMAXPROCS when ≤ 0), and
// returns the watchlist counts. fn, when not nil, is called for every open
// need with its index, its best match (nil when none) and its colour;
// calls come concurrently from the workers, and best with its Factors is
// reused once fn returns. Resource changes wait until the sweep is over.
func (e *Engine) Sweep(p *Population, today aidhub.Day, workers int, fn func(needIndex int, best *Match, colour aidhub.Colour)) (SweepStats, error) {
	if p.cat.src != e.cat.src {
		return SweepStats{}, fmt.Errorf("matching: the population is over another catalog than the engine")
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	nd := len(p.distCodes)
	type local struct {
		needs, matched [][aidhub.NumColours]int
		blocked        int
		candidates     int64
	}
	locals := make([]local, workers)
	order := p.byRegion()
	var next atomic.Int64
	var wg sync.WaitGroup
	e.mu.RLock()
	defer e.mu.RUnlock()
	for w := range workers {
		wg.Add(1)
		go func(l *local) {
			defer wg.Done()
			l.needs, l.matched = make([][aidhub.NumColours]int, nd), make([][aidhub.NumColours]int, nd)
			sc := scratchPool.Get().(*scratch)
			defer scratchPool.Put(sc)
			v := &sc.nv
			// Needs come in region order, so the buckets of a (region,
			// offer) are looked up once and stay in cache for the needs
			// that share them.
			type cached struct {
				reg int32
				bs  []*bucket
			}
			cache := make([]cached, len(e.cat.catCodes)+len(e.cat.itemCodes))
			for k := range cache {
				cache[k].reg = -1
			}
			// Counters stay in registers and locals of this goroutine until
			// the end: workers' structs side by side would share cache lines.
			var blocked int
			var candidates int64
			defer func() { l.blocked, l.candidates = blocked, candidates }()
			var best Match
			factors := make([]Factor, nFactors)
			for {
				lo := int(next.Add(sweepChunk)) - sweepChunk
				if lo >= len(order) {
					return
				}
				hi := min(lo+sweepChunk, len(order))
				for _, ni := range order[lo:hi] {
					i := int(ni)
					if p.nFlags[i]&flagClosed != 0 {
						continue
					}
					p.view(i, v)
					colour := e.colours.Of(max(int(today-v.opened), 0))
					r := p.sRegion[p.nSubj[i]]
					d := p.regDist[r]
					l.needs[d][colour]++
					var m *Match
					if v.isBlocked(today) {
						blocked++
					} else {
						e.cat.prepare(v, today)
						sc.top.reset(1, true)
						look := func(code uint32) []*bucket {
							oc := &cache[code]
							if oc.reg != int32(r) {
								oc.reg, oc.bs = int32(r), e.lookup(code, v.reg, oc.bs[:0])
							}
							return oc.bs
						}
						// Only the best is kept, and an exact item fit
						// beats any other: the rest of the category is
						// walked only when no resource offers the item.
						if v.item >= 0 {
							candidates += int64(e.candidates(sc, v, today, look(v.itemOffer), &sc.top, passExact))
						}
						if v.item < 0 {
							candidates += int64(e.candidates(sc, v, today, look(v.offer), &sc.top, passAll))
						} else if len(sc.top.h) == 0 {
							candidates += int64(e.candidates(sc, v, today, look(v.offer), &sc.top, passRest))
						}
						if len(sc.top.h) > 0 {
							l.matched[d][colour]++
							if fn != nil {
								c := &sc.top.h[0]
								best = Match{ResourceID: c.id, Score: e.explain(v, c, factors), Factors: factors}
								m = &best
							}
						}
					}
					if fn != nil {
						fn(i, m, colour)
					}
				}
			}
		}(&locals[w])
	}
	wg.Wait()
	var st SweepStats
	for d, code := range p.distCodes {
		ds := DistrictStats{District: code}
		for _, l := range locals {
			for c := range aidhub.NumColours {
				ds.Needs[c] += l.needs[d][c]
				ds.Matched[c] += l.matched[d][c]
			}
		}
		any := false
		for c := range aidhub.NumColours {
			st.ByColour[c] += ds.Needs[c]
			st.Needs += ds.Needs[c]
			st.Matched += ds.Matched[c]
			any = any || ds.Needs[c] > 0
		}
		if any {
			st.Districts = append(st.Districts, ds)
		}
	}
	for _, l := range locals {
		st.Blocked += l.blocked
		st.Candidates += l.candidates
	}
	slices.SortFunc(st.Districts, func(a, b DistrictStats) int {
		switch {
		case a.District < b.District:
			return -1
		case a.District > b.District:
			return 1
		}
		return 0
	})
	return st, nil
}
