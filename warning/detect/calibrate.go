package detect

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MinPeerN is the fewest households of a cell whose median is a household's
// peer change: in a smaller cell the median is mostly the household itself (a
// cell of one would cancel its own collapse), so the district's is used.
// Calibrator and Thresholds.Peer apply the same rule.
const MinPeerN = 5

// cityWide is the city's cell: every district, every group.
var cityWide = Cell{District: "50"}

// Calibrator calibrates the threshold types for one target month from the
// households' histories: Add every household, then Result.
//
// It files each household's measures under its cell (district × its first
// group; a household with no group belongs to its district only) and month,
// as float32 in chunks per (measure, cell, month): nothing is kept per
// household. Memory is 4 bytes per known household-month-measure plus at most
// a 1 KiB chunk per (measure, cell, month) (≤ 41 MiB for 640 cells).
// Measured for 1.1M households × 13 months × 5 measures all known (71.5M
// values, 120 cells): 278 MiB held after Add, 357 MiB at the peak of Result,
// which gathers one pool at a time (the largest, the city over a 12-month
// window, is 1.1M × 12 × 4 B ≈ 50 MiB; median + K·MAD needs its largest
// district's deviations besides).
//
// A Calibrator is used by one goroutine. The result does not depend on the
// order of Add: every statistic is of a multiset, and the output is sorted.
type Calibrator struct {
	target, from Month // the months filed: [from, target]
	months       int   // target − from + 1
	types        []Type
	measures     []string // distinct measures of types, first-seen order
	typeMeasure  []int    // types[i]'s index in measures

	cellIDs  map[Cell]int32
	cells    []Cell
	lastCell Cell // the previous Add's cell: input sorted by region skips the map
	lastID   int32
	// vals[(cell·len(measures) + measure)·months + (m − from)] holds the
	// values of that measure for the cell's households in month m.
	vals []calibBucket
}

// NewCalibrator keeps the enabled threshold types of types and files, for
// each household, every month from target minus the longest window to target.
func NewCalibrator(types []Type, target Month) *Calibrator {
	c := &Calibrator{target: target, cellIDs: map[Cell]int32{}, lastID: -1}
	window := 0
	for _, t := range types {
		if t.Threshold == nil || !t.Enabled {
			continue
		}
		mi := slices.Index(c.measures, t.Threshold.Measure)
		if mi < 0 {
			mi = len(c.measures)
			c.measures = append(c.measures, t.Threshold.Measure)
		}
		c.types = append(c.types, t)
		c.typeMeasure = append(c.typeMeasure, mi)
		window = max(window, t.Threshold.WindowMonths)
	}
	c.from = target - Month(window)
	c.months = window + 1
	return c
}

// Add files the household's measures of every month of the window.
func (c *Calibrator) Add(h *Household) {
	if len(c.measures) == 0 {
		return
	}
	id := c.cellID(h.District(), h.Group())
	row := int(id) * len(c.measures) * c.months
	for _, name := range c.measures {
		for k := range c.months {
			v, ok := h.History.Measure(name, c.from+Month(k))
			if ok && !math.IsNaN(v) {
				c.vals[row+k].add(float32(v))
			}
		}
		row += c.months
	}
}

func (c *Calibrator) cellID(district, group string) int32 {
	if c.lastID >= 0 && c.lastCell.District == district && c.lastCell.Group == group {
		return c.lastID
	}
	cell := Cell{District: district, Group: group}
	id, ok := c.cellIDs[cell]
	if !ok {
		// Copies, so the calibrator does not pin the households' strings.
		cell = Cell{District: strings.Clone(district), Group: strings.Clone(group)}
		id = int32(len(c.cells))
		c.cells = append(c.cells, cell)
		c.cellIDs[cell] = id
		c.vals = append(c.vals, make([]calibBucket, len(c.measures)*c.months)...)
	}
	c.lastCell, c.lastID = cell, id
	return id
}

// calibChunkLen is the values per chunk of a bucket (1 KiB): buckets grow
// by chunks, never copied, so filing leaves no garbage and wastes at most a
// chunk per bucket.
const calibChunkLen = 256

// calibBucket is the values of one measure, cell and month.
type calibBucket struct {
	chunks []*[calibChunkLen]float32
	n      int
}

