package aidhub

import (
	"fmt"
	"slices"
)

// Level is how strongly a group's differentiated plan includes an item.
// The zero value is NotInPlan.
type Level uint8

// Plan levels, weakest first.
const (
	NotInPlan   Level = iota // NONE: the item is not in the group's plan
	Optional                 // OPTIONAL: may be offered
	Recommended              // RECOMMENDED: should be offered
	Entitled                 // ENTITLED: the group has a right to it (应享尽享)
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
	return NotInPlan, fmt.Errorf("%q is not a plan level (ENTITLED, RECOMMENDED, OPTIONAL or NONE)", s)
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	*l = v
	return err
}

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

// MaxGroups is how many population groups a catalog may have: the
// matching engine keeps a person's groups in one 64-bit mask, with a bit
// to spare.
const MaxGroups = 63

// MaxCodes is how many categories, and how many items, a catalog may
// have: the matching engine numbers them in 16 bits.
const MaxCodes = 1<<16 - 1

// Catalog is the assistance catalog as the rules read it: the population
// groups, the service-category tree with its duplicate-aid windows, the
// items and the groups' differentiated plans, checked and indexed by code.
// It does not change once built (NewCatalog), so it is safe for
// concurrent use.
type Catalog struct {
	groups     []Group
	categories []Category
	items      []Item
	plans      []PlanEntry

	groupIdx  map[string]int
	catIdx    map[string]int
	catParent []int // -1 for a root
	itemIdx   map[string]int
	level     map[[2]string]Level // group, item → plan level
}

// NewCatalog checks the parts and indexes them: codes unique and not
// empty, tiers 1 to 10, at most MaxGroups groups and MaxCodes categories
// and items, parents and categories that exist, no cycle in the tree,
// windows ≥ 0, plan entries naming known groups and items at a level
// other than NONE.
func NewCatalog(groups []Group, categories []Category, items []Item, plans []PlanEntry) (*Catalog, error) {
	if len(groups) > MaxGroups {
		return nil, fmt.Errorf("catalog: %d groups; the engine handles at most %d", len(groups), MaxGroups)
	}
	if len(categories) > MaxCodes || len(items) > MaxCodes {
		return nil, fmt.Errorf("catalog: %d categories and %d items; at most %d of each", len(categories), len(items), MaxCodes)
	}
	c := &Catalog{
		groups: slices.Clone(groups), categories: slices.Clone(categories), items: slices.Clone(items), plans: slices.Clone(plans),
		groupIdx: make(map[string]int, len(groups)),
		catIdx:   make(map[string]int, len(categories)),
		itemIdx:  make(map[string]int, len(items)),
		level:    make(map[[2]string]Level, len(plans)),
	}
	if err := c.indexGroups(); err != nil {
		return nil, err
	}
	if err := c.indexTree(); err != nil {
		return nil, err
	}
	if err := c.indexItems(); err != nil {
		return nil, err
	}
	if err := c.indexPlans(); err != nil {
		return nil, err
	}
	return c, nil
}

// indexTree indexes the categories and links each to its parent, refusing
// an unknown parent and a cycle.
func (c *Catalog) indexTree() error {
	for i, cat := range c.categories {
		if cat.Code == "" {
			return fmt.Errorf("catalog: a category has no code")
		}
		if _, dup := c.catIdx[cat.Code]; dup {
			return fmt.Errorf("catalog: category %s is listed twice", cat.Code)
		}
		if cat.WindowDays < 0 {
			return fmt.Errorf("catalog: category %s has a duplicate-aid window of %d days; want 0 (no rule) or more", cat.Code, cat.WindowDays)
		}
		c.catIdx[cat.Code] = i
	}
	c.catParent = make([]int, len(c.categories))
	for i, cat := range c.categories {
		c.catParent[i] = -1
		if cat.Parent == "" {
			continue
		}
		p, ok := c.catIdx[cat.Parent]
		if !ok {
			return fmt.Errorf("catalog: category %s has unknown parent %s", cat.Code, cat.Parent)
		}
		c.catParent[i] = p
	}
	for i := range c.categories {
		at := i
		for steps := 0; at >= 0; steps++ {
			if steps > len(c.categories) {
				return fmt.Errorf("catalog: category %s is its own ancestor", c.categories[i].Code)
			}
			at = c.catParent[at]
		}
	}
	return nil
}

// indexGroups indexes the groups, refusing a missing or repeated code and
// a tier outside 1 to 10.
func (c *Catalog) indexGroups() error {
	for i, g := range c.groups {
		if g.Code == "" {
			return fmt.Errorf("catalog: a group has no code")
		}
		if _, dup := c.groupIdx[g.Code]; dup {
			return fmt.Errorf("catalog: group %s is listed twice", g.Code)
		}
		if g.Tier < 1 || g.Tier > 10 {
			return fmt.Errorf("catalog: group %s has tier %d; tiers are 1 (first served) to 10", g.Code, g.Tier)
		}
		c.groupIdx[g.Code] = i
	}
	return nil
}

