package matching

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/aidhub/aidhub"
	"github.com/expr-lang/expr/vm"
)

// Resource is a published charity resource as the engine sees it. Nil
// pointers are "no limit". Capacity is counted in units and/or budget;
// the capacity filter needs every counted measure above zero.
type Resource struct {
	ID             int64    `json:"id"`
	OrganizationID int64    `json:"organizationId,omitempty"`
	Items          []string `json:"items"`
	// Groups the resource is for; empty: any group (and people in none).
	Groups []string `json:"groups,omitempty"`
	// Coverage lists division-code prefixes (2, 6, 9 or 12 digits, or any
	// other prefix of digits); a need is covered when one is a prefix of
	// its region. Empty coverage covers nothing.
	Coverage         []string    `json:"coverage"`
	AgeMin           *int        `json:"ageMin,omitempty"`           // inclusive
	AgeMax           *int        `json:"ageMax,omitempty"`           // inclusive
	IncomeCeilingFen *int64      `json:"incomeCeilingFen,omitempty"` // per capita per month, inclusive
	ValidFrom        *aidhub.Day `json:"validFrom,omitempty"`        // first valid day
	ValidUntil       *aidhub.Day `json:"validUntil,omitempty"`       // last valid day
	UnitsLeft        *int64      `json:"unitsLeft,omitempty"`        // nil: units not counted
	UnitsTotal       *int64      `json:"unitsTotal,omitempty"`       // for the scarcity factor
	BudgetLeftFen    *int64      `json:"budgetLeftFen,omitempty"`    // nil: budget not counted
	// Region is the division code where the resource is (12, 9 or 6
	// digits), "" when unknown; it drives the distance factor only.
	Region string `json:"region,omitempty"`
	// Rule is an optional eligibility expression over the need (RuleEnv).
	Rule string `json:"rule,omitempty"`
}

// clone copies r deeply, so that neither side sees the other's changes.
func (r *Resource) clone() Resource {
	return Resource{
		ID: r.ID, OrganizationID: r.OrganizationID,
		Items: slices.Clone(r.Items), Groups: slices.Clone(r.Groups), Coverage: slices.Clone(r.Coverage),
		AgeMin: clonePtr(r.AgeMin), AgeMax: clonePtr(r.AgeMax), IncomeCeilingFen: clonePtr(r.IncomeCeilingFen),
		ValidFrom: clonePtr(r.ValidFrom), ValidUntil: clonePtr(r.ValidUntil),
		UnitsLeft: clonePtr(r.UnitsLeft), UnitsTotal: clonePtr(r.UnitsTotal), BudgetLeftFen: clonePtr(r.BudgetLeftFen),
		Region: r.Region, Rule: r.Rule,
	}
}

// offer is a category a resource answers: one its items are in, or any
// category above those in the tree (an item of MEDICAL_INPATIENT answers
// a need for MEDICAL); or (code = categories + item) an item it offers. lv are the plan masks of the items answering it
// (index Level−1); direct tells whether some item is in the category
// itself, and items has the bit itemPos of each such item (positions from
// 64 on set wide instead, and the item list decides).
type offer struct {
	code   uint32
	lv     planMasks
	items  uint64
	direct bool
	wide   bool
}

