package detect_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aidhub/aidhub/warning/detect"
)

func calMonth(t testing.TB, s string) detect.Month {
	t.Helper()
	m, err := detect.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// calibType is an enabled threshold type over measure.
func calibType(code, measure string, rule detect.ThresholdRule) detect.Type {
	rule.Measure = measure
	return detect.Type{Code: code, NameEn: code, Signals: []string{detect.KindIncome}, Severity: detect.SeverityHigh,
		Level: detect.LevelStreet, SLADays: 7, Enabled: true, Threshold: &rule}
}

func calP95(window, minN int, adjusted bool) detect.ThresholdRule {
	return detect.ThresholdRule{Method: "QUANTILE", Quantile: 0.95, WindowMonths: window, MinN: minN,
		Floor: 0, Ceiling: 1, Fixed: 0.3, PeerAdjusted: adjusted}
}

// shockedCell is 300 households of 500230 (a rural county) × DIBAO and 300
// of 500103 × DIBAO, incomes with 3 % noise from 2025-01 to 2026-04. In
// February 2026 every household of the rural cell earns 25 % less (the
// Spring Festival dip) and household 9999 there earns 80 % less (its own
// collapse).
func shockedCell(t testing.TB) (hs []detect.Household, rural detect.Cell, feb detect.Month) {
	from, feb := calMonth(t, "2025-01"), calMonth(t, "2026-02")
	rng := rand.New(rand.NewPCG(2, 14))
	add := func(id int64, region string) *detect.Household {
		income := make([]int64, 16)
		base := 150_000 + rng.Float64()*300_000
		for k := range income {
			income[k] = int64(base * (1 + 0.03*rng.NormFloat64()))
		}
		hs = append(hs, detect.Household{ID: id, Region: region, Groups: []string{"DIBAO"},
			History: detect.History{From: from, Income: income}})
		return &hs[len(hs)-1]
	}
	for i := range 300 {
		add(int64(i+1), "500103001001")
	}
	for i := range 300 {
		h := add(int64(1000+i), "500230101001")
		h.History.Income[feb-from] = h.History.Income[feb-from] * 3 / 4
	}
	h := add(9999, "500230101002")
	h.History.Income[feb-from] /= 5
	return hs, detect.Cell{District: "500230", Group: "DIBAO"}, feb
}

func runCalibrator(hs []detect.Household, types []detect.Type, target detect.Month) ([]detect.Threshold, []detect.PeerMedian) {
	c := detect.NewCalibrator(types, target)
	for i := range hs {
		c.Add(&hs[i])
	}
	return c.Result()
}

func thresholdOf(t testing.TB, ths []detect.Threshold, code string, cell detect.Cell) detect.Threshold {
	t.Helper()
	i := slices.IndexFunc(ths, func(th detect.Threshold) bool { return th.Type == code && th.Cell == cell })
	if i < 0 {
		t.Fatalf("no threshold for %s in %v", code, cell)
	}
	return ths[i]
}

// TestCalibratePeerAdjustment: a drop the whole cell shares in one month is
// not the households' own. Adjusted by their peers, February's values stay
// near 0 (within the noise) and under the thresholds, and March's threshold (whose window
// holds February) is not raised; the household whose own income collapsed
// stands out. Without the adjustment the same window raises the threshold
// to the dip and February floods the cell.
func TestCalibratePeerAdjustment(t *testing.T) {
	hs, rural, feb := shockedCell(t)
	// The floor (0.15, as a calm cell's noise never alerts) is above the
	// monthly noise, so no ordinary household of the cell reaches it.
	adjusted, raw := calP95(12, 30, true), calP95(12, 30, false)
	adjusted.Floor, raw.Floor = 0.15, 0.15
	types := []detect.Type{
		calibType("ADJUSTED", detect.MeasureIncomeDrop, adjusted),
		calibType("RAW", detect.MeasureIncomeDrop, raw),
	}
	before, _ := runCalibrator(hs, types, feb-1)
	ths, peers := runCalibrator(hs, types, feb)
	march, _ := runCalibrator(hs, types, feb+1)
	src := detect.NewThresholds(ths, peers)

	janAdj := thresholdOf(t, before, "ADJUSTED", rural)
	febAdj := src.For(&types[0], rural, feb)
	febRaw := src.For(&types[1], rural, feb)
	marAdj := thresholdOf(t, march, "ADJUSTED", rural)
	marRaw := thresholdOf(t, march, "RAW", rural)
	if febAdj.Scope != detect.ScopeCell || marAdj.Scope != detect.ScopeCell {
		t.Fatalf("the rural cell is not calibrated on its own: %+v, %+v", febAdj, marAdj)
	}
	t.Logf("p95 adjusted: Jan %.3f Feb %.3f Mar %.3f; unadjusted Mar %.3f", janAdj.Raw, febAdj.Raw, marAdj.Raw, marRaw.Raw)
	if marAdj.Raw > janAdj.Raw+0.02 {
		t.Errorf("March's adjusted threshold %.3f is raised by February's common dip (January's %.3f)", marAdj.Raw, janAdj.Raw)
	}
	if marRaw.Raw < 0.2 {
		t.Errorf("the unadjusted March threshold %.3f should have learnt the dip: the test does not show the difference", marRaw.Raw)
	}

	peer, ok := src.Peer(detect.MeasureIncomeDrop, rural, feb)
	if !ok || math.Abs(peer-0.25) > 0.03 {
		t.Fatalf("the rural cell's February median drop = %.3f, %v; want ≈ 0.25", peer, ok)
	}
	rawHits, adjHits := 0, 0
	for i := range hs {
		h := &hs[i]
		if h.District() != rural.District {
			continue
		}
		v, ok := h.History.Measure(detect.MeasureIncomeDrop, feb)
		if !ok {
			t.Fatalf("household %d: no February income drop", h.ID)
		}
		adjusted := v - max(0, peer)
		if h.ID == 9999 {
			if adjusted < febAdj.Value || adjusted < marAdj.Value {
				t.Errorf("the household whose income collapsed (%.3f adjusted) does not reach February's threshold %.3f or March's %.3f",
					adjusted, febAdj.Value, marAdj.Value)
			}
			continue
		}
		if math.Abs(adjusted) > 0.15 {
			t.Errorf("household %d: adjusted February drop %.3f is not near 0", h.ID, adjusted)
		}
		if adjusted >= febAdj.Value || adjusted >= marAdj.Value {
			adjHits++
		}
		if v >= febRaw.Value {
			rawHits++
		}
	}
	if adjHits > 0 {
		t.Errorf("%d of 300 households' February drops reach the adjusted thresholds (February %.3f, March %.3f)", adjHits, febAdj.Value, marAdj.Value)
	}
	if rawHits < 270 {
		t.Errorf("only %d of 300 households reach the unadjusted threshold %.3f: the dip should flood it", rawHits, febRaw.Value)
	}
}

// TestCalibrateWindow: a month is not calibrated on itself. A collapse of
// every household in the target month changes the target's peer medians,
// not its thresholds.
func TestCalibrateWindow(t *testing.T) {
	hs, _, feb := shockedCell(t)
	types := []detect.Type{
		calibType("P95", detect.MeasureIncomeDrop, calP95(6, 30, true)),
		calibType("MAD", detect.MeasureIncomeDrop, detect.ThresholdRule{Method: "MAD", K: 3, WindowMonths: 3, MinN: 30, Ceiling: 1}),
	}
	target := feb + 2
	calm, calmPeers := runCalibrator(hs, types, target)
	crash := make([]detect.Household, len(hs))
	for i, h := range hs {
		h.History.Income = slices.Clone(h.History.Income)
		h.History.Income[target-h.History.From] /= 10
		crash[i] = h
	}
	crashed, crashPeers := runCalibrator(crash, types, target)
	if !reflect.DeepEqual(calm, crashed) {
		t.Error("the target month's own values changed its thresholds")
	}
	for _, th := range calm {
		w := 6
		if th.Type == "MAD" {
			w = 3
		}
		if want := [2]detect.Month{target - detect.Month(w), target - 1}; th.Window != want || th.Month != target {
			t.Errorf("%s %v: month %v window %v, want %v window %v", th.Type, th.Cell, th.Month, th.Window, target, want)
		}
	}
	changed := 0
	for i, p := range crashPeers {
		if p.Month == target && p.Median != calmPeers[i].Median {
			changed++
		}
		if p.Month < target-6 || p.Month > target {
			t.Errorf("peer median of %v outside the months filed", p.Month)
		}
	}
	if changed == 0 {
		t.Error("the target month's peer medians did not see the collapse: the evaluation needs them")
	}
}

// calibPopulation is n households over 20 districts × 3 groups and no group,
// with 16 months of income from `from` (3 % noise, a few collapses) and
// sparse medical, education and arrears amounts.
func calibPopulation(seed uint64, n int, from detect.Month) []detect.Household {
	rng := rand.New(rand.NewPCG(seed, 14))
	groups := [][]string{{"DIBAO"}, {"TEKUN"}, {"LOW_INCOME", "DIBAO"}, nil}
	sparse := func(p float64, scale float64) []int64 {
		s := make([]int64, 16)
		for k := range s {
			s[k] = detect.Unknown
			if rng.Float64() < p {
				s[k] = int64(rng.ExpFloat64() * scale)
			}
		}
		return s
	}
	hs := make([]detect.Household, n)
	for i := range hs {
		income := make([]int64, 16)
		base := 100_000 + rng.Float64()*400_000
		for k := range income {
			income[k] = int64(base * (1 + 0.03*rng.NormFloat64()))
			if rng.IntN(200) == 0 {
				income[k] /= 3
			}
		}
		hs[i] = detect.Household{
			ID:     int64(i + 1),
			Region: fmt.Sprintf("5001%02d%03d%03d", rng.IntN(20)+1, rng.IntN(30)+1, rng.IntN(20)+1),
			Groups: groups[rng.IntN(len(groups))],
			History: detect.History{From: from, Income: income, Medical: sparse(0.3, 20_000),
				Education: sparse(0.15, 30_000), Arrears: sparse(0.1, 50_000)},
		}
	}
	return hs
}

// calibTypes covers every measure, both methods and both adjustments; two
// share a statistic.
func calibTypes() []detect.Type {
	mad := detect.ThresholdRule{Method: "MAD", K: 3, WindowMonths: 6, MinN: 50, Floor: 0.1, Ceiling: 5, Fixed: 1}
	return []detect.Type{
		calibType("INCOME_DROP", detect.MeasureIncomeDrop, calP95(12, 200, true)),
		calibType("INCOME_DROP_DIBAO", detect.MeasureIncomeDrop, calP95(12, 500, true)),
		calibType("MEDICAL", detect.MeasureMedicalShare, calP95(12, 100, true)),
		calibType("EDUCATION", detect.MeasureEducationShare, mad),
		calibType("ARREARS", detect.MeasureArrearsShare, calP95(12, 100, false)),
		calibType("RIGID", detect.MeasureRigidShare, mad),
	}
}

// TestCalibrateDeterministic: the order of Add does not matter, nor does
// calling Result twice; Thresholds answers what the Calibrator computed.
func TestCalibrateDeterministic(t *testing.T) {
	target := calMonth(t, "2026-04")
	hs := calibPopulation(1, 3000, target-15)
	types := calibTypes()
	wantT, wantP := runCalibrator(hs, types, target)
	if len(wantT) == 0 || len(wantP) == 0 {
		t.Fatal("nothing calibrated")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 3 {
		rng.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
		c := detect.NewCalibrator(types, target)
		for i := range hs {
			c.Add(&hs[i])
		}
		for again := range 2 {
			gotT, gotP := c.Result()
			if !reflect.DeepEqual(gotT, wantT) || !reflect.DeepEqual(gotP, wantP) {
				t.Fatalf("shuffle %d, Result %d: a different calibration", round, again+1)
			}
		}
	}
	scopes := map[detect.Scope]int{}
	src := detect.NewThresholds(wantT, wantP)
	for _, th := range wantT {
		scopes[th.Scope]++
		i := slices.IndexFunc(types, func(t detect.Type) bool { return t.Code == th.Type })
		if got := src.For(&types[i], th.Cell, target); got != th {
			t.Errorf("Thresholds.For(%s, %v) = %+v, want %+v", th.Type, th.Cell, got, th)
		}
		if th.Value < th.Raw && th.Clamped != "CEILING" || th.Value > th.Raw && th.Clamped != "FLOOR" {
			t.Errorf("%+v: value and raw differ without saying which bound", th)
		}
	}
	t.Logf("%d thresholds by scope: %v; %d peer medians", len(wantT), scopes, len(wantP))
	for _, s := range []detect.Scope{detect.ScopeCell, detect.ScopeDistrict, detect.ScopeCity} {
		if scopes[s] == 0 {
			t.Errorf("no threshold of scope %s: the population does not exercise the fallbacks", s)
		}
	}
}

// TestCalibrateNothing: no households, or no threshold types.
func TestCalibrateNothing(t *testing.T) {
	target := calMonth(t, "2026-04")
	types := calibTypes()
	ths, peers := detect.NewCalibrator(types, target).Result()
	if len(ths) != len(types) || len(peers) != 0 {
		t.Fatalf("no households: %d thresholds, %d peers; want the city's Fixed per type", len(ths), len(peers))
	}
	for _, th := range ths {
		if th.Scope != detect.ScopeFixed || th.Cell != (detect.Cell{District: "50"}) || th.Value != th.Raw {
			t.Errorf("no households: %+v", th)
		}
	}
	c := detect.NewCalibrator([]detect.Type{{Code: "RULE", Enabled: true, Rule: "true"}}, target)
	for _, h := range calibPopulation(1, 10, target-15) {
		c.Add(&h)
	}
	if ths, peers := c.Result(); len(ths) != 0 || len(peers) != 0 {
		t.Errorf("no threshold types: %d thresholds, %d peers", len(ths), len(peers))
	}
}

func TestThresholdsFor(t *testing.T) {
	a, ah, b := detect.Cell{District: "500101", Group: "DIBAO"}, detect.Cell{District: "500101", Group: "TEKUN"}, detect.Cell{District: "500102", Group: "DIBAO"}
	district, city := detect.Cell{District: "500101"}, detect.Cell{District: "50"}
	x := calibType("X", detect.MeasureIncomeDrop, calP95(12, 30, true))
	y := calibType("Y", detect.MeasureIncomeDrop, calP95(12, 30, true))
	y.Threshold.Fixed = 0.4
	noRule := detect.Type{Code: "Z", Rule: "true"}
	stored := []detect.Threshold{
		{Type: "X", Cell: a, Month: 310, Scope: detect.ScopeCell, Value: 0.1},
		{Type: "X", Cell: district, Month: 310, Scope: detect.ScopeDistrict, Value: 0.2},
		{Type: "X", Cell: city, Month: 310, Scope: detect.ScopeCity, Value: 0.3},
		{Type: "X", Cell: a, Month: 308, Scope: detect.ScopeCell, Value: 0.15},
		{Type: "X", Cell: a, Month: 306, Scope: detect.ScopeDistrict, Value: 0.12},
	}
	src := detect.NewThresholds(stored, nil)
	for _, tc := range []struct {
		name  string
		typ   *detect.Type
		cell  detect.Cell
		m     detect.Month
		value float64
		scope detect.Scope
		month detect.Month
	}{
		{"the cell's own", &x, a, 310, 0.1, detect.ScopeCell, 310},
		{"an unseen group: the district's", &x, ah, 310, 0.2, detect.ScopeDistrict, 310},
		{"an unseen district: the city's", &x, b, 310, 0.3, detect.ScopeCity, 310},
		{"the district itself", &x, district, 310, 0.2, detect.ScopeDistrict, 310},
		{"not calibrated yet: the latest before", &x, a, 312, 0.1, detect.ScopeCell, 310},
		{"between calibrations: the one before", &x, a, 309, 0.15, detect.ScopeCell, 308},
		{"a stored fallback keeps its scope", &x, a, 307, 0.12, detect.ScopeDistrict, 306},
		{"not calibrated yet, unseen district: the city's latest", &x, b, 312, 0.3, detect.ScopeCity, 310},
		{"before any calibration: Fixed", &x, a, 305, 0.3, detect.ScopeFixed, 305},
		{"a type never calibrated: Fixed", &y, a, 310, 0.4, detect.ScopeFixed, 310},
		{"not a threshold type: 0", &noRule, a, 310, 0, detect.ScopeFixed, 310},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := src.For(tc.typ, tc.cell, tc.m)
			if got.Value != tc.value || got.Scope != tc.scope || got.Month != tc.month || got.Cell != tc.cell || got.Type != tc.typ.Code {
				t.Errorf("For(%s, %v, %v) = %+v; want value %v scope %s month %v for the cell asked", tc.typ.Code, tc.cell, tc.m, got, tc.value, tc.scope, tc.month)
			}
		})
	}
	if got := (detect.FixedThresholds{}).For(&y, a, 310); got.Value != 0.4 || got.Scope != detect.ScopeFixed || got.Cell != a || got.Month != 310 {
		t.Errorf("FixedThresholds.For = %+v", got)
	}
	if _, ok := (detect.FixedThresholds{}).Peer(detect.MeasureIncomeDrop, a, 310); ok {
		t.Error("FixedThresholds has peers")
	}
}

