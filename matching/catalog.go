package matching

import (
	"fmt"
	"math/bits"
)

// Level is how strongly a group's differentiated plan includes an item.
// The zero value is None: the item is not in the group's plan.
type Level uint8

// Plan levels, weakest first.
const (
	None        Level = iota
	Optional          // OPTIONAL: may be offered
	Recommended       // RECOMMENDED: should be offered
	Entitled          // ENTITLED: the group has a right to it (应享尽享)
)

var levelNames = [...]string{"NONE", "OPTIONAL", "RECOMMENDED", "ENTITLED"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// ParseLevel reads ENTITLED, RECOMMENDED, OPTIONAL or NONE.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), nil
		}
	}
	return None, fmt.Errorf("matching: %q is not a plan level (ENTITLED, RECOMMENDED, OPTIONAL or NONE)", s)
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	*l = v
	return err
}

// planMasks are, for Optional, Recommended and Entitled (index level−1),
// the masks of the groups whose plans include something at that level.
type planMasks [3]uint64

// Group is a population group with its priority tier (1 is served first).
type Group struct {
	Code string `json:"code"`
	Tier int    `json:"tier"`
	// Names say the code in reasons (the code when empty).
	Name   string `json:"name,omitempty"`
	NameZh string `json:"nameZh,omitempty"`
}

// Category is a node of the service-category tree. WindowDays is how long
// one aid in the category counts against another for the same subject
// (0: the category has no duplicate-aid rule).
type Category struct {
	Code       string `json:"code"`
	Parent     string `json:"parent,omitempty"`
	WindowDays int    `json:"windowDays"`
	Name       string `json:"name,omitempty"`
	NameZh     string `json:"nameZh,omitempty"`
}

// Item is a service item under a category; HouseholdLevel items go to a
// household as a whole.
type Item struct {
	Code           string `json:"code"`
	Category       string `json:"category"`
	HouseholdLevel bool   `json:"householdLevel,omitempty"`
	Name           string `json:"name,omitempty"`
	NameZh         string `json:"nameZh,omitempty"`
}

// PlanEntry is one line of a group's differentiated plan.
type PlanEntry struct {
	Group string `json:"group"`
	Item  string `json:"item"`
	Level Level  `json:"level"`
}

// MaxGroups is how many population groups the engine tells apart: a
// person's groups are one 64-bit mask, with a bit to spare.
const MaxGroups = 63

const maxCodes = 1<<16 - 1 // categories and items are 16-bit numbers

// Catalog is the engine's read-only view of the assistance catalog, with
// every code interned to a small number. Build it with NewCatalog.
type Catalog struct {
	groupCodes []string
	groupIdx   map[string]uint8
	groupTier  []int

	catCodes  []string
	catIdx    map[string]uint16
	catParent []int32 // -1 for a root
	catWindow []int

	itemCodes []string
	itemIdx   map[string]uint16
	itemCat   []uint16
	itemPos   []uint16 // the item's place among the items of its category
	itemHH    []bool
	// planMask[item][level−1] is the mask of groups whose plan has the
	// item at that level.
	planMask []planMasks

	names map[string][2]string // kind:code → English and Chinese name, for reasons
}

// Kinds of code for name.
const (
	kindGroup    = "g:"
	kindCategory = "c:"
	kindItem     = "i:"
)

// name says a group, category or item code (of kind) in a reason: its
// name in the language (zh: Chinese), or the code when it has none.
func (c *Catalog) name(kind, code string, zh bool) string {
	n := c.names[kind+code]
	if zh && n[1] != "" {
		return n[1]
	}
	if !zh && n[0] != "" {
		return n[0]
	}
	return code
}

func (c *Catalog) nameList(kind string, codes []string, zh bool) []string {
	out := make([]string, len(codes))
	for i, code := range codes {
		out[i] = c.name(kind, code, zh)
	}
	return out
}