// res is a compiled resource. The fields the filters read come first.
type res struct {
	id             int64
	groups         uint64
	ageMin, ageMax int32
	income         int64
	from, until    aidhub.Day
	capacity       bool // every counted measure is above zero
	scarcity       float64
	rule           *vm.Program
	locN           uint8  // digits of the location, 0: unknown
	loc12          uint64 // the location padded with zeros to 12 digits
	offers         []offer
	items          []uint16 // sorted
	cover          []region // no entry lies inside another
	src            Resource
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// The first and last days a Day holds: a resource without a window is
// valid from minDay to maxDay.
const (
	minDay aidhub.Day = math.MinInt32
	maxDay aidhub.Day = math.MaxInt32
)

// compile checks r against the catalog and builds its engine form.
func (c *codebook) compile(r *Resource) (*res, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("matching: resource %d: %s", r.ID, fmt.Sprintf(format, a...))
	}
	if r.ID == 0 {
		return nil, fail("has no ID")
	}
	x := &res{
		id: r.ID, ageMin: math.MinInt32, ageMax: math.MaxInt32, income: math.MaxInt64,
		from: minDay, until: maxDay, capacity: true,
	}
	x.src = r.clone()
	if err := c.compileOffers(x, r.Items); err != nil {
		return nil, fail("%v", err)
	}
	if err := c.compileGroups(x, r.Groups); err != nil {
		return nil, fail("%v", err)
	}
	if err := x.compileCoverage(r.Coverage); err != nil {
		return nil, fail("%v", err)
	}
	if err := x.compileAges(r); err != nil {
		return nil, fail("%v", err)
	}
	if err := x.compileWindow(r); err != nil {
		return nil, fail("%v", err)
	}
	x.compileCapacity(r)
	loc, err := parseRegion(r.Region)
	if err != nil {
		return nil, fail("region: %v", err)
	}
	x.locN, x.loc12 = loc.n, loc.value()*pow10[maxDigits-loc.n]
	if x.rule, err = compileRule(r.Rule); err != nil {
		return nil, fail("%v", err)
	}
	return x, nil
}

// compileOffers indexes the items offered, and the offers by category and
// every category above it, with the plan masks the entitlement needs.
func (c *codebook) compileOffers(x *res, items []string) error {
	for _, code := range items {
		i, ok := c.itemIdx[code]
		if !ok {
			return fmt.Errorf("offers unknown item %q", code)
		}
		if !slices.Contains(x.items, i) {
			x.items = append(x.items, i)
		}
	}
	slices.Sort(x.items)
	for _, i := range x.items {
		for at := int32(c.itemCat[i]); at >= 0; at = c.catParent[at] {
			k := slices.IndexFunc(x.offers, func(o offer) bool { return o.code == uint32(at) })
			if k < 0 {
				x.offers = append(x.offers, offer{code: uint32(at)})
				k = len(x.offers) - 1
			}
			o := &x.offers[k]
			for l := range o.lv {
				o.lv[l] |= c.planMask[i][l]
			}
			if at == int32(c.itemCat[i]) {
				o.direct = true
				if pos := c.itemPos[i]; pos < 64 {
					o.items |= 1 << pos
				} else {
					o.wide = true
				}
			}
		}
	}
	// One offer per item too, with its category's plan masks (the
	// entitlement is over every item answering the need, whichever bucket
	// finds the resource): a need naming the item finds the resources
	// that offer it exactly without walking the rest of its category.
	nCat := uint32(len(c.catCodes))
	for _, i := range x.items {
		cat, _ := x.offerFor(uint32(c.itemCat[i]))
		x.offers = append(x.offers, offer{code: nCat + uint32(i), lv: cat.lv, items: cat.items, direct: true, wide: cat.wide})
	}
	return nil
}

// compileGroups sets the bit of each eligible group.
func (c *codebook) compileGroups(x *res, groups []string) error {
	for _, g := range groups {
		i, ok := c.groupIdx[g]
		if !ok {
			return fmt.Errorf("is for unknown group %q", g)
		}
		x.groups |= 1 << i
	}
	return nil
}

// compileCoverage parses the coverage and keeps only the outermost
// prefixes: then at most one covers a region, which lets the indexes list
// a resource once per region.
func (x *res) compileCoverage(coverage []string) error {
	for _, code := range coverage {
		reg, err := parseRegion(strings.TrimSpace(code))
		if err != nil {
			return fmt.Errorf("coverage: %v", err)
		}
		if reg.n == 0 {
			return errors.New("coverage: empty division code")
		}
		x.cover = append(x.cover, reg)
	}
	x.cover = slices.DeleteFunc(x.cover, func(a region) bool {
		for _, b := range x.cover {
			if b.n < a.n && a.has(&b) {
				return true
			}
		}
		return false
	})
	slices.SortFunc(x.cover, func(a, b region) int {
		if a.n != b.n {
			return int(a.n) - int(b.n)
		}
		return cmp.Compare(a.value(), b.value())
	})
	x.cover = slices.CompactFunc(x.cover, func(a, b region) bool { return a.n == b.n && a.value() == b.value() })
	return nil
}

