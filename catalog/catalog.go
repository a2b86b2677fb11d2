// Package catalog keeps the layered, classified assistance catalog
// (分层分类救助清单: population groups, service categories and items, and the
// differentiated plans that tie them), the organizations that give aid, and
// the charity resources they publish. Catalog entries are data, not enums:
// regions differ in what they monitor and offer.
package catalog

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/aidhub/aidhub"
	"github.com/uptrace/bun"
)

// Group is a population group (低保, 特困, …) with its priority tier; tier 1
// is served first.
type Group struct {
	bun.BaseModel `bun:"table:population_groups"`

	Code        string `bun:",pk" json:"code"`
	NameZh      string `bun:",notnull" json:"nameZh"`
	NameEn      string `bun:",notnull" json:"nameEn"`
	Tier        int    `bun:",notnull" json:"tier"`
	Description string `bun:",notnull" json:"description"`
	Sort        int    `bun:",notnull" json:"sort"`
}

// Category is a node in the tree of service categories.
type Category struct {
	bun.BaseModel `bun:"table:service_categories"`

	Code       string  `bun:",pk" json:"code"`
	ParentCode *string `json:"parent"`
	NameZh     string  `bun:",notnull" json:"nameZh"`
	NameEn     string  `bun:",notnull" json:"nameEn"`
	// DuplicateWindowDays is how long one aid in this category counts
	// against another for the same person or household (0: never).
	DuplicateWindowDays int `bun:",notnull" json:"duplicateWindowDays"`
	Sort                int `bun:",notnull" json:"sort"`
}

// Item is a concrete service or benefit under a category.
type Item struct {
	bun.BaseModel `bun:"table:service_items"`

	Code         string `bun:",pk" json:"code"`
	CategoryCode string `bun:",notnull" json:"category"`
	NameZh       string `bun:",notnull" json:"nameZh"`
	NameEn       string `bun:",notnull" json:"nameEn"`
	Unit         string `bun:",notnull" json:"unit"`
	// HouseholdLevel items are given to a household as a whole.
	HouseholdLevel bool `bun:",notnull" json:"householdLevel"`
	Sort           int  `bun:",notnull" json:"sort"`
}

// PlanLevel is how strongly a group's plan includes an item.
type PlanLevel string

const (
	Entitled    PlanLevel = "ENTITLED"    // 应享尽享: the group has a right to it
	Recommended PlanLevel = "RECOMMENDED" // should be offered
	Optional    PlanLevel = "OPTIONAL"    // may be offered
)

// Valid reports whether l is a known level.
func (l PlanLevel) Valid() bool { return l == Entitled || l == Recommended || l == Optional }

// PlanEntry is one line of a group's differentiated service plan.
type PlanEntry struct {
	bun.BaseModel `bun:"table:plan_entries"`

	GroupCode string    `bun:",pk" json:"group"`
	ItemCode  string    `bun:",pk" json:"item"`
	Level     PlanLevel `bun:",notnull" json:"level"`
}

// Catalog is a consistent snapshot of the whole catalog with look-ups.
type Catalog struct {
	Groups     []Group
	Categories []Category
	Items      []Item
	Plans      []PlanEntry

	groups     map[string]int
	categories map[string]int
	items      map[string]int
	children   map[string][]string // parent code ("" for roots) → category codes
	itemsOf    map[string][]string // category code → item codes
	planOf     map[string][]int    // group code → indexes into Plans

	tree func() (*aidhub.Catalog, error)
}

// NewCatalog sorts the parts for display and builds the look-ups.
func NewCatalog(groups []Group, cats []Category, items []Item, plans []PlanEntry) *Catalog {
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].Sort != groups[j].Sort {
			return groups[i].Sort < groups[j].Sort
		}
		return groups[i].Code < groups[j].Code
	})
	sort.SliceStable(cats, func(i, j int) bool {
		if cats[i].Sort != cats[j].Sort {
			return cats[i].Sort < cats[j].Sort
		}
		return cats[i].Code < cats[j].Code
	})
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Sort != items[j].Sort {
			return items[i].Sort < items[j].Sort
		}
		return items[i].Code < items[j].Code
	})
	sort.SliceStable(plans, func(i, j int) bool {
		if plans[i].GroupCode != plans[j].GroupCode {
			return plans[i].GroupCode < plans[j].GroupCode
		}
		return plans[i].ItemCode < plans[j].ItemCode
	})
	c := &Catalog{
		Groups: groups, Categories: cats, Items: items, Plans: plans,
		groups: map[string]int{}, categories: map[string]int{}, items: map[string]int{},
		children: map[string][]string{}, itemsOf: map[string][]string{}, planOf: map[string][]int{},
	}
	for i, g := range groups {
		c.groups[g.Code] = i
	}
	for i, cat := range cats {
		c.categories[cat.Code] = i
		parent := ""
		if cat.ParentCode != nil {
			parent = *cat.ParentCode
		}
		c.children[parent] = append(c.children[parent], cat.Code)
	}
	for i, it := range items {
		c.items[it.Code] = i
		c.itemsOf[it.CategoryCode] = append(c.itemsOf[it.CategoryCode], it.Code)
	}
	for i, p := range plans {
		c.planOf[p.GroupCode] = append(c.planOf[p.GroupCode], i)
	}
	c.tree = sync.OnceValues(c.buildTree)
	return c
}

