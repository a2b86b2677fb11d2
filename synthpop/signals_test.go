package synthpop

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/warning/detect"
)

// drawSignals draws persons with their signals in memory, as Run would.
func drawSignals(t testing.TB, w *world, persons int, seed int64) ([]*chunk, *sigGen) {
	t.Helper()
	rr := rand.New(rand.NewPCG(uint64(seed), 1))
	orgs := genOrganizations(w, rr, 20, 1, map[string]bool{})
	pg := newPopGen(w, rand.New(rand.NewPCG(uint64(seed), 2)), persons, orgs, newResourceGen(w, rr, orgs, 1))
	pg.sig = newSigGen(w, rand.New(rand.NewPCG(uint64(seed), 3)), 0)
	var chunks []*chunk
	for !pg.done() {
		c, err := pg.chunk(chunkPersons)
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, c)
	}
	return chunks, pg.sig
}

// sigHousehold is a drawn household with its signals.
type sigHousehold struct {
	id      int64
	region  string
	income  int64 // stored monthly
	ages    []int
	signals [][]any
	// income by month index of the window, -1 unknown
	incomes [signalMonths]int64
}

func households(s *sigGen, chunks []*chunk) []*sigHousehold {
	var out []*sigHousehold
	byID := map[int64]*sigHousehold{}
	for _, c := range chunks {
		for _, row := range c.households {
			h := &sigHousehold{id: row[0].(int64), region: row[1].(string), income: row[3].(int64)}
			for i := range h.incomes {
				h.incomes[i] = -1
			}
			out = append(out, h)
			byID[h.id] = h
		}
		for _, row := range c.persons {
			birth := row[6].(time.Time)
			h := byID[row[1].(int64)]
			h.ages = append(h.ages, int(s.w.today.Sub(birth).Hours()/24/365.25))
		}
		for _, row := range c.signals {
			h := byID[row[3].(int64)]
			h.signals = append(h.signals, row)
			if row[5] == detect.KindIncome {
				h.incomes[detect.Month(row[7].(int64))-s.first] = row[8].(int64)
			}
		}
	}
	return out
}

func TestSignalsAreReproducible(t *testing.T) {
	w := testWorld(t)
	a, sa := drawSignals(t, w, 8000, 5)
	b, sb := drawSignals(t, w, 8000, 5)
	c, _ := drawSignals(t, w, 8000, 6)
	for i := range a {
		if !reflect.DeepEqual(a[i].signals, b[i].signals) {
			t.Fatalf("chunk %d: the signals differ with the same seed", i)
		}
	}
	if !reflect.DeepEqual(sa.shocks, sb.shocks) || sa.flood != sb.flood {
		t.Error("the ground truth differs with the same seed")
	}
	if reflect.DeepEqual(a[0].signals, c[0].signals) {
		t.Error("another seed draws the same signals")
	}
	// the population itself does not depend on whether signals are drawn
	plain, _, _ := draw(t, w, 8000, 0, 5)
	for i := range plain {
		if !reflect.DeepEqual(plain[i].households, a[i].households) || !reflect.DeepEqual(plain[i].persons, a[i].persons) {
			t.Fatalf("chunk %d: the signals changed the population", i)
		}
	}
}

