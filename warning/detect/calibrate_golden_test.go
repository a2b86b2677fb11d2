package detect_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/warning/detect"
)

// updateCalibrate is the -update flag of the golden tests. The package's
// other golden tests may define the same flag: whoever registers first
// owns it, the other reads it (init runs after every package-level var).
var updateCalibrate func() bool

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files' want sections from what the engine computes")
	}
	updateCalibrate = func() bool { return flag.Lookup("update").Value.String() == "true" }
}

// calibrateCase is one testdata/calibrate*.json file.
type calibrateCase struct {
	Description string             `json:"description"`
	Target      string             `json:"target"` // YYYY-MM
	Types       []detect.Type      `json:"types"`
	Households  []calHouseholdJSON `json:"households"`
	Want        calibrateWantJSON  `json:"want"`
}

// calHouseholdJSON is a household's cell and history; Copies > 1 adds that many
// households alike (IDs ID, ID+1, …), to fill a cell without repeating it.
type calHouseholdJSON struct {
	ID        int64    `json:"id"`
	Copies    int      `json:"copies,omitempty"`
	Region    string   `json:"region"`
	Groups    []string `json:"groups,omitempty"`
	From      string   `json:"from"`
	Income    []int64  `json:"income,omitempty"` // -1: unknown
	Medical   []int64  `json:"medical,omitempty"`
	Education []int64  `json:"education,omitempty"`
	Arrears   []int64  `json:"arrears,omitempty"`
}

type calibrateWantJSON struct {
	Thresholds []calThresholdJSON `json:"thresholds"`
	Peers      []calPeerJSON      `json:"peers"`
}

// calThresholdJSON is a Threshold with its months as YYYY-MM, for review.
type calThresholdJSON struct {
	Type    string  `json:"type"`
	Cell    string  `json:"cell"` // district/group
	Month   string  `json:"month"`
	Scope   string  `json:"scope"`
	Value   float64 `json:"value"`
	Raw     float64 `json:"raw"`
	N       int     `json:"n"`
	Window  string  `json:"window"`
	Method  string  `json:"method"`
	Clamped string  `json:"clamped,omitempty"`
}

type calPeerJSON struct {
	Measure string  `json:"measure"`
	Cell    string  `json:"cell"`
	Month   string  `json:"month"`
	Median  float64 `json:"median"`
	N       int     `json:"n"`
}

func calCellString(c detect.Cell) string { return c.District + "/" + c.Group }

func (h *calHouseholdJSON) households(t *testing.T) []detect.Household {
	t.Helper()
	from, err := detect.ParseMonth(h.From)
	if err != nil {
		t.Fatal(err)
	}
	var out []detect.Household
	for i := range max(h.Copies, 1) {
		out = append(out, detect.Household{ID: h.ID + int64(i), Region: h.Region, Groups: h.Groups,
			History: detect.History{From: from, Income: h.Income, Medical: h.Medical, Education: h.Education, Arrears: h.Arrears}})
	}
	return out
}

// TestCalibrateGolden runs every testdata/calibrate*.json case through a
// Calibrator and compares its thresholds and peer medians with the file's
// want section (go test ./warning/detect -run TestCalibrateGolden -update
// rewrites it; review the diff by hand).
func TestCalibrateGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/calibrate*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/calibrate*.json")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var gc calibrateCase
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&gc); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			target, err := detect.ParseMonth(gc.Target)
			if err != nil {
				t.Fatal(err)
			}
			c := detect.NewCalibrator(gc.Types, target)
			for i := range gc.Households {
				for _, h := range gc.Households[i].households(t) {
					c.Add(&h)
				}
			}
			ths, peers := c.Result()
			got := calibrateWantJSON{Thresholds: []calThresholdJSON{}, Peers: []calPeerJSON{}}
			for _, th := range ths {
				got.Thresholds = append(got.Thresholds, calThresholdJSON{Type: th.Type, Cell: calCellString(th.Cell),
					Month: th.Month.String(), Scope: string(th.Scope), Value: th.Value, Raw: th.Raw, N: th.N,
					Window: th.Window[0].String() + ".." + th.Window[1].String(), Method: th.Method, Clamped: th.Clamped})
			}
			for _, p := range peers {
				got.Peers = append(got.Peers, calPeerJSON{Measure: p.Measure, Cell: calCellString(p.Cell),
					Month: p.Month.String(), Median: p.Median, N: p.N})
			}
			if updateCalibrate() {
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
				t.Errorf("%s: the calibration differs from the golden file (run with -update to rewrite it, then review the diff)\n%s",
					file, calibFirstDiff(string(wantJSON), string(gotJSON)))
			}
		})
	}
}

// calibFirstDiff shows the lines around the first difference.
func calibFirstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		if i >= len(wl) || i >= len(gl) || wl[i] != gl[i] {
			lo := max(i-6, 0)
			return "want:\n" + strings.Join(wl[lo:min(i+4, len(wl))], "\n") +
				"\ngot:\n" + strings.Join(gl[lo:min(i+4, len(gl))], "\n")
		}
	}
	return ""
}
