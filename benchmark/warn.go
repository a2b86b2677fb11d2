package benchmark

// The early-warning backtest (issue 14): the warning types with thresholds
// calibrated per district × group (the adaptive run) and the same types
// with their fixed city-wide cut-offs (the fixed run), on the generated
// signals, scored against the shocks the generator injected
// (synthpop.GroundTruth). `aidhub bench warn` runs it.
//
// Scoring, written down because the figures depend on it:
//   - A shock of kind K in month m is found by a type mapped to K when the
//     type hits that household in m or m+1 (a drop against a 3-month
//     baseline may show a month late). ShockTypes says which types find
//     which kind.
//   - A warning is a hit of a type for a household in a month it did not
//     hit in the month before (the service does not raise a type again
//     while one is open); the month before the first evaluated one is
//     evaluated for that alone. A warning is true when the household has
//     an injected shock (of any kind: a job loss is an income drop too) in
//     its month or the month before.
//   - Warnings per 1,000 people: a district's warnings (every type) in a
//     month over the persons of its households, per month evaluated. The
//     calm districts are all but the flood's; the flood district's figure
//     in its flood month is compared with its other months.

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/synthpop"
	"github.com/aidhub/aidhub/warning/detect"
)

// Evaluator is what the backtest asks of detect's evaluator.
type Evaluator interface {
	Evaluate(h *detect.Household, m detect.Month, today aidhub.Day) []detect.Hit
}

// HouseholdSource streams every household with the amounts of the months
// [month − before, month] and its events, in batches fn may keep (the
// warning service).
type HouseholdSource interface {
	ScanEngineHouseholds(ctx context.Context, month detect.Month, before int, fn func([]detect.Household) error) error
}

// WarnOptions say what the backtest runs.
type WarnOptions struct {
	Types []detect.Type
	// NewEvaluator makes an evaluator of Types over a threshold source
	// (detect.NewEvaluator), safe for concurrent use: the workers share it.
	NewEvaluator func(detect.ThresholdSource) (Evaluator, error)
	Truth        synthpop.GroundTruth
	Months       int // the last Months months of the signals are evaluated (default 6)
	Workers      int // evaluation workers (default 2)
	Out          io.Writer
}

// Runs of the backtest.
const (
	RunAdaptive = iota
	RunFixed
	runs
)

var runNames = [runs]string{"adaptive", "fixed"}

// WarnReport is what the backtest found.
type WarnReport struct {
	Households, Persons int
	Months              []detect.Month
	Types               []TypeScore // the types with ground truth
	Kinds               []TypeScore // per shock kind, found by any of its types (Type "")
	Rates               [runs]RunRates
	// Others are the new warnings of the types without ground truth, by
	// code, per run.
	Others map[string][runs]int
	// Targets of issue 14.
	RecallHolds, CalmFewer, FloodNotSilent bool
	FloodEvaluated                         bool // the flood month is among Months
}

// TypeScore is one type's (or kind's) score in both runs.
type TypeScore struct {
	Type, Kind string
	Shocks     int       // injected shocks of Kind in the months evaluated
	Found      [runs]int // of them found
	Warnings   [runs]int // the type's warnings
	True       [runs]int // of them at a shock of its kind
	Recall     [runs]float64
	Precision  [runs]float64 // NaN without warnings
}

// RunRates is one run's warnings per 1,000 people per district and month.
type RunRates struct {
	Warnings              int
	Districts             []DistrictRate // by code
	Mean, Min, Max        float64        // over districts of their mean monthly rate
	MinDistrict           string
	MaxDistrict           string
	Calm                  float64 // over the calm districts' household-months
	FloodMonth, FloodRest float64 // the flood district in its flood month, in its other months
	CalmInFloodMonth      float64 // the calm districts in the flood month
	Months                []MonthRate
}

// MonthRate is one month's warnings per 1,000 people: the whole city's and
// the highest district's (a February or a flood shows there).
type MonthRate struct {
	City, Max   float64
	MaxDistrict string
}

// DistrictRate is a district's warnings per 1,000 people per month.
type DistrictRate struct {
	District string
	Persons  int
	ByMonth  []float64
	Mean     float64
}