// Group returns the group with code.
func (c *Catalog) Group(code string) (*Group, bool) {
	i, ok := c.groups[code]
	if !ok {
		return nil, false
	}
	return &c.Groups[i], true
}

// Category returns the category with code.
func (c *Catalog) Category(code string) (*Category, bool) {
	i, ok := c.categories[code]
	if !ok {
		return nil, false
	}
	return &c.Categories[i], true
}

// Item returns the item with code.
func (c *Catalog) Item(code string) (*Item, bool) {
	i, ok := c.items[code]
	if !ok {
		return nil, false
	}
	return &c.Items[i], true
}

// Children returns the categories directly under code ("" for the roots).
func (c *Catalog) Children(code string) []*Category {
	out := make([]*Category, 0, len(c.children[code]))
	for _, cc := range c.children[code] {
		cat, _ := c.Category(cc)
		out = append(out, cat)
	}
	return out
}

// ItemsOf returns the items directly under a category.
func (c *Catalog) ItemsOf(category string) []*Item {
	out := make([]*Item, 0, len(c.itemsOf[category]))
	for _, code := range c.itemsOf[category] {
		it, _ := c.Item(code)
		out = append(out, it)
	}
	return out
}

// Subtree returns code and the codes of every category below it.
func (c *Catalog) Subtree(code string) []string {
	out := []string{code}
	for i := 0; i < len(out); i++ {
		out = append(out, c.children[out[i]]...)
	}
	return out
}

// Root returns the top-level category above (or equal to) code.
func (c *Catalog) Root(code string) string {
	for {
		cat, ok := c.Category(code)
		if !ok || cat.ParentCode == nil {
			return code
		}
		code = *cat.ParentCode
	}
}

// ItemsUnder returns the codes of every item in the category's subtree.
func (c *Catalog) ItemsUnder(category string) []string {
	var out []string
	for _, cc := range c.Subtree(category) {
		out = append(out, c.itemsOf[cc]...)
	}
	slices.Sort(out)
	return out
}

// Plan returns a group's differentiated plan, ordered by item code.
func (c *Catalog) Plan(group string) []PlanEntry {
	out := make([]PlanEntry, 0, len(c.planOf[group]))
	for _, i := range c.planOf[group] {
		out = append(out, c.Plans[i])
	}
	return out
}

// PlanLevel returns the level of item in group's plan, "" when absent.
func (c *Catalog) PlanLevel(group, item string) PlanLevel {
	for _, i := range c.planOf[group] {
		if c.Plans[i].ItemCode == item {
			return c.Plans[i].Level
		}
	}
	return ""
}

// Tree is the snapshot as the rules read it (aidhub.Catalog): the category
// tree with its duplicate-aid windows and cover rule, the groups, items
// and plans, with their names for reasons. Built once per snapshot.
func (c *Catalog) Tree() (*aidhub.Catalog, error) { return c.tree() }

func (c *Catalog) buildTree() (*aidhub.Catalog, error) {
	groups := make([]aidhub.Group, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = aidhub.Group{Code: g.Code, Tier: g.Tier, Name: g.NameEn, NameZh: g.NameZh}
	}
	cats := make([]aidhub.Category, len(c.Categories))
	for i, k := range c.Categories {
		cats[i] = aidhub.Category{Code: k.Code, WindowDays: k.DuplicateWindowDays, Name: k.NameEn, NameZh: k.NameZh}
		if k.ParentCode != nil {
			cats[i].Parent = *k.ParentCode
		}
	}
	items := make([]aidhub.Item, len(c.Items))
	for i, it := range c.Items {
		items[i] = aidhub.Item{Code: it.Code, Category: it.CategoryCode, HouseholdLevel: it.HouseholdLevel, Name: it.NameEn, NameZh: it.NameZh}
	}
	plans := make([]aidhub.PlanEntry, len(c.Plans))
	for i, p := range c.Plans {
		lv, err := aidhub.ParseLevel(string(p.Level))
		if err != nil {
			return nil, fmt.Errorf("catalog: plan of %s: %w", p.GroupCode, err)
		}
		plans[i] = aidhub.PlanEntry{Group: p.GroupCode, Item: p.ItemCode, Level: lv}
	}
	return aidhub.NewCatalog(groups, cats, items, plans)
}
