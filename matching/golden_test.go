package matching_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/matching"
)

var update = flag.Bool("update", false, "write the golden files' want sections from what the engine computes")

// catalogJSON is a catalog in a golden file (or testdata/catalog.json).
type catalogJSON struct {
	Groups     []aidhub.Group     `json:"groups"`
	Categories []aidhub.Category  `json:"categories"`
	Items      []aidhub.Item      `json:"items"`
	Plans      []aidhub.PlanEntry `json:"plans"`
}

// goldenCase is one testdata/*.json file: the input, and what the engine
// must answer.
type goldenCase struct {
	Description string              `json:"description"`
	Today       aidhub.Day          `json:"today"`
	Weights     *matching.Weights   `json:"weights,omitempty"`
	Colours     *aidhub.Colours     `json:"colours,omitempty"`
	Catalog     *catalogJSON        `json:"catalog,omitempty"` // default testdata/catalog.json
	Resources   []matching.Resource `json:"resources"`
	Needs       []matching.Need     `json:"needs"`
	// Aids are the ledger of the needs' subjects: each need's BlockedUntil
	// and BlockedBy are computed from its aids (Catalog.BlockingAid), as
	// the matcher does from the store, whatever aid the need's link names.
	Aids []needAids `json:"aids,omitempty"`
	Want goldenWant `json:"want"`
}

type needAids struct {
	Need int64        `json:"need"`
	Aids []aidhub.Aid `json:"aids"`
}

type goldenWant struct {
	// Matches per need, best first (limit 10).
	Matches []needMatches `json:"matches"`
	// WhyNot for every pair of need and resource.
	WhyNot []whyNot `json:"whyNot"`
	// ResourceMatches per resource: the needs it matches, best first.
	ResourceMatches []resourceMatches `json:"resourceMatches"`
	// Sweep: each need's best resource (0: none) and colour, and the counts.
	Sweep sweepWant `json:"sweep"`
}

type needMatches struct {
	Need    int64            `json:"need"`
	Matches []matching.Match `json:"matches"`
}

type whyNot struct {
	Need     int64              `json:"need"`
	Resource int64              `json:"resource"`
	Matched  bool               `json:"matched"`
	Failures []matching.Failure `json:"failures,omitempty"`
}

type resourceMatches struct {
	Resource int64       `json:"resource"`
	Needs    []needScore `json:"needs"`
}

type needScore struct {
	Need  int64   `json:"need"`
	Score float64 `json:"score"`
}

type sweepWant struct {
	Best  []sweepBest         `json:"best"`
	Stats matching.SweepStats `json:"stats"`
}

