package synthpop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/residentid"
)

// chunk is the rows of a run of whole households, written together.
type chunk struct {
	households, persons, memberships, consents, assessments, needs, referrals, events, aid [][]any
	signals                                                                                [][]any

	// ids are the resident IDs of persons, in order; seal puts their blind
	// index and ciphertext into persons[i][4:6].
	ids []residentid.ID
}

func (c *chunk) parts() []struct {
	t    *table
	rows [][]any
} {
	return []struct {
		t    *table
		rows [][]any
	}{
		{tHouseholds, c.households}, {tPersons, c.persons}, {tMemberships, c.memberships},
		{tConsents, c.consents}, {tAssessments, c.assessments}, {tNeeds, c.needs},
		{tReferrals, c.referrals}, {tReferralEvents, c.events}, {tAidRecords, c.aid}, {tSignals, c.signals},
	}
}

// member is a person being drawn.
type member struct {
	id     int64
	rel    string
	age    int
	female bool
	birth  time.Time
	groups []string
	name   string
}

// popGen draws households one after the other from one random stream.
type popGen struct {
	w     *world
	r     *rand.Rand
	names *namer
	res   *resourceGen

	govFor    map[string][]*org // government departments by the category roots they pay for
	charities []*org
	catPick   picker // need categories by their base weight

	total, made int
	next        struct{ household, person, membership, consent, assessment, need, referral, event, aid int64 }

	// seq counts the numbers given per district, birth date and sex, for
	// the sequence code of resident IDs.
	seq   []uint16
	epoch time.Time

	groups map[string]int // persons per group

	sig *sigGen // nil: no signals
}

func newPopGen(w *world, r *rand.Rand, total int, orgs []*org, res *resourceGen) *popGen {
	g := &popGen{w: w, r: r, names: newNamer(), res: res, total: total, govFor: map[string][]*org{}, groups: map[string]int{}}
	for _, o := range orgs {
		if o.kind == catalog.KindGovernment {
			for _, root := range strings.Fields(o.dept) {
				g.govFor[root] = append(g.govFor[root], o)
			}
		} else {
			g.charities = append(g.charities, o)
		}
	}
	cw := make([]float64, len(w.categories))
	for i, c := range w.categories {
		cw[i] = categoryWeights[c] + 0.5
	}
	g.catPick = newPicker(cw)
	g.epoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int(w.today.Sub(g.epoch).Hours()/24) + 1
	g.seq = make([]uint16, len(w.districts)*days*2)
	return g
}

