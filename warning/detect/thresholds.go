package detect

import (
	"cmp"
	"slices"
)

// Thresholds is a ThresholdSource over stored calibrations (a Calibrator's
// Result, or what the service stored of several months). Lookups are map
// reads; it is read-only after NewThresholds, so safe for concurrent use.
type Thresholds struct {
	byMonth map[thresholdKey]*Threshold
	// months[type, cell] lists the months stored, ascending, for a month
	// whose calibration has not run yet.
	months map[typeCell][]Month
	peers  map[peerKey]PeerMedian
}

type typeCell struct {
	code string
	cell Cell
}

type thresholdKey struct {
	typeCell
	month Month
}

type peerKey struct {
	measure string
	cell    Cell
	month   Month
}

// NewThresholds indexes the stored thresholds and peer medians; of
// duplicates (same type, cell and month) the last wins.
func NewThresholds(ts []Threshold, peers []PeerMedian) *Thresholds {
	s := &Thresholds{
		byMonth: make(map[thresholdKey]*Threshold, len(ts)),
		months:  map[typeCell][]Month{},
		peers:   make(map[peerKey]PeerMedian, len(peers)),
	}
	own := slices.Clone(ts)
	for i := range own {
		th := &own[i]
		k := thresholdKey{typeCell{th.Type, th.Cell}, th.Month}
		if _, dup := s.byMonth[k]; !dup {
			s.months[k.typeCell] = append(s.months[k.typeCell], th.Month)
		}
		s.byMonth[k] = th
	}
	for _, ms := range s.months {
		slices.Sort(ms)
	}
	for _, p := range peers {
		s.peers[peerKey{p.Measure, p.Cell, p.Month}] = p
	}
	return s
}

// For returns t's threshold for cell in month m: the one stored for the
// cell, else for its district, else for the city; when month m has none
// (its calibration has not run yet) the latest stored before m, for the
// cell, its district or the city, keeping that threshold's Month so the
// evidence says which calibration it was; else t's Fixed value (ScopeFixed).
// Cell is always the cell asked for; Scope says where the value came from.
func (s *Thresholds) For(t *Type, cell Cell, m Month) Threshold {
	levels := [3]Cell{cell, {District: cell.District}, cityWide}
	for _, c := range levels {
		if th, ok := s.byMonth[thresholdKey{typeCell{t.Code, c}, m}]; ok {
			return withCell(*th, cell)
		}
	}
	for _, c := range levels {
		ms := s.months[typeCell{t.Code, c}]
		// The first month ≥ m; the one before it is the latest before m.
		i, _ := slices.BinarySearchFunc(ms, m, cmp.Compare[Month])
		if i > 0 {
			return withCell(*s.byMonth[thresholdKey{typeCell{t.Code, c}, ms[i-1]}], cell)
		}
	}
	return fixedThreshold(t, cell, m)
}

func withCell(th Threshold, cell Cell) Threshold {
	th.Cell = cell
	return th
}

// Peer returns the median of measure over cell's households in month m when
// at least MinPeerN were known, else its district's likewise, else false.
func (s *Thresholds) Peer(measure string, cell Cell, m Month) (float64, bool) {
	if p, ok := s.peers[peerKey{measure, cell, m}]; ok && p.N >= MinPeerN {
		return p.Median, true
	}
	if cell.Group != "" {
		if p, ok := s.peers[peerKey{measure, Cell{District: cell.District}, m}]; ok && p.N >= MinPeerN {
			return p.Median, true
		}
	}
	return 0, false
}

// FixedThresholds is the ThresholdSource of no calibration: every type's
// Fixed cut-off, city-wide (ScopeFixed), and no peers, so nothing is
// adjusted. The backtest's baseline.
type FixedThresholds struct{}

// For returns t's Fixed value.
func (FixedThresholds) For(t *Type, cell Cell, m Month) Threshold { return fixedThreshold(t, cell, m) }

// Peer reports no peers.
func (FixedThresholds) Peer(string, Cell, Month) (float64, bool) { return 0, false }

var (
	_ ThresholdSource = (*Thresholds)(nil)
	_ ThresholdSource = FixedThresholds{}
)
