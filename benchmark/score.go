package benchmark

import (
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/matching"
)

// scorer is the engine's score written again from its documentation
// (package matching), over plain strings and the stored catalog, as a team
// scoring search hits in its own client would write it. The factors are
// added in the engine's order, each product rounded on its own, so equal
// inputs give the engine's bits.
type scorer struct {
	w       matching.Weights
	tier    map[string]int
	level   map[[2]string]float64 // (group, item) → entitlement value
	itemCat map[string]string
}

func newScorer(c *catalog.Catalog, w matching.Weights) *scorer {
	s := &scorer{w: w, tier: map[string]int{}, level: map[[2]string]float64{}, itemCat: map[string]string{}}
	for _, g := range c.Groups {
		s.tier[g.Code] = g.Tier
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

// needFactors are the factors that depend on the need alone.
type needFactors struct{ sev, fit, wait, prio float64 }

func (s *scorer) need(n *matching.Need, today matching.Day) needFactors {
	f := needFactors{sev: float64(n.Severity) / 5, fit: 0.5}
	if n.Item != "" {
		f.fit = 1
	}
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

// answers reports whether an item answers the need: the item it names, or
// any item directly in its category.
func (s *scorer) answers(n *matching.Need, item string) bool {
	if n.Item != "" {
		return item == n.Item
	}
	return s.itemCat[item] == n.Category
}

// entitlement is the best plan level among the need's groups and the
// resource's items that answer the need.
func (s *scorer) entitlement(n *matching.Need, items []string) float64 {
	best := 0.0
	for _, it := range items {
		if !s.answers(n, it) {
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

// score adds the contributions in the engine's order.
func (s *scorer) score(f needFactors, ent, dist, scar float64) float64 {
	v := float64(s.w.Severity * f.sev)
	v += float64(s.w.ItemFit * f.fit)
	v += float64(s.w.Entitlement * ent)
	v += float64(s.w.Distance * dist)
	v += float64(s.w.Waiting * f.wait)
	v += float64(s.w.Priority * f.prio)
	v += float64(s.w.Scarcity * scar)
	return v
}
