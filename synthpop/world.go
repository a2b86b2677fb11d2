package synthpop

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/regions"
)

// chinaTime is China Standard Time, where the hub's days begin.
var chinaTime = time.FixedZone("CST", 8*3600)

// village is a place households live in.
type village struct {
	code     string
	name     string // short: 东方广场社区, 石桥村
	district int    // index into world.districts
	rural    bool
}

// world is what every part of the generator draws from: the catalog and
// the divisions, arranged for drawing, and the day.
type world struct {
	cat *catalog.Catalog
	dir *regions.Directory

	today      aidhub.Date // the calendar date in China of Options.Today
	todayStart time.Time   // midnight starting it, in China

	kinds    []kindSpec
	kindPick picker
	tier     map[string]int

	villages          []village
	all, urban, rural []int // indexes into villages
	districts         []string
	districtName      []string
	districtOf        map[string]int
	villagesOf        [][]int // by district
	districtPick      picker  // weighted by number of villages

	categories   []string // catalog order
	catItems     map[string][]*catalog.Item
	catAncestors map[string][]string // a category and those above it
	catRoot      map[string]string
	groups       []string // catalog order
	groupShare   map[string]float64
	groupsOfItem map[string][]string // groups whose plan lists the item
}

func newWorld(cat *catalog.Catalog, dir *regions.Directory, now time.Time) (*world, error) {
	w := &world{cat: cat, dir: dir, tier: map[string]int{}, districtOf: map[string]int{}, catItems: map[string][]*catalog.Item{},
		catAncestors: map[string][]string{}, catRoot: map[string]string{}, groupShare: map[string]float64{},
		groupsOfItem: map[string][]string{}}
	local := now.In(chinaTime)
	w.today = aidhub.DateOf(local)
	w.todayStart = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, chinaTime)

	// catalog
	if len(cat.Groups) == 0 || len(cat.Categories) == 0 || len(cat.Items) == 0 {
		return nil, fmt.Errorf("generate: the catalog needs population groups, categories and items; seed the default catalog first")
	}
	for _, g := range cat.Groups {
		w.groups = append(w.groups, g.Code)
		w.tier[g.Code] = g.Tier
	}
	for _, k := range kindSpecs {
		if _, ok := cat.Group(k.group); !ok {
			continue // a region's catalog without this group: its share goes to the others
		}
		if k.who != allMembers {
			if _, ok := cat.Group(k.others); !ok {
				k.others = k.group
				k.who = allMembers
			}
		}
		w.kinds = append(w.kinds, k)
		w.groupShare[k.group] = k.share
	}
	if len(w.kinds) == 0 {
		return nil, fmt.Errorf("generate: the catalog has none of the population groups the generator knows (DIBAO, TEKUN, …)")
	}
	w.kindPick = newPicker(kindWeights(w.kinds))
	for _, c := range cat.Categories {
		w.categories = append(w.categories, c.Code)
		w.catItems[c.Code] = cat.ItemsOf(c.Code)
		w.catRoot[c.Code] = cat.Root(c.Code)
		for code := c.Code; ; {
			w.catAncestors[c.Code] = append(w.catAncestors[c.Code], code)
			cc, ok := cat.Category(code)
			if !ok || cc.ParentCode == nil {
				break
			}
			code = *cc.ParentCode
		}
	}
	for _, p := range cat.Plans {
		if !slices.Contains(w.groupsOfItem[p.ItemCode], p.GroupCode) {
			w.groupsOfItem[p.ItemCode] = append(w.groupsOfItem[p.ItemCode], p.GroupCode)
		}
	}

	// divisions
	for _, a := range dir.AtLevel(regions.Area) {
		w.districtOf[a.Code] = len(w.districts)
		w.districts = append(w.districts, a.Code)
		w.districtName = append(w.districtName, a.Name)
	}
	w.villagesOf = make([][]int, len(w.districts))
	for _, v := range dir.AtLevel(regions.Village) {
		d, ok := w.districtOf[v.Code[:6]]
		if !ok {
			continue
		}
		// GB/T 10114: 001–199 are residents' committees (communities),
		// 200–399 villagers' committees.
		rural := v.Code[9] >= '2'
		name := strings.TrimSuffix(strings.TrimSuffix(v.Name, "居民委员会"), "村民委员会")
		if rural && !strings.HasSuffix(name, "村") {
			name += "村"
		}
		i := len(w.villages)
		w.all = append(w.all, i)
		w.villages = append(w.villages, village{code: v.Code, name: name, district: d, rural: rural})
		if rural {
			w.rural = append(w.rural, i)
		} else {
			w.urban = append(w.urban, i)
		}
		w.villagesOf[d] = append(w.villagesOf[d], i)
	}
	if len(w.urban) == 0 || len(w.rural) == 0 {
		return nil, fmt.Errorf("generate: the division directory has no villages or no communities")
	}
	weights := make([]float64, len(w.districts))
	for i, vs := range w.villagesOf {
		weights[i] = float64(len(vs))
	}
	w.districtPick = newPicker(weights)
	return w, nil
}

// at returns the instant secs seconds into the day that is days before
// today (China time). Every timestamp the generator writes lies on a day
// before today, so the rows depend on the date of Options.Today only,
// not on the time of day it is.
func (w *world) at(days int, secs int) time.Time {
	if days < 1 || secs < 0 || secs >= 86400 {
		panic(fmt.Sprintf("generate: a timestamp %d days and %d seconds into a day before today", days, secs))
	}
	return w.todayStart.AddDate(0, 0, -days).Add(time.Duration(secs) * time.Second).UTC()
}

// day returns the date days before today, as the DATE columns take it.
func (w *world) day(days int) time.Time { return w.today.AddDays(-days).Time }

// officeSecs draws a time of day in office hours (08:30–17:30), in seconds.
func officeSecs(r interface{ IntN(int) int }) int { return 8*3600 + 1800 + r.IntN(9*3600) }