// compileAges sets the age range, refusing ages outside 0–maxAge and an
// inverted range.
func (x *res) compileAges(r *Resource) error {
	if r.AgeMin != nil {
		if *r.AgeMin < 0 || *r.AgeMin > maxAge {
			return fmt.Errorf("ageMin %d is outside 0–%d", *r.AgeMin, maxAge)
		}
		x.ageMin = int32(*r.AgeMin)
	}
	if r.AgeMax != nil {
		if *r.AgeMax < 0 || *r.AgeMax > maxAge {
			return fmt.Errorf("ageMax %d is outside 0–%d", *r.AgeMax, maxAge)
		}
		x.ageMax = int32(*r.AgeMax)
	}
	if x.ageMin > x.ageMax {
		return fmt.Errorf("ageMin %d is above ageMax %d", x.ageMin, x.ageMax)
	}
	return nil
}

// compileWindow sets the income ceiling and the validity window, refusing
// a window that ends before it starts.
func (x *res) compileWindow(r *Resource) error {
	if r.IncomeCeilingFen != nil {
		x.income = *r.IncomeCeilingFen
	}
	if r.ValidFrom != nil {
		x.from = *r.ValidFrom
	}
	if r.ValidUntil != nil {
		x.until = *r.ValidUntil
	}
	if x.from > x.until {
		return fmt.Errorf("validFrom %s is after validUntil %s", x.from, x.until)
	}
	return nil
}

// compileCapacity decides whether anything is left to give, and how
// scarce the units are.
func (x *res) compileCapacity(r *Resource) {
	if r.UnitsLeft != nil {
		x.capacity = *r.UnitsLeft > 0
		if r.UnitsTotal != nil && *r.UnitsTotal > 0 {
			x.scarcity = min(max(1-float64(*r.UnitsLeft)/float64(*r.UnitsTotal), 0), 1)
		}
	}
	if r.BudgetLeftFen != nil && *r.BudgetLeftFen <= 0 {
		x.capacity = false
	}
}

const maxAge = 150

func (x *res) ageOK(age int32) bool           { return age >= x.ageMin && age <= x.ageMax }
func (x *res) incomeOK(fen int64) bool        { return fen <= x.income }
func (x *res) windowOK(today aidhub.Day) bool { return today >= x.from && today <= x.until }
func groupsOK(res, need uint64) bool          { return res == 0 || res&need != 0 }

// covers reports whether some coverage prefix contains reg.
func (x *res) covers(reg *region) bool {
	for i := range x.cover {
		if reg.has(&x.cover[i]) {
			return true
		}
	}
	return false
}

// offerFor returns the resource's offer answering code (a category, or
// categories + item), if any.
func (x *res) offerFor(code uint32) (*offer, bool) {
	for i := range x.offers {
		if x.offers[i].code == code {
			return &x.offers[i], true
		}
	}
	return nil, false
}

// Item fit: how closely what a resource offers answers what a need names.
const (
	fitExact    = 1.0 // it offers the item the need names
	fitCategory = 0.6 // an item in the need's category (another item, or the need names none)
	fitSubtree  = 0.3 // only items in categories below the need's
)

// fit is the item-fit factor for v of a resource's offer answering v's
// category: direct, wide and items as in offer; x is read only for an
// item at position 64 or more.
func (v *needView) fit(direct, wide bool, items uint64, x *res) float64 {
	switch {
	case !direct:
		return fitSubtree
	case v.item < 0:
		return fitCategory
	case items&v.itemBit != 0, v.itemBit == 0 && wide && x.hasItem(v.item):
		return fitExact
	}
	return fitCategory
}

// hasItem reports whether x offers catalog item i.
func (x *res) hasItem(i int32) bool {
	_, ok := slices.BinarySearch(x.items, uint16(i))
	return i >= 0 && ok
}

// entitlement is the plan level, as a factor, of the best pair of the
// need's groups and the resource's items that answer the need.
func entitlement(groups uint64, lv *planMasks) float64 {
	switch {
	case groups&lv[aidhub.Entitled-1] != 0:
		return 1
	case groups&lv[aidhub.Recommended-1] != 0:
		return 0.6
	case groups&lv[aidhub.Optional-1] != 0:
		return 0.3
	}
	return 0
}
