package matching

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/aidhub/aidhub"
)

// Population is a compact, struct-of-arrays store of open needs and the
// people (or households) they belong to: what the sweep walks and what a
// NeedIndex points into. About 40 bytes per person and 26 per need, with
// no pointer the garbage collector has to follow.
//
// Load it ordered by region, then household and person (as a query
// ordered by division code would give): a person's attributes are then
// stored once for all their needs, and the arrays are read in order by the
// sweep and by MatchResource. Any order gives the same results.
//
// A Population is not safe for concurrent writes; reads (Sweep,
// MatchResource) may run together while nobody writes.
type Population struct {
	cat *codebook

	// regions, interned: the code, its parsed prefixes, its district
	regIdx    map[string]uint32
	regCodes  []string
	regs      []region
	regDist   []uint32
	distIdx   map[string]uint32
	distCodes []string

	// subjects: a person, or a household for household-level needs; a
	// row is shared by consecutive needs of the same subject
	sPerson    []int64
	sHousehold []int64
	sGroups    []uint64
	sIncome    []int64
	sRegion    []uint32
	sSize      []uint16
	sAge       []uint8
	sFemale    []bool

	// needs
	nID      []int64
	nSubj    []int32
	nOpened  []aidhub.Day
	nBlocked []aidhub.Day
	nCat     []uint16
	nItem    []uint16 // item + 1; 0: none
	nSev     []uint8
	nFlags   []uint8
	open     int

	orderMu sync.Mutex
	order   []int32 // need indexes by region, for the sweep
}

const (
	flagHousehold = 1 << iota
	flagClosed
)

// NewPopulation returns an empty population over the catalog.
func NewPopulation(cat *aidhub.Catalog) *Population {
	return &Population{cat: newCodebook(cat), regIdx: map[string]uint32{}, distIdx: map[string]uint32{}}
}

// Grow makes room for about persons more subjects and needs more needs, so
// that a bulk load allocates once.
func (p *Population) Grow(persons, needs int) {
	p.sPerson = growTo(p.sPerson, persons)
	p.sHousehold = growTo(p.sHousehold, persons)
	p.sGroups = growTo(p.sGroups, persons)
	p.sIncome = growTo(p.sIncome, persons)
	p.sRegion = growTo(p.sRegion, persons)
	p.sSize = growTo(p.sSize, persons)
	p.sAge = growTo(p.sAge, persons)
	p.sFemale = growTo(p.sFemale, persons)
	p.nID = growTo(p.nID, needs)
	p.nSubj = growTo(p.nSubj, needs)
	p.nOpened = growTo(p.nOpened, needs)
	p.nBlocked = growTo(p.nBlocked, needs)
	p.nCat = growTo(p.nCat, needs)
	p.nItem = growTo(p.nItem, needs)
	p.nSev = growTo(p.nSev, needs)
	p.nFlags = growTo(p.nFlags, needs)
}

func growTo[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	out := make([]T, len(s), len(s)+n)
	copy(out, s)
	return out
}

// Len returns how many needs were added (open or closed); need indexes are
// 0 to Len()−1.
func (p *Population) Len() int { return len(p.nID) }

// Open returns how many needs are open.
func (p *Population) Open() int { return p.open }

// Persons returns how many subject rows the population holds.
func (p *Population) Persons() int { return len(p.sPerson) }

// Catalog returns the population's catalog.
func (p *Population) Catalog() *aidhub.Catalog { return p.cat.src }

