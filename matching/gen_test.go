package matching_test

// A deterministic, in-memory generator of a synthetic population and its
// charity resources over the real Chongqing division codes and the
// seeded catalog (../catalog/defaults.json), for tests and benchmarks.

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/matching"
	"github.com/aidhub/aidhub/regions"
)

func testCatalog(t testing.TB) *aidhub.Catalog {
	t.Helper()
	var c catalogJSON
	readJSON(t, "testdata/catalog.json", &c)
	return buildCatalog(t, &c)
}

func newEngine(t testing.TB, cat *aidhub.Catalog, rs ...matching.Resource) *matching.Engine {
	t.Helper()
	e, err := matching.NewEngine(cat, matching.DefaultWeights(), aidhub.DefaultColours())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetResources(rs); err != nil {
		t.Fatal(err)
	}
	return e
}

// catalogSpec is what the generator draws codes from.
type catalogSpec struct {
	groups    []string
	groupW    []float64
	items     []string
	itemCat   map[string]string
	itemHH    map[string]bool
	itemsOf   map[string][]string // category → items directly in it
	cats      []string
	catW      []float64
	childOf   map[string]bool // children-only groups
	elderlyOf map[string]bool
}

// defaultCatalog reads the seeded catalog.
func defaultCatalog(t testing.TB) (*aidhub.Catalog, *catalogSpec) {
	t.Helper()
	b, err := os.ReadFile("../catalog/defaults.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Groups []struct {
			Code string
			Tier int
		}
		Categories []struct {
			Code                string
			Parent              *string
			DuplicateWindowDays int
		}
		Items []struct {
			Code, Category string
			HouseholdLevel bool
		}
		Plans []struct{ Group, Item, Level string }
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var (
		gs    []aidhub.Group
		cs    []aidhub.Category
		is    []aidhub.Item
		ps    []aidhub.PlanEntry
		share = map[string]float64{ // of the monitored low-income population
			"DIBAO": 40, "MARGINAL": 15, "RELAPSE_MONITORING": 12, "DISABILITY": 8, "TEKUN": 6,
			"EXPENDITURE_HARDSHIP": 6, "SERIOUS_ILLNESS": 5, "LEFT_BEHIND_ELDERLY": 5, "TEMPORARY": 2,
			"NEEDY_WORKER": 2, "DISTRESSED_CHILD": 2, "ORPHAN": 0.3, "UNATTENDED_CHILD": 0.3, "VAGRANT": 0.1,
		}
		catShare = map[string]float64{
			"BASIC_LIVING": 25, "MEDICAL": 8, "MEDICAL_INPATIENT": 8, "MEDICAL_OUTPATIENT": 6, "EDUCATION": 4,
			"EDUCATION_GRANTS": 4, "HOUSING": 4, "HOUSING_REPAIR": 2, "EMPLOYMENT": 7, "CARE": 3, "ELDERLY_CARE": 5,
			"CHILD_CARE": 2, "PSYCHOLOGICAL": 4, "LEGAL": 3, "EMERGENCY": 3, "EMERGENCY_DISASTER": 1,
			"SOCIAL_INTEGRATION": 4, "DISABILITY_SERVICES": 4, "DISABILITY_REHAB": 3,
		}
	)
	spec := &catalogSpec{itemCat: map[string]string{}, itemHH: map[string]bool{}, itemsOf: map[string][]string{},
		childOf:   map[string]bool{"ORPHAN": true, "UNATTENDED_CHILD": true, "DISTRESSED_CHILD": true},
		elderlyOf: map[string]bool{"LEFT_BEHIND_ELDERLY": true}}
	for _, g := range raw.Groups {
		gs = append(gs, aidhub.Group{Code: g.Code, Tier: g.Tier})
		spec.groups = append(spec.groups, g.Code)
		spec.groupW = append(spec.groupW, share[g.Code]+0.05)
	}
	for _, c := range raw.Categories {
		cat := aidhub.Category{Code: c.Code, WindowDays: c.DuplicateWindowDays}
		if c.Parent != nil {
			cat.Parent = *c.Parent
		}
		cs = append(cs, cat)
		spec.cats = append(spec.cats, c.Code)
		spec.catW = append(spec.catW, catShare[c.Code]+0.5)
	}
	for _, it := range raw.Items {
		is = append(is, aidhub.Item{Code: it.Code, Category: it.Category, HouseholdLevel: it.HouseholdLevel})
		spec.items = append(spec.items, it.Code)
		spec.itemCat[it.Code] = it.Category
		spec.itemHH[it.Code] = it.HouseholdLevel
		spec.itemsOf[it.Category] = append(spec.itemsOf[it.Category], it.Code)
	}
	for _, p := range raw.Plans {
		l, err := aidhub.ParseLevel(p.Level)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, aidhub.PlanEntry{Group: p.Group, Item: p.Item, Level: l})
	}
	cat, err := aidhub.NewCatalog(gs, cs, is, ps)
	if err != nil {
		t.Fatal(err)
	}
	return cat, spec
}