// shockRuleTypes are the rule types (by code, of DefaultTypes) that find
// each kind of shock; threshold types are mapped by their measure.
var shockRuleTypes = map[string][]string{
	synthpop.ShockIncomeCollapse: {"INCOME_COLLAPSE"},
	synthpop.ShockMedicalBill:    {"HOSPITALISATION_HIGH_OOP"},
	synthpop.ShockJobLoss:        {"JOB_LOSS_WITH_DEPENDANTS", "NEEDY_WORKER_JOB_LOSS", "DISABLED_HOUSEHOLD_JOB_LOSS"},
}

// ShockTypes maps each shock kind to the codes of the enabled types that
// find it, in the order of types: an income collapse the threshold types
// over INCOME_DROP and the rule INCOME_COLLAPSE (a drop of 80 % or more); a
// medical bill the threshold types over MEDICAL_SHARE or RIGID_SHARE and
// the rule HOSPITALISATION_HIGH_OOP; a job loss the rules on a job lost in a
// household with dependants (JOB_LOSS_WITH_DEPENDANTS, NEEDY_WORKER_JOB_LOSS,
// DISABLED_HOUSEHOLD_JOB_LOSS). The other types (education, arrears,
// deaths, …) have no ground truth here.
func ShockTypes(types []detect.Type) map[string][]string {
	out := map[string][]string{}
	for i := range types {
		t := &types[i]
		if !t.Enabled {
			continue
		}
		kind := ""
		if t.Threshold != nil {
			switch t.Threshold.Measure {
			case detect.MeasureIncomeDrop:
				kind = synthpop.ShockIncomeCollapse
			case detect.MeasureMedicalShare, detect.MeasureRigidShare:
				kind = synthpop.ShockMedicalBill
			}
		}
		for k, codes := range shockRuleTypes {
			if slices.Contains(codes, t.Code) {
				kind = k
			}
		}
		if kind != "" {
			out[kind] = append(out[kind], t.Code)
		}
	}
	return out
}

// warnHit is one hit: a household (index), a type (index), a month.
type warnHit struct {
	household int32
	typ       int32
	month     detect.Month
}

