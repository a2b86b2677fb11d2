package detect_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/warning/detect"
)

// updateEvaluate reports -update, which rewrites testdata/evaluate/*.golden.json
// from the engine's output. The package's other golden tests share the
// flag, so whichever file comes first defines it.
var updateEvaluate = func() func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files from what the engine computes")
	}
	return func() bool { return flag.Lookup("update").Value.String() == "true" }
}()

// evalCase is one file of testdata/evaluate: households evaluated against
// every default type, with the thresholds and peers a fake source gives.
type evalCase struct {
	Description string                     `json:"description"`
	Type        string                     `json:"type"` // the type the file is about
	Month       string                     `json:"month"`
	Today       string                     `json:"today"`
	Thresholds  map[string]evalThresholdIn `json:"thresholds"` // by type code; absent: the type's fixed value
	Peers       map[string]float64         `json:"peers"`      // by measure: every cell's median
	Households  []evalHouseholdJSON        `json:"households"`
}

type evalThresholdIn struct {
	Scope   detect.Scope `json:"scope"`
	Value   float64      `json:"value"`
	Raw     float64      `json:"raw"`
	N       int          `json:"n"`
	Method  string       `json:"method"`
	Window  [2]string    `json:"window"`
	Clamped string       `json:"clamped"`
}

// evalHouseholdJSON is a household in a readable form: amounts by month,
// events with their days.
type evalHouseholdJSON struct {
	Name            string           `json:"name"`
	Expect          bool             `json:"expect"` // whether the file's type fires
	ID              int64            `json:"id"`
	Region          string           `json:"region"`
	Groups          []string         `json:"groups"`
	Left            []string         `json:"left"`
	Members         []evalMemberJSON `json:"members"`
	Departed        []evalMemberJSON `json:"departed"`
	Income          map[string]int64 `json:"income"`
	Medical         map[string]int64 `json:"medical"`
	Education       map[string]int64 `json:"education"`
	Arrears         map[string]int64 `json:"arrears"`
	Events          []evalEventJSON  `json:"events"`
	EmergencyAid12m int              `json:"emergencyAid12m"`
	OldestUnmetDays int              `json:"oldestUnmetDays"`
}

type evalMemberJSON struct {
	ID       int64  `json:"id"`
	Age      int    `json:"age"`
	Relation string `json:"relation"`
	Female   bool   `json:"female"`
}

type evalEventJSON struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Person int64  `json:"person"`
	Day    string `json:"day"`
	Status string `json:"status"`
}