func pick(rng *rand.Rand, w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	r := rng.Float64() * total
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}

// sampleVillages returns n real village codes (all 11,270 when n ≤ 0),
// ordered by code.
func sampleVillages(n int, rng *rand.Rand) []string {
	all := regions.Chongqing().AtLevel(regions.Village)
	codes := make([]string, len(all))
	for i, d := range all {
		codes[i] = d.Code
	}
	if n <= 0 || n >= len(codes) {
		return codes
	}
	rng.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] })
	codes = codes[:n]
	slices.Sort(codes)
	return codes
}

var genRules = []string{
	`age >= 60 && "DIBAO" in groups`,
	`householdSize >= 3`,
	`female || age < 18`,
	`severity >= 4`,
	`incomePerCapitaFen < 60000 && !household`,
}

// genResources draws n resources: local ones mostly (street and village
// coverage), a quarter district-wide, a few city-wide.
func genResources(spec *catalogSpec, villages []string, n int, today aidhub.Day, rng *rand.Rand) []matching.Resource {
	streets, districts := map[string][]string{}, map[string][]string{}
	var districtList []string
	for _, v := range villages {
		s, d := v[:9], v[:6]
		if _, ok := streets[s]; !ok {
			districts[d] = append(districts[d], s)
			if len(districts[d]) == 1 {
				districtList = append(districtList, d)
			}
		}
		streets[s] = append(streets[s], v)
	}
	out := make([]matching.Resource, 0, n)
	for id := int64(1); len(out) < n; id++ {
		r := matching.Resource{ID: id, OrganizationID: 1 + id%900}
		cat := spec.cats[pick(rng, spec.catW)]
		its := spec.itemsOf[cat]
		for k := 1 + rng.IntN(min(3, len(its))); k > 0; k-- {
			it := its[rng.IntN(len(its))]
			if !slices.Contains(r.Items, it) {
				r.Items = append(r.Items, it)
			}
		}
		if rng.IntN(100) < 15 {
			if it := spec.items[rng.IntN(len(spec.items))]; !slices.Contains(r.Items, it) {
				r.Items = append(r.Items, it)
			}
		}
		if rng.IntN(100) >= 45 {
			for k := 1 + rng.IntN(3); k > 0; k-- {
				if g := spec.groups[pick(rng, spec.groupW)]; !slices.Contains(r.Groups, g) {
					r.Groups = append(r.Groups, g)
				}
			}
		}
		d := districtList[rng.IntN(len(districtList))]
		s := districts[d][rng.IntN(len(districts[d]))]
		v := streets[s][rng.IntN(len(streets[s]))]
		switch x := rng.IntN(1000); {
		case x < 5:
			r.Coverage = []string{"50"}
		case x < 200:
			r.Coverage = []string{d}
		case x < 250:
			r.Coverage = []string{d, districtList[rng.IntN(len(districtList))]}
		case x < 750:
			r.Coverage = []string{s}
			if rng.IntN(3) == 0 {
				r.Coverage = append(r.Coverage, districts[d][rng.IntN(len(districts[d]))])
			}
		default:
			r.Coverage = []string{v}
			for k := rng.IntN(4); k > 0; k-- {
				r.Coverage = append(r.Coverage, streets[s][rng.IntN(len(streets[s]))])
			}
		}
		switch x := rng.IntN(100); {
		case x < 60:
			r.Region = v
		case x < 85:
			r.Region = s
		}
		switch x := rng.IntN(100); {
		case x < 8:
			r.AgeMin = ptr(60)
		case x < 14:
			r.AgeMax = ptr(17)
		case x < 20:
			r.AgeMin, r.AgeMax = ptr(18), ptr(59)
		}
		if rng.IntN(100) < 30 {
			r.IncomeCeilingFen = ptr(int64(60000 + 10000*rng.IntN(10)))
		}
		switch x := rng.IntN(100); {
		case x < 85:
			r.ValidFrom, r.ValidUntil = ptr(today.AddDays(-rng.IntN(300))), ptr(today.AddDays(rng.IntN(365)))
		case x < 90:
			r.ValidFrom, r.ValidUntil = ptr(today.AddDays(-400)), ptr(today.AddDays(-1-rng.IntN(30)))
		case x < 95:
			r.ValidFrom = ptr(today.AddDays(1 + rng.IntN(30)))
		}
		switch x := rng.IntN(100); {
		case x < 70:
			total := int64(10 + rng.IntN(490))
			left := rng.Int64N(total + 1)
			if rng.IntN(100) < 5 {
				left = 0
			}
			r.UnitsTotal, r.UnitsLeft = &total, &left
		case x < 85:
			r.BudgetLeftFen = ptr(int64(rng.IntN(10_000_000)))
		}
		if rng.IntN(100) < 2 {
			r.Rule = genRules[rng.IntN(len(genRules))]
		}
		out = append(out, r)
	}
	return out
}

