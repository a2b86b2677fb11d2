package detect_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aidhub/aidhub/warning/detect"
)

var calNaN = float32(math.NaN())

func TestQuantile(t *testing.T) {
	ones := make([]float32, 1000)
	for i := range ones {
		ones[i] = 1
	}
	for _, tc := range []struct {
		name string
		v    []float32
		q    float64
		want float64
		ok   bool
	}{
		{"empty", nil, 0.5, 0, false},
		{"only NaN", []float32{calNaN, calNaN}, 0.5, 0, false},
		{"q below 0", []float32{1, 2}, -0.1, 0, false},
		{"q above 1", []float32{1, 2}, 1.1, 0, false},
		{"q NaN", []float32{1, 2}, math.NaN(), 0, false},
		{"one value", []float32{7}, 0.95, 7, true},
		{"median of even n interpolates", []float32{4, 1, 3, 2}, 0.5, 2.5, true},
		// h = 3·0.25 = 0.75: 1 + 0.75·(2−1)
		{"lower quartile", []float32{4, 1, 3, 2}, 0.25, 1.75, true},
		{"minimum", []float32{4, 1, 3, 2}, 0, 1, true},
		{"maximum", []float32{4, 1, 3, 2}, 1, 4, true},
		// 1..20: h = 19·0.95 = 18.05: x18 = 19, x19 = 20, 19 + 0.05·1
		{"p95 of 1..20", calSeq(20), 0.95, 19.05, true},
		// 1..101: h = 100·0.9 = 90 exactly: x90 = 91
		{"p90 of 1..101 hits an order statistic", calSeq(101), 0.9, 91, true},
		{"NaN dropped", []float32{calNaN, 3, 1, calNaN, 2}, 0.5, 2, true},
		{"ties", []float32{0, 0, 0, 0, 5}, 0.75, 0, true},
		{"all equal, large", ones, 0.95, 1, true},
		{"negative values", []float32{-0.5, -0.25, 0, 0.25}, 0.5, -0.125, true},
		{"infinity is ordered", []float32{float32(math.Inf(1)), 1, 2}, 0.5, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.v)
			got, ok := detect.Quantile(tc.v, tc.q)
			if ok != tc.ok || math.Abs(got-tc.want) > 1e-6 {
				t.Errorf("Quantile(%v, %v) = %v, %v; want %v, %v", tc.v, tc.q, got, ok, tc.want, tc.ok)
			}
			if !slices.EqualFunc(before, tc.v, func(a, b float32) bool { return a == b || a != a && b != b }) {
				t.Errorf("Quantile reordered the caller's data: %v, was %v", tc.v, before)
			}
		})
	}
}

func calSeq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(n - i) // descending: the order must not matter
	}
	return v
}

// TestQuantileLarge checks selection against a full sort on slices large
// enough to partition, with many ties and adversarial orders.
func TestQuantileLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 7))
	inputs := map[string][]float32{}
	for _, n := range []int{25, 200, 5000, 100_001} {
		uniform := make([]float32, n)
		ties := make([]float32, n)
		sorted := make([]float32, n)
		organ := make([]float32, n)
		for i := range uniform {
			uniform[i] = rng.Float32()*2 - 1
			ties[i] = float32(rng.IntN(4)) / 4
			sorted[i] = float32(i)
			organ[i] = float32(min(i, n-i)) // organ pipe: rises then falls
		}
		inputs[fmt.Sprintf("uniform/%d", n)] = uniform
		inputs[fmt.Sprintf("ties/%d", n)] = ties
		inputs[fmt.Sprintf("sorted/%d", n)] = sorted
		inputs[fmt.Sprintf("organ/%d", n)] = organ
	}
	for n := 1; n <= 70; n++ { // around the sizes where selection switches to sorting
		small := make([]float32, n)
		for i := range small {
			small[i] = float32(rng.IntN(n/3 + 1))
		}
		inputs[fmt.Sprintf("small/%d", n)] = small
	}
	for name, v := range inputs {
		ref := slices.Clone(v)
		slices.Sort(ref)
		for _, q := range []float64{0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1} {
			h := float64(len(ref)-1) * q
			lo := int(math.Floor(h))
			want := float64(ref[lo])
			if lo+1 < len(ref) {
				want += (h - float64(lo)) * (float64(ref[lo+1]) - float64(ref[lo]))
			}
			if got, _ := detect.Quantile(v, q); math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
				t.Errorf("%s q=%v: got %v, want %v", name, q, got, want)
			}
		}
	}
}

func TestMedianMAD(t *testing.T) {
	for _, tc := range []struct {
		name      string
		v         []float32
		median    float64
		mad       float64
		ok, madOK bool
	}{
		{"empty", nil, 0, 0, false, false},
		{"NaN only", []float32{calNaN}, 0, 0, false, false},
		// median 2; |deviations| 1 1 0 0 2 4 7 → median 1; scaled 1.4826
		{"classic", []float32{1, 1, 2, 2, 4, 6, 9}, 2, 1.4826, true, true},
		// median 3.5 (even n); deviations 2.5 1.5 .5 .5 1.5 96.5 → median 1.5
		{"an outlier does not move it", []float32{1, 2, 3, 4, 5, 100}, 3.5, 1.5 * 1.4826, true, true},
		{"constant", []float32{0.3, 0.3, 0.3}, 0.3, 0, true, true},
		{"NaN dropped", []float32{calNaN, 1, 1, 2, 2, 4, 6, 9, calNaN}, 2, 1.4826, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.v)
			med, ok := detect.Median(tc.v)
			if ok != tc.ok || math.Abs(med-tc.median) > 1e-6 {
				t.Errorf("Median = %v, %v; want %v, %v", med, ok, tc.median, tc.ok)
			}
			mad, ok := detect.MAD(tc.v)
			if ok != tc.madOK || math.Abs(mad-tc.mad) > 1e-6 {
				t.Errorf("MAD = %v, %v; want %v, %v", mad, ok, tc.mad, tc.madOK)
			}
			if !slices.EqualFunc(before, tc.v, func(a, b float32) bool { return a == b || a != a && b != b }) {
				t.Errorf("MAD reordered the caller's data")
			}
		})
	}
}

// BenchmarkQuantile: p95 of a million values, the size of a large district's
// pool over a year.
func BenchmarkQuantile(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	v := make([]float32, 1_000_000)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := detect.Quantile(v, 0.95); !ok {
			b.Fatal("no quantile")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(v)), "ns/value")
}