// AddNeed checks an open need and appends it, returning its index. The
// person's attributes are stored once for consecutive needs of the same
// subject with the same attributes, so load needs ordered by household and
// person.
func (p *Population) AddNeed(n *Need) (int, error) {
	if len(p.nID) >= 1<<31-1 {
		return 0, fmt.Errorf("matching: the population is full")
	}
	var reg region
	var v needView
	if err := p.cat.resolve(n, &reg, &v); err != nil {
		return 0, fmt.Errorf("matching: need %d: %v", n.ID, err)
	}
	ri, ok := p.regIdx[n.Region]
	if !ok {
		ri = uint32(len(p.regCodes))
		p.regIdx[n.Region] = ri
		p.regCodes = append(p.regCodes, n.Region)
		p.regs = append(p.regs, reg)
		d := n.Region
		if len(d) > 6 {
			d = d[:6]
		}
		di, ok := p.distIdx[d]
		if !ok {
			di = uint32(len(p.distCodes))
			p.distIdx[d] = di
			p.distCodes = append(p.distCodes, d)
		}
		p.regDist = append(p.regDist, di)
	}
	s := int32(len(p.sPerson)) - 1
	if s < 0 || p.sPerson[s] != n.PersonID || p.sHousehold[s] != n.HouseholdID || p.sRegion[s] != ri ||
		p.sGroups[s] != v.groups || p.sIncome[s] != v.income || p.sSize[s] != uint16(v.size) ||
		p.sAge[s] != uint8(v.age) || p.sFemale[s] != v.female {
		s++
		p.sPerson = append(p.sPerson, n.PersonID)
		p.sHousehold = append(p.sHousehold, n.HouseholdID)
		p.sGroups = append(p.sGroups, v.groups)
		p.sIncome = append(p.sIncome, v.income)
		p.sRegion = append(p.sRegion, ri)
		p.sSize = append(p.sSize, uint16(v.size))
		p.sAge = append(p.sAge, uint8(v.age))
		p.sFemale = append(p.sFemale, v.female)
	}
	var flags uint8
	if v.hh {
		flags |= flagHousehold
	}
	p.nID = append(p.nID, n.ID)
	p.nSubj = append(p.nSubj, s)
	p.nOpened = append(p.nOpened, v.opened)
	p.nBlocked = append(p.nBlocked, v.blocked)
	p.nCat = append(p.nCat, v.cat)
	p.nItem = append(p.nItem, uint16(v.item+1))
	p.nSev = append(p.nSev, uint8(v.sev))
	p.nFlags = append(p.nFlags, flags)
	p.open++
	return len(p.nID) - 1, nil
}

// Close marks need i met or withdrawn: the sweep and MatchResource skip
// it (NeedIndex.Remove also frees its index entries).
func (p *Population) Close(i int) {
	if p.nFlags[i]&flagClosed == 0 {
		p.nFlags[i] |= flagClosed
		p.open--
	}
}

// Closed reports whether need i is closed.
func (p *Population) Closed(i int) bool { return p.nFlags[i]&flagClosed != 0 }

// SetBlockedUntil updates need i's duplicate-aid block (see
// Need.BlockedUntil), as when aid in its category is recorded elsewhere.
func (p *Population) SetBlockedUntil(i int, d aidhub.Day) { p.nBlocked[i] = d }

// ID returns the ID of need i.
func (p *Population) ID(i int) int64 { return p.nID[i] }

// Need returns need i as a Need value.
func (p *Population) Need(i int) Need {
	s := p.nSubj[i]
	n := Need{
		ID: p.nID[i], HouseholdID: p.sHousehold[s], PersonID: p.sPerson[s], Region: p.regCodes[p.sRegion[s]],
		Category: p.cat.catCodes[p.nCat[i]], Severity: int(p.nSev[i]), OpenedOn: p.nOpened[i],
		Age: int(p.sAge[s]), Female: p.sFemale[s], IncomePerCapitaFen: p.sIncome[s],
		HouseholdSize: int(p.sSize[s]), BlockedUntil: p.nBlocked[i],
	}
	if it := p.nItem[i]; it > 0 {
		n.Item = p.cat.itemCodes[it-1]
	}
	if g := p.sGroups[s]; g != 0 {
		n.Groups = p.cat.groupList(g)
	}
	return n
}

// District returns the district (6-digit code, or the shorter code the
// need has) of need i.
func (p *Population) District(i int) string {
	return p.distCodes[p.regDist[p.sRegion[p.nSubj[i]]]]
}

