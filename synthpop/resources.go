package synthpop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aidhub/aidhub/catalog"
)

// org is a generated organization.
type org struct {
	id       int64
	name     string
	kind     catalog.OrgKind
	division string // "50" or a district code
	dept     string // for government departments: the category roots they pay for
}

// res is a generated resource, kept for referrals.
type res struct {
	id, org          int64
	category         string
	items            []string
	coverage         []string
	ageMin, ageMax   int // -1: none
	ceiling          int64
	units, taken     int64
	referred         int64 // units taken by generated referrals
	budget           bool
	validFrom, until time.Time // zero: open
}

// Government departments and the category roots they pay aid for.
var departments = []struct{ name, roots string }{
	{"民政局", "BASIC_LIVING HOUSING CARE EMERGENCY SOCIAL_INTEGRATION PSYCHOLOGICAL LEGAL"},
	{"医疗保障局", "MEDICAL"},
	{"教育委员会", "EDUCATION"},
	{"人力资源和社会保障局", "EMPLOYMENT"},
	{"残疾人联合会", "DISABILITY_SERVICES"},
	{"总工会", "EMPLOYMENT BASIC_LIVING"},
}

var (
	charityWords   = split("春晖阳光红岩山城巴渝同心关爱暖心长江三峡渝爱众善启明彩虹乐善仁爱惠民博爱晨光嘉陵朝天缙云")
	charitySuffix  = []string{"公益基金会", "慈善基金会", "公益服务中心", "爱心协会", "志愿者协会"}
	socialSuffix   = []string{"社会工作服务中心", "社工服务社", "社区服务中心", "养老服务中心", "儿童服务中心"}
	resourceSuffix = []string{"帮扶项目", "救助计划", "关爱行动", "服务项目", "专项基金"}
)

// genOrganizations draws n organizations: a tenth (at least six)
// government departments, the rest charities and social organizations.
// Names already in the store are avoided.
func genOrganizations(w *world, r *rand.Rand, n int, firstID int64, taken map[string]bool) []*org {
	nGov := max(len(departments), n/10)
	out := make([]*org, 0, n)
	name := func(base string) string {
		s := base
		for i := 2; taken[s]; i++ {
			s = fmt.Sprintf("%s（%d）", base, i)
		}
		taken[s] = true
		return s
	}
	add := func(o *org) {
		o.id = firstID + int64(len(out))
		out = append(out, o)
	}
	for i := 0; i < nGov && len(out) < n; i++ {
		dept := departments[i%len(departments)]
		if i < len(departments) {
			add(&org{name: name("重庆市" + dept.name), kind: catalog.KindGovernment, division: "50", dept: dept.roots})
			continue
		}
		d := w.districtPick.pick(r)
		add(&org{name: name(w.districtName[d] + dept.name), kind: catalog.KindGovernment, division: w.districts[d], dept: dept.roots})
	}
	for len(out) < n {
		d := w.districtPick.pick(r)
		switch x := r.IntN(100); {
		case x < 15:
			add(&org{name: name(w.districtName[d] + "慈善会"), kind: catalog.KindCharity, division: w.districts[d]})
		case x < 60:
			div := w.districts[d]
			if r.IntN(3) == 0 {
				div = "50"
			}
			add(&org{name: name("重庆市" + charityWords[r.IntN(len(charityWords))] + charitySuffix[r.IntN(len(charitySuffix))]),
				kind: catalog.KindCharity, division: div})
		default:
			add(&org{name: name(w.districtName[d] + charityWords[r.IntN(len(charityWords))] + socialSuffix[r.IntN(len(socialSuffix))]),
				kind: catalog.KindSocialOrganization, division: w.districts[d]})
		}
	}
	return out
}

func orgRow(w *world, r *rand.Rand, o *org) []any {
	created := w.at(between(r, 400, 3000), officeSecs(r))
	desc := map[catalog.OrgKind]string{
		catalog.KindGovernment:         "政府部门，负责相关社会救助事项的审核与发放。",
		catalog.KindCharity:            "依法登记的慈善组织，开展助困、助医、助学等慈善项目。",
		catalog.KindSocialOrganization: "专业社会工作服务机构，为困难群众提供个案、小组和社区服务。",
	}[o.kind]
	return []any{o.id, o.name, string(o.kind), o.division, desc, phone(r), "", created, created}
}