func (b *calibBucket) add(v float32) {
	off := b.n % calibChunkLen
	if off == 0 {
		b.chunks = append(b.chunks, new([calibChunkLen]float32))
	}
	b.chunks[len(b.chunks)-1][off] = v
	b.n++
}

// appendTo appends the values minus adj to dst.
func (b *calibBucket) appendTo(dst []float32, adj float32) []float32 {
	for i, ch := range b.chunks {
		vals := ch[:]
		if i == len(b.chunks)-1 {
			vals = ch[:b.n-i*calibChunkLen]
		}
		if adj == 0 {
			dst = append(dst, vals...)
			continue
		}
		for _, x := range vals {
			dst = append(dst, x-adj)
		}
	}
	return dst
}

// peerStat is a median over a cell's values of one measure in one month.
type peerStat struct {
	median float64
	n      int
}

// calibLayout is the cells of a Result, sorted: districts in code order,
// each followed by its groups' cells in group order.
type calibLayout struct {
	districts []calibDistrict
	// peers[(cell·len(measures) + measure)·months + k] for every filed cell
	// (a no-group bucket's is its own, unused: its peers are the district's).
	peers []peerStat
	// districtPeers[(district·len(measures) + measure)·months + k], likewise.
	districtPeers []peerStat
	cityPeers     []peerStat // [measure·months + k]
}

type calibDistrict struct {
	code  string
	all   []int32 // its filed cells, the no-group bucket (Group "") first
	cells []int32 // the cells with a group
}

// Result returns a threshold for every threshold type and every cell seen
// (each district × group, each district, the city) for the target month,
// calibrated on the months before it, and the peer medians of every measure,
// cell, district and the city for every month filed, the target included:
// the evaluation compares a household with its peers in the evaluated month.
// A cell with fewer than MinN household-months in the window takes its
// district's threshold, a district the city's, the city the type's Fixed
// value; Scope says which. Both slices are sorted (thresholds by type, cell;
// peers by measure, cell, month). Result may be called again, after more Add.
func (c *Calibrator) Result() ([]Threshold, []PeerMedian) {
	lay := c.layout()
	peers := c.peerMedians(&lay)
	var ths []Threshold
	var scratch calibScratch
	stats := map[calibStatKey]*calibStats{}
	for i := range c.types {
		t := &c.types[i]
		key := calibStatKey{measure: c.typeMeasure[i], window: max(t.Threshold.WindowMonths, 0),
			adjusted: t.Threshold.PeerAdjusted, method: t.Threshold.Method}
		switch key.method {
		case "QUANTILE":
			key.param = t.Threshold.Quantile
		case "MAD":
			key.param = t.Threshold.K
		}
		st, ok := stats[key]
		if !ok {
			st = c.stats(&lay, key, &scratch)
			stats[key] = st
		}
		ths = c.thresholds(ths, t, &lay, key, st)
	}
	slices.SortStableFunc(ths, func(a, b Threshold) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Cell.District, b.Cell.District),
			cmp.Compare(a.Cell.Group, b.Cell.Group))
	})
	return ths, peers
}

func (c *Calibrator) layout() calibLayout {
	order := make([]int32, len(c.cells))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(c.cells[a].District, c.cells[b].District),
			cmp.Compare(c.cells[a].Group, c.cells[b].Group))
	})
	var lay calibLayout
	for _, id := range order {
		cell := c.cells[id]
		if n := len(lay.districts); n == 0 || lay.districts[n-1].code != cell.District {
			lay.districts = append(lay.districts, calibDistrict{code: cell.District})
		}
		d := &lay.districts[len(lay.districts)-1]
		d.all = append(d.all, id)
		if cell.Group != "" {
			d.cells = append(d.cells, id)
		}
	}
	return lay
}