// NewCatalog checks the parts and interns their codes: codes unique and
// not empty, tiers 1 to 10, at most MaxGroups groups, parents and
// categories that exist, no cycle in the tree, windows ≥ 0, plan entries
// naming known groups and items at a level other than NONE.
func NewCatalog(groups []Group, categories []Category, items []Item, plans []PlanEntry) (*Catalog, error) {
	if len(groups) > MaxGroups {
		return nil, fmt.Errorf("matching: %d groups; the engine handles at most %d", len(groups), MaxGroups)
	}
	if len(categories) > maxCodes || len(items) > maxCodes {
		return nil, fmt.Errorf("matching: %d categories and %d items; at most %d of each", len(categories), len(items), maxCodes)
	}
	c := &Catalog{
		groupIdx: make(map[string]uint8, len(groups)),
		names:    map[string][2]string{},
		catIdx:   make(map[string]uint16, len(categories)),
		itemIdx:  make(map[string]uint16, len(items)),
	}
	for _, g := range groups {
		if g.Code == "" {
			return nil, fmt.Errorf("matching: a group has no code")
		}
		if _, dup := c.groupIdx[g.Code]; dup {
			return nil, fmt.Errorf("matching: group %s is listed twice", g.Code)
		}
		if g.Tier < 1 || g.Tier > 10 {
			return nil, fmt.Errorf("matching: group %s has tier %d; tiers are 1 (first served) to 10", g.Code, g.Tier)
		}
		c.names[kindGroup+g.Code] = [2]string{g.Name, g.NameZh}
		c.groupIdx[g.Code] = uint8(len(c.groupCodes))
		c.groupCodes = append(c.groupCodes, g.Code)
		c.groupTier = append(c.groupTier, g.Tier)
	}
	for _, cat := range categories {
		if cat.Code == "" {
			return nil, fmt.Errorf("matching: a category has no code")
		}
		if _, dup := c.catIdx[cat.Code]; dup {
			return nil, fmt.Errorf("matching: category %s is listed twice", cat.Code)
		}
		if cat.WindowDays < 0 {
			return nil, fmt.Errorf("matching: category %s has a duplicate-aid window of %d days; want 0 (no rule) or more", cat.Code, cat.WindowDays)
		}
		c.names[kindCategory+cat.Code] = [2]string{cat.Name, cat.NameZh}
		c.catIdx[cat.Code] = uint16(len(c.catCodes))
		c.catCodes = append(c.catCodes, cat.Code)
		c.catWindow = append(c.catWindow, cat.WindowDays)
	}
	c.catParent = make([]int32, len(categories))
	for i, cat := range categories {
		c.catParent[i] = -1
		if cat.Parent == "" {
			continue
		}
		p, ok := c.catIdx[cat.Parent]
		if !ok {
			return nil, fmt.Errorf("matching: category %s has unknown parent %s", cat.Code, cat.Parent)
		}
		c.catParent[i] = int32(p)
	}
	for i := range categories {
		at := int32(i)
		for steps := 0; at >= 0; steps++ {
			if steps > len(categories) {
				return nil, fmt.Errorf("matching: category %s is its own ancestor", categories[i].Code)
			}
			at = c.catParent[at]
		}
	}
	inCat := make([]int, len(categories))
	for _, it := range items {
		if it.Code == "" {
			return nil, fmt.Errorf("matching: an item has no code")
		}
		if _, dup := c.itemIdx[it.Code]; dup {
			return nil, fmt.Errorf("matching: item %s is listed twice", it.Code)
		}
		ci, ok := c.catIdx[it.Category]
		if !ok {
			return nil, fmt.Errorf("matching: item %s is in unknown category %q", it.Code, it.Category)
		}
		c.names[kindItem+it.Code] = [2]string{it.Name, it.NameZh}
		c.itemIdx[it.Code] = uint16(len(c.itemCodes))
		c.itemCodes = append(c.itemCodes, it.Code)
		c.itemCat = append(c.itemCat, ci)
		c.itemPos = append(c.itemPos, uint16(inCat[ci]))
		inCat[ci]++
		c.itemHH = append(c.itemHH, it.HouseholdLevel)
	}
	c.planMask = make([]planMasks, len(items))
	seen := make(map[[2]string]bool, len(plans))
	for _, p := range plans {
		g, ok := c.groupIdx[p.Group]
		if !ok {
			return nil, fmt.Errorf("matching: plan entry for unknown group %q", p.Group)
		}
		it, ok := c.itemIdx[p.Item]
		if !ok {
			return nil, fmt.Errorf("matching: plan entry of group %s names unknown item %q", p.Group, p.Item)
		}
		if p.Level < Optional || p.Level > Entitled {
			return nil, fmt.Errorf("matching: plan entry %s/%s has level %s; want ENTITLED, RECOMMENDED or OPTIONAL", p.Group, p.Item, p.Level)
		}
		if seen[[2]string{p.Group, p.Item}] {
			return nil, fmt.Errorf("matching: plan entry %s/%s is listed twice", p.Group, p.Item)
		}
		seen[[2]string{p.Group, p.Item}] = true
		c.planMask[it][p.Level-1] |= 1 << g
	}
	return c, nil
}