// phone draws a Chongqing landline.
func phone(r *rand.Rand) string {
	return fmt.Sprintf("023-%d%07d", 6+2*r.IntN(2), r.IntN(10_000_000))
}

// resourceGen draws resources.
type resourceGen struct {
	w        *world
	r        *rand.Rand
	owners   []*org
	ownerW   picker
	catPick  picker
	names    *namer
	nextID   int64
	resList  []*res
	byCatDis map[string]map[int][]int32 // category (and those above it) → district → resources
	byCatAll map[string][]int32         // category → city-wide resources
}

func newResourceGen(w *world, r *rand.Rand, orgs []*org, firstID int64) *resourceGen {
	g := &resourceGen{w: w, r: r, names: newNamer(), nextID: firstID,
		byCatDis: map[string]map[int][]int32{}, byCatAll: map[string][]int32{}}
	var ow []float64
	rank := 0
	for _, o := range orgs {
		g.owners = append(g.owners, o)
		// a few charities publish most resources (Zipf-like);
		// government departments publish a few
		x := 0.02
		if o.kind != catalog.KindGovernment {
			rank++
			x = 1 / math.Pow(float64(rank), 0.8)
		}
		ow = append(ow, x)
	}
	g.ownerW = newPicker(ow)
	cw := make([]float64, len(w.categories))
	for i, c := range w.categories {
		if len(w.catItems[c]) > 0 {
			cw[i] = categoryWeights[c] + 0.5
		}
	}
	g.catPick = newPicker(cw)
	return g
}

// next draws one resource and returns its rows: the resource, its items,
// groups and coverage. The steps draw from g.r in a fixed order, so a seed
// gives the same resources.
func (g *resourceGen) next() (resource []any, items, groups, coverage [][]any) {
	w, r := g.w, g.r
	id := g.nextID
	g.nextID++
	o := g.owners[g.ownerW.pick(r)]
	cat := w.categories[g.catPick.pick(r)]
	rs := &res{id: id, org: o.id, category: cat, ageMin: -1, ageMax: -1}
	rs.items = g.drawItems(cat)
	groupCodes := g.drawGroups(rs.items)
	v := g.drawCoverage(rs, o)
	location := v.code // a village inside the coverage
	g.drawAgeRange(rs)
	if r.IntN(10) < 3 {
		rs.ceiling = []int64{dibaoLineFen, dibaoLineFen * 6 / 5, dibaoLineFen * 3 / 2, 2 * dibaoLineFen}[r.IntN(4)]
	}
	budget, budgetTaken := g.drawCapacity(rs)
	from, until := g.drawValidity(rs)
	rule := ""
	if r.Float64() < ruleShare {
		rule = eligibilityRules[r.IntN(len(eligibilityRules))]
	}
	title, desc := g.describe(rs, o, groupCodes)
	address := strings.TrimPrefix(w.dir.FullName(location[:9]), "重庆市") + v.name + "便民服务点"
	contact := g.names.family(r) + []string{"老师", "女士", "先生"}[r.IntN(3)]
	created, published := g.drawTimes(rs)

	resource = []any{id, o.id, title, desc, "PUBLISHED", optInt(rs.ageMin), optInt(rs.ageMax), optInt64(rs.ceiling),
		rs.units, rs.taken, budget, budgetTaken, from, until, address, location,
		contact, phone(r), rule, int64(1), created, published, published}
	for _, it := range rs.items {
		items = append(items, []any{id, it})
	}
	for _, gc := range groupCodes {
		groups = append(groups, []any{id, gc})
	}
	for _, c := range rs.coverage {
		coverage = append(coverage, []any{id, c})
	}
	g.index(rs)
	return resource, items, groups, coverage
}

// drawItems draws 1–3 items of the category, sorted.
func (g *resourceGen) drawItems(cat string) []string {
	r := g.r
	var items []string
	its := g.w.catItems[cat]
	for k := min(pickW(r, []float64{55, 30, 15})+1, len(its)); len(items) < k; {
		it := its[r.IntN(len(its))].Code
		if !slices.Contains(items, it) {
			items = append(items, it)
		}
	}
	slices.Sort(items)
	return items
}

