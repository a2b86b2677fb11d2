package synthpop

// The shape of the synthetic population. These are assumptions chosen to be
// plausible, not statistics: they are of the order of what Chongqing and
// national civil-affairs reporting describe, rounded, and where no figure
// was at hand, a reasoned guess. Change them here; everything else follows.
//
//   - Scale: Chongqing puts about 3.08 million people of 16 kinds under
//     low-income dynamic monitoring (低收入人口动态监测; the scale anchor of
//     DESIGN.md). The default catalog has 14 population groups: the kinds
//     it does not list separately (脱贫不稳定户, 边缘易致贫户, 突发严重困难户)
//     are folded into RELAPSE_MONITORING and TEMPORARY.
//   - Groups (primary group of each person, % of persons; kindSpecs): 低保
//     about a third (DIBAO 35), 低保边缘 a fifth (MARGINAL 20), 支出型困难
//     (EXPENDITURE_HARDSHIP 12), 特困 under a tenth (TEKUN 8), 防止返贫监测
//     (RELAPSE_MONITORING 9), and the rest to persons singled out by their
//     own situation: severe disability, serious illness, left-behind
//     elderly, needy workers, temporary assistance, children in distress,
//     orphans, unattended children and the homeless. The whole household
//     shares a household-wide status (低保 is granted to the family);
//     personal statuses (disability, illness) mark one member and the
//     others carry the family's status (MARGINAL, or EXPENDITURE_HARDSHIP
//     for the families of the seriously ill). About one person in ten has
//     a second group (secondGroupShare): a 低保 member who is also severely
//     disabled, an elderly 特困 person left behind, and so on.
//   - Household size 1 to 6, mean about 2.2 (monitored households are
//     small: many elderly alone or as a couple; 特困 and the homeless live
//     alone by definition).
//   - Ages by group: 特困 mostly elderly, orphans and unattended children
//     under 18, left-behind elderly 60+, needy workers of working age.
//   - Income: monthly per-capita income against one 低保 line of 700 yuan
//     (dibaoLineFen; Chongqing's urban and rural lines are of that order);
//     低保 below it, 低保边缘 between 1 and 1.5 times it, 特困 and children
//     alone near zero, the others spread around it (log-normal). Rigid
//     spending (medical, education, housing, other) by kind: heavy medical
//     spending for the seriously ill, schooling for households with
//     students, rent for some urban households.
//   - Place: 防止返贫监测 and the left-behind elderly live in villages (村),
//     needy workers in urban communities (社区), everyone else anywhere;
//     a village is drawn uniformly from its pool, so districts weigh by
//     their number of villages and communities.
//   - Needs: 75% of households are assessed, with 1 to 3 needs (mean 1.6)
//     in distinct categories weighted towards basic living, medical care
//     and education (categoryWeights), adjusted by kind and by who lives
//     there (education weighs more where someone is of school age);
//     severity 1 to 5; opened 1 to 179 days ago, most recently
//     (exponential, mean 45 days), so every watchlist colour is present.
//   - Aid already given: the subject of about 30% of needs received aid in
//     the last year (aid_records, source IMPORT), half of it in the need's
//     own category; providers are government departments (about two
//     thirds) and charities.
//   - Referrals: about 1.5% of needs of consenting households are referred
//     to a fitting published resource and are PENDING, ACCEPTED or
//     IN_PROGRESS.
//   - Resources: over about 200 organizations (a tenth government
//     departments, the rest charities and social-work organizations, a
//     few of which publish most resources); published; 1 to 3 items of
//     one category; 0 to 3 eligible groups; coverage a district (60%), a
//     street (30%) or the whole city (10%); age ranges (25%) and income
//     ceilings (30%) sometimes; 10 to 1,000 capacity units with some
//     taken; validity windows around today (a few expired or not yet
//     started); an eligibility rule on 5%.

import (
	"math"
	"math/rand/v2"
	"sort"
)

// dibaoLineFen is the monthly per-capita 低保 line the incomes are drawn
// against: 700 yuan.
const dibaoLineFen = 70_000

