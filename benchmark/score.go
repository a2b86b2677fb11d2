package benchmark

import (
	"slices"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/matching"
)

// scorer is the engine's score written again from its documentation
// (package matching), over plain strings and the stored catalog, as a team
// scoring search hits in its own client would write it. The factors are
// added in the engine's order, each product rounded on its own, so equal
// inputs give the engine's bits.
type scorer struct {
	pts     [7]float64 // each factor's points at value 1 (points)
	tier    map[string]int
	level   map[[2]string]float64 // (group, item) → entitlement value
	itemCat map[string]string
	parent  map[string]string // category → its parent ("" for a root)
}

func newScorer(c *catalog.Catalog, w matching.Weights) *scorer {
	s := &scorer{pts: points(w), tier: map[string]int{}, level: map[[2]string]float64{},
		itemCat: map[string]string{}, parent: map[string]string{}}
	for _, g := range c.Groups {
		s.tier[g.Code] = g.Tier
	}
	for _, cat := range c.Categories {
		s.parent[cat.Code] = ""
		if cat.ParentCode != nil {
			s.parent[cat.Code] = *cat.ParentCode
		}
	}
	for _, it := range c.Items {
		s.itemCat[it.Code] = it.CategoryCode
	}
	for _, p := range c.Plans {
		v := 0.0
		switch p.Level {
		case catalog.Entitled:
			v = 1
		case catalog.Recommended:
			v = 0.6
		case catalog.Optional:
			v = 0.3
		}
		s.level[[2]string{p.GroupCode, p.ItemCode}] = v
	}
	return s
}

// points are the engine's points of each factor at value 1, in factor
// order: MaxScore × weight / the sum of the weights, the sum added in
// factor order, so that they add up to MaxScore.
func points(w matching.Weights) [7]float64 {
	l := [7]float64{w.Severity, w.ItemFit, w.Entitlement, w.Distance, w.Waiting, w.Priority, w.Scarcity}
	sum := 0.0
	for _, v := range l {
		sum += v
	}
	for i := range l {
		l[i] = matching.MaxScore * l[i] / sum
	}
	return l
}

// within reports whether category a is b or lies below b in the tree.
func (s *scorer) within(a, b string) bool {
	for steps := 0; a != "" && steps <= len(s.parent); steps++ {
		if a == b {
			return true
		}
		a = s.parent[a]
	}
	return false
}

// ancestors returns category code and every category above it.
func (s *scorer) ancestors(code string) []string {
	var out []string
	for steps := 0; code != "" && steps <= len(s.parent); steps++ {
		out = append(out, code)
		code = s.parent[code]
	}
	return out
}

// needFactors are the factors that depend on the need alone.
type needFactors struct{ sev, wait, prio float64 }

func (s *scorer) need(n *matching.Need, today aidhub.Day) needFactors {
	f := needFactors{sev: float64(n.Severity) / 5}
	wait := max(int(today-n.OpenedOn), 0)
	f.wait = min(float64(wait)/90, 1)
	best := 11
	for _, g := range n.Groups {
		if t, ok := s.tier[g]; ok && t < best {
			best = t
		}
	}
	if best <= 10 {
		f.prio = float64(10-best) / 9
	}
	return f
}

// Item fit, as the engine's: the item the need names, another item of the
// need's category (or the need names none), only items below it.
const (
	fitExact    = 1.0
	fitCategory = 0.6
	fitSubtree  = 0.3
)

// fit is the item fit of a resource offering items for a need in category
// (the need's, or its item's): fitExact when it offers the item the need
// names, fitCategory when it offers an item directly in category, else
// fitSubtree (it answers the need, so it offers items below category).
func (s *scorer) fit(n *matching.Need, category string, items []string) float64 {
	if n.Item != "" && slices.Contains(items, n.Item) {
		return fitExact
	}
	for _, it := range items {
		if s.itemCat[it] == category {
			return fitCategory
		}
	}
	return fitSubtree
}

// entitlement is the best plan level among the need's groups and the
// resource's items that answer the need: those in its category or in a
// category below it.
func (s *scorer) entitlement(n *matching.Need, category string, items []string) float64 {
	best := 0.0
	for _, it := range items {
		if !s.within(s.itemCat[it], category) {
			continue
		}
		for _, g := range n.Groups {
			best = max(best, s.level[[2]string{g, it}])
		}
	}
	return best
}

// proximity is the distance factor of a need's region and a resource's
// location by administrative level: same village 1, street 0.75, district
// 0.5, city 0.2 (or the same municipality), location unknown 0.1, else 0.
func proximity(region, loc string) float64 {
	if loc == "" {
		return 0.1
	}
	l := min(len(region), len(loc))
	pad := loc
	for len(pad) < 12 {
		pad += "0"
	}
	same := func(k int) bool { return len(region) >= k && region[:k] == pad[:k] }
	switch {
	case l >= 12 && same(12):
		return 1
	case l >= 9 && same(9):
		return 0.75
	case l >= 6 && same(6):
		return 0.5
	case l >= 4 && same(4), l >= 2 && same(2) && municipality(region[:2]):
		return 0.2
	}
	return 0
}

func municipality(p string) bool { return p == "11" || p == "12" || p == "31" || p == "50" }

// scarcity is 1 − units left / units total for a resource counting units.
func scarcity(left, total *int64) float64 {
	if left == nil || total == nil || *total <= 0 {
		return 0
	}
	return min(max(1-float64(*left)/float64(*total), 0), 1)
}

// score adds the contributions (points × value) in the engine's order.
func (s *scorer) score(f needFactors, fit, ent, dist, scar float64) float64 {
	v := float64(s.pts[0] * f.sev)
	v += float64(s.pts[1] * fit)
	v += float64(s.pts[2] * ent)
	v += float64(s.pts[3] * dist)
	v += float64(s.pts[4] * f.wait)
	v += float64(s.pts[5] * f.prio)
	v += float64(s.pts[6] * scar)
	return v
}