// drawGroups draws 0–3 eligible groups, sorted, preferring those whose
// plan lists the items and, among them, the larger groups.
func (g *resourceGen) drawGroups(items []string) []string {
	w, r := g.w, g.r
	var cands []string
	for _, it := range items {
		for _, gc := range w.groupsOfItem[it] {
			if !slices.Contains(cands, gc) {
				cands = append(cands, gc)
			}
		}
	}
	if len(cands) == 0 {
		cands = w.groups
	}
	slices.Sort(cands)
	var groupCodes []string
	for k := min(pickW(r, []float64{40, 30, 20, 10}), len(cands)); len(groupCodes) < k; {
		gw := make([]float64, len(cands))
		for i, c := range cands {
			if !slices.Contains(groupCodes, c) {
				gw[i] = w.groupShare[c] + 0.5
			}
		}
		groupCodes = append(groupCodes, cands[pickW(r, gw)])
	}
	slices.Sort(groupCodes)
	return groupCodes
}

// drawCoverage sets the coverage, a district, a street or the whole city,
// mostly near the owner, and returns a village inside it where the
// resource is.
func (g *resourceGen) drawCoverage(rs *res, owner *org) village {
	w, r := g.w, g.r
	d := w.districtPick.pick(r)
	if owner.division != "50" && r.IntN(5) != 0 {
		d = w.districtOf[owner.division]
	}
	vs := w.villagesOf[d]
	v := w.villages[vs[r.IntN(len(vs))]]
	switch x := r.Float64(); {
	case x < 0.6:
		rs.coverage = []string{w.districts[d]}
		if r.IntN(10) == 0 {
			if o := w.districts[w.districtPick.pick(r)]; o != w.districts[d] {
				rs.coverage = append(rs.coverage, o)
			}
		}
	case x < 0.9:
		rs.coverage = []string{v.code[:9]}
		if r.IntN(10) == 0 {
			if o := w.villages[vs[r.IntN(len(vs))]].code[:9]; o != v.code[:9] {
				rs.coverage = append(rs.coverage, o)
			}
		}
	default:
		rs.coverage = []string{"50"}
	}
	slices.Sort(rs.coverage)
	return v
}

// drawAgeRange limits a quarter of the resources to the ages that what
// they offer suits.
func (g *resourceGen) drawAgeRange(rs *res) {
	r := g.r
	if r.IntN(4) != 0 {
		return
	}
	switch g.w.catRoot[rs.category] {
	case "CARE":
		if rs.category == "CHILD_CARE" {
			rs.ageMax = []int{14, 16, 17}[r.IntN(3)]
		} else {
			rs.ageMin = []int{60, 65, 70, 80}[r.IntN(4)]
		}
	case "EDUCATION":
		rs.ageMin, rs.ageMax = 6, []int{17, 22}[r.IntN(2)]
	case "EMPLOYMENT":
		rs.ageMin, rs.ageMax = []int{16, 18}[r.IntN(2)], []int{55, 60}[r.IntN(2)]
	default:
		switch r.IntN(3) {
		case 0:
			rs.ageMin = 60
		case 1:
			rs.ageMax = 17
		default:
			rs.ageMin, rs.ageMax = 18, 59
		}
	}
}

// drawCapacity draws 10–1,000 units (log-uniform), some taken, and for one
// resource in five a budget; it returns the budget columns (nil: none).
func (g *resourceGen) drawCapacity(rs *res) (budget, budgetTaken any) {
	r := g.r
	rs.units = int64(10 * math.Pow(100, r.Float64()))
	if r.IntN(100) < 3 {
		rs.taken = rs.units
	} else {
		rs.taken = int64(float64(rs.units) * 0.8 * r.Float64())
	}
	budget, budgetTaken = nil, int64(0)
	if r.IntN(5) == 0 {
		b := int64(math.Round(1e5*math.Pow(500, r.Float64())/100)) * 100
		budget, budgetTaken = b, int64(float64(b)*0.7*r.Float64())/100*100
		rs.budget = true
	}
	return budget, budgetTaken
}

