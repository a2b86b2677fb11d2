package matching

import (
	"fmt"

	"github.com/aidhub/aidhub"
)

// Need is an assessed, open need as the engine sees it.
//
// A household-level need (PersonID 0: the household as a whole, as for
// household-level items) is matched on the household's applicant: the
// caller fills Age and Female from the applicant and Groups with the
// household's groups. The engine cannot see the members, and an age limit
// must apply to someone.
type Need struct {
	ID          int64 `json:"id"`
	HouseholdID int64 `json:"householdId"`
	PersonID    int64 `json:"personId,omitempty"` // 0: household-level
	// Region is the 12-digit village or community code where the
	// household lives (a shorter code when only that is known).
	Region   string     `json:"region"`
	Category string     `json:"category"`       // "" to take the item's
	Item     string     `json:"item,omitempty"` // "" for any item in the category
	Severity int        `json:"severity"`       // 1–5
	OpenedOn aidhub.Day `json:"openedOn"`
	Age      int        `json:"age"`
	Female   bool       `json:"female,omitempty"`
	// Groups the person (or household) belongs to today; codes the
	// catalog does not know are ignored.
	Groups             []string `json:"groups,omitempty"`
	IncomePerCapitaFen int64    `json:"incomePerCapitaFen"`
	// HouseholdIncomeFen is the household's monthly income, for showing
	// the per-capita arithmetic when the income filter fails (0: unknown).
	HouseholdIncomeFen int64 `json:"householdIncomeFen,omitempty"`
	HouseholdSize      int   `json:"householdSize"`
	// BlockedUntil is the last day on which the duplicate-aid rule blocks
	// aid in this need's category for its subject (the person, or the
	// household for household-level aid): the latest CoverEnd of the aids
	// given or under way in the category (aidhub.Catalog.BlockedUntil
	// computes it). 0 means not aided. One day per need is enough because a need
	// has one category: the caller derives it from the ledger.
	BlockedUntil aidhub.Day `json:"blockedUntil,omitempty"`
	// BlockedBy is the aid behind BlockedUntil
	// (aidhub.Catalog.BlockingAid), for saying which aid blocks the need;
	// nil when unknown.
	BlockedBy *aidhub.Aid `json:"blockedBy,omitempty"`
}

// needView is a need resolved against the catalog, with the score
// factors that do not depend on the resource.
type needView struct {
	id      int64
	cat     uint16
	item    int32 // -1: none
	offer   uint32
	groups  uint64
	reg     *region
	age     int32
	female  bool
	hh      bool
	income  int64
	size    int32
	sev     int32
	opened  aidhub.Day
	blocked aidhub.Day
	wait    int

	itemBit   uint64 // 1 << the item's place in its category (0: none, or 64 on)
	itemOffer uint32 // the offer code of the item, when it names one

	sevV, waitV, prioV float64

	regionCode string
	hhIncome   int64       // only when resolved from a Need
	blockedBy  *aidhub.Aid // only when resolved from a Need
}

// isBlocked reports whether the duplicate-aid rule blocks the need today.
func (v *needView) isBlocked(today aidhub.Day) bool { return v.blocked != 0 && today <= v.blocked }

// resolve checks a need and resolves its codes; reg receives its region.
func (c *codebook) resolve(n *Need, reg *region, v *needView) error {
	*v = needView{id: n.ID, item: -1, reg: reg, regionCode: n.Region}
	cat := n.Category
	if n.Item != "" {
		i, ok := c.itemIdx[n.Item]
		if !ok {
			return fmt.Errorf("item %q is not in the catalog", n.Item)
		}
		if cat == "" {
			cat = c.catCodes[c.itemCat[i]]
		}
		if c.catCodes[c.itemCat[i]] != cat {
			return fmt.Errorf("item %s belongs to category %s, not %s", n.Item, c.catCodes[c.itemCat[i]], cat)
		}
		v.item = int32(i)
	}
	ci, ok := c.catIdx[cat]
	if !ok {
		return fmt.Errorf("category %q is not in the catalog", cat)
	}
	v.cat = ci
	if n.Severity < 1 || n.Severity > 5 {
		return fmt.Errorf("severity %d is outside 1–5", n.Severity)
	}
	if n.Age < 0 || n.Age > maxAge {
		return fmt.Errorf("age %d is outside 0–%d", n.Age, maxAge)
	}
	if n.HouseholdSize < 0 || n.HouseholdSize > maxHouseholdSize {
		return fmt.Errorf("household size %d is outside 0–%d", n.HouseholdSize, maxHouseholdSize)
	}
	r, err := parseRegion(n.Region)
	if err != nil {
		return fmt.Errorf("region: %v", err)
	}
	*reg = r
	v.groups = c.groupMask(n.Groups)
	v.age, v.female, v.hh = int32(n.Age), n.Female, n.PersonID == 0
	v.income, v.size, v.sev = n.IncomePerCapitaFen, int32(n.HouseholdSize), int32(n.Severity)
	v.opened, v.blocked = n.OpenedOn, n.BlockedUntil
	v.hhIncome, v.blockedBy = n.HouseholdIncomeFen, n.BlockedBy
	return nil
}

const maxHouseholdSize = 1000

// prepare fills the offer code and the resource-independent factors.
func (c *codebook) prepare(v *needView, today aidhub.Day) {
	v.offer = uint32(v.cat)
	v.itemBit, v.itemOffer = 0, 0
	if v.item >= 0 {
		v.itemOffer = uint32(len(c.catCodes)) + uint32(v.item)
		if c.itemPos[v.item] < 64 {
			v.itemBit = 1 << c.itemPos[v.item]
		}
	}
	v.sevV = float64(v.sev) / 5
	v.wait = max(int(today-v.opened), 0)
	v.waitV = min(float64(v.wait)/90, 1)
	v.prioV = c.priority(v.groups)
}

// ruleEnv fills what a rule sees of the need.
func (c *codebook) ruleEnv(v *needView, env *RuleEnv, groups []string) {
	*env = RuleEnv{
		Age: int(v.age), Female: v.female, IncomePerCapitaFen: v.income, HouseholdSize: int(v.size),
		Severity: int(v.sev), Groups: groups, Region: v.regionCode,
		Category: c.catCodes[v.cat], Household: v.hh,
	}
	if v.item >= 0 {
		env.Item = c.itemCodes[v.item]
	}
}