func TestThresholdsPeer(t *testing.T) {
	const m = detect.MeasureIncomeDrop
	a := detect.Cell{District: "500101", Group: "DIBAO"}
	small := detect.Cell{District: "500101", Group: "TEKUN"}
	unseen := detect.Cell{District: "500101", Group: "LOW_INCOME"}
	b := detect.Cell{District: "500102", Group: "DIBAO"}
	src := detect.NewThresholds(nil, []detect.PeerMedian{
		{Measure: m, Cell: a, Month: 310, Median: 0.1, N: detect.MinPeerN},
		{Measure: m, Cell: small, Month: 310, Median: 0.5, N: detect.MinPeerN - 1},
		{Measure: m, Cell: detect.Cell{District: "500101"}, Month: 310, Median: 0.2, N: 40},
		{Measure: m, Cell: b, Month: 310, Median: 0.6, N: 1},
		{Measure: m, Cell: detect.Cell{District: "500102"}, Month: 310, Median: 0.6, N: detect.MinPeerN - 1},
	})
	for _, tc := range []struct {
		name    string
		measure string
		cell    detect.Cell
		m       detect.Month
		want    float64
		ok      bool
	}{
		{"the cell's", m, a, 310, 0.1, true},
		{"too few in the cell: the district's", m, small, 310, 0.2, true},
		{"an unseen group: the district's", m, unseen, 310, 0.2, true},
		{"too few in the district too", m, b, 310, 0, false},
		{"another month", m, a, 311, 0, false},
		{"another measure", detect.MeasureMedicalShare, a, 310, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := src.Peer(tc.measure, tc.cell, tc.m); got != tc.want || ok != tc.ok {
				t.Errorf("Peer = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// BenchmarkCalibrate calibrates six types over every measure for 200k
// households (13 months filed each), Add and Result, and reports the time
// per household, the bytes the calibrator holds per value filed (measured
// after Add) and Result's allocations.
func BenchmarkCalibrate(b *testing.B) {
	const n = 200_000
	target := calMonth(b, "2026-04")
	hs := calibPopulation(2026, n, target-15)
	types := calibTypes()
	values := 0
	for i := range hs {
		for _, measure := range detect.Measures {
			for k := target - 12; k <= target; k++ {
				if _, ok := hs[i].History.Measure(measure, k); ok {
					values++
				}
			}
		}
	}
	var addTime, resultTime time.Duration
	var held, resultAlloc uint64
	rounds := 0
	b.ReportAllocs()
	for b.Loop() {
		rounds++
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		start := time.Now()
		c := detect.NewCalibrator(types, target)
		for i := range hs {
			c.Add(&hs[i])
		}
		addTime += time.Since(start)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = after.HeapAlloc - before.HeapAlloc
		b.StartTimer()
		start = time.Now()
		ths, _ := c.Result()
		resultTime += time.Since(start)
		b.StopTimer()
		var done runtime.MemStats
		runtime.ReadMemStats(&done)
		resultAlloc = done.TotalAlloc - after.TotalAlloc
		runtime.KeepAlive(c)
		if len(ths) == 0 {
			b.Fatal("nothing calibrated")
		}
		b.StartTimer()
	}
	b.ReportMetric(float64((addTime+resultTime).Nanoseconds())/float64(rounds*n), "ns/household")
	b.ReportMetric(float64(addTime.Nanoseconds())/float64(rounds*n), "add-ns/household")
	b.ReportMetric(float64(resultTime.Milliseconds())/float64(rounds), "result-ms")
	b.ReportMetric(float64(held)/float64(values), "held-B/value")
	b.ReportMetric(float64(values)/n, "values/household")
	b.ReportMetric(float64(resultAlloc)/(1<<20), "result-alloc-MB")
}