func TestSignalsShape(t *testing.T) {
	w := testWorld(t) // today 2026-11-28: the window is 2025-12 … 2026-11
	chunks, s := drawSignals(t, w, 60_000, 1)
	hs := households(s, chunks)
	if s.first.String() != "2025-12" || s.last.String() != "2026-11" {
		t.Fatalf("window %s … %s", s.first, s.last)
	}

	t.Run("dated before today, in their month, well formed", func(t *testing.T) {
		today := aidhub.DayOf(w.today.Time)
		ids := map[int64]bool{}
		for _, h := range hs {
			for _, row := range h.signals {
				id, on, month := row[0].(int64), aidhub.DayOf(row[6].(time.Time)), detect.Month(row[7].(int64))
				recorded := row[10].(time.Time)
				if ids[id] || row[2] == "" {
					t.Fatalf("signal %d: id or external id repeated or empty", id)
				}
				ids[id] = true
				if on >= today || !recorded.Before(w.todayStart) || recorded.Before(on.Time().Add(-8*time.Hour)) {
					t.Fatalf("signal %d observed %s recorded %s, today %s", id, on, recorded, w.today)
				}
				if month != detect.MonthOf(on.Time()) || month < s.first || month > s.last {
					t.Fatalf("signal %d: month %s for %s", id, month, on)
				}
				kind := row[5].(string)
				amount, status := row[8], row[9]
				switch kind {
				case detect.KindIncome, detect.KindMedicalSpending, detect.KindEducationSpending, detect.KindArrears:
					if a, ok := amount.(int64); !ok || a < 0 || status != "" {
						t.Fatalf("signal %d %s: amount %v status %v", id, kind, amount, status)
					}
				case detect.KindEmployment, detect.KindDisabilityGrade:
					if amount != nil || status == "" || row[4] == nil {
						t.Fatalf("signal %d %s: amount %v status %v person %v", id, kind, amount, status, row[4])
					}
				default:
					if !slices.Contains(detect.Kinds, kind) || amount != nil || status != "" || row[4] == nil {
						t.Fatalf("signal %d %s: amount %v status %v person %v", id, kind, amount, status, row[4])
					}
				}
			}
		}
	})

	t.Run("volume", func(t *testing.T) {
		n := 0
		kinds := map[string]int{}
		for _, h := range hs {
			n += len(h.signals)
			for _, row := range h.signals {
				kinds[row[5].(string)]++
			}
		}
		within(t, "signals per household-year", float64(n)/float64(len(hs)), 14.5, 0.8)
		within(t, "incomes per household-year", float64(kinds[detect.KindIncome])/float64(len(hs)), 11.64, 0.1)
		t.Logf("by kind per 1,000 households: %v", perThousand(kinds, len(hs)))
		for _, k := range detect.Kinds {
			if kinds[k] == 0 {
				t.Errorf("no %s signal", k)
			}
		}
	})

	t.Run("February dip in rural households only", func(t *testing.T) {
		feb, jan, mar := 2, 1, 3 // month indexes: 2026-02, 2026-01, 2026-03
		var rural, urban []float64
		for _, h := range hs {
			if h.income == 0 || h.incomes[jan] <= 0 || h.incomes[feb] < 0 || h.incomes[mar] <= 0 || !slices.ContainsFunc(h.ages, func(a int) bool { return a >= 19 && a < 60 }) {
				continue
			}
			ratio := float64(h.incomes[feb]) / float64(h.incomes[jan])
			switch {
			case !slices.Contains(centralDistricts, h.region[:6]) && h.region[9] >= '2':
				rural = append(rural, ratio)
			case slices.Contains(centralDistricts, h.region[:6]):
				urban = append(urban, ratio)
			}
		}
		if len(rural) < 1000 || len(urban) < 300 {
			t.Fatalf("%d rural and %d urban households", len(rural), len(urban))
		}
		// median of Feb / Jan: −25 % in the villages of the counties, none in the centre
		within(t, "rural February / January", median(rural), 0.75, 0.03)
		within(t, "urban February / January", median(urban), 1, 0.02)
	})

	t.Run("the shocks are in the rows", func(t *testing.T) {
		byID := map[int64]*sigHousehold{}
		for _, h := range hs {
			byID[h.id] = h
		}
		kinds := map[string]int{}
		for _, sh := range s.shocks {
			kinds[sh.Kind]++
			h := byID[sh.HouseholdID]
			i := int(sh.Month - s.first)
			if i < signalMonths-shockMonths {
				t.Fatalf("shock %+v before the last %d months", sh, shockMonths)
			}
			inMonth := func(kind, status string) []int64 {
				var out []int64
				for _, row := range h.signals {
					if row[5] == kind && detect.Month(row[7].(int64)) == sh.Month && (status == "" || row[9] == status) {
						if a, ok := row[8].(int64); ok {
							out = append(out, a)
						} else {
							out = append(out, 0)
						}
					}
				}
				return out
			}
			switch sh.Kind {
			case ShockJobLoss:
				if len(inMonth(detect.KindEmployment, "LOST_JOB")) == 0 {
					t.Errorf("%+v: no LOST_JOB that month", sh)
				}
			case ShockMedicalBill:
				bills := inMonth(detect.KindMedicalSpending, "")
				if len(inMonth(detect.KindHospitalisation, "")) == 0 || slices.Max(append(bills, 0)) < max(2*h.income, billMinFen) {
					t.Errorf("%+v: no admission or no bill of twice the income %d that month: %v", sh, h.income, bills)
				}
			case ShockIncomeCollapse:
				if h.income == 0 {
					t.Errorf("%+v: a collapse of no income", sh)
				}
				for j := i; j < signalMonths; j++ {
					if h.incomes[j] > h.income*6/10 {
						t.Errorf("%+v: income %d in %s of a stored %d", sh, h.incomes[j], s.first+detect.Month(j), h.income)
					}
				}
			}
		}
		within(t, "shocked households per month (%)", 100*float64(len(s.shocks))/float64(len(hs))/shockMonths, 0.4, 0.08)
		for _, k := range ShockKinds {
			if kinds[k] < 20 {
				t.Errorf("%d shocks of kind %s", kinds[k], k)
			}
		}
	})

	t.Run("the flood", func(t *testing.T) {
		if s.flood.District != floodDistrict || s.flood.Month < s.last-2 || s.flood.Month.MonthOfYear() == 2 {
			t.Fatalf("flood %+v", s.flood)
		}
		at := int(s.flood.Month - s.first)
		var hit, n int
		for _, h := range hs {
			if h.region[:6] != floodDistrict || h.income == 0 || h.incomes[at] < 0 || h.incomes[at-1] <= 0 {
				continue
			}
			n++
			if float64(h.incomes[at])/float64(h.incomes[at-1]) < 0.75 {
				hit++
			}
		}
		within(t, "flooded households that lost a quarter of their income", float64(hit)/float64(n), floodShare, 0.08)
	})
}

