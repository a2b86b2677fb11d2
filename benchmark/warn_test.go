package benchmark

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/synthpop"
	"github.com/aidhub/aidhub/warning/detect"
)

// A hand-made backtest: months 101–103 evaluated (100 only tells new
// warnings from open ones); district 500103 is calm, 500101 flooded in 102.
var (
	warnTypes = []detect.Type{
		{Code: "DROP", Enabled: true, Signals: []string{detect.KindIncome}, Threshold: &detect.ThresholdRule{Measure: detect.MeasureIncomeDrop}},
		{Code: "HOSPITALISATION_HIGH_OOP", Enabled: true, Signals: []string{detect.KindHospitalisation, detect.KindMedicalSpending}, Rule: "true"},
		{Code: "JOB_LOSS_WITH_DEPENDANTS", Enabled: true, Signals: []string{detect.KindEmployment}, Rule: "true"},
		{Code: "OTHER", Enabled: true, Signals: []string{detect.KindDeath}, Rule: "true"},
		{Code: "OFF", Enabled: false, Signals: []string{detect.KindIncome}, Threshold: &detect.ThresholdRule{Measure: detect.MeasureIncomeDrop}},
	}
	warnHouseholds = []detect.Household{
		{ID: 11, Region: "500103001001", Members: make([]detect.Member, 2)},
		{ID: 12, Region: "500103001002", Members: make([]detect.Member, 2)},
		{ID: 13, Region: "500103002001", Members: make([]detect.Member, 4)},
		{ID: 21, Region: "500101001001", Members: make([]detect.Member, 3)},
		{ID: 22, Region: "500101001201", Members: make([]detect.Member, 1)},
	}
	warnTruth = synthpop.GroundTruth{First: 92, Last: 103,
		Shocks: []synthpop.Shock{{HouseholdID: 11, Month: 101, Kind: synthpop.ShockIncomeCollapse}, {HouseholdID: 12, Month: 102, Kind: synthpop.ShockMedicalBill},
			{HouseholdID: 21, Month: 103, Kind: synthpop.ShockJobLoss}, {HouseholdID: 22, Month: 99, Kind: synthpop.ShockIncomeCollapse}},
		Flood: synthpop.Flood{District: "500101", Name: "万州区", Month: 102, Share: 0.6}}
	// hits by run: household index, type, month
	warnHits = [runs][]warnHit{
		RunAdaptive: {{0, 0, 101}, {0, 0, 102}, {1, 1, 103}, {3, 2, 103}, {2, 0, 100}, {2, 0, 101}, {4, 3, 102}},
		RunFixed:    {{0, 0, 102}, {1, 0, 102}, {3, 0, 102}, {4, 0, 102}, {3, 2, 103}, {2, 0, 103}},
	}
)

func TestShockTypes(t *testing.T) {
	got := ShockTypes(warnTypes)
	want := map[string][]string{synthpop.ShockIncomeCollapse: {"DROP"}, synthpop.ShockMedicalBill: {"HOSPITALISATION_HIGH_OOP"}, synthpop.ShockJobLoss: {"JOB_LOSS_WITH_DEPENDANTS"}}
	if len(got) != len(want) {
		t.Fatalf("mapping %v", got)
	}
	for k, codes := range want {
		if strings.Join(got[k], ",") != strings.Join(codes, ",") {
			t.Errorf("%s → %v, want %v", k, got[k], codes)
		}
	}

	// the shipped types: every named rule type exists
	got = ShockTypes(detect.DefaultTypes())
	for k, codes := range map[string]string{
		synthpop.ShockIncomeCollapse: "INCOME_SUDDEN_DROP,INCOME_DROP_WITH_DEPENDANTS,INCOME_COLLAPSE",
		synthpop.ShockMedicalBill:    "RIGID_SPENDING_HIGH,MEDICAL_SPENDING_HIGH,SERIOUS_ILLNESS_MEDICAL_RISING,HOSPITALISATION_HIGH_OOP",
		synthpop.ShockJobLoss:        "JOB_LOSS_WITH_DEPENDANTS,DISABLED_HOUSEHOLD_JOB_LOSS,NEEDY_WORKER_JOB_LOSS",
	} {
		if strings.Join(got[k], ",") != codes {
			t.Errorf("default types: %s → %v, want %s", k, got[k], codes)
		}
	}
}