func evMonth(t testing.TB, s string) detect.Month {
	t.Helper()
	m, err := detect.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func evDay(t testing.TB, s string) aidhub.Day {
	t.Helper()
	d, err := aidhub.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (j *evalHouseholdJSON) household(t testing.TB) *detect.Household {
	t.Helper()
	h := &detect.Household{ID: j.ID, Region: j.Region, Groups: j.Groups, Left: j.Left,
		EmergencyAid12m: j.EmergencyAid12m, OldestUnmetDays: j.OldestUnmetDays}
	members := func(ms []evalMemberJSON) []detect.Member {
		var out []detect.Member
		for _, m := range ms {
			out = append(out, detect.Member{PersonID: m.ID, Age: m.Age, Relation: m.Relation, Female: m.Female})
		}
		return out
	}
	h.Members, h.Departed = members(j.Members), members(j.Departed)
	series := []map[string]int64{j.Income, j.Medical, j.Education, j.Arrears}
	from, to := detect.Month(1<<30), detect.Month(-1)
	for _, s := range series {
		for k := range s {
			from, to = min(from, evMonth(t, k)), max(to, evMonth(t, k))
		}
	}
	if to >= from {
		h.History.From = from
		fill := func(s map[string]int64) []int64 {
			out := make([]int64, to-from+1)
			for i := range out {
				out[i] = detect.Unknown
			}
			for k, v := range s {
				out[evMonth(t, k)-from] = v
			}
			return out
		}
		h.History.Income, h.History.Medical, h.History.Education, h.History.Arrears = fill(j.Income), fill(j.Medical), fill(j.Education), fill(j.Arrears)
	}
	for _, e := range j.Events {
		h.Events = append(h.Events, detect.Event{SignalID: e.ID, Kind: e.Kind, PersonID: e.Person, Day: evDay(t, e.Day), Status: e.Status})
	}
	return h
}

// evalSource is a fake ThresholdSource: the file's thresholds for every
// cell, else the type's fixed value; the file's peers for every cell.
type evalSource struct {
	byType map[string]detect.Threshold
	peers  map[string]float64
}

func (s *evalSource) For(t *detect.Type, cell detect.Cell, m detect.Month) detect.Threshold {
	if th, ok := s.byType[t.Code]; ok {
		th.Type, th.Cell, th.Month = t.Code, cell, m
		return th
	}
	return detect.Threshold{Type: t.Code, Cell: cell, Month: m, Scope: detect.ScopeFixed, Value: t.Threshold.Fixed, Raw: t.Threshold.Fixed, Method: "fixed"}
}

func (s *evalSource) Peer(measure string, _ detect.Cell, _ detect.Month) (float64, bool) {
	v, ok := s.peers[measure]
	return v, ok
}

func (c *evalCase) source(t testing.TB) *evalSource {
	s := &evalSource{byType: map[string]detect.Threshold{}, peers: c.Peers}
	for code, in := range c.Thresholds {
		s.byType[code] = detect.Threshold{Scope: in.Scope, Value: in.Value, Raw: in.Raw, N: in.N, Method: in.Method,
			Window: [2]detect.Month{evMonth(t, in.Window[0]), evMonth(t, in.Window[1])}, Clamped: in.Clamped}
	}
	return s
}

// evalHitJSON is a Hit with its months as YYYY-MM, for review.
type evalHitJSON struct {
	Type          string            `json:"type"`
	PersonID      int64             `json:"personId,omitempty"`
	Month         string            `json:"month"`
	Measure       string            `json:"measure,omitempty"`
	Value         float64           `json:"value,omitempty"`
	PeerMedian    float64           `json:"peerMedian,omitempty"`
	Adjusted      float64           `json:"adjusted,omitempty"`
	Threshold     *evalThresholdOut `json:"threshold,omitempty"`
	Facts         map[string]any    `json:"facts,omitempty"`
	SignalIDs     []int64           `json:"signalIds,omitempty"`
	Months        []string          `json:"months,omitempty"`
	Explanation   string            `json:"explanation"`
	ExplanationZh string            `json:"explanationZh"`
}

type evalThresholdOut struct {
	Cell    string       `json:"cell"`
	Month   string       `json:"month"`
	Scope   detect.Scope `json:"scope"`
	Value   float64      `json:"value"`
	N       int          `json:"n"`
	Method  string       `json:"method"`
	Clamped string       `json:"clamped,omitempty"`
}

type evalGolden struct {
	Household string        `json:"household"`
	Hits      []evalHitJSON `json:"hits"`
}

func evalHitOut(h detect.Hit) evalHitJSON {
	out := evalHitJSON{Type: h.Type, PersonID: h.PersonID, Month: h.Month.String(), Measure: h.Measure, Value: round4(h.Value),
		PeerMedian: round4(h.PeerMedian), Adjusted: round4(h.Adjusted), Facts: h.Facts, SignalIDs: h.SignalIDs,
		Explanation: h.Explanation, ExplanationZh: h.ExplanationZh}
	for k, v := range out.Facts {
		if f, ok := v.(float64); ok {
			out.Facts[k] = round4(f)
		}
	}
	for _, m := range h.Months {
		out.Months = append(out.Months, m.String())
	}
	if th := h.Threshold; th != nil {
		out.Threshold = &evalThresholdOut{Cell: th.Cell.District + "/" + th.Cell.Group, Month: th.Month.String(), Scope: th.Scope,
			Value: th.Value, N: th.N, Method: th.Method, Clamped: th.Clamped}
	}
	return out
}

func round4(f float64) float64 {
	const k = 1e4
	if f < 0 {
		return -float64(int64(-f*k+0.5)) / k
	}
	return float64(int64(f*k+0.5)) / k
}

// TestEvaluateGolden evaluates each file's households against every
// default type: the household marked expect raises the file's type and the
// other does not, and all hits, with their evidence and explanations, match
// the golden file (go test -run TestEvaluateGolden -update rewrites them).
func TestEvaluateGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/evaluate/*.json")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, ".golden.json") {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var c evalCase
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			e, err := detect.NewEvaluator(detect.DefaultTypes(), c.source(t))
			if err != nil {
				t.Fatal(err)
			}
			m, today := evMonth(t, c.Month), evDay(t, c.Today)
			var golden []evalGolden
			fired := map[bool]bool{}
			for _, hj := range c.Households {
				hits := e.Evaluate(hj.household(t), m, today)
				got := slices.ContainsFunc(hits, func(h detect.Hit) bool { return h.Type == c.Type })
				if got != hj.Expect {
					t.Errorf("%s: %s raised %v, want %v (hits %v)", hj.Name, c.Type, got, hj.Expect, hitTypes(hits))
				}
				fired[hj.Expect] = true
				g := evalGolden{Household: hj.Name, Hits: []evalHitJSON{}}
				for _, h := range hits {
					g.Hits = append(g.Hits, evalHitOut(h))
				}
				golden = append(golden, g)
			}
			if fired[true] && fired[false] {
				covered[c.Type] = true
			}
			out, err := json.MarshalIndent(golden, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			gpath := strings.TrimSuffix(path, ".json") + ".golden.json"
			if updateEvaluate() {
				if err := os.WriteFile(gpath, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gpath)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(want, out) {
				t.Errorf("%s differs from the engine's output (run with -update and review the diff):\n%s", gpath, out)
			}
		})
	}
	for _, ty := range detect.DefaultTypes() {
		if !covered[ty.Code] {
			t.Errorf("no testdata/evaluate file shows %s firing and not firing", ty.Code)
		}
	}
}

func hitTypes(hits []detect.Hit) []string {
	var s []string
	for _, h := range hits {
		s = append(s, h.Type)
	}
	return s
}

// TestEvaluate_Options: a disabled type is skipped, the 低保 standard is
// configuration, and a threshold type needs a source.
func TestEvaluate_Options(t *testing.T) {
	m, today := evMonth(t, "2026-11"), evDay(t, "2026-11-28")
	var below detect.Type
	for _, ty := range detect.DefaultTypes() {
		if ty.Code == "BELOW_DIBAO_STANDARD" {
			below = ty
		}
	}
	// ¥3,000 for 3 people fell to ¥2,100: ¥700 each.
	h := (&evalHouseholdJSON{ID: 1, Region: "500103001001", Groups: []string{"MARGINAL"},
		Members: []evalMemberJSON{{ID: 1, Age: 40}, {ID: 2, Age: 38}, {ID: 3, Age: 9}},
		Income:  map[string]int64{"2026-08": 300000, "2026-09": 300000, "2026-10": 300000, "2026-11": 210000}}).household(t)
	for _, c := range []struct {
		name    string
		enabled bool
		opts    []detect.Option
		want    int
	}{
		{"default standard ¥800", true, nil, 1},
		{"a standard of ¥650", true, []detect.Option{detect.WithDibaoStandard(65000)}, 0},
		{"disabled", false, nil, 0},
	} {
		ty := below
		ty.Enabled = c.enabled
		e, err := detect.NewEvaluator([]detect.Type{ty}, nil, c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		hits := e.Evaluate(h, m, today)
		if len(hits) != c.want {
			t.Errorf("%s: %d hits, want %d", c.name, len(hits), c.want)
		}
		if len(hits) == 1 && hits[0].Facts["dibaoStandardFen"] != int64(80000) {
			t.Errorf("%s: facts %v", c.name, hits[0].Facts)
		}
	}
	if _, err := detect.NewEvaluator(detect.DefaultTypes(), nil); err == nil {
		t.Error("threshold types without a threshold source")
	}
}

// TestEvaluate_Concurrent: one evaluator serves several goroutines (run
// with -race), each getting the same hits as alone.
func TestEvaluate_Concurrent(t *testing.T) {
	m, today := evMonth(t, "2026-11"), evDay(t, "2026-11-28")
	hs := evPopulation(3, 200, m, today)
	e, err := detect.NewEvaluator(detect.DefaultTypes(), evCalibrated())
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]detect.Hit, len(hs))
	for i := range hs {
		want[i] = e.Evaluate(&hs[i], m, today)
	}
	errs := make(chan string, 4)
	for g := range 4 {
		go func() {
			for i := range hs {
				j := (i + g*50) % len(hs)
				if got := e.Evaluate(&hs[j], m, today); !reflect.DeepEqual(got, want[j]) {
					errs <- hs[j].Region
					return
				}
			}
			errs <- ""
		}()
	}
	for range 4 {
		if r := <-errs; r != "" {
			t.Errorf("a household of %s evaluated differently in parallel", r)
		}
	}
}