// Shares of the things that are not per kind.
const (
	secondGroupShare = 0.10  // persons with a second group
	assessedShare    = 0.75  // households with a needs assessment
	aidedShare       = 0.30  // needs whose subject got aid in the last year
	referredShare    = 0.015 // needs with an open referral (when the household consents)
	ruleShare        = 0.05  // resources with an eligibility rule
	waitMeanDays     = 45.0  // mean of the exponential waiting time of needs
	maxWaitDays      = 179   // needs were opened 1 to 179 days ago
)

// subjects says which members of a household carry the kind's group.
type subjects int

const (
	allMembers subjects = iota // the household's status
	oneMember                  // a personal status; the others carry kindSpec.others
	children                   // the minors; the adults carry kindSpec.others
)

// shape is how a household of a kind is composed.
type shape int

const (
	family     shape = iota // a head of working age or older, spouse, children, parents, grandchildren
	elderly                 // one or two people of 60 and over
	minors                  // children alone (siblings)
	guardian                // a grandparent raising grandchildren
	singleMale              // one adult, mostly a man
)

// place is where a kind lives.
type place int

const (
	anywhere place = iota
	rural          // villages (村)
	urban          // communities (社区)
)

// kindSpec is one kind of household, named by the primary group of its
// subjects.
type kindSpec struct {
	group  string
	share  float64    // % of persons whose primary group this is
	sizes  [6]float64 // relative weights of sizes 1..6
	who    subjects
	others string // primary group of the members who are not subjects
	shape  shape
	place  place
	// Per-capita monthly income: log-normal around median (fen) with
	// sigma, clamped to [lo, hi); zero for a share of households.
	median, sigma float64
	lo, hi        int64
	zero          float64
	// Head's age: old is the share of heads of 60 and over.
	old float64
}

// Sizes of ordinary families: mean 2.45.
var familySizes = [6]float64{32, 27, 18, 13, 6, 4}

var kindSpecs = []kindSpec{
	{group: "DIBAO", share: 35, sizes: familySizes, shape: family, median: 38_000, sigma: 0.6, lo: 0, hi: dibaoLineFen, zero: 0.06, old: 0.45},
	{group: "MARGINAL", share: 20, sizes: familySizes, shape: family, median: 85_000, sigma: 0.15, lo: dibaoLineFen, hi: dibaoLineFen * 3 / 2, old: 0.40},
	{group: "EXPENDITURE_HARDSHIP", share: 12, sizes: familySizes, shape: family, median: 95_000, sigma: 0.45, lo: 0, hi: 4 * dibaoLineFen, old: 0.35},
	{group: "TEKUN", share: 8, sizes: [6]float64{94, 6}, shape: elderly, median: 12_000, sigma: 0.7, lo: 0, hi: dibaoLineFen, zero: 0.30, old: 0.85},
	{group: "RELAPSE_MONITORING", share: 9, sizes: familySizes, shape: family, place: rural, median: 72_000, sigma: 0.35, lo: 0, hi: 3 * dibaoLineFen, old: 0.45},
	{group: "DISABILITY", share: 5, sizes: [6]float64{30, 35, 20, 10, 5}, who: oneMember, others: "MARGINAL", shape: family, median: 55_000, sigma: 0.5, lo: 0, hi: 3 * dibaoLineFen, zero: 0.05, old: 0.40},
	{group: "SERIOUS_ILLNESS", share: 3, sizes: [6]float64{15, 35, 25, 15, 7, 3}, who: oneMember, others: "EXPENDITURE_HARDSHIP", shape: family, median: 65_000, sigma: 0.5, lo: 0, hi: 4 * dibaoLineFen, old: 0.40},
	{group: "LEFT_BEHIND_ELDERLY", share: 3, sizes: [6]float64{45, 55}, shape: elderly, place: rural, median: 45_000, sigma: 0.5, lo: 0, hi: 3 * dibaoLineFen, old: 1},
	{group: "NEEDY_WORKER", share: 2, sizes: familySizes, shape: family, place: urban, median: 90_000, sigma: 0.35, lo: 0, hi: 4 * dibaoLineFen, old: 0},
	{group: "TEMPORARY", share: 1.5, sizes: familySizes, shape: family, median: 70_000, sigma: 0.6, lo: 0, hi: 4 * dibaoLineFen, zero: 0.1, old: 0.30},
	{group: "DISTRESSED_CHILD", share: 1, sizes: [6]float64{0, 45, 35, 20}, who: children, others: "MARGINAL", shape: guardian, median: 45_000, sigma: 0.5, lo: 0, hi: 2 * dibaoLineFen, zero: 0.05},
	{group: "ORPHAN", share: 0.2, sizes: [6]float64{65, 28, 7}, shape: minors, median: 20_000, sigma: 0.5, lo: 0, hi: dibaoLineFen, zero: 0.6},
	{group: "UNATTENDED_CHILD", share: 0.2, sizes: [6]float64{60, 30, 10}, shape: minors, median: 20_000, sigma: 0.5, lo: 0, hi: dibaoLineFen, zero: 0.6},
	{group: "VAGRANT", share: 0.1, sizes: [6]float64{1}, shape: singleMale, median: 0, lo: 0, hi: 1, zero: 1},
}