func TestScoreWarn(t *testing.T) {
	rep := scoreWarn(warnHouseholds, warnTypes, warnTruth, 100, 103, warnHits)
	if rep.Households != 5 || rep.Persons != 12 || len(rep.Months) != 3 || rep.Months[0] != 101 {
		t.Fatalf("report: %d households, %d persons, months %v", rep.Households, rep.Persons, rep.Months)
	}
	nan := math.NaN()
	for _, c := range []struct {
		typ                    string
		shocks                 int
		found, warnings, true_ [runs]int
		recall, precision      [runs]float64
	}{
		// DROP: the collapse of 11 in 101 is found in 101 (adaptive) and
		// 102 (fixed, a month late); 13's hit in 101 continues 100's; the
		// fixed run warns on the flood (21, 22), on 13 and on 12, whose
		// medical bill in 102 makes that warning true
		{"DROP", 1, [runs]int{1, 1}, [runs]int{1, 5}, [runs]int{1, 2}, [runs]float64{1, 1}, [runs]float64{1, 0.4}},
		// 12's bill in 102 found in 103 by the adaptive run only
		{"HOSPITALISATION_HIGH_OOP", 1, [runs]int{1, 0}, [runs]int{1, 0}, [runs]int{1, 0}, [runs]float64{1, 0}, [runs]float64{1, nan}},
		{"JOB_LOSS_WITH_DEPENDANTS", 1, [runs]int{1, 1}, [runs]int{1, 1}, [runs]int{1, 1}, [runs]float64{1, 1}, [runs]float64{1, 1}},
	} {
		var s *TypeScore
		for i := range rep.Types {
			if rep.Types[i].Type == c.typ {
				s = &rep.Types[i]
			}
		}
		if s == nil {
			t.Errorf("%s: not scored", c.typ)
			continue
		}
		if s.Shocks != c.shocks || s.Found != c.found || s.Warnings != c.warnings || s.True != c.true_ ||
			!sameFloats(s.Recall[:], c.recall[:]) || !sameFloats(s.Precision[:], c.precision[:]) {
			t.Errorf("%s: %+v", c.typ, *s)
		}
	}
	if len(rep.Types) != 3 || len(rep.Kinds) != 3 || rep.Kinds[1].Kind != synthpop.ShockMedicalBill || rep.Kinds[1].Found != [runs]int{1, 0} {
		t.Errorf("types %+v kinds %+v", rep.Types, rep.Kinds)
	}

	for r, want := range [runs]RunRates{
		RunAdaptive: {Warnings: 4, Mean: (1000.0/12 + 2000.0/12) / 2, Min: 1000.0 / 12, MinDistrict: "500103", Max: 2000.0 / 12, MaxDistrict: "500101",
			Calm: 1000.0 / 12, FloodMonth: 250, FloodRest: 125, CalmInFloodMonth: 0},
		RunFixed: {Warnings: 6, Mean: (125 + 250) / 2.0, Min: 125, MinDistrict: "500103", Max: 250, MaxDistrict: "500101",
			Calm: 125, FloodMonth: 500, FloodRest: 125, CalmInFloodMonth: 250},
	} {
		got := rep.Rates[r]
		if got.Warnings != want.Warnings || !near(got.Mean, want.Mean) || !near(got.Min, want.Min) || got.MinDistrict != want.MinDistrict ||
			!near(got.Max, want.Max) || got.MaxDistrict != want.MaxDistrict || !near(got.Calm, want.Calm) ||
			!near(got.FloodMonth, want.FloodMonth) || !near(got.FloodRest, want.FloodRest) || !near(got.CalmInFloodMonth, want.CalmInFloodMonth) {
			t.Errorf("%s rates %+v\nwant %+v", runNames[r], got, want)
		}
		if len(got.Districts) != 2 || got.Districts[0].District != "500101" || got.Districts[0].Persons != 4 || got.Districts[1].Persons != 8 {
			t.Errorf("%s districts %+v", runNames[r], got.Districts)
		}
	}
	if a := rep.Rates[RunAdaptive].Districts[1].ByMonth; !sameFloats(a, []float64{125, 0, 125}) {
		t.Errorf("adaptive 500103 by month %v", a)
	}
	// by month: adaptive 101: 1 of 12 people (500103 125); 102: 1 (500101 250); 103: 2 (500101 250)
	want := []MonthRate{{1000.0 / 12, 125, "500103"}, {1000.0 / 12, 250, "500101"}, {2000.0 / 12, 250, "500101"}}
	for k, got := range rep.Rates[RunAdaptive].Months {
		if !near(got.City, want[k].City) || !near(got.Max, want[k].Max) || got.MaxDistrict != want[k].MaxDistrict {
			t.Errorf("adaptive month %d: %+v, want %+v", k, got, want[k])
		}
	}
	if !rep.RecallHolds || !rep.CalmFewer || !rep.FloodNotSilent || !rep.FloodEvaluated {
		t.Errorf("targets: %v %v %v %v", rep.RecallHolds, rep.CalmFewer, rep.FloodNotSilent, rep.FloodEvaluated)
	}

	// the fixed run with the adaptive one's hits swapped: the targets fail
	swapped := scoreWarn(warnHouseholds, warnTypes, warnTruth, 100, 103, [runs][]warnHit{warnHits[RunFixed], warnHits[RunAdaptive]})
	if swapped.RecallHolds || swapped.CalmFewer {
		t.Errorf("swapped runs hold the targets")
	}
	// a flood outside the months evaluated is not judged
	truth := warnTruth
	truth.Flood.Month = 99
	if rep := scoreWarn(warnHouseholds, warnTypes, truth, 100, 103, warnHits); rep.FloodEvaluated || rep.FloodNotSilent {
		t.Errorf("flood outside the months: %v %v", rep.FloodEvaluated, rep.FloodNotSilent)
	}
}