// personGen draws monitored people household by household: 1–3 of a
// household's members are monitored, each with 1–3 needs (1.3 on average).
// It goes through the villages in code order, about persons/villages
// people each (half to one and a half times as many), as a loader
// reading the database ordered by region, household and person would.
type personGen struct {
	spec     *catalogSpec
	villages []string
	mean     float64 // people per village
	village  int     // index of the current village
	quota    int     // people still to draw in it
	today    aidhub.Day
	rng      *rand.Rand
	catItems [][]string // items by spec.cats index
	nextNeed int64
	nextPers int64
	nextHH   int64
	left     int // members of the current household still to draw
	hh       struct {
		id, income int64
		size       int
		region     string
		groups     []string
	}
}

func newPersonGen(spec *catalogSpec, villages []string, persons int, today aidhub.Day, rng *rand.Rand) *personGen {
	g := &personGen{spec: spec, villages: villages, today: today, rng: rng, village: -1,
		mean: float64(persons) / float64(len(villages))}
	for _, c := range spec.cats {
		g.catItems = append(g.catItems, spec.itemsOf[c])
	}
	return g
}

// next returns the needs of the next person.
func (g *personGen) next() []matching.Need {
	rng, spec := g.rng, g.spec
	if g.left == 0 {
		for g.quota <= 0 {
			g.village = (g.village + 1) % len(g.villages)
			g.quota = int(g.mean*(0.5+rng.Float64()) + 0.5)
		}
		g.nextHH++
		g.hh.id = g.nextHH
		g.hh.size = 1 + rng.IntN(6)
		g.hh.region = g.villages[g.village]
		g.hh.income = int64(20000 + rng.IntN(130000))
		g.hh.groups = []string{spec.groups[pick(rng, spec.groupW)]}
		g.left = min(1+rng.IntN(3), g.hh.size)
	}
	g.left--
	g.quota--
	g.nextPers++
	groups := slices.Clone(g.hh.groups)
	if rng.IntN(100) < 25 {
		if x := spec.groups[pick(rng, spec.groupW)]; !slices.Contains(groups, x) {
			groups = append(groups, x)
		}
	}
	var age int
	switch {
	case slices.ContainsFunc(groups, func(s string) bool { return spec.childOf[s] }):
		age = rng.IntN(18)
	case slices.ContainsFunc(groups, func(s string) bool { return spec.elderlyOf[s] }):
		age = 60 + rng.IntN(36)
	default:
		age = rng.IntN(96)
	}
	k := 1
	switch x := rng.IntN(100); {
	case x < 5:
		k = 3
	case x < 25:
		k = 2
	}
	out := make([]matching.Need, 0, k)
	for range k {
		g.nextNeed++
		ci := pick(rng, spec.catW)
		n := matching.Need{
			ID: g.nextNeed, HouseholdID: g.hh.id, PersonID: g.nextPers, Region: g.hh.region,
			Category: spec.cats[ci], Severity: 1 + rng.IntN(5), OpenedOn: g.today.AddDays(-int(rng.ExpFloat64() * 30)),
			Age: age, Female: rng.IntN(2) == 0, Groups: groups, IncomePerCapitaFen: g.hh.income, HouseholdSize: g.hh.size,
		}
		its := g.catItems[ci]
		it := its[rng.IntN(len(its))]
		if rng.IntN(100) < 40 {
			n.Item = it
		}
		if spec.itemHH[it] && rng.IntN(100) < 70 {
			n.PersonID = 0
		}
		switch x := rng.IntN(100); {
		case x < 8:
			n.BlockedUntil = g.today.AddDays(rng.IntN(60))
		case x < 12:
			n.BlockedUntil = g.today.AddDays(-1 - rng.IntN(100))
		}
		out = append(out, n)
	}
	return out
}