// groupMask returns the mask of the known codes among groups; unknown
// codes are ignored (a group the catalog does not have opens nothing).
func (c *Catalog) groupMask(groups []string) uint64 {
	var m uint64
	for _, g := range groups {
		if i, ok := c.groupIdx[g]; ok {
			m |= 1 << i
		}
	}
	return m
}

// groupList returns the codes of a mask in catalog order.
func (c *Catalog) groupList(m uint64) []string {
	out := make([]string, 0, bits.OnesCount64(m))
	for ; m != 0; m &= m - 1 {
		out = append(out, c.groupCodes[bits.TrailingZeros64(m)])
	}
	return out
}

// priority is the group-priority factor of a mask: (10 − best tier) / 9,
// 0 for no group.
func (c *Catalog) priority(m uint64) float64 {
	best := 11
	for ; m != 0; m &= m - 1 {
		if t := c.groupTier[bits.TrailingZeros64(m)]; t < best {
			best = t
		}
	}
	if best > 10 {
		return 0
	}
	return float64(10-best) / 9
}

// Window returns a category's duplicate-aid window in days (0: no rule).
func (c *Catalog) Window(category string) (int, bool) {
	i, ok := c.catIdx[category]
	if !ok {
		return 0, false
	}
	return c.catWindow[i], true
}

// HouseholdLevel reports whether an item goes to a household as a whole.
func (c *Catalog) HouseholdLevel(item string) bool {
	i, ok := c.itemIdx[item]
	return ok && c.itemHH[i]
}

// PlanLevel returns the level of item in group's plan (None when absent).
func (c *Catalog) PlanLevel(group, item string) Level {
	g, ok := c.groupIdx[group]
	it, ok2 := c.itemIdx[item]
	if !ok || !ok2 {
		return None
	}
	for l := Entitled; l >= Optional; l-- {
		if c.planMask[it][l-1]&(1<<g) != 0 {
			return l
		}
	}
	return None
}

// within reports whether category a is b or lies under b in the tree.
func (c *Catalog) within(a, b uint16) bool {
	for at := int32(a); at >= 0; at = c.catParent[at] {
		if at == int32(b) {
			return true
		}
	}
	return false
}

// Within reports whether category a is b or one of b's sub-categories
// (false when either is unknown).
func (c *Catalog) Within(a, b string) bool {
	ai, ok := c.catIdx[a]
	bi, ok2 := c.catIdx[b]
	return ok && ok2 && c.within(ai, bi)
}

// Aid is one aid already given or under way: its category and period.
type Aid struct {
	Category string `json:"category"`
	Start    Day    `json:"start"`
	End      Day    `json:"end"`
}

// CoverEnd is the last day an aid counts for in the duplicate rule: its
// period, but at least window days from its start, so a one-off grant
// covers the need for the window (as casework's coverEnd).
func CoverEnd(a Aid, window int) Day {
	if end := a.Start.AddDays(window - 1); a.End < end {
		return end
	}
	return a.End
}

// Covers is the duplicate-aid rule between an aid and a need category:
// the last day on which an aid in category aidCat, for the period of a,
// meets a need in category needCat, or 0 when it never does. An aid meets
// needs in its own category and in every category above it (inpatient aid
// is medical aid), never in a category below or beside it (a medical
// escort does not pay an inpatient bill). It counts for its period, and at
// least its own category's window from its start. A category with window
// 0 (counselling, legal advice) has no rule: aid in it blocks nothing, and
// a need in it is never blocked. casework applies the same rule to the
// ledger (duplicate aid and the watchlist).
func (c *Catalog) Covers(needCat string, a Aid) Day {
	ni, ok := c.catIdx[needCat]
	ai, ok2 := c.catIdx[a.Category]
	if !ok || !ok2 || c.catWindow[ni] == 0 || c.catWindow[ai] == 0 || !c.within(ai, ni) {
		return 0
	}
	return CoverEnd(a, c.catWindow[ai])
}

// BlockedUntil computes Need.BlockedUntil from the aids given or under way
// to the need's subject (the person, or the household for household-level
// needs), in any category: the last day one of them covers the need's
// category (Covers), or 0 when none does.
func (c *Catalog) BlockedUntil(category string, aids []Aid) Day {
	var until Day
	for _, a := range aids {
		if e := c.Covers(category, a); e > until {
			until = e
		}
	}
	return until
}

// BlockingAid returns the aid that blocks a need in category longest, and
// the day it blocks until (ok false when none does).
func (c *Catalog) BlockingAid(category string, aids []Aid) (Aid, Day, bool) {
	var best Aid
	var until Day
	for _, a := range aids {
		if e := c.Covers(category, a); e > until {
			best, until = a, e
		}
	}
	return best, until, until != 0
}