// byRegion returns every need's index ordered by region code (stably),
// built again only when needs were added since the last call. In this
// order the needs of a village come together and the villages of a
// district too, so the buckets a district's needs share stay in cache.
func (p *Population) byRegion() []int32 {
	p.orderMu.Lock()
	defer p.orderMu.Unlock()
	if len(p.order) == len(p.nID) {
		return p.order
	}
	byCode := make([]int32, len(p.regCodes))
	for r := range byCode {
		byCode[r] = int32(r)
	}
	slices.SortFunc(byCode, func(a, b int32) int { return strings.Compare(p.regCodes[a], p.regCodes[b]) })
	rank := make([]int32, len(p.regCodes))
	for k, r := range byCode {
		rank[r] = int32(k)
	}
	start := make([]int32, len(p.regCodes)+1)
	for _, s := range p.nSubj {
		start[rank[p.sRegion[s]]+1]++
	}
	for k := 1; k < len(start); k++ {
		start[k] += start[k-1]
	}
	order := make([]int32, len(p.nID))
	for i, s := range p.nSubj {
		k := rank[p.sRegion[s]]
		order[start[k]] = int32(i)
		start[k]++
	}
	p.order = order
	return order
}

// view resolves need i without allocating.
func (p *Population) view(i int, v *needView) {
	s := p.nSubj[i]
	r := p.sRegion[s]
	*v = needView{
		id: p.nID[i], cat: p.nCat[i], item: int32(p.nItem[i]) - 1, reg: &p.regs[r],
		groups: p.sGroups[s], age: int32(p.sAge[s]), female: p.sFemale[s], hh: p.nFlags[i]&flagHousehold != 0,
		income: p.sIncome[s], size: int32(p.sSize[s]), sev: int32(p.nSev[i]),
		opened: p.nOpened[i], blocked: p.nBlocked[i], regionCode: p.regCodes[r],
	}
}

// NeedIndex indexes the open needs of a population for resource → needs
// matching: a bucket per (category, district, group) holding need
// indexes, plus a bucket per (category, district) with every need whatever
// its groups, for resources open to any group. Needs whose region is
// shorter than a district are keyed by the code they have.
type NeedIndex struct {
	pop     *Population
	buckets map[uint64][]int32
	dists   map[uint32]int // district key → needs indexed
}

const allGroups = 0xff

// needKey is the bucket of needs in category cat, district key d, group g
// (allGroups for every need).
func needKey(cat uint16, g uint8, d uint32) uint64 {
	return uint64(cat)<<32 | uint64(g)<<24 | uint64(d)
}

// distKey packs a region's district: its first min(n, 6) digits.
func distKey(r *region) uint32 {
	l := min(r.n, 6)
	return uint32(l)<<20 | uint32(r.p[l])
}

// NewNeedIndex indexes every open need of p. Each bucket is allocated at
// its final size.
func NewNeedIndex(p *Population) *NeedIndex {
	ix := &NeedIndex{pop: p, dists: map[uint32]int{}}
	counts := map[uint64]int{}
	ix.each(func(i int, k uint64) { counts[k]++ })
	ix.buckets = make(map[uint64][]int32, len(counts))
	for k, n := range counts {
		ix.buckets[k] = make([]int32, 0, n)
	}
	ix.each(func(i int, k uint64) { ix.buckets[k] = append(ix.buckets[k], int32(i)) })
	for i := range p.nID {
		if !p.Closed(i) {
			ix.dists[distKey(&p.regs[p.sRegion[p.nSubj[i]]])]++
		}
	}
	return ix
}

// Population returns the indexed population.
func (ix *NeedIndex) Population() *Population { return ix.pop }

func (ix *NeedIndex) each(fn func(i int, k uint64)) {
	p := ix.pop
	for i := range p.nID {
		if !p.Closed(i) {
			ix.keys(i, fn)
		}
	}
}