// Warn runs the backtest and prints its report to o.Out.
func Warn(ctx context.Context, src HouseholdSource, o WarnOptions) (*WarnReport, error) {
	if o.Months <= 0 {
		o.Months = 6
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	p := func(format string, a ...any) { fmt.Fprintf(o.Out, format, a...) }
	last := o.Truth.Last
	if o.Months > int(last-o.Truth.First)-2 {
		return nil, fmt.Errorf("bench warn: %d months leave no baseline in the %d months of signals %s … %s", o.Months, last-o.Truth.First+1, o.Truth.First, last)
	}
	// the months evaluated, and the one before them (for new warnings only)
	from := last - detect.Month(o.Months)

	start := time.Now()
	var hs []detect.Household
	// the evaluated months, the 3 of the baseline before them and the
	// calibration's 12-month window
	before := 12 + 3
	err := src.ScanEngineHouseholds(ctx, last, before, func(batch []detect.Household) error {
		hs = append(hs, batch...)
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("bench warn: read the households: %w", err)
	}
	persons := 0
	for i := range hs {
		persons += len(hs[i].Members)
	}
	p("## early-warning backtest: %d households, %d persons; months %s … %s\n", len(hs), persons, from+1, last)
	p("read the households with %d months of history: %s\n", before, time.Since(start).Round(time.Millisecond))
	kinds := map[string]int{}
	for _, s := range o.Truth.Shocks {
		if s.Month > from && s.Month <= last {
			kinds[s.Kind]++
		}
	}
	p("ground truth: %d injected shocks in the months evaluated (", kinds[synthpop.ShockIncomeCollapse]+kinds[synthpop.ShockMedicalBill]+kinds[synthpop.ShockJobLoss])
	for i, k := range synthpop.ShockKinds {
		p("%s%s %d", map[bool]string{true: ", "}[i > 0], k, kinds[k])
	}
	p("); flood: %s\n", floodText(o.Truth.Flood))

	typeIndex := map[string]int32{}
	for i, t := range o.Types {
		typeIndex[t.Code] = int32(i)
	}
	var hits [runs][]warnHit
	fixedEvs, err := evaluators(o, detect.FixedThresholds{})
	if err != nil {
		return nil, err
	}
	for m := from; m <= last; m++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		cal := detect.NewCalibrator(o.Types, m)
		for i := range hs {
			cal.Add(&hs[i])
		}
		ts, peers := cal.Result()
		calibrate := time.Since(t0)
		evs, err := evaluators(o, detect.NewThresholds(ts, peers))
		if err != nil {
			return nil, err
		}
		t1 := time.Now()
		adaptive := evaluate(hs, evs, m, typeIndex)
		t2 := time.Now()
		fixed := evaluate(hs, fixedEvs, m, typeIndex)
		t3 := time.Now()
		hits[RunAdaptive] = append(hits[RunAdaptive], adaptive...)
		hits[RunFixed] = append(hits[RunFixed], fixed...)
		what := ""
		if m == from {
			what = " (only to tell new warnings from open ones)"
		}
		p("%s%s: calibrate %s (%d thresholds), evaluate adaptive %s (%d hits), fixed %s (%d hits), %d workers\n", m, what,
			calibrate.Round(time.Millisecond), len(ts), t2.Sub(t1).Round(time.Millisecond), len(adaptive),
			t3.Sub(t2).Round(time.Millisecond), len(fixed), o.Workers)
	}

	rep := scoreWarn(hs, o.Types, o.Truth, from, last, hits)
	printWarn(o.Out, rep, o.Truth)
	return rep, nil
}

func floodText(f synthpop.Flood) string {
	if f.District == "" {
		return "none"
	}
	return fmt.Sprintf("%s (%s) in %s, %.0f %% of its households", f.Name, f.District, f.Month, 100*f.Share)
}

// evaluators makes the workers' evaluator: detect.Evaluator is safe for
// concurrent use (each call takes its own scratch), so one serves all.
func evaluators(o WarnOptions, src detect.ThresholdSource) ([]Evaluator, error) {
	e, err := o.NewEvaluator(src)
	if err != nil {
		return nil, fmt.Errorf("bench warn: evaluator: %w", err)
	}
	evs := make([]Evaluator, o.Workers)
	for i := range evs {
		evs[i] = e
	}
	return evs, nil
}

// evaluate runs every household through the evaluators for month m (on its
// last day), a contiguous share per worker.
func evaluate(hs []detect.Household, evs []Evaluator, m detect.Month, typeIndex map[string]int32) []warnHit {
	today := lastDay(m)
	parts := make([][]warnHit, len(evs))
	var wg sync.WaitGroup
	per := (len(hs) + len(evs) - 1) / len(evs)
	for w := range evs {
		lo, hi := w*per, min((w+1)*per, len(hs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				for _, h := range evs[w].Evaluate(&hs[i], m, today) {
					if t, ok := typeIndex[h.Type]; ok {
						parts[w] = append(parts[w], warnHit{int32(i), t, m})
					}
				}
			}
		}()
	}
	wg.Wait()
	return slices.Concat(parts...)
}

// lastDay is the last day of month m.
func lastDay(m detect.Month) aidhub.Day {
	next := m + 1
	return aidhub.DayOf(time.Date(next.Year(), time.Month(next.MonthOfYear()), 1, 0, 0, 0, 0, time.UTC)) - 1
}

// scoreWarn scores the runs' hits over months from+1 … last (hits of month
// from only tell new warnings from open ones).
func scoreWarn(hs []detect.Household, types []detect.Type, truth synthpop.GroundTruth, from, last detect.Month, hits [runs][]warnHit) *WarnReport {
	rep := &WarnReport{Households: len(hs), Others: map[string][runs]int{}}
	for m := from + 1; m <= last; m++ {
		rep.Months = append(rep.Months, m)
	}
	for i := range hs {
		rep.Persons += len(hs[i].Members)
	}
	sc := newWarnScorer(hs, types, truth, from, last, hits)

	// recall and precision per mapped type, and per kind by any of its types
	typeScores := map[string]*TypeScore{}
	for k, codes := range sc.mapping {
		for _, c := range codes {
			ts := &TypeScore{Type: c, Kind: k}
			ts.Shocks, ts.Found = sc.recall(k, []int32{sc.typeIndex(c)})
			typeScores[c] = ts
		}
	}
	sc.warnings(typeScores, rep.Others)
	for _, t := range types {
		if ts := typeScores[t.Code]; ts != nil {
			rep.Types = append(rep.Types, *ts)
		}
	}
	for _, k := range synthpop.ShockKinds {
		ks := TypeScore{Kind: k}
		var mapped []int32
		for _, c := range sc.mapping[k] {
			mapped = append(mapped, sc.typeIndex(c))
			for r := range runs {
				ks.Warnings[r] += typeScores[c].Warnings[r]
				ks.True[r] += typeScores[c].True[r]
			}
		}
		ks.Shocks, ks.Found = sc.recall(k, mapped)
		rep.Kinds = append(rep.Kinds, ks)
	}
	for _, ts := range [][]TypeScore{rep.Types, rep.Kinds} {
		for i := range ts {
			s := &ts[i]
			for r := range runs {
				s.Recall[r] = ratio(s.Found[r], s.Shocks)
				s.Precision[r] = ratio(s.True[r], s.Warnings[r])
			}
		}
	}

	rep.FloodEvaluated = truth.Flood.District != "" && truth.Flood.Month > from && truth.Flood.Month <= last
	for r := range runs {
		rep.Rates[r] = rates(hs, sc.hit[r], from, int(last-from), truth.Flood, rep.FloodEvaluated)
	}
	rep.RecallHolds = len(rep.Types) > 0
	for _, s := range rep.Types {
		if s.Shocks > 0 && s.Found[RunAdaptive] < s.Found[RunFixed] {
			rep.RecallHolds = false
		}
	}
	rep.CalmFewer = rep.Rates[RunAdaptive].Calm < rep.Rates[RunFixed].Calm
	rep.FloodNotSilent = rep.FloodEvaluated && rep.Rates[RunAdaptive].FloodMonth > 0
	return rep
}

// warnScorer holds what scoring looks up: the shocks by household index, the
// shock kinds' types, and per run the months each household hit each type
// (bit k is month from+k, keyed by hitKey).
type warnScorer struct {
	types      []detect.Type
	from, last detect.Month
	shocks     map[int32][]synthpop.Shock
	mapping    map[string][]string
	hit        [runs]map[int64]uint64
}

func hitKey(h, t int32) int64 { return int64(h)<<32 | int64(t) }

func newWarnScorer(hs []detect.Household, types []detect.Type, truth synthpop.GroundTruth, from, last detect.Month, hits [runs][]warnHit) *warnScorer {
	sc := &warnScorer{types: types, from: from, last: last, shocks: map[int32][]synthpop.Shock{}, mapping: ShockTypes(types)}
	index := make(map[int64]int32, len(hs))
	for i := range hs {
		index[hs[i].ID] = int32(i)
	}
	for _, s := range truth.Shocks {
		if i, ok := index[s.HouseholdID]; ok {
			sc.shocks[i] = append(sc.shocks[i], s)
		}
	}
	for r := range runs {
		sc.hit[r] = map[int64]uint64{}
		for _, x := range hits[r] {
			sc.hit[r][hitKey(x.household, x.typ)] |= 1 << uint(x.month-from)
		}
	}
	return sc
}

func (sc *warnScorer) typeIndex(code string) int32 {
	return int32(slices.IndexFunc(sc.types, func(t detect.Type) bool { return t.Code == code }))
}

// recall counts the shocks of kind in the months evaluated and, per run,
// those one of the types hit in their month or the next.
func (sc *warnScorer) recall(kind string, types []int32) (shocks int, found [runs]int) {
	for h, ss := range sc.shocks {
		for _, s := range ss {
			if s.Kind != kind || s.Month <= sc.from || s.Month > sc.last {
				continue
			}
			shocks++
			for r := range runs {
				if slices.ContainsFunc(types, func(t int32) bool { return sc.hit[r][hitKey(h, t)]&(3<<uint(s.Month-sc.from)) != 0 }) {
					found[r]++
				}
			}
		}
	}
	return shocks, found
}

// warnings counts the new warnings of the scored types, and which of them
// are at an injected shock, and those of the other types into others.
func (sc *warnScorer) warnings(scores map[string]*TypeScore, others map[string][runs]int) {
	for r := range runs {
		for kh, mask := range sc.hit[r] {
			h, code := int32(kh>>32), sc.types[kh&0xffffffff].Code
			fresh := mask &^ (mask << 1) &^ 1
			ts := scores[code]
			if ts == nil {
				c := others[code]
				c[r] += bits.OnesCount64(fresh)
				others[code] = c
				continue
			}
			for ; fresh != 0; fresh &= fresh - 1 {
				m := sc.from + detect.Month(bits.TrailingZeros64(fresh))
				ts.Warnings[r]++
				if slices.ContainsFunc(sc.shocks[h], func(s synthpop.Shock) bool { return s.Month == m || s.Month == m-1 }) {
					ts.True[r]++
				}
			}
		}
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// rates counts one run's new warnings (every type) per district and month.
func rates(hs []detect.Household, hit map[int64]uint64, from detect.Month, n int, flood synthpop.Flood, floodEvaluated bool) RunRates {
	var rr RunRates
	districts := map[string]*DistrictRate{}
	counts := map[string][]int{}
	var order []string
	for i := range hs {
		d := hs[i].District()
		dr := districts[d]
		if dr == nil {
			dr = &DistrictRate{District: d, ByMonth: make([]float64, n)}
			districts[d] = dr
			counts[d] = make([]int, n)
			order = append(order, d)
		}
		dr.Persons += len(hs[i].Members)
	}
	for kh, mask := range hit {
		d := hs[kh>>32].District()
		for fresh := mask &^ (mask << 1) &^ 1; fresh != 0; fresh &= fresh - 1 {
			counts[d][bits.TrailingZeros64(fresh)-1]++
			rr.Warnings++
		}
	}
	slices.Sort(order)
	floodAt := int(flood.Month-from) - 1
	var calmWarn, calmPersons, calmFloodWarn, calmFloodPersons int
	rr.Min = math.Inf(1)
	for _, d := range order {
		dr := districts[d]
		total := 0
		for k, c := range counts[d] {
			dr.ByMonth[k] = perThousand(c, dr.Persons)
			total += c
		}
		dr.Mean = perThousand(total, dr.Persons*n)
		rr.Districts = append(rr.Districts, *dr)
		rr.Mean += dr.Mean / float64(len(order))
		if dr.Mean < rr.Min {
			rr.Min, rr.MinDistrict = dr.Mean, d
		}
		if dr.Mean > rr.Max {
			rr.Max, rr.MaxDistrict = dr.Mean, d
		}
		switch {
		case d == flood.District && floodEvaluated:
			rr.FloodMonth = dr.ByMonth[floodAt]
			rr.FloodRest = perThousand(total-counts[d][floodAt], dr.Persons*(n-1))
		case d != flood.District:
			calmWarn += total
			calmPersons += dr.Persons * n
			if floodEvaluated {
				calmFloodWarn += counts[d][floodAt]
				calmFloodPersons += dr.Persons
			}
		}
	}
	rr.Months = make([]MonthRate, n)
	for k := range rr.Months {
		mr := &rr.Months[k]
		warned, persons := 0, 0
		for _, dr := range rr.Districts {
			warned += counts[dr.District][k]
			persons += dr.Persons
			if dr.ByMonth[k] > mr.Max || mr.MaxDistrict == "" {
				mr.Max, mr.MaxDistrict = dr.ByMonth[k], dr.District
			}
		}
		mr.City = perThousand(warned, persons)
	}
	rr.Calm = perThousand(calmWarn, calmPersons)
	rr.CalmInFloodMonth = perThousand(calmFloodWarn, calmFloodPersons)
	if len(order) == 0 {
		rr.Min = 0
	}
	return rr
}

func perThousand(n, persons int) float64 {
	if persons == 0 {
		return 0
	}
	return 1000 * float64(n) / float64(persons)
}

// printWarn prints the report's tables.
func printWarn(out io.Writer, rep *WarnReport, truth synthpop.GroundTruth) {
	p := func(format string, a ...any) { fmt.Fprintf(out, format, a...) }
	pct := func(x float64) string {
		if math.IsNaN(x) {
			return "–"
		}
		return fmt.Sprintf("%.1f %%", 100*x)
	}
	p("\n| type | shock | shocks | recall adaptive | recall fixed | precision adaptive | precision fixed | warnings adaptive | warnings fixed |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	row := func(s TypeScore) {
		name := s.Type
		if name == "" {
			name = "any of its types"
		}
		p("| %s | %s | %d | %s | %s | %s | %s | %d | %d |\n", name, s.Kind, s.Shocks, pct(s.Recall[RunAdaptive]), pct(s.Recall[RunFixed]),
			pct(s.Precision[RunAdaptive]), pct(s.Precision[RunFixed]), s.Warnings[RunAdaptive], s.Warnings[RunFixed])
	}
	for _, s := range rep.Types {
		row(s)
	}
	for _, s := range rep.Kinds {
		row(s)
	}
	var others []string
	for _, t := range slices.Sorted(maps.Keys(rep.Others)) {
		if c := rep.Others[t]; c != [runs]int{} {
			others = append(others, fmt.Sprintf("%s %d / %d", t, c[RunAdaptive], c[RunFixed]))
		}
	}
	if len(others) > 0 {
		p("\nthe other types' new warnings (no ground truth), adaptive / fixed: %s\n", strings.Join(others, ", "))
	}
	flood := "–"
	if rep.FloodEvaluated {
		flood = fmt.Sprintf("%s %s", truth.Flood.Name, truth.Flood.Month)
	}
	p("\nnew warnings (every type) per 1,000 people per district and month, %d districts:\n\n", len(rep.Rates[RunAdaptive].Districts))
	p("| run | warnings | mean | min | max | calm districts | calm districts in the flood month | flood district in its flood month (%s) | its other months |\n", flood)
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for r := range runs {
		rr := rep.Rates[r]
		p("| %s | %d | %.2f | %.2f (%s) | %.2f (%s) | %.2f | %.2f | %.2f | %.2f |\n", runNames[r], rr.Warnings, rr.Mean, rr.Min, rr.MinDistrict,
			rr.Max, rr.MaxDistrict, rr.Calm, rr.CalmInFloodMonth, rr.FloodMonth, rr.FloodRest)
	}
	p("\n| month | adaptive: city | adaptive: highest district | fixed: city | fixed: highest district |\n|---|---:|---:|---:|---:|\n")
	for k, m := range rep.Months {
		a, f := rep.Rates[RunAdaptive].Months[k], rep.Rates[RunFixed].Months[k]
		p("| %s | %.2f | %.2f (%s) | %.2f | %.2f (%s) |\n", m, a.City, a.Max, a.MaxDistrict, f.City, f.Max, f.MaxDistrict)
	}
	yes := func(b bool) string { return map[bool]string{true: "yes", false: "NO"}[b] }
	var worse []string
	for _, s := range rep.Types {
		if s.Shocks > 0 && s.Found[RunAdaptive] < s.Found[RunFixed] {
			worse = append(worse, fmt.Sprintf("%s %s < %s", s.Type, pct(s.Recall[RunAdaptive]), pct(s.Recall[RunFixed])))
		}
	}
	recall := yes(rep.RecallHolds)
	if len(worse) > 0 {
		recall += " (" + strings.Join(worse, "; ") + ")"
	}
	floodLine := "the flood month is not evaluated"
	if rep.FloodEvaluated {
		floodLine = fmt.Sprintf("%s (%.2f per 1,000 in %s)", yes(rep.FloodNotSilent), rep.Rates[RunAdaptive].FloodMonth, truth.Flood.Month)
	}
	p("\ntargets: adaptive recall ≥ fixed on every type: %s; fewer warnings per 1,000 in the calm districts: %s (%.2f adaptive, %.2f fixed); flood district not silent: %s\n",
		recall, yes(rep.CalmFewer), rep.Rates[RunAdaptive].Calm, rep.Rates[RunFixed].Calm, floodLine)
}