func TestGroundTruthFiles(t *testing.T) {
	dir := t.TempDir()
	g := GroundTruth{Seed: 3, Today: aidhub.Date{Time: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, First: 311, Last: 322, Signals: 99,
		Shocks: []Shock{{7, 318, ShockJobLoss}, {12, 320, ShockMedicalBill}, {40, 322, ShockIncomeCollapse}},
		Flood:  Flood{District: "500101", Name: "万州区", Month: 321, Share: 0.6}}
	if err := WriteGroundTruth(dir, g); err != nil {
		t.Fatal(err)
	}
	got, err := ReadGroundTruth(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, g) {
		t.Errorf("read back %+v\nwrote %+v", got, g)
	}
	if _, err := ReadGroundTruth(t.TempDir()); err == nil {
		t.Error("an empty folder has a ground truth")
	}
}

func perThousand(m map[string]int, n int) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[k] = float64(v) * 1000 / float64(n)
	}
	return out
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	sort.Float64s(v)
	return v[len(v)/2]
}

// BenchmarkDraw draws 100,000 persons with and without their signals: the
// difference is what the signals cost the drawing goroutine.
func BenchmarkDraw(b *testing.B) {
	w := testWorld(b)
	b.Run("without signals", func(b *testing.B) {
		for b.Loop() {
			draw(b, w, 100_000, 50, 1)
		}
	})
	b.Run("with signals", func(b *testing.B) {
		for b.Loop() {
			drawSignals(b, w, 100_000, 1)
		}
	})
}