type sweepBest struct {
	Need     int64         `json:"need"`
	Resource int64         `json:"resource,omitempty"`
	Colour   aidhub.Colour `json:"colour"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func buildCatalog(t testing.TB, c *catalogJSON) *aidhub.Catalog {
	t.Helper()
	cat, err := aidhub.NewCatalog(c.Groups, c.Categories, c.Items, c.Plans)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestGolden runs every testdata/*.json case: matches, whyNot for every
// pair, matches per resource and a sweep, against the file's want section
// (go test ./matching -run TestGolden -update rewrites it), and checks the
// invariants that hold whatever the data.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var shared catalogJSON
	readJSON(t, "testdata/catalog.json", &shared)
	for _, file := range files {
		if filepath.Base(file) == "catalog.json" {
			continue
		}
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			var gc goldenCase
			readJSON(t, file, &gc)
			cj := &shared
			if gc.Catalog != nil {
				cj = gc.Catalog
			}
			got := runCase(t, &gc, buildCatalog(t, cj))
			if *update {
				gc.Want = got
				b, err := json.MarshalIndent(&gc, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
			wantJSON, _ := json.MarshalIndent(gc.Want, "", "  ")
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("%s: the engine's answer differs from the golden file (run with -update to rewrite it, then review the diff)\n%s",
					file, firstDiff(string(wantJSON), string(gotJSON)))
			}
		})
	}
}

// firstDiff shows the lines around the first difference.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		if i >= len(wl) || i >= len(gl) || wl[i] != gl[i] {
			lo := max(i-6, 0)
			var b strings.Builder
			b.WriteString("want:\n" + strings.Join(wl[lo:min(i+4, len(wl))], "\n"))
			b.WriteString("\ngot:\n" + strings.Join(gl[lo:min(i+4, len(gl))], "\n"))
			return b.String()
		}
	}
	return ""
}

func runCase(t *testing.T, gc *goldenCase, cat *aidhub.Catalog) goldenWant {
	t.Helper()
	w, c := matching.DefaultWeights(), aidhub.DefaultColours()
	if gc.Weights != nil {
		w = *gc.Weights
	}
	if gc.Colours != nil {
		c = *gc.Colours
	}
	e, err := matching.NewEngine(cat, w, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetResources(gc.Resources); err != nil {
		t.Fatal(err)
	}
	var got goldenWant
	today := gc.Today
	for _, na := range gc.Aids {
		i := slices.IndexFunc(gc.Needs, func(n matching.Need) bool { return n.ID == na.Need })
		if i < 0 {
			t.Fatalf("aids of unknown need %d", na.Need)
		}
		if a, until, ok := cat.BlockingAid(gc.Needs[i].Category, na.Aids); ok {
			gc.Needs[i].BlockedUntil, gc.Needs[i].BlockedBy = until, &a
		}
	}
	pop := matching.NewPopulation(cat)
	ix := matching.NewNeedIndex(pop)
	byNeed := map[int64][]matching.Match{}
	for i := range gc.Needs {
		n := &gc.Needs[i]
		ms := e.Match(n, today, 10)
		checkMatches(t, n.ID, ms)
		byNeed[n.ID] = ms
		got.Matches = append(got.Matches, needMatches{Need: n.ID, Matches: orEmpty(ms)})
		for _, r := range gc.Resources {
			ok, fs := e.WhyNot(n, r.ID, today)
			inMatch := slices.ContainsFunc(ms, func(m matching.Match) bool { return m.ResourceID == r.ID })
			if ok != inMatch && len(ms) < 10 {
				t.Errorf("need %d, resource %d: WhyNot says matched=%v, Match lists it: %v", n.ID, r.ID, ok, inMatch)
			}
			if ok != (len(fs) == 0) {
				t.Errorf("need %d, resource %d: matched=%v with failures %v", n.ID, r.ID, ok, fs)
			}
			got.WhyNot = append(got.WhyNot, whyNot{Need: n.ID, Resource: r.ID, Matched: ok, Failures: fs})
		}
		if _, err := ix.Add(n); err != nil {
			// An invalid need is refused by the population; Match gave nothing.
			if len(ms) != 0 {
				t.Errorf("need %d: refused by the population (%v) but matched", n.ID, err)
			}
		}
	}
	for _, r := range gc.Resources {
		nms := e.MatchResource(r.ID, ix, today, 100)
		rm := resourceMatches{Resource: r.ID, Needs: []needScore{}}
		for k, nm := range nms {
			checkFactors(t, nm.NeedID, r.ID, nm.Score, nm.Factors)
			if k > 0 && (nms[k-1].Score < nm.Score || nms[k-1].Score == nm.Score && nms[k-1].NeedID > nm.NeedID) {
				t.Errorf("resource %d: needs out of order at %d", r.ID, k)
			}
			// The same pair scores the same both ways.
			i := slices.IndexFunc(byNeed[nm.NeedID], func(m matching.Match) bool { return m.ResourceID == r.ID })
			if i < 0 {
				t.Errorf("resource %d matches need %d, but the need's matches do not list it", r.ID, nm.NeedID)
			} else if s := byNeed[nm.NeedID][i].Score; s != nm.Score {
				t.Errorf("resource %d, need %d: score %v one way, %v the other", r.ID, nm.NeedID, nm.Score, s)
			}
			rm.Needs = append(rm.Needs, needScore{Need: nm.NeedID, Score: nm.Score})
		}
		for id, ms := range byNeed {
			if len(ms) < 10 && slices.ContainsFunc(ms, func(m matching.Match) bool { return m.ResourceID == r.ID }) &&
				!slices.ContainsFunc(nms, func(nm matching.NeedMatch) bool { return nm.NeedID == id }) {
				t.Errorf("need %d matches resource %d, but the resource's matches do not list it", id, r.ID)
			}
		}
		got.ResourceMatches = append(got.ResourceMatches, rm)
	}
	best := make([]sweepBest, pop.Len())
	st, err := e.Sweep(pop, today, 2, func(i int, m *matching.Match, colour aidhub.Colour) {
		best[i] = sweepBest{Need: pop.ID(i), Colour: colour}
		if m != nil {
			best[i].Resource = m.ResourceID
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range best {
		ms := byNeed[b.Need]
		if (len(ms) == 0) != (b.Resource == 0) || len(ms) > 0 && ms[0].ResourceID != b.Resource {
			t.Errorf("need %d: the sweep's best is %d, Match's first %v", b.Need, b.Resource, ms)
		}
	}
	got.Sweep = sweepWant{Best: best, Stats: st}
	return got
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// checkMatches checks order and explanation arithmetic.
func checkMatches(t *testing.T, need int64, ms []matching.Match) {
	t.Helper()
	for k, m := range ms {
		checkFactors(t, need, m.ResourceID, m.Score, m.Factors)
		if k > 0 && !matchBefore(&ms[k-1], &m) {
			t.Errorf("need %d: matches out of order at %d: %v", need, k, ms)
		}
	}
}

// matchBefore is the order of a need's matches: item fit first (what the
// need asked for), then score, then resource ID.
func matchBefore(a, b *matching.Match) bool {
	fa, fb := a.Factors[1].Value, b.Factors[1].Value
	if fa != fb {
		return fa > fb
	}
	return a.Score > b.Score || a.Score == b.Score && a.ResourceID < b.ResourceID
}

func checkFactors(t *testing.T, need, resource int64, score float64, fs []matching.Factor) {
	t.Helper()
	names := []string{"severity", "itemFit", "entitlement", "distance", "waiting", "priority", "scarcity"}
	sum, maxSum := 0.0, 0.0
	for i, f := range fs {
		if i >= len(names) || f.Name != names[i] {
			t.Errorf("need %d, resource %d: factor %d is %q", need, resource, i, f.Name)
		}
		if f.Value < 0 || f.Value > 1 || math.IsNaN(f.Value) {
			t.Errorf("need %d, resource %d: factor %s has value %v outside [0, 1]", need, resource, f.Name, f.Value)
		}
		if f.Contribution != f.MaxPoints*f.Value {
			t.Errorf("need %d, resource %d: factor %s contributes %v, not %v × %v", need, resource, f.Name, f.Contribution, f.MaxPoints, f.Value)
		}
		sum += f.Contribution
		maxSum += f.MaxPoints
	}
	if math.Abs(maxSum-matching.MaxScore) > 1e-9 {
		t.Errorf("need %d, resource %d: the factors' maximum points add up to %v, not %d", need, resource, maxSum, matching.MaxScore)
	}
	if score < 0 || score > matching.MaxScore+1e-9 {
		t.Errorf("need %d, resource %d: score %v is outside 0–%d", need, resource, score, matching.MaxScore)
	}
	if len(fs) != len(names) {
		t.Errorf("need %d, resource %d: %d factors", need, resource, len(fs))
	}
	if math.Abs(sum-score) > 1e-9 || sum != score {
		t.Errorf("need %d, resource %d: contributions add up to %v, score %v", need, resource, sum, score)
	}
}
