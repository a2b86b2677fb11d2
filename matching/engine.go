package matching

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr/vm"

	"github.com/aidhub/aidhub"
)

// Factor indexes, in the fixed order in which a score adds them up.
const (
	fSeverity = iota
	fItemFit
	fEntitlement
	fDistance
	fWaiting
	fPriority
	fScarcity
	nFactors
)

var factorNames = [nFactors]string{"severity", "itemFit", "entitlement", "distance", "waiting", "priority", "scarcity"}

// Factor is one line of a score's explanation. Value is in [0, 1]; Weight
// is the configured weight; MaxPoints is the factor's share of the 100
// points a score can have (100 × Weight / the sum of the weights), and
// Contribution = MaxPoints × Value, the points it gives.
type Factor struct {
	Name         string  `json:"name"`
	Value        float64 `json:"value"`
	Weight       float64 `json:"weight"`
	MaxPoints    float64 `json:"maxPoints"`
	Contribution float64 `json:"contribution"`
}

// MaxScore is the score of a match that is as good as it can be on every
// factor.
const MaxScore = 100

// Match is a resource that passes every hard filter for a need, with its
// score (0 to MaxScore) and the factors that make it up. Score is the sum
// of the contributions, added in the order of Factors.
type Match struct {
	ResourceID int64    `json:"resourceId"`
	Score      float64  `json:"score"`
	Factors    []Factor `json:"factors"`
}

// Failure is a hard filter a resource fails for a need, with the reason in
// words a case manager can act on, in English and in Chinese, and the
// figures behind it: Limit and Actual in Unit (YEARS, FEN — money in fen,
// 1/100 yuan — or UNITS), and the dates that bound it (From, Until).
type Failure struct {
	Filter   string      `json:"filter"`
	Reason   string      `json:"reason"`
	ReasonZh string      `json:"reasonZh"`
	Limit    *int64      `json:"limit,omitempty"`
	Actual   *int64      `json:"actual,omitempty"`
	Unit     string      `json:"unit,omitempty"`
	From     *aidhub.Day `json:"from,omitempty"`
	Until    *aidhub.Day `json:"until,omitempty"`
}

// Units of Failure.Limit and Failure.Actual.
const (
	UnitYears = "YEARS"
	UnitFen   = "FEN"
	UnitUnits = "UNITS"
)

// Filter names of Failure, in the order WhyNot lists them.
const (
	FilterNeed      = "need"      // the need itself is not valid
	FilterResource  = "resource"  // no such resource
	FilterStatus    = "status"    // the resource is not published (said by the caller, who knows it)
	FilterCategory  = "category"  // no item in the need's category or below it
	FilterGroup     = "group"     // not for the need's groups
	FilterCoverage  = "coverage"  // does not cover the need's region
	FilterAge       = "age"       // outside the age range
	FilterIncome    = "income"    // above the income ceiling
	FilterWindow    = "window"    // not yet valid, or expired
	FilterCapacity  = "capacity"  // nothing left
	FilterRule      = "rule"      // the rule is false or failed
	FilterDuplicate = "duplicate" // aided in the category within its window
)

// Engine matches needs to resources. It is safe for concurrent use:
// matching takes a read lock, changing resources a write lock (a sweep
// holds the read lock throughout, so resource changes wait for it).
type Engine struct {
	cat     *codebook
	weights Weights
	w       [nFactors]float64 // points of each factor at value 1, adding up to MaxScore
	colours aidhub.Colours

	mu      sync.RWMutex
	res     []*res          // by slot; nil for a free slot
	free    []int32         // free slots
	slot    map[int64]int32 // resource ID → slot
	buckets map[uint64]*bucket
	lens    [maxDigits + 1]int // coverage prefixes indexed, by length
}

// bucket lists the resources offering one thing (a category or an item)
// with one coverage prefix, with a copy of everything the filters and the
// score read, so that matching a need walks its buckets without touching
// the resources themselves. What the filters read (hot) is apart from what
// only the score of a passing resource reads (cold), so the filters read
// 32 bytes per resource.
type bucket struct {
	hot  []hotEntry
	cold []coldEntry
}

