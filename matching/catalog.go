package matching

import (
	"math/bits"

	"github.com/aidhub/aidhub"
)

// planMasks are, for Optional, Recommended and Entitled (index level−1),
// the masks of the groups whose plans include something at that level.
type planMasks [3]uint64

// codebook is the engine's form of a catalog: every code numbered small
// (groups in 6 bits, categories and items in 16), so that the filters
// test masks and walk the tree on numbers. The numbers follow the order of
// the catalog's parts, so two codebooks of one catalog agree.
type codebook struct {
	src *aidhub.Catalog

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
}

// newCodebook numbers cat's codes. It cannot fail: NewCatalog has checked
// the codes, the tree and the limits (MaxGroups, MaxCodes).
func newCodebook(cat *aidhub.Catalog) *codebook {
	groups, categories, items := cat.Groups(), cat.Categories(), cat.Items()
	c := &codebook{
		src:      cat,
		groupIdx: make(map[string]uint8, len(groups)),
		catIdx:   make(map[string]uint16, len(categories)),
		itemIdx:  make(map[string]uint16, len(items)),
	}
	for _, g := range groups {
		c.groupIdx[g.Code] = uint8(len(c.groupCodes))
		c.groupCodes = append(c.groupCodes, g.Code)
		c.groupTier = append(c.groupTier, g.Tier)
	}
	for _, k := range categories {
		c.catIdx[k.Code] = uint16(len(c.catCodes))
		c.catCodes = append(c.catCodes, k.Code)
		c.catWindow = append(c.catWindow, k.WindowDays)
	}
	c.catParent = make([]int32, len(categories))
	for i, k := range categories {
		c.catParent[i] = -1
		if k.Parent != "" {
			c.catParent[i] = int32(c.catIdx[k.Parent])
		}
	}
	inCat := make([]int, len(categories))
	for _, it := range items {
		ci := c.catIdx[it.Category]
		c.itemIdx[it.Code] = uint16(len(c.itemCodes))
		c.itemCodes = append(c.itemCodes, it.Code)
		c.itemCat = append(c.itemCat, ci)
		c.itemPos = append(c.itemPos, uint16(inCat[ci]))
		inCat[ci]++
		c.itemHH = append(c.itemHH, it.HouseholdLevel)
	}
	c.planMask = make([]planMasks, len(items))
	for _, p := range cat.Plans() {
		c.planMask[c.itemIdx[p.Item]][p.Level-1] |= 1 << c.groupIdx[p.Group]
	}
	return c
}

// Kinds of code for name.
const (
	kindGroup = iota
	kindCategory
	kindItem
)

// name says a group, category or item code (of kind) in a reason: its
// name in the language (zh: Chinese), or the code when it has none.
func (c *codebook) name(kind int, code string, zh bool) string {
	switch kind {
	case kindGroup:
		return c.src.GroupName(code, zh)
	case kindCategory:
		return c.src.CategoryName(code, zh)
	}
	return c.src.ItemName(code, zh)
}

func (c *codebook) nameList(kind int, codes []string, zh bool) []string {
	out := make([]string, len(codes))
	for i, code := range codes {
		out[i] = c.name(kind, code, zh)
	}
	return out
}

// groupMask returns the mask of the known codes among groups; unknown
// codes are ignored (a group the catalog does not have opens nothing).
func (c *codebook) groupMask(groups []string) uint64 {
	var m uint64
	for _, g := range groups {
		if i, ok := c.groupIdx[g]; ok {
			m |= 1 << i
		}
	}
	return m
}

// groupList returns the codes of a mask in catalog order.
func (c *codebook) groupList(m uint64) []string {
	out := make([]string, 0, bits.OnesCount64(m))
	for ; m != 0; m &= m - 1 {
		out = append(out, c.groupCodes[bits.TrailingZeros64(m)])
	}
	return out
}

// priority is the group-priority factor of a mask: (10 − best tier) / 9,
// 0 for no group.
func (c *codebook) priority(m uint64) float64 {
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