// peerMedians computes the medians of every measure and month per cell,
// district and the city, keeps them in lay for the adjustment, and returns
// those with values.
func (c *Calibrator) peerMedians(lay *calibLayout) []PeerMedian {
	nm := len(c.measures)
	lay.peers = make([]peerStat, len(c.vals))
	lay.districtPeers = make([]peerStat, len(lay.districts)*nm*c.months)
	lay.cityPeers = make([]peerStat, nm*c.months)
	var out []PeerMedian
	emit := func(mi int, cell Cell, k int, p peerStat) {
		if p.n > 0 {
			out = append(out, PeerMedian{Measure: c.measures[mi], Cell: cell, Month: c.from + Month(k), Median: p.median, N: p.n})
		}
	}
	var scratch []float32
	for mi := range nm {
		for k := range c.months {
			city := scratch[:0]
			for di := range lay.districts {
				d := &lay.districts[di]
				start := len(city)
				for _, id := range d.all {
					i := c.index(id, mi, k)
					lo := len(city)
					city = c.vals[i].appendTo(city, 0)
					if c.cells[id].Group != "" {
						lay.peers[i] = medianOf(city[lo:])
						emit(mi, c.cells[id], k, lay.peers[i])
					}
				}
				p := medianOf(city[start:])
				lay.districtPeers[(di*nm+mi)*c.months+k] = p
				emit(mi, Cell{District: d.code}, k, p)
			}
			lay.cityPeers[mi*c.months+k] = medianOf(city)
			emit(mi, cityWide, k, lay.cityPeers[mi*c.months+k])
			scratch = city
		}
	}
	slices.SortFunc(out, func(a, b PeerMedian) int {
		return cmp.Or(cmp.Compare(a.Measure, b.Measure), cmp.Compare(a.Cell.District, b.Cell.District),
			cmp.Compare(a.Cell.Group, b.Cell.Group), cmp.Compare(a.Month, b.Month))
	})
	return out
}

func (c *Calibrator) index(cell int32, measure, k int) int {
	return (int(cell)*len(c.measures)+measure)*c.months + k
}

// medianOf reorders v (its multiset is unchanged).
func medianOf(v []float32) peerStat {
	if len(v) == 0 {
		return peerStat{}
	}
	return peerStat{median: quantileInPlace(v, 0.5), n: len(v)}
}

// adjustment is what a value of the cell's households in month k loses to
// its peers (as Thresholds.Peer answers): the cell's median when it has
// MinPeerN values, else the district's, when positive.
func (lay *calibLayout) adjustment(c *Calibrator, di int, cell int32, mi, k int) float32 {
	p := lay.peers[c.index(cell, mi, k)]
	if c.cells[cell].Group == "" || p.n < MinPeerN {
		p = lay.districtPeers[(di*len(c.measures)+mi)*c.months+k]
	}
	if p.n < MinPeerN || p.median <= 0 {
		return 0
	}
	return float32(p.median)
}

// calibStatKey is what a type's statistic depends on: types sharing it share
// the computation (MinN, floor, ceiling and Fixed apply afterwards).
type calibStatKey struct {
	measure  int
	window   int
	adjusted bool
	method   string
	param    float64
}

// calibScratch is Result's working memory, reused from one statistic to the
// next so the peak is one pool, not one per type.
type calibScratch struct {
	values, devs []float32
}

// calibStats is one statistic per cell, district and the city; ok false
// where the method is unknown or there were no values.
type calibStats struct {
	cells     []calibStat // by cell ID
	districts []calibStat // by layout index
	city      calibStat
}

type calibStat struct {
	raw float64
	n   int
	ok  bool
}

// stats gathers the (adjusted) values of the window, contiguous per cell and
// per district, and computes the statistic over each cell's range, each
// district's and the whole: selection reorders only within a range, so the
// enclosing ranges keep their values.
func (c *Calibrator) stats(lay *calibLayout, key calibStatKey, scratch *calibScratch) *calibStats {
	st := &calibStats{cells: make([]calibStat, len(c.cells)), districts: make([]calibStat, len(lay.districts))}
	first, last := c.months-1-key.window, c.months-2 // the window: target − w … target − 1
	total := 0
	for id := range c.cells {
		for k := first; k <= last; k++ {
			total += c.vals[c.index(int32(id), key.measure, k)].n
		}
	}
	all := slices.Grow(scratch.values[:0], total)
	maxDistrict := 0
	type span struct{ lo, hi int }
	cellSpans := make([]span, len(c.cells))
	districtSpans := make([]span, len(lay.districts))
	for di := range lay.districts {
		d := &lay.districts[di]
		dlo := len(all)
		for _, id := range d.all {
			lo := len(all)
			for k := first; k <= last; k++ {
				var adj float32
				if key.adjusted {
					adj = lay.adjustment(c, di, id, key.measure, k)
				}
				all = c.vals[c.index(id, key.measure, k)].appendTo(all, adj)
			}
			cellSpans[id] = span{lo, len(all)}
		}
		districtSpans[di] = span{dlo, len(all)}
		maxDistrict = max(maxDistrict, len(all)-dlo)
	}
	dev := scratch.devs[:0]
	if key.method == "MAD" {
		dev = slices.Grow(dev, maxDistrict)
	}
	scratch.values, scratch.devs = all, dev
	for di := range lay.districts {
		for _, id := range lay.districts[di].cells {
			s := cellSpans[id]
			st.cells[id] = c.statOf(all[s.lo:s.hi], dev, key)
		}
		s := districtSpans[di]
		st.districts[di] = c.statOf(all[s.lo:s.hi], dev, key)
	}
	st.city = c.statOf(all, all, key) // the last: its deviations may overwrite the values
	return st
}