// indexItems indexes the items, each in a known category.
func (c *Catalog) indexItems() error {
	for i, it := range c.items {
		if it.Code == "" {
			return fmt.Errorf("catalog: an item has no code")
		}
		if _, dup := c.itemIdx[it.Code]; dup {
			return fmt.Errorf("catalog: item %s is listed twice", it.Code)
		}
		if _, ok := c.catIdx[it.Category]; !ok {
			return fmt.Errorf("catalog: item %s is in unknown category %q", it.Code, it.Category)
		}
		c.itemIdx[it.Code] = i
	}
	return nil
}

// indexPlans indexes the plan entries: known groups and items, a level
// other than NONE, one entry per group and item.
func (c *Catalog) indexPlans() error {
	for _, p := range c.plans {
		if _, ok := c.groupIdx[p.Group]; !ok {
			return fmt.Errorf("catalog: plan entry for unknown group %q", p.Group)
		}
		if _, ok := c.itemIdx[p.Item]; !ok {
			return fmt.Errorf("catalog: plan entry of group %s names unknown item %q", p.Group, p.Item)
		}
		if p.Level < Optional || p.Level > Entitled {
			return fmt.Errorf("catalog: plan entry %s/%s has level %s; want ENTITLED, RECOMMENDED or OPTIONAL", p.Group, p.Item, p.Level)
		}
		key := [2]string{p.Group, p.Item}
		if _, dup := c.level[key]; dup {
			return fmt.Errorf("catalog: plan entry %s/%s is listed twice", p.Group, p.Item)
		}
		c.level[key] = p.Level
	}
	return nil
}

// Groups returns the groups in the order given to NewCatalog.
func (c *Catalog) Groups() []Group { return slices.Clone(c.groups) }

// Categories returns the categories in the order given to NewCatalog.
func (c *Catalog) Categories() []Category { return slices.Clone(c.categories) }

// Items returns the items in the order given to NewCatalog.
func (c *Catalog) Items() []Item { return slices.Clone(c.items) }

// Plans returns the plan entries in the order given to NewCatalog.
func (c *Catalog) Plans() []PlanEntry { return slices.Clone(c.plans) }

// GroupName says a group in a reason: its name in the language (zh:
// Chinese), or its code when it has none.
func (c *Catalog) GroupName(code string, zh bool) string {
	if i, ok := c.groupIdx[code]; ok {
		return pickName(code, c.groups[i].Name, c.groups[i].NameZh, zh)
	}
	return code
}

// CategoryName says a category in a reason, as GroupName.
func (c *Catalog) CategoryName(code string, zh bool) string {
	if i, ok := c.catIdx[code]; ok {
		return pickName(code, c.categories[i].Name, c.categories[i].NameZh, zh)
	}
	return code
}

// ItemName says an item in a reason, as GroupName.
func (c *Catalog) ItemName(code string, zh bool) string {
	if i, ok := c.itemIdx[code]; ok {
		return pickName(code, c.items[i].Name, c.items[i].NameZh, zh)
	}
	return code
}

func pickName(code, en, zh string, inZh bool) string {
	if inZh && zh != "" {
		return zh
	}
	if !inZh && en != "" {
		return en
	}
	return code
}

// Window returns a category's duplicate-aid window in days (0: no rule).
func (c *Catalog) Window(category string) (int, bool) {
	i, ok := c.catIdx[category]
	if !ok {
		return 0, false
	}
	return c.categories[i].WindowDays, true
}

// HouseholdLevel reports whether an item goes to a household as a whole.
func (c *Catalog) HouseholdLevel(item string) bool {
	i, ok := c.itemIdx[item]
	return ok && c.items[i].HouseholdLevel
}

// PlanLevel returns the level of item in group's plan (NotInPlan when
// absent).
func (c *Catalog) PlanLevel(group, item string) Level {
	return c.level[[2]string{group, item}]
}

// Within reports whether category a is b or one of b's sub-categories
// (false when either is unknown).
func (c *Catalog) Within(a, b string) bool {
	ai, ok := c.catIdx[a]
	bi, ok2 := c.catIdx[b]
	return ok && ok2 && c.within(ai, bi)
}

func (c *Catalog) within(a, b int) bool {
	for at := a; at >= 0; at = c.catParent[at] {
		if at == b {
			return true
		}
	}
	return false
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
	w, ok := c.CoverWindow(needCat, a.Category)
	if !ok {
		return 0
	}
	return CoverEnd(a, w)
}

// CoverWindow is the rule of Covers without a period: whether aid in
// category aidCat meets a need in needCat, and then for how many days from
// its start at least (the aid category's window). casework applies it to
// the ledger, in Go and in SQL.
func (c *Catalog) CoverWindow(needCat, aidCat string) (window int, ok bool) {
	ni, ok := c.catIdx[needCat]
	ai, ok2 := c.catIdx[aidCat]
	if !ok || !ok2 {
		return 0, false
	}
	nw, aw := c.categories[ni].WindowDays, c.categories[ai].WindowDays
	if nw == 0 || aw == 0 || !c.within(ai, ni) {
		return 0, false
	}
	return aw, true
}

// BlockedUntil computes a need's duplicate-aid block from the aids given
// or under way to the need's subject (the person, or the household for
// household-level needs), in any category: the last day one of them
// covers the need's category (Covers), or 0 when none does.
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