// chunk draws households until about n persons (or all that are left).
func (g *popGen) chunk(n int) (*chunk, error) {
	c := &chunk{}
	for want := min(g.made+n, g.total); g.made < want; {
		if err := g.household(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (g *popGen) done() bool { return g.made >= g.total }

// household draws one household with its members, groups, consent,
// assessment, needs, referrals and past aid.
func (g *popGen) household(c *chunk) error {
	w, r := g.w, g.r
	k := &w.kinds[w.kindPick.pick(r)]
	size := min(pickW(r, k.sizes[:])+1, g.total-g.made)

	var pool []int
	switch k.place {
	case rural:
		pool = w.rural
	case urban:
		pool = w.urban
	default:
		pool = w.all
	}
	v := w.villages[pool[r.IntN(len(pool))]]
	hid := g.nextID(&g.next.household)
	registered := between(r, 180, 1980)
	created := w.at(registered, officeSecs(r))

	ms := g.members(k, size)
	g.assignGroups(k, ms, v.rural)

	// names: children take the father's surname (the head's, the
	// spouse's when the head is a wife, often another when she is widowed)
	familyName := g.names.family(r)
	childName := familyName
	if ms[0].female && (len(ms) < 2 || ms[1].rel != "SPOUSE") && chance(r, 0.7) {
		childName = g.names.family(r)
	}
	for _, m := range ms {
		surname := familyName
		switch m.rel {
		case "SPOUSE":
			surname = g.names.family(r)
			if ms[0].female {
				childName = surname
			}
		case "PARENT":
			if m.female {
				surname = g.names.family(r)
			}
		case "CHILD", "GRANDCHILD":
			surname = childName
		}
		m.name = surname + g.names.given(r, m.female, m.birth.Year())
	}

	// income and rigid spending
	perCapita := int64(0)
	if !chance(r, k.zero) {
		x := logNormal(r, k.median, k.sigma)
		perCapita = int64(math.Round(x/100)) * 100
		perCapita = max(min(perCapita, k.hi-100), k.lo)
	}
	medical, education, housing, other := g.spending(k, ms, v.rural)
	addr := v.name + g.houseNumber(v.rural)
	c.households = append(c.households, []any{hid, v.code, addr, perCapita * int64(size), medical, education, housing, other,
		int64(1), created, created})

	for _, m := range ms {
		m.id = g.nextID(&g.next.person)
		rid, err := g.residentID(v.district, m)
		if err != nil {
			return err
		}
		c.ids = append(c.ids, rid)
		c.persons = append(c.persons, []any{m.id, hid, m.name, m.rel, nil, nil, m.birth, m.female, created})
		for i, gc := range m.groups {
			since := w.day(registered + between(r, 0, 720))
			if i > 0 { // a second status came later
				since = w.day(between(r, 30, registered))
			}
			if since.Before(m.birth) {
				since = m.birth
			}
			c.memberships = append(c.memberships, []any{g.nextID(&g.next.membership), m.id, gc, since, nil, created})
			g.groups[gc]++
		}
	}
	g.made += size
	if g.sig != nil {
		g.sig.household(c, hid, v, ms, perCapita*int64(size), medical, education, housing)
	}

	// consent to verify finances, and often to share with charities
	share := false
	if chance(r, 0.9) {
		purposes := "ECONOMIC_VERIFICATION"
		if share = chance(r, 0.75); share {
			purposes += ",SHARE_WITH_CHARITIES"
		}
		granted := created.Add(time.Duration(between(r, 0, 3*86400)) * time.Second) // still months ago
		var expires any
		if chance(r, 0.5) {
			expires = granted.AddDate(5, 0, 0)
		}
		method := []string{"ELECTRONIC", "REMOTE", "PAPER"}[pickW(r, []float64{60, 15, 25})]
		c.consents = append(c.consents, []any{g.nextID(&g.next.consent), hid, purposes, ms[0].id, method, granted, expires, granted})
	}

	if chance(r, assessedShare) {
		g.assess(c, k, hid, v, ms, perCapita, share)
	}
	return nil
}

func (g *popGen) nextID(p *int64) int64 {
	*p++
	return *p
}

// members draws the people of a household of kind k, the head first.
func (g *popGen) members(k *kindSpec, size int) []*member {
	r := g.r
	var ms []*member
	add := func(rel string, age int, female bool) *member {
		age = max(min(age, 100), 0)
		m := &member{rel: rel, age: age, female: female}
		ms = append(ms, m)
		return m
	}
	switch k.shape {
	case elderly:
		age := between(r, 60, 95)
		if !chance(r, k.old) {
			age = between(r, 18, 59)
		}
		femaleShare := 0.55
		if k.group == "TEKUN" {
			femaleShare = 0.4 // mostly men who never married
		}
		head := add("HEAD", age, chance(r, femaleShare))
		if size > 1 {
			if k.group == "TEKUN" {
				add("SIBLING", head.age+between(r, -6, 6), chance(r, 0.5))
			} else {
				add("SPOUSE", max(head.age+between(r, -5, 5), 60), !head.female)
			}
		}
	case minors:
		head := add("HEAD", between(r, 10, 17), chance(r, 0.5))
		for len(ms) < size {
			add("SIBLING", between(r, 0, head.age), chance(r, 0.5))
		}
	case guardian:
		head := add("HEAD", between(r, 55, 80), chance(r, 0.6))
		if guardians(size) == 2 {
			add("SPOUSE", max(head.age+between(r, -5, 5), 50), !head.female)
		}
		for len(ms) < size {
			add("GRANDCHILD", between(r, 0, 17), chance(r, 0.5))
		}
	case singleMale:
		add("HEAD", between(r, 18, 75), chance(r, 0.15))
	default: // family
		age := between(r, 22, 59)
		if chance(r, k.old) {
			age = between(r, 60, 90)
		}
		female := chance(r, 0.35)
		if size == 1 && age >= 60 {
			female = chance(r, 0.55)
		}
		head := add("HEAD", age, female)
		if size > 1 && chance(r, 0.7) {
			add("SPOUSE", max(head.age+between(r, -4, 6), 20), !head.female)
		}
		parents := 0
		for len(ms) < size {
			switch {
			case head.age >= 50 && chance(r, 0.35):
				add("GRANDCHILD", between(r, 0, min(17, head.age-40)), chance(r, 0.5))
			case head.age <= 60 && parents < 2 && chance(r, 0.15):
				parents++
				add("PARENT", head.age+between(r, 22, 32), chance(r, 0.6))
			case head.age >= 22:
				add("CHILD", head.age-between(r, 22, 36), chance(r, 0.5))
			default:
				add("SIBLING", head.age+between(r, -8, 8), chance(r, 0.5))
			}
		}
	}
	for _, m := range ms {
		m.birth = g.birthDate(m.age)
	}
	return ms
}

// birthDate draws a birth date of someone who is age years old today.
func (g *popGen) birthDate(age int) time.Time {
	today := g.w.today.Time
	latest := today.AddDate(-age, 0, 0)     // birthday today
	earliest := today.AddDate(-age-1, 0, 1) // turns age+1 tomorrow
	span := int(latest.Sub(earliest).Hours()/24) + 1
	return earliest.AddDate(0, 0, g.r.IntN(max(span, 1)))
}

// assignGroups gives every member the primary group of the household's
// kind (or of its other members), and a tenth of them a second group.
func (g *popGen) assignGroups(k *kindSpec, ms []*member, rural bool) {
	r := g.r
	subject := -1
	switch k.who {
	case oneMember:
		var cands []int
		for i, m := range ms {
			if k.group != "SERIOUS_ILLNESS" || m.age >= 18 {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			cands = []int{0}
		}
		subject = cands[r.IntN(len(cands))]
	}
	for i, m := range ms {
		primary := k.group
		switch k.who {
		case oneMember:
			if i != subject {
				primary = k.others
			}
		case children:
			if m.age >= 18 {
				primary = k.others
			}
		}
		m.groups = []string{primary}
		if chance(r, secondGroupShare) {
			w := make([]float64, len(secondGroups))
			for j, s := range secondGroups {
				if _, ok := g.w.cat.Group(s.group); ok && s.group != primary && s.eligible(m.age, rural) {
					w[j] = s.weight
				}
			}
			if slices.ContainsFunc(w, func(x float64) bool { return x > 0 }) {
				m.groups = append(m.groups, secondGroups[pickW(r, w)].group)
			}
		}
	}
}

// spending draws the household's rigid monthly spending in fen.
func (g *popGen) spending(k *kindSpec, ms []*member, rural bool) (medical, education, housing, other int64) {
	r := g.r
	ln := func(median, sigma float64) int64 { return int64(math.Round(logNormal(r, median, sigma)/100)) * 100 }
	var elderly, ill, disabled int
	for _, m := range ms {
		if m.age >= 60 {
			elderly++
		}
		for _, gc := range m.groups {
			switch gc {
			case "SERIOUS_ILLNESS":
				ill++
			case "DISABILITY":
				disabled++
			}
		}
	}
	switch {
	case ill > 0:
		medical = ln(250_000, 0.6)
	case disabled > 0:
		medical = ln(40_000, 0.6)
	case elderly > 0 && chance(r, 0.6):
		medical = ln(15_000*float64(elderly), 0.7)
	case chance(r, 0.35):
		medical = ln(8_000, 0.8)
	}
	for _, m := range ms {
		switch {
		case m.age >= 6 && m.age < 15:
			education += ln(15_000, 0.5)
		case m.age >= 15 && m.age < 18:
			education += ln(40_000, 0.5)
		case m.age >= 18 && m.age <= 22 && chance(r, 0.5):
			education += ln(90_000, 0.4)
		}
	}
	switch {
	case !rural && chance(r, 0.3):
		housing = ln(60_000, 0.4)
	case rural && chance(r, 0.08):
		housing = ln(20_000, 0.5)
	}
	if chance(r, 0.5) {
		other = ln(10_000, 0.7)
	}
	if k.group == "EXPENDITURE_HARDSHIP" { // what made the household poor
		switch pickW(r, []float64{55, 25, 20}) {
		case 0:
			medical += ln(180_000, 0.5)
		case 1:
			education = education*3 + ln(60_000, 0.4)
		default:
			housing += ln(120_000, 0.5)
		}
	}
	const cap = 100_000_000
	return min(medical, cap), min(education, cap), min(housing, cap), min(other, cap)
}

// houseNumber draws the rest of an address: a 社 (village group) and a
// number in the countryside, a building and flat in town.
func (g *popGen) houseNumber(rural bool) string {
	r := g.r
	if rural {
		return fmt.Sprintf("%d社%d号", between(r, 1, 12), between(r, 1, 120))
	}
	return fmt.Sprintf("%d栋%d单元%d-%d", between(r, 1, 30), between(r, 1, 4), between(r, 1, 33), between(r, 1, 8))
}

// residentID makes the member's GB 11643 number: the district's address
// code, the birth date, a sequence code unique for that district, date and
// sex (odd for men), and the check character.
func (g *popGen) residentID(district int, m *member) (residentid.ID, error) {
	day := int(m.birth.Sub(g.epoch).Hours() / 24)
	sex := 0
	if !m.female {
		sex = 1
	}
	days := len(g.seq) / (2 * len(g.w.districts))
	if day < 0 || day >= days {
		return "", fmt.Errorf("generate: birth date %s out of range", m.birth.Format("2006-01-02"))
	}
	slot := (district*days+day)*2 + sex
	n := int(g.seq[slot])
	// Sequence codes start at a spread-out even number per district and
	// date, as if assigned by different police stations.
	start := ((day*7919 + district*104729) % 200) * 2
	code := start + 2*n + sex
	if code > 999 {
		return "", fmt.Errorf("generate: more than %d people of one sex born on %s in district %s", n, m.birth.Format("2006-01-02"), g.w.districts[district])
	}
	g.seq[slot]++
	s := fmt.Sprintf("%s%s%03d", g.w.districts[district], m.birth.Format("20060102"), code)
	id, err := residentid.Complete(s, g.w.todayStart)
	if err != nil {
		return "", fmt.Errorf("generate: made an invalid resident ID: %w", err)
	}
	return id, nil
}

// assess writes the household's assessment with 1–3 needs, referrals for
// a few of them and the aid the subjects of some got in the last year.
func (g *popGen) assess(c *chunk, k *kindSpec, hid int64, v village, ms []*member, perCapita int64, share bool) {
	w, r := g.w, g.r
	wait := 1 + min(int(r.ExpFloat64()*waitMeanDays), maxWaitDays-1)
	aid := g.nextID(&g.next.assessment)
	c.assessments = append(c.assessments, []any{aid, hid, w.day(wait), "CASE_MANAGER", w.at(wait, officeSecs(r))})

	has := func(f func(m *member) bool) bool { return slices.ContainsFunc(ms, f) }
	fits := func(cat string, m *member) bool {
		switch cat {
		case "EDUCATION", "EDUCATION_GRANTS":
			return m.age >= 3 && m.age <= 22
		case "ELDERLY_CARE":
			return m.age >= 60
		case "CHILD_CARE":
			return m.age < 16
		case "EMPLOYMENT":
			return m.age >= 16 && m.age < 60
		case "DISABILITY_SERVICES", "DISABILITY_REHAB":
			return slices.Contains(m.groups, "DISABILITY")
		}
		return true
	}
	weights := make([]float64, len(w.categories))
	for i, cat := range w.categories {
		x := (categoryWeights[cat] + 0.2) * max(categoryBoost[k.group][cat], 1)
		switch {
		case !has(func(m *member) bool { return fits(cat, m) }):
			x = 0
			if strings.HasPrefix(cat, "DISABILITY") {
				x = 0.05 * categoryWeights[cat] // a disability not (yet) recognised
			}
		case w.catRoot[cat] == "EDUCATION":
			x *= studentBoost
		}
		weights[i] = x
	}
	tier := min(max(w.tier[k.group], 1), len(severityWeights)) - 1
	n := pickW(r, []float64{55, 30, 15}) + 1
	for range n {
		if !slices.ContainsFunc(weights, func(x float64) bool { return x > 0 }) {
			break
		}
		ci := pickW(r, weights)
		weights[ci] = 0 // one need per category
		cat := w.categories[ci]
		var item *catalog.Item
		if its := w.catItems[cat]; len(its) > 0 && chance(r, 0.6) {
			item = its[r.IntN(len(its))]
		}
		// the subject: the household for household-level items and much
		// of basic living, housing and emergencies; else a member it fits
		var subject *member
		householdLevel := item != nil && item.HouseholdLevel ||
			item == nil && slices.Contains([]string{"BASIC_LIVING", "HOUSING", "EMERGENCY"}, w.catRoot[cat]) && chance(r, 0.7)
		if !householdLevel {
			var cands []*member
			for _, m := range ms {
				if fits(cat, m) {
					cands = append(cands, m)
				}
			}
			if len(cands) == 0 {
				cands = ms
			}
			subject = cands[r.IntN(len(cands))]
		}
		nid := g.nextID(&g.next.need)
		var personID, itemCode any
		if subject != nil {
			personID = subject.id
		}
		if item != nil {
			itemCode = item.Code
		}
		severity := pickW(r, severityWeights[tier][:]) + 1
		c.needs = append(c.needs, []any{nid, aid, hid, personID, cat, itemCode, int64(severity), w.day(wait), "OPEN"})

		if share && wait >= 3 && chance(r, referredShare) {
			g.refer(c, hid, nid, cat, itemCode, personID, v, ms, subject, perCapita, wait)
		}
		if chance(r, aidedShare) {
			g.pastAid(c, hid, personID, cat, v)
		}
	}
}

// refer writes an open referral of a need to a fitting resource, when one
// is found.
func (g *popGen) refer(c *chunk, hid, nid int64, cat string, item, personID any, v village, ms []*member, subject *member, perCapita int64, wait int) {
	w, r := g.w, g.r
	status := []string{"PENDING", "ACCEPTED", "IN_PROGRESS"}[pickW(r, []float64{60, 25, 15})]
	take := status != "PENDING"
	who := ms[0]
	if subject != nil {
		who = subject
	}
	rs := g.res.find(r, cat, v.code, v.district, who.age, perCapita, take)
	if rs == nil && take {
		status, take = "PENDING", false
		rs = g.res.find(r, cat, v.code, v.district, who.age, perCapita, false)
	}
	if rs == nil {
		return
	}
	if take {
		rs.referred++
	}
	if s, ok := item.(string); !ok || !slices.Contains(rs.items, s) {
		item = rs.items[r.IntN(len(rs.items))]
	}
	// created 3 to 12 days ago (after the need was opened), so that up to
	// two steps of up to a day each happened before today
	ago := between(r, 3, min(wait, 12))
	created := w.at(ago, officeSecs(r))
	rid := g.nextID(&g.next.referral)
	events := [][]any{{g.nextID(&g.next.event), rid, nil, "PENDING", created, "CASE_MANAGER", ""}}
	updated := created
	steps := map[string][]string{"ACCEPTED": {"ACCEPTED"}, "IN_PROGRESS": {"ACCEPTED", "IN_PROGRESS"}}[status]
	from := "PENDING"
	for _, to := range steps {
		at := updated.Add(time.Duration(between(r, 3600, 86400)) * time.Second)
		events = append(events, []any{g.nextID(&g.next.event), rid, from, to, at, "CHARITY", ""})
		from, updated = to, at
	}
	start := w.day(ago)
	c.referrals = append(c.referrals, []any{rid, hid, personID, nid, rs.id, rs.org, cat, item, int64(1), int64(0),
		start, start.AddDate(0, 0, 29), status, take, created.Add(14 * 24 * time.Hour), created, updated, int64(1 + len(steps))})
	c.events = append(c.events, events...)
}

// aidAmounts are the ranges of one aid in money by category root, in fen
// (drawn log-uniformly).
var aidAmounts = map[string][2]float64{
	"BASIC_LIVING": {20_000, 150_000}, "MEDICAL": {50_000, 2_000_000}, "EDUCATION": {50_000, 500_000},
	"HOUSING": {100_000, 4_000_000}, "EMERGENCY": {50_000, 500_000}, "EMPLOYMENT": {30_000, 300_000},
	"DISABILITY_SERVICES": {20_000, 200_000},
}

// pastAid writes an aid the need's subject got in the last year: in the
// need's category half the time (the duplicate rule may then hold the
// need back), from a government department or a charity.
func (g *popGen) pastAid(c *chunk, hid int64, personID any, needCat string, v village) {
	w, r := g.w, g.r
	cat := needCat
	if chance(r, 0.5) {
		cat = w.categories[g.catPick.pick(r)]
	}
	var item *catalog.Item
	if its := w.catItems[cat]; len(its) > 0 && chance(r, 0.5) {
		item = its[r.IntN(len(its))]
	}
	var itemCode any
	if item != nil {
		itemCode = item.Code
		if item.HouseholdLevel {
			personID = nil
		}
	}
	root := w.catRoot[cat]
	var provider *org
	if govs := g.govFor[root]; len(govs) > 0 && chance(r, 0.65) {
		provider = govs[0] // the city department…
		var local []*org
		for _, o := range govs {
			if o.division == w.districts[v.district] {
				local = append(local, o)
			}
		}
		if len(local) > 0 { // …or the district's own
			provider = local[r.IntN(len(local))]
		}
	} else if len(g.charities) > 0 {
		provider = g.charities[r.IntN(len(g.charities))]
	}
	kind, name, orgID := "OTHER", "村（居）民委员会", any(nil)
	if provider != nil {
		kind, name, orgID = string(provider.kind), provider.name, provider.id
	}
	var amount, units int64
	if item != nil && item.Unit != "元" {
		units = int64(between(r, 1, 20))
	} else {
		span, ok := aidAmounts[root]
		if !ok {
			span = [2]float64{10_000, 100_000}
		}
		lo, hi := span[0], span[1]
		amount = int64(math.Round(lo*math.Pow(hi/lo, r.Float64())/100)) * 100
	}
	ago := between(r, 1, 365)
	length := 0
	if chance(r, 0.4) {
		length = 29 // a month of a service or an allowance
	}
	start := w.day(ago)
	end := w.day(max(ago-length, 0))
	recorded := w.at(max(ago-between(r, 0, 3), 1), officeSecs(r))
	c.aid = append(c.aid, []any{g.nextID(&g.next.aid), hid, personID, cat, itemCode, kind, orgID, name,
		amount, units, start, end, "IMPORT", recorded})
}