type hotEntry struct {
	groups  uint64 // the resource's groups; every bit when it is for any group
	income  int64
	from    aidhub.Day
	span    uint32 // valid while uint32(today−from) ≤ span
	ageMin  uint8
	ageSpan uint8 // age passes while age−ageMin ≤ ageSpan (in uint8)
	flags   uint8
}

// anyGroup is the bit every need carries in the hot check, so that one
// AND tests the group filter (MaxGroups leaves it free).
const anyGroup = 1 << 63

type coldEntry struct {
	id       int64
	lv       planMasks // of the resource's items answering the bucket's offer
	items    uint64    // offer.items
	loc12    uint64
	scarcity float64
	slot     int32
	locN     uint8
	direct   bool // offer.direct
	wide     bool // offer.wide
}

const entRule = 1 // the resource has a rule

func (x *res) entry(slot int32, o *offer) (hotEntry, coldEntry) {
	lo, hi := uint8(max(x.ageMin, 0)), uint8(min(x.ageMax, 255))
	h := hotEntry{
		groups: x.groups, income: x.income, from: x.from, span: uint32(x.until) - uint32(x.from),
		ageMin: lo, ageSpan: hi - lo,
	}
	if h.groups == 0 {
		h.groups = ^uint64(0)
	}
	if !x.capacity {
		h.from, h.span = maxDay, 0 // never valid
	}
	if x.rule != nil {
		h.flags |= entRule
	}
	return h, coldEntry{id: x.id, lv: o.lv, items: o.items, loc12: x.loc12, scarcity: x.scarcity, slot: slot, locN: x.locN, direct: o.direct, wide: o.wide}
}

// b2u is 1 for true; the compiler makes it a flag set, not a branch.
func b2u(b bool) uint8 {
	var u uint8
	if b {
		u = 1
	}
	return u
}

// resKey is the bucket of resources offering code (a category, or
// categories + item)
// with a coverage prefix of l digits and value v.
func resKey(code uint32, l uint8, v uint64) uint64 {
	return uint64(code)<<44 | uint64(l)<<40 | v
}

// NewEngine checks the weights and colour thresholds and returns an engine
// with no resources.
func NewEngine(cat *aidhub.Catalog, w Weights, c aidhub.Colours) (*Engine, error) {
	if cat == nil {
		return nil, fmt.Errorf("matching: no catalog")
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Engine{
		cat: newCodebook(cat), weights: w, w: w.points(), colours: c,
		slot: map[int64]int32{}, buckets: map[uint64]*bucket{},
	}, nil
}

// Catalog returns the engine's catalog.
func (e *Engine) Catalog() *aidhub.Catalog { return e.cat.src }

// Weights returns the engine's weights.
func (e *Engine) Weights() Weights { return e.weights }

// Colours returns the engine's colour thresholds.
func (e *Engine) Colours() aidhub.Colours { return e.colours }

// Len returns how many resources the engine holds.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.slot)
}