func (ix *NeedIndex) keys(i int, fn func(i int, k uint64)) {
	p := ix.pop
	s := p.nSubj[i]
	d := distKey(&p.regs[p.sRegion[s]])
	fn(i, needKey(p.nCat[i], allGroups, d))
	for g := p.sGroups[s]; g != 0; g &= g - 1 {
		fn(i, needKey(p.nCat[i], uint8(bits.TrailingZeros64(g)), d))
	}
}

// Add appends an open need to the population and indexes it.
func (ix *NeedIndex) Add(n *Need) (int, error) {
	i, err := ix.pop.AddNeed(n)
	if err != nil {
		return 0, err
	}
	ix.keys(i, func(i int, k uint64) { ix.buckets[k] = append(ix.buckets[k], int32(i)) })
	ix.dists[distKey(&ix.pop.regs[ix.pop.sRegion[ix.pop.nSubj[i]]])]++
	return i, nil
}

// Remove closes need i and takes it out of the index (also when it was
// closed through the population already).
func (ix *NeedIndex) Remove(i int) {
	p := ix.pop
	found := false
	ix.keys(i, func(i int, k uint64) {
		b := ix.buckets[k]
		for j, x := range b {
			if x == int32(i) {
				b[j] = b[len(b)-1]
				b = b[:len(b)-1]
				found = true
				break
			}
		}
		if len(b) == 0 {
			delete(ix.buckets, k)
		} else {
			ix.buckets[k] = b
		}
	})
	if found {
		d := distKey(&p.regs[p.sRegion[p.nSubj[i]]])
		if ix.dists[d]--; ix.dists[d] <= 0 {
			delete(ix.dists, d)
		}
	}
	p.Close(i)
}

// NeedMatch is an open need that a resource matches.
type NeedMatch struct {
	NeedID  int64    `json:"needId"`
	Index   int      `json:"-"` // the need's index in the population
	Score   float64  `json:"score"`
	Factors []Factor `json:"factors"`
}