func (c *Calibrator) statOf(v, dev []float32, key calibStatKey) calibStat {
	if len(v) == 0 {
		return calibStat{}
	}
	switch key.method {
	case "QUANTILE":
		if !(key.param >= 0 && key.param <= 1) {
			return calibStat{n: len(v)}
		}
		return calibStat{raw: quantileInPlace(v, key.param), n: len(v), ok: true}
	case "MAD":
		med, mad := medianMADInPlace(v, dev)
		raw := med + key.param*mad
		return calibStat{raw: raw, n: len(v), ok: !math.IsNaN(raw)}
	}
	return calibStat{n: len(v)}
}

// thresholds appends t's thresholds for the city, every district and every
// cell, falling back a level where N < MinN.
func (c *Calibrator) thresholds(ths []Threshold, t *Type, lay *calibLayout, key calibStatKey, st *calibStats) []Threshold {
	r := t.Threshold
	base := Threshold{Type: t.Code, Month: c.target, Window: [2]Month{c.target - Month(key.window), c.target - 1}}
	calibrated := func(cell Cell, scope Scope, s calibStat) (Threshold, bool) {
		if !s.ok || s.n < r.MinN {
			return Threshold{}, false
		}
		th := base
		th.Cell, th.Scope, th.Raw, th.N, th.Method = cell, scope, s.raw, s.n, calibMethod(r)
		th.Value = s.raw
		if s.raw < r.Floor {
			th.Value, th.Clamped = r.Floor, "FLOOR"
		} else if s.raw > r.Ceiling {
			th.Value, th.Clamped = r.Ceiling, "CEILING"
		}
		return th, true
	}
	city, ok := calibrated(cityWide, ScopeCity, st.city)
	if !ok {
		city = fixedThreshold(t, cityWide, c.target)
		city.Window = base.Window
	}
	ths = append(ths, city)
	for di := range lay.districts {
		d := &lay.districts[di]
		dc := Cell{District: d.code}
		district, ok := calibrated(dc, ScopeDistrict, st.districts[di])
		if !ok {
			district = city
			district.Cell = dc
		}
		ths = append(ths, district)
		for _, id := range d.cells {
			th, ok := calibrated(c.cells[id], ScopeCell, st.cells[id])
			if !ok {
				th = district
				th.Cell = c.cells[id]
			}
			ths = append(ths, th)
		}
	}
	return ths
}

// calibMethod names the statistic: "p95", "median+3MAD".
func calibMethod(r *ThresholdRule) string {
	switch r.Method {
	case "QUANTILE":
		return "p" + strconv.FormatFloat(math.Round(r.Quantile*1e4)/1e2, 'f', -1, 64)
	case "MAD":
		return "median+" + strconv.FormatFloat(r.K, 'f', -1, 64) + "MAD"
	}
	return r.Method
}

// fixedThreshold is t's Fixed cut-off, uncalibrated.
func fixedThreshold(t *Type, cell Cell, m Month) Threshold {
	th := Threshold{Type: t.Code, Cell: cell, Month: m, Scope: ScopeFixed, Method: "fixed"}
	if t.Threshold != nil {
		th.Value, th.Raw = t.Threshold.Fixed, t.Threshold.Fixed
	}
	return th
}