// SetResources replaces every resource. Each is checked and its rule
// compiled first; on an error (naming the resource) nothing changes.
func (e *Engine) SetResources(rs []Resource) error {
	xs := make([]*res, 0, len(rs))
	seen := make(map[int64]bool, len(rs))
	for i := range rs {
		x, err := e.cat.compile(&rs[i])
		if err != nil {
			return err
		}
		if seen[x.id] {
			return fmt.Errorf("matching: resource %d is listed twice", x.id)
		}
		seen[x.id] = true
		xs = append(xs, x)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.res, e.free, e.lens = make([]*res, 0, len(xs)), nil, [maxDigits + 1]int{}
	e.slot = make(map[int64]int32, len(xs))
	e.buckets = make(map[uint64]*bucket, len(xs))
	for _, x := range xs {
		e.insert(x)
	}
	return nil
}

// Upsert adds or replaces one resource; on an error nothing changes.
func (e *Engine) Upsert(r Resource) error {
	x, err := e.cat.compile(&r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.remove(x.id)
	e.insert(x)
	return nil
}

// Remove drops a resource (no-op when absent).
func (e *Engine) Remove(id int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.remove(id)
}

// Resource returns a copy of the resource as the engine holds it.
func (e *Engine) Resource(id int64) (Resource, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.slot[id]
	if !ok {
		return Resource{}, false
	}
	return e.res[s].src.clone(), true
}

func (e *Engine) insert(x *res) {
	var s int32
	if n := len(e.free); n > 0 {
		s, e.free = e.free[n-1], e.free[:n-1]
		e.res[s] = x
	} else {
		s = int32(len(e.res))
		e.res = append(e.res, x)
	}
	e.slot[x.id] = s
	for _, o := range x.offers {
		for i := range x.cover {
			c := &x.cover[i]
			k := resKey(o.code, c.n, c.value())
			b := e.buckets[k]
			if b == nil {
				b = &bucket{}
				e.buckets[k] = b
			}
			hot, cold := x.entry(s, &o)
			b.hot, b.cold = append(b.hot, hot), append(b.cold, cold)
		}
	}
	for i := range x.cover {
		e.lens[x.cover[i].n]++
	}
}

func (e *Engine) remove(id int64) {
	s, ok := e.slot[id]
	if !ok {
		return
	}
	x := e.res[s]
	for _, o := range x.offers {
		for i := range x.cover {
			c := &x.cover[i]
			k := resKey(o.code, c.n, c.value())
			b := e.buckets[k]
			if j := slices.IndexFunc(b.cold, func(c coldEntry) bool { return c.slot == s }); j >= 0 {
				last := len(b.hot) - 1
				b.hot[j], b.cold[j] = b.hot[last], b.cold[last]
				b.hot, b.cold = b.hot[:last], b.cold[:last]
			}
			if len(b.hot) == 0 {
				delete(e.buckets, k)
			}
		}
	}
	for i := range x.cover {
		e.lens[x.cover[i].n]--
	}
	e.res[s] = nil
	e.free = append(e.free, s)
	delete(e.slot, id)
}

// score adds the contributions up in the fixed factor order. Each product
// is converted explicitly so that it is rounded on its own (no fused
// multiply-add), so every path of the engine gets the same bits.
func (e *Engine) score(v *needView, fit, ent, dist, scar float64) float64 {
	s := float64(e.w[fSeverity] * v.sevV)
	s += float64(e.w[fItemFit] * fit)
	s += float64(e.w[fEntitlement] * ent)
	s += float64(e.w[fDistance] * dist)
	s += float64(e.w[fWaiting] * v.waitV)
	s += float64(e.w[fPriority] * v.prioV)
	s += float64(e.w[fScarcity] * scar)
	return s
}

// explain writes the factors into out (len nFactors) and returns their sum,
// equal to score.
func (e *Engine) explain(v *needView, c *cand, out []Factor) float64 {
	vals := [nFactors]float64{v.sevV, c.fit, c.ent, c.dist, v.waitV, v.prioV, c.scar}
	wl := e.weights.list()
	s := 0.0
	for i := range vals {
		p := float64(e.w[i] * vals[i])
		out[i] = Factor{Name: factorNames[i], Value: vals[i], Weight: wl[i], MaxPoints: e.w[i], Contribution: p}
		s += p
	}
	return s
}

// scratch is per-goroutine working memory.
type scratch struct {
	top    topK
	vm     vm.VM
	env    RuleEnv
	groups map[uint64][]string
	reg    region
	nv     needView
}

var scratchPool = sync.Pool{New: func() any { return &scratch{groups: map[uint64][]string{}} }}

// groupList returns the codes of a mask, cached: a rule's env shares them.
func (sc *scratch) groupList(c *codebook, m uint64) []string {
	g, ok := sc.groups[m]
	if !ok {
		if len(sc.groups) > 4096 {
			clear(sc.groups)
		}
		g = c.groupList(m)
		sc.groups[m] = g
	}
	return g
}

// rule evaluates x's rule for the need (true when there is none).
func (e *Engine) rule(sc *scratch, x *res, v *needView) (bool, error) {
	if x.rule == nil {
		return true, nil
	}
	e.cat.ruleEnv(v, &sc.env, sc.groupList(e.cat, v.groups))
	return evalRule(&sc.vm, x.rule, &sc.env)
}

// lookup appends to bs the buckets of resources offering code with a
// coverage prefix of reg.
func (e *Engine) lookup(code uint32, reg *region, bs []*bucket) []*bucket {
	for l := uint8(1); l <= reg.n; l++ {
		if e.lens[l] == 0 {
			continue
		}
		if b := e.buckets[resKey(code, l, reg.p[l])]; b != nil {
			bs = append(bs, b)
		}
	}
	return bs
}

// Passes of candidates over a need's buckets.
const (
	passAll   = iota // the category's buckets; item fit per entry
	passExact        // the named item's buckets: every entry is an exact fit
	passRest         // the category's buckets after passExact: exact fits were seen
)

// candidates offers top every resource of the buckets bs (from lookup)
// that passes the hard filters for v. The caller has checked the
// duplicate rule; the buckets guarantee category and coverage. It returns
// how many entries it looked at.
func (e *Engine) candidates(sc *scratch, v *needView, today aidhub.Day, bs []*bucket, top *topK, pass uint8) int {
	seen := 0
	reg := v.reg
	age, groups, income := uint8(v.age), v.groups|anyGroup, v.income
	for _, b := range bs {
		seen += len(b.hot)
		cold := b.cold[:len(b.hot)]
		for i := range b.hot {
			h := &b.hot[i]
			// Every filter at once, without a branch each: about half
			// the entries pass, so branches would often be mispredicted.
			if b2u(h.groups&groups == 0)|b2u(uint32(today-h.from) > h.span)|
				b2u(age-h.ageMin > h.ageSpan)|b2u(income > h.income) != 0 {
				continue
			}
			c := &cold[i]
			ent := entitlement(v.groups, &c.lv)
			dist := proximity(reg, c.locN, c.loc12)
			ft := fitExact
			if pass != passExact {
				if ft = v.fit(c.direct, c.wide, c.items, e.res[c.slot]); ft == fitExact && pass == passRest {
					continue
				}
			}
			cd := cand{score: e.score(v, ft, ent, dist, c.scarcity), id: c.id, fit: ft, ent: ent, dist: dist, scar: c.scarcity}
			if !top.takes(&cd) {
				continue
			}
			// The rule, the dearest filter, only for a resource that
			// would make the ranking.
			if h.flags&entRule != 0 {
				if ok, _ := e.rule(sc, e.res[c.slot], v); !ok {
					continue
				}
			}
			top.push(cd)
		}
	}
	return seen
}

// Match returns up to limit resources that pass every hard filter for the
// need today, best first: item fit descending (the item the need names,
// then other items of its category, then sub-categories), then score
// descending, ties by resource ID ascending. An invalid need (unknown
// category or item, severity outside 1–5, …) matches nothing; WhyNot says
// why.
func (e *Engine) Match(n *Need, today aidhub.Day, limit int) []Match {
	if limit <= 0 || n == nil {
		return nil
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	v := &sc.nv
	if err := e.cat.resolve(n, &sc.reg, v); err != nil {
		return nil
	}
	if v.isBlocked(today) {
		return nil
	}
	e.cat.prepare(v, today)
	sc.top.reset(limit, true)
	var arr [maxDigits]*bucket
	e.mu.RLock()
	if v.item >= 0 {
		e.candidates(sc, v, today, e.lookup(v.itemOffer, v.reg, arr[:0]), &sc.top, passExact)
		e.candidates(sc, v, today, e.lookup(v.offer, v.reg, arr[:0]), &sc.top, passRest)
	} else {
		e.candidates(sc, v, today, e.lookup(v.offer, v.reg, arr[:0]), &sc.top, passAll)
	}
	e.mu.RUnlock()
	cs := sc.top.sorted()
	if len(cs) == 0 {
		return nil
	}
	out := make([]Match, len(cs))
	fs := make([]Factor, len(cs)*nFactors)
	for i := range cs {
		f := fs[i*nFactors : (i+1)*nFactors : (i+1)*nFactors]
		out[i] = Match{ResourceID: cs[i].id, Score: e.explain(v, &cs[i], f), Factors: f}
	}
	return out
}

// WhyNot checks one resource against the need and lists every hard filter
// it fails, in a fixed order; matched is true when there is none.
func (e *Engine) WhyNot(n *Need, resourceID int64, today aidhub.Day) (matched bool, failures []Failure) {
	e.mu.RLock()
	s, ok := e.slot[resourceID]
	var x *res
	if ok {
		x = e.res[s]
	}
	e.mu.RUnlock()
	if n == nil {
		return false, []Failure{{Filter: FilterNeed, Reason: "no need given", ReasonZh: "未指定需求"}}
	}
	var reg region
	var v needView
	if err := e.cat.resolve(n, &reg, &v); err != nil {
		failures = append(failures, Failure{Filter: FilterNeed, Reason: "the need is not valid: " + err.Error(), ReasonZh: "需求无效：" + err.Error()})
	}
	if x == nil {
		failures = append(failures, Failure{Filter: FilterResource, Reason: fmt.Sprintf("there is no resource %d", resourceID),
			ReasonZh: fmt.Sprintf("没有编号为 %d 的可匹配资源", resourceID)})
	}
	if len(failures) > 0 {
		return false, failures
	}
	e.cat.prepare(&v, today)
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	return e.why(sc, x, &v, today)
}

// why lists the filters x fails for v.
func (e *Engine) why(sc *scratch, x *res, v *needView, today aidhub.Day) (bool, []Failure) {
	c := e.cat
	var fs []Failure
	add := func(f Failure) { fs = append(fs, f) }
	if _, ok := x.offerFor(v.offer); !ok {
		cat := c.catCodes[v.cat]
		add(Failure{Filter: FilterCategory,
			Reason: fmt.Sprintf("it offers no item in category %s or below it (it offers %s)",
				c.name(kindCategory, cat, false), orNone(c.nameList(kindItem, x.src.Items, false), "none")),
			ReasonZh: fmt.Sprintf("它不提供“%s”类别（含下级类别）的服务项目（它提供：%s）",
				c.name(kindCategory, cat, true), orNoneZh(c.nameList(kindItem, x.src.Items, true)))})
	}
	if !groupsOK(x.groups, v.groups) {
		forEn, forZh := c.groupList(x.groups), c.groupList(x.groups)
		add(Failure{Filter: FilterGroup,
			Reason: fmt.Sprintf("it is for %s; the need's groups are %s",
				strings.Join(c.nameList(kindGroup, forEn, false), ", "), orNone(c.nameList(kindGroup, c.groupList(v.groups), false), "none")),
			ReasonZh: fmt.Sprintf("仅面向%s；该需求对象的人群类别为%s",
				strings.Join(c.nameList(kindGroup, forZh, true), "、"), orNoneZh(c.nameList(kindGroup, c.groupList(v.groups), true)))})
	}
	if !x.covers(v.reg) {
		where, whereZh := v.regionCode, v.regionCode
		if where == "" {
			where, whereZh = "unknown", "未知"
		}
		add(Failure{Filter: FilterCoverage,
			Reason:   fmt.Sprintf("it covers %s; the need is in %s", orNone(coverCodes(x.cover), "nowhere"), where),
			ReasonZh: fmt.Sprintf("服务范围为 %s；需求所在地为 %s", orNone(coverCodes(x.cover), "无"), whereZh)})
	}
	if !x.ageOK(v.age) {
		f := Failure{Filter: FilterAge, Actual: ptr(int64(v.age)), Unit: UnitYears,
			Reason:   fmt.Sprintf("it is for ages %s; the %s is %d", ageRange(x), who(v), v.age),
			ReasonZh: fmt.Sprintf("适用年龄%s；%s %d 岁", ageRangeZh(x), whoZh(v), v.age)}
		if v.age < x.ageMin {
			f.Limit = ptr(int64(x.ageMin))
		} else {
			f.Limit = ptr(int64(x.ageMax))
		}
		add(f)
	}
	if !x.incomeOK(v.income) {
		f := Failure{Filter: FilterIncome, Limit: ptr(x.income), Actual: ptr(v.income), Unit: UnitFen,
			Reason:   fmt.Sprintf("income %s yuan per person a month is above its ceiling of %s yuan", aidhub.Yuan(v.income), aidhub.Yuan(x.income)),
			ReasonZh: fmt.Sprintf("人均 %s 元/月，超过上限 %s 元", aidhub.Yuan(v.income), aidhub.Yuan(x.income))}
		if v.hhIncome > 0 && v.size > 0 {
			f.Reason = fmt.Sprintf("income %s yuan per person a month (%s yuan ÷ %d people) is above its ceiling of %s yuan",
				aidhub.Yuan(v.income), aidhub.Yuan(v.hhIncome), v.size, aidhub.Yuan(x.income))
			f.ReasonZh = fmt.Sprintf("人均 %s 元/月 = %s 元 ÷ %d 人，超过上限 %s 元", aidhub.Yuan(v.income), aidhub.Yuan(v.hhIncome), v.size, aidhub.Yuan(x.income))
		}
		add(f)
	}
	if today < x.from {
		add(Failure{Filter: FilterWindow, From: ptr(x.from),
			Reason:   fmt.Sprintf("it is valid from %s; today is %s", x.from, today),
			ReasonZh: fmt.Sprintf("%s 起有效；今天是 %s", x.from, today)})
	}
	if today > x.until {
		add(Failure{Filter: FilterWindow, Until: ptr(x.until),
			Reason:   fmt.Sprintf("it expired after %s; today is %s", x.until, today),
			ReasonZh: fmt.Sprintf("已过期（有效期至 %s）；今天是 %s", x.until, today)})
	}
	if !x.capacity {
		if u := x.src.UnitsLeft; u != nil && *u <= 0 {
			f := Failure{Filter: FilterCapacity, Actual: ptr(*u), Unit: UnitUnits,
				Reason: fmt.Sprintf("it has no units left (%d left)", *u), ReasonZh: fmt.Sprintf("名额已满（剩余 %d 个）", *u)}
			if t := x.src.UnitsTotal; t != nil {
				f.Limit = ptr(*t)
				f.Reason = fmt.Sprintf("it has no units left (%d of %d left)", *u, *t)
				f.ReasonZh = fmt.Sprintf("名额已满（剩余 %d / 共 %d 个）", *u, *t)
			}
			add(f)
		}
		if b := x.src.BudgetLeftFen; b != nil && *b <= 0 {
			add(Failure{Filter: FilterCapacity, Actual: ptr(*b), Unit: UnitFen,
				Reason:   fmt.Sprintf("it has no budget left (%s yuan left)", aidhub.Yuan(*b)),
				ReasonZh: fmt.Sprintf("预算已用完（剩余 %s 元）", aidhub.Yuan(*b))})
		}
	}
	if x.rule != nil {
		ok, err := e.rule(sc, x, v)
		switch {
		case err != nil:
			msg := firstLine(err.Error())
			add(Failure{Filter: FilterRule,
				Reason:   fmt.Sprintf("its rule %q could not be evaluated: %v", x.src.Rule, msg),
				ReasonZh: fmt.Sprintf("其资格规则 %q 无法计算：%v", x.src.Rule, msg)})
		case !ok:
			add(Failure{Filter: FilterRule,
				Reason:   fmt.Sprintf("its rule %q is false for this need", x.src.Rule),
				ReasonZh: fmt.Sprintf("不满足其资格规则 %q", x.src.Rule)})
		}
	}
	if v.isBlocked(today) {
		add(c.duplicateFailure(c.catCodes[v.cat], v.hh, v.blocked, v.blockedBy))
	}
	return len(fs) == 0, fs
}

// duplicateFailure says until when the duplicate-aid rule blocks a need in
// category, and which aid (when known) blocks it.
func (c *codebook) duplicateFailure(category string, household bool, until aidhub.Day, by *aidhub.Aid) Failure {
	subj, subjZh := "person", "该对象"
	if household {
		subj, subjZh = "household", "该家庭"
	}
	en, zh := c.name(kindCategory, category, false), c.name(kindCategory, category, true)
	f := Failure{Filter: FilterDuplicate, Until: ptr(until),
		Reason:   fmt.Sprintf("the %s was already aided in category %s; the duplicate-aid rule blocks it until %s inclusive", subj, en, until),
		ReasonZh: fmt.Sprintf("%s已在“%s”类别获得帮扶，按防止重复帮扶规则，%s（含）前不再匹配", subjZh, zh, until)}
	if by != nil {
		f.From = ptr(by.Start)
		f.Reason = fmt.Sprintf("the %s was already aided in category %s (aid in %s from %s to %s); the duplicate-aid rule blocks it until %s inclusive",
			subj, en, c.name(kindCategory, by.Category, false), by.Start, by.End, until)
		f.ReasonZh = fmt.Sprintf("%s已在“%s”类别获得帮扶（%s，%s 至 %s），按防止重复帮扶规则，%s（含）前不再匹配",
			subjZh, zh, c.name(kindCategory, by.Category, true), by.Start, by.End, until)
	}
	return f
}

func ptr[T any](v T) *T { return &v }

// who is whose age a filter checked: the person, or the applicant of a
// household-level need.
func who(v *needView) string {
	if v.hh {
		return "household's applicant"
	}
	return "person"
}

func whoZh(v *needView) string {
	if v.hh {
		return "家庭申请人"
	}
	return "本人"
}

// orNoneZh lists names the Chinese way, or says 无.
func orNoneZh(s []string) string {
	if len(s) == 0 {
		return "无"
	}
	return strings.Join(s, "、")
}

func orNone(s []string, none string) string {
	if len(s) == 0 {
		return none
	}
	return strings.Join(s, ", ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func coverCodes(rs []region) []string {
	out := make([]string, len(rs))
	for i := range rs {
		out[i] = fmt.Sprintf("%0*d", rs[i].n, rs[i].value())
	}
	return out
}

func ageRange(x *res) string {
	switch {
	case x.src.AgeMin != nil && x.src.AgeMax != nil:
		return fmt.Sprintf("%d to %d", x.ageMin, x.ageMax)
	case x.src.AgeMin != nil:
		return fmt.Sprintf("%d and over", x.ageMin)
	default:
		return fmt.Sprintf("up to %d", x.ageMax)
	}
}

func ageRangeZh(x *res) string {
	switch {
	case x.src.AgeMin != nil && x.src.AgeMax != nil:
		return fmt.Sprintf(" %d 至 %d 岁", x.ageMin, x.ageMax)
	case x.src.AgeMin != nil:
		return fmt.Sprintf(" %d 岁及以上", x.ageMin)
	default:
		return fmt.Sprintf(" %d 岁及以下", x.ageMax)
	}
}

// cand is a candidate in a top-k selection: a resource for a need, or a
// need for a resource (id and idx are then the need's).
type cand struct {
	score                float64
	id                   int64
	idx                  int32
	fit, ent, dist, scar float64
}

// better orders candidates: higher score first, then lower ID; for a
// need's resources (byFit) a closer item fit comes before either, so that
// what the need asked for is offered first.
func (t *topK) better(a, b *cand) bool {
	if t.byFit && a.fit != b.fit {
		return a.fit > b.fit
	}
	return a.score > b.score || a.score == b.score && a.id < b.id
}

// topK keeps the k best candidates in a heap whose root is the worst kept.
type topK struct {
	k     int
	byFit bool
	h     []cand
}

// reset empties t for k candidates, ordered by item fit first when byFit.
func (t *topK) reset(k int, byFit bool) {
	t.k, t.byFit = k, byFit
	t.h = t.h[:0]
	if cap(t.h) < min(k, 1024) || cap(t.h) > 4096 && k <= 1024 {
		t.h = make([]cand, 0, min(k, 1024))
	}
}

// takes reports whether push would keep c.
func (t *topK) takes(c *cand) bool { return len(t.h) < t.k || t.better(c, &t.h[0]) }

func (t *topK) push(c cand) {
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		for i := len(t.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !t.better(&t.h[p], &t.h[i]) {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	if !t.better(&c, &t.h[0]) {
		return
	}
	t.h[0] = c
	for i := 0; ; {
		l, r, w := 2*i+1, 2*i+2, i
		if l < len(t.h) && t.better(&t.h[w], &t.h[l]) {
			w = l
		}
		if r < len(t.h) && t.better(&t.h[w], &t.h[r]) {
			w = r
		}
		if w == i {
			break
		}
		t.h[w], t.h[i] = t.h[i], t.h[w]
		i = w
	}
}

// sorted returns the kept candidates best first (reusing the heap).
func (t *topK) sorted() []cand {
	slices.SortFunc(t.h, func(a, b cand) int {
		if t.better(&a, &b) {
			return -1
		}
		if t.better(&b, &a) {
			return 1
		}
		return 0
	})
	return t.h
}