// fakeEvaluator answers from warnHits: the fixed run's when its source is
// the fixed thresholds.
type fakeEvaluator struct{ run int }

func (e fakeEvaluator) Evaluate(h *detect.Household, m detect.Month, today aidhub.Day) []detect.Hit {
	if today != lastDay(m) {
		panic("evaluated on another day than the month's last")
	}
	var out []detect.Hit
	for _, x := range warnHits[e.run] {
		if warnHouseholds[x.household].ID == h.ID && x.month == m {
			out = append(out, detect.Hit{Type: warnTypes[x.typ].Code, Month: m})
		}
	}
	return out
}

type fakeSource []detect.Household

func (s fakeSource) ScanEngineHouseholds(_ context.Context, month detect.Month, before int, fn func([]detect.Household) error) error {
	if month != 103 || before != 15 {
		panic("scanned the wrong months")
	}
	for i := 0; i < len(s); i += 2 { // batches of two
		if err := fn(s[i:min(i+2, len(s))]); err != nil {
			return err
		}
	}
	return nil
}

func TestWarn(t *testing.T) {
	var out bytes.Buffer
	rep, err := Warn(context.Background(), fakeSource(warnHouseholds), WarnOptions{
		Types: warnTypes, Truth: warnTruth, Months: 3, Workers: 2, Out: &out,
		NewEvaluator: func(src detect.ThresholdSource) (Evaluator, error) {
			if _, fixed := src.(detect.FixedThresholds); fixed {
				return fakeEvaluator{RunFixed}, nil
			}
			return fakeEvaluator{RunAdaptive}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := scoreWarn(warnHouseholds, warnTypes, warnTruth, 100, 103, warnHits); rep.Rates[RunFixed].Warnings != want.Rates[RunFixed].Warnings ||
		rep.Types[0].Found != want.Types[0].Found {
		t.Errorf("Warn scored differently from its hits: %+v", rep)
	}
	for _, want := range []string{
		"## early-warning backtest: 5 households, 12 persons; months 2008-06 … 2008-08",
		"ground truth: 3 injected shocks in the months evaluated (INCOME_COLLAPSE 1, MEDICAL_BILL 1, JOB_LOSS 1); flood: 万州区 (500101) in 2008-07",
		"| DROP | INCOME_COLLAPSE | 1 | 100.0 % | 100.0 % | 100.0 % | 40.0 % | 1 | 5 |",
		"| HOSPITALISATION_HIGH_OOP | MEDICAL_BILL | 1 | 100.0 % | 0.0 % | 100.0 % | – | 1 | 0 |",
		"| any of its types | JOB_LOSS | 1 |",
		"| adaptive | 4 | 125.00 | 83.33 (500103) | 166.67 (500101) | 83.33 | 0.00 | 250.00 | 125.00 |",
		"| fixed | 6 | 187.50 | 125.00 (500103) | 250.00 (500101) | 125.00 | 250.00 | 500.00 | 125.00 |",
		"| 2008-07 | 83.33 | 250.00 (500101) | 333.33 | 500.00 (500101) |",
		"the other types' new warnings (no ground truth), adaptive / fixed: OTHER 1 / 0",
		"targets: adaptive recall ≥ fixed on every type: yes; fewer warnings per 1,000 in the calm districts: yes (83.33 adaptive, 125.00 fixed); flood district not silent: yes (250.00 per 1,000 in 2008-07)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	if _, err := Warn(context.Background(), fakeSource(nil), WarnOptions{Types: warnTypes, Truth: warnTruth, Months: 10}); err == nil ||
		!strings.Contains(err.Error(), "leave no baseline") {
		t.Errorf("10 months of 12: %v", err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !(near(a[i], b[i]) || math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}