// drawValidity draws a validity window around today, some ended, some not
// started, some open-ended; it returns the window's columns (nil: open).
func (g *resourceGen) drawValidity(rs *res) (from, until any) {
	w, r := g.w, g.r
	switch x := r.IntN(100); {
	case x < 8: // ended
		rs.validFrom, rs.until = w.day(between(r, 200, 500)), w.day(between(r, 1, 60))
	case x < 12: // not started yet
		rs.validFrom, rs.until = w.day(-between(r, 1, 45)), w.day(-between(r, 120, 400))
	case x < 22: // open-ended
		rs.validFrom = w.day(between(r, 0, 400))
	default:
		rs.validFrom, rs.until = w.day(between(r, 0, 300)), w.day(-between(r, 0, 365))
	}
	from = rs.validFrom
	if !rs.until.IsZero() {
		until = rs.until
	}
	return from, until
}

// describe writes the title and the description from the place, the
// items and the groups.
func (g *resourceGen) describe(rs *res, owner *org, groupCodes []string) (title, desc string) {
	w, r := g.w, g.r
	place := "全市"
	if rs.coverage[0] != "50" {
		place = w.dir.FullName(rs.coverage[0])
		place = strings.TrimPrefix(place, "重庆市")
	}
	first, _ := w.cat.Item(rs.items[0])
	title = place + first.NameZh + resourceSuffix[r.IntN(len(resourceSuffix))]
	var itemNames, groupNames []string
	for _, it := range rs.items {
		x, _ := w.cat.Item(it)
		itemNames = append(itemNames, x.NameZh)
	}
	for _, gc := range groupCodes {
		x, _ := w.cat.Group(gc)
		groupNames = append(groupNames, x.NameZh)
	}
	who := "困难群众"
	if len(groupNames) > 0 {
		who = strings.Join(groupNames, "、")
	}
	desc = fmt.Sprintf("由%s提供，面向%s，内容包括%s。", owner.name, who, strings.Join(itemNames, "、"))
	return title, desc
}

// drawTimes draws when the resource was created, in office hours and not
// before its validity starts, and published the same day.
func (g *resourceGen) drawTimes(rs *res) (created, published time.Time) {
	w, r := g.w, g.r
	if days := int(w.today.Sub(rs.validFrom).Hours() / 24); days > 0 {
		created = w.at(days+between(r, 0, 30), officeSecs(r))
	} else {
		created = w.at(between(r, 1, 30), officeSecs(r))
	}
	published = created.Add(time.Duration(between(r, 600, 6*3600)) * time.Second) // the same day
	return created, published
}

// index files a resource under its category and those above it, by the
// districts its coverage reaches.
func (g *resourceGen) index(rs *res) {
	i := int32(len(g.resList))
	g.resList = append(g.resList, rs)
	for _, c := range g.w.catAncestors[rs.category] {
		for _, p := range rs.coverage {
			if len(p) < 6 {
				g.byCatAll[c] = append(g.byCatAll[c], i)
				continue
			}
			m := g.byCatDis[c]
			if m == nil {
				m = map[int][]int32{}
				g.byCatDis[c] = m
			}
			d := g.w.districtOf[p[:6]]
			if l := m[d]; len(l) == 0 || l[len(l)-1] != i {
				m[d] = append(l, i)
			}
		}
	}
}

// find returns a resource a need of category in region may be referred
// to (published, valid today, covering the region, open to the age and
// income, units left and no budget to count), or nil.
func (g *resourceGen) find(r *rand.Rand, category, region string, district, age int, income int64, take bool) *res {
	local, city := g.byCatDis[category][district], g.byCatAll[category]
	n := len(local) + len(city)
	if n == 0 {
		return nil
	}
	today := g.w.today.Time
	for range 8 {
		k := r.IntN(n)
		var rs *res
		if k < len(local) {
			rs = g.resList[local[k]]
		} else {
			rs = g.resList[city[k-len(local)]]
		}
		switch {
		case rs.budget, rs.validFrom.After(today), !rs.until.IsZero() && rs.until.Before(today),
			rs.ageMin >= 0 && age < rs.ageMin, rs.ageMax >= 0 && age > rs.ageMax,
			rs.ceiling > 0 && income > rs.ceiling, rs.taken >= rs.units,
			take && rs.referred >= rs.taken:
			continue
		}
		if !slices.ContainsFunc(rs.coverage, func(p string) bool { return strings.HasPrefix(region, p) }) {
			continue
		}
		return rs
	}
	return nil
}

func optInt(v int) any {
	if v < 0 {
		return nil
	}
	return int64(v)
}

func optInt64(v int64) any {
	if v <= 0 {
		return nil
	}
	return v
}