// secondGroups are the groups a person may carry besides the primary one,
// with weights; eligible says who may.
var secondGroups = []struct {
	group    string
	weight   float64
	eligible func(age int, rural bool) bool
}{
	{"DISABILITY", 40, func(int, bool) bool { return true }},
	{"SERIOUS_ILLNESS", 25, func(age int, _ bool) bool { return age >= 18 }},
	{"LEFT_BEHIND_ELDERLY", 15, func(age int, rural bool) bool { return age >= 60 && rural }},
	{"DISTRESSED_CHILD", 10, func(age int, _ bool) bool { return age < 18 }},
	{"TEMPORARY", 10, func(int, bool) bool { return true }},
}

// categoryWeights are the relative frequencies of need categories before
// adjusting to the household (relative weights).
var categoryWeights = map[string]float64{
	"BASIC_LIVING": 24, "MEDICAL": 9, "MEDICAL_INPATIENT": 8, "MEDICAL_OUTPATIENT": 7,
	"EDUCATION": 5, "EDUCATION_GRANTS": 7, "HOUSING": 4, "HOUSING_REPAIR": 3, "EMPLOYMENT": 6,
	"CARE": 2, "ELDERLY_CARE": 5, "CHILD_CARE": 3, "PSYCHOLOGICAL": 2, "LEGAL": 2,
	"EMERGENCY": 3, "EMERGENCY_DISASTER": 1, "SOCIAL_INTEGRATION": 2,
	"DISABILITY_SERVICES": 3, "DISABILITY_REHAB": 3,
}

// categoryBoost multiplies a category's weight for a kind of household.
var categoryBoost = map[string]map[string]float64{
	"TEKUN":                {"CARE": 4, "ELDERLY_CARE": 2, "BASIC_LIVING": 1.5},
	"SERIOUS_ILLNESS":      {"MEDICAL": 3, "MEDICAL_INPATIENT": 4, "MEDICAL_OUTPATIENT": 3},
	"EXPENDITURE_HARDSHIP": {"MEDICAL": 1.5, "MEDICAL_INPATIENT": 2, "EDUCATION_GRANTS": 1.5, "HOUSING_REPAIR": 1.5},
	"DISABILITY":           {"DISABILITY_SERVICES": 4, "DISABILITY_REHAB": 4},
	"ORPHAN":               {"CHILD_CARE": 4, "EDUCATION_GRANTS": 2, "PSYCHOLOGICAL": 3},
	"UNATTENDED_CHILD":     {"CHILD_CARE": 4, "EDUCATION_GRANTS": 2, "PSYCHOLOGICAL": 3},
	"DISTRESSED_CHILD":     {"CHILD_CARE": 3, "EDUCATION_GRANTS": 2, "PSYCHOLOGICAL": 2},
	"NEEDY_WORKER":         {"EMPLOYMENT": 3, "LEGAL": 2},
	"LEFT_BEHIND_ELDERLY":  {"ELDERLY_CARE": 3, "SOCIAL_INTEGRATION": 3, "PSYCHOLOGICAL": 1.5},
	"RELAPSE_MONITORING":   {"EMPLOYMENT": 2, "HOUSING_REPAIR": 2, "EMERGENCY_DISASTER": 2},
	"TEMPORARY":            {"EMERGENCY": 5, "EMERGENCY_DISASTER": 3},
	"VAGRANT":              {"EMERGENCY": 6, "BASIC_LIVING": 2},
	"DIBAO":                {"BASIC_LIVING": 1.3},
}