// MatchResource returns up to limit open needs of the index that resource
// id matches today, best first: score descending, ties by need ID
// ascending. The filters and the score are those of Match. It returns nil
// for an unknown resource, or an index over another catalog.
func (e *Engine) MatchResource(id int64, ix *NeedIndex, today aidhub.Day, limit int) []NeedMatch {
	if limit <= 0 || ix == nil || ix.pop.cat.src != e.cat.src {
		return nil
	}
	x := e.liveResource(id, today)
	if x == nil {
		return nil
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.top.reset(limit, false)
	scans, groups := districtScans(x, ix), groupKeys(x)
	nCat := uint32(len(e.cat.catCodes))
	for oi := range x.offers {
		o := &x.offers[oi]
		if o.code >= nCat {
			continue // an item: its category's offer finds the needs
		}
		for _, sn := range scans {
			for _, g := range groups {
				e.rankBucket(sc, x, o, ix, needKey(uint16(o.code), g, sn.d), g, &sn, today)
			}
		}
	}
	return e.needMatches(sc, ix.pop, today)
}

// liveResource returns resource id when it can be matched today (it has
// capacity left and is within its window), nil otherwise.
func (e *Engine) liveResource(id int64, today aidhub.Day) *res {
	e.mu.RLock()
	s, ok := e.slot[id]
	var x *res
	if ok {
		x = e.res[s]
	}
	e.mu.RUnlock()
	if x == nil || !x.capacity || !x.windowOK(today) {
		return nil
	}
	return x
}

// districtScan is a district key of the need index to scan for a
// resource, with the coverage prefixes longer than a district that a
// need there must still lie in (none when whole: all of it).
type districtScan struct {
	d     uint32
	finer []*region
	whole bool
}

// districtScans returns the districts of ix that x's coverage reaches: a
// prefix of a district or shorter takes each indexed district under it
// whole; a longer prefix takes its district, limited to the prefix.
func districtScans(x *res, ix *NeedIndex) []districtScan {
	var scans []districtScan
	at := func(d uint32) *districtScan {
		for i := range scans {
			if scans[i].d == d {
				return &scans[i]
			}
		}
		scans = append(scans, districtScan{d: d})
		return &scans[len(scans)-1]
	}
	for i := range x.cover {
		cv := &x.cover[i]
		if cv.n >= 6 {
			sc := at(6<<20 | uint32(cv.p[6]))
			if cv.n == 6 {
				sc.whole = true
			} else {
				sc.finer = append(sc.finer, cv)
			}
			continue
		}
		for d := range ix.dists {
			l := uint8(d >> 20)
			v := uint64(d & (1<<20 - 1))
			if l >= cv.n && v/pow10[l-cv.n] == cv.p[cv.n] {
				at(d).whole = true
			}
		}
	}
	return scans
}

// groupKeys are the group keys of the need buckets to read for x: each of
// its groups, or allGroups when it is for any group.
func groupKeys(x *res) []uint8 {
	if x.groups == 0 {
		return []uint8{allGroups}
	}
	keys := make([]uint8, 0, bits.OnesCount64(x.groups))
	for g := x.groups; g != 0; g &= g - 1 {
		keys = append(keys, uint8(bits.TrailingZeros64(g)))
	}
	return keys
}

// rankBucket offers sc.top every need of bucket key (group key g, in
// district scan sn) that x, through its offer o, matches today. The
// bucket guarantees category and group, sn the district; the other
// filters are tested here, in line, as this loop is the hot one.
func (e *Engine) rankBucket(sc *scratch, x *res, o *offer, ix *NeedIndex, key uint64, g uint8, sn *districtScan, today aidhub.Day) {
	p, v := ix.pop, &sc.nv
	for _, ni := range ix.buckets[key] {
		i := int(ni)
		subj := p.nSubj[i]
		// A need in several of the resource's groups is seen in the
		// bucket of the lowest of them only.
		if g != allGroups && p.sGroups[subj]&x.groups&(1<<g-1) != 0 {
			continue
		}
		if age := int32(p.sAge[subj]); age < x.ageMin || age > x.ageMax || p.sIncome[subj] > x.income ||
			p.nFlags[i]&flagClosed != 0 {
			continue
		}
		if b := p.nBlocked[i]; b != 0 && today <= b {
			continue
		}
		if !sn.whole && !coveredBy(&p.regs[p.sRegion[subj]], sn.finer) {
			continue
		}
		p.view(i, v)
		e.cat.prepare(v, today)
		ent := entitlement(v.groups, &o.lv)
		dist := proximity(v.reg, x.locN, x.loc12)
		ft := v.fit(o.direct, o.wide, o.items, x)
		cd := cand{score: e.score(v, ft, ent, dist, x.scarcity), id: v.id, idx: ni, fit: ft, ent: ent, dist: dist, scar: x.scarcity}
		if !sc.top.takes(&cd) {
			continue
		}
		// The rule, the dearest filter, only for a need that would
		// make the ranking.
		if x.rule != nil {
			if ok, _ := e.rule(sc, x, v); !ok {
				continue
			}
		}
		sc.top.push(cd)
	}
}

// needMatches returns the needs kept in sc.top, best first, with their
// factors.
func (e *Engine) needMatches(sc *scratch, p *Population, today aidhub.Day) []NeedMatch {
	cs := sc.top.sorted()
	if len(cs) == 0 {
		return nil
	}
	v := &sc.nv
	out := make([]NeedMatch, len(cs))
	fs := make([]Factor, len(cs)*nFactors)
	for k := range cs {
		cd := &cs[k]
		p.view(int(cd.idx), v)
		e.cat.prepare(v, today)
		f := fs[k*nFactors : (k+1)*nFactors : (k+1)*nFactors]
		out[k] = NeedMatch{NeedID: cd.id, Index: int(cd.idx), Score: e.explain(v, cd, f), Factors: f}
	}
	return out
}

func coveredBy(r *region, cs []*region) bool {
	for _, c := range cs {
		if r.has(c) {
			return true
		}
	}
	return false
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12}