// studentBoost multiplies the weight of education categories for a
// household with a member of school age (3–22): schooling costs are one of
// the commonest reasons for hardship (因学致困).
const studentBoost = 5

// severityWeights are the weights of severities 1..5 by the tier of the
// household's primary group (tiers beyond 4 use tier 4's).
var severityWeights = [4][5]float64{
	{5, 15, 30, 30, 20},
	{8, 22, 32, 25, 13},
	{12, 28, 32, 20, 8},
	{18, 30, 30, 15, 7},
}

// eligibilityRules are what resources with a rule use (expr, see matching).
var eligibilityRules = []string{
	`age >= 60`,
	`age < 18`,
	`householdSize >= 3`,
	`severity >= 4`,
	`incomePerCapitaFen < 50000`,
	`"DIBAO" in groups || "TEKUN" in groups`,
	`female && age >= 50`,
	`!household && age >= 16 && age < 60`,
}

// kindWeights returns the probability of drawing each kind for a
// household such that the expected share of persons by primary group is
// the kinds' share: a kind whose subjects are not the whole household
// hands its other members to another kind's group, which needs fewer
// households of its own in turn.
func kindWeights(kinds []kindSpec) []float64 {
	meanSize := func(k *kindSpec) float64 {
		var w, s float64
		for i, x := range k.sizes {
			w += x
			s += x * float64(i+1)
		}
		return s / w
	}
	subjectsOf := func(k *kindSpec) float64 {
		switch k.who {
		case oneMember:
			return 1
		case children:
			return meanChildren(k)
		}
		return meanSize(k)
	}
	// persons of group g handed over by other kinds, per household of those kinds
	handed := map[string]float64{}
	perHousehold := make([]float64, len(kinds)) // households per % of persons
	for i := range kinds {
		k := &kinds[i]
		if k.who != allMembers {
			perHousehold[i] = k.share / subjectsOf(k)
			handed[k.others] += perHousehold[i] * (meanSize(k) - subjectsOf(k))
		}
	}
	for i := range kinds {
		k := &kinds[i]
		if k.who == allMembers {
			perHousehold[i] = math.Max(k.share-handed[k.group], 0) / meanSize(k)
		}
	}
	total := 0.0
	for _, x := range perHousehold {
		total += x
	}
	for i := range perHousehold {
		perHousehold[i] /= total
	}
	return perHousehold
}

// meanChildren is the expected number of minors in a guardian household.
func meanChildren(k *kindSpec) float64 {
	var w, s float64
	for i, x := range k.sizes {
		size := i + 1
		w += x
		s += x * float64(size-guardians(size))
	}
	return s / w
}

// guardians is the number of adults in a guardian household of a size.
func guardians(size int) int {
	if size >= 4 {
		return 2
	}
	return 1
}

// picker draws an index with fixed weights.
type picker struct{ cum []float64 }

func newPicker(w []float64) picker {
	cum := make([]float64, len(w))
	t := 0.0
	for i, x := range w {
		t += math.Max(x, 0)
		cum[i] = t
	}
	return picker{cum}
}

func (p picker) pick(r *rand.Rand) int {
	x := r.Float64() * p.cum[len(p.cum)-1]
	// the first entry whose cumulative weight exceeds x: never one of
	// weight zero
	return min(sort.Search(len(p.cum), func(i int) bool { return p.cum[i] > x }), len(p.cum)-1)
}

// pickW draws an index with weights given now.
func pickW(r *rand.Rand, w []float64) int {
	t := 0.0
	for _, x := range w {
		t += x
	}
	x := r.Float64() * t
	for i, v := range w {
		if v > 0 && x < v {
			return i
		}
		x -= v
	}
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	return len(w) - 1
}

// logNormal draws around median with the spread sigma.
func logNormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// between draws an int in [lo, hi].
func between(r *rand.Rand, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// chance is true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }
