package detect

import (
	"math"
	"math/bits"
	"slices"
)

// MADScale makes the median absolute deviation estimate the standard
// deviation of normally distributed data (1 / Φ⁻¹(3/4)), so that K = 3 in a
// "median + K·MAD" rule means about three standard deviations.
const MADScale = 1.4826

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of v by linear interpolation
// between order statistics (R's type 7, numpy's default): with the values
// sorted as x₀ ≤ … ≤ xₙ₋₁ and h = (n−1)·q, it is x⌊h⌋ + (h−⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋).
// NaN values are dropped; ok is false when none remain or q is outside [0, 1].
// v is not modified: Quantile works on a copy, by selection (expected linear
// time), not a full sort.
func Quantile(v []float32, q float64) (float64, bool) {
	if !(q >= 0 && q <= 1) {
		return 0, false
	}
	buf := withoutNaN(v)
	if len(buf) == 0 {
		return 0, false
	}
	return quantileInPlace(buf, q), true
}

// Median is Quantile(v, 0.5): the middle value, or the mean of the two middle ones.
func Median(v []float32) (float64, bool) { return Quantile(v, 0.5) }

// MAD returns the median absolute deviation of v from its median, scaled by
// MADScale (1.4826) so that it estimates the standard deviation of normal
// data. NaN values are dropped; ok is false when none remain. v is not modified.
func MAD(v []float32) (float64, bool) {
	buf := withoutNaN(v)
	if len(buf) == 0 {
		return 0, false
	}
	_, mad := medianMADInPlace(buf, buf)
	return mad, true
}

// withoutNaN copies v without its NaN values.
func withoutNaN(v []float32) []float32 {
	buf := make([]float32, 0, len(v))
	for _, x := range v {
		if x == x {
			buf = append(buf, x)
		}
	}
	return buf
}

// quantileInPlace is Quantile of buf, which is non-empty and holds no NaN;
// it reorders buf (the multiset is unchanged).
func quantileInPlace(buf []float32, q float64) float64 {
	h := float64(len(buf)-1) * q
	k := int(h)
	frac := h - float64(k)
	selectKth(buf, k)
	lo := float64(buf[k])
	if frac == 0 || k+1 >= len(buf) {
		return lo
	}
	// After selection everything after k is ≥ buf[k]: the next order
	// statistic is their minimum.
	next := slices.Min(buf[k+1:])
	return lo + frac*(float64(next)-lo)
}

// medianMADInPlace returns the median of buf (non-empty, no NaN) and its
// scaled median absolute deviation. It reorders buf and writes the absolute
// deviations into dev[:len(buf)], which may be buf itself (then buf's values
// are lost) or a scratch slice with room for them. Deviations are rounded to
// float32 (relative error ≤ 2⁻²⁴, far below any threshold's meaning).
func medianMADInPlace(buf, dev []float32) (median, mad float64) {
	median = quantileInPlace(buf, 0.5)
	dev = dev[:0]
	for _, x := range buf {
		// An infinite median gives ∞−∞ = NaN: dropped like any NaN.
		if d := float32(math.Abs(float64(x) - median)); d == d {
			dev = append(dev, d)
		}
	}
	if len(dev) == 0 {
		return median, math.NaN()
	}
	return median, MADScale * quantileInPlace(dev, 0.5)
}

// selectSmall is the size below which selection just sorts: insertion sort
// beats partitioning on a few dozen values.
const selectSmall = 24

// selectKth reorders v (no NaN) so that v[k] holds the value it would hold
// if v were sorted, with nothing greater before it and nothing smaller after
// it. Quickselect with a three-way partition (shares are often exactly 0, so
// ties are common) and a median-of-three or ninther pivot; after 2·log₂(n)
// rounds without converging it sorts the rest, so the worst case stays
// O(n log n).
func selectKth(v []float32, k int) {
	lo, hi := 0, len(v)-1
	budget := 2 * bits.Len(uint(len(v)))
	for hi-lo+1 > selectSmall {
		if budget == 0 {
			slices.Sort(v[lo : hi+1])
			return
		}
		budget--
		p := selectPivot(v, lo, hi)
		// Dijkstra's partition: v[lo:lt] < p, v[lt:gt+1] == p, v[gt+1:hi+1] > p.
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch x := v[i]; {
			case x < p:
				v[lt], v[i] = v[i], v[lt]
				lt++
				i++
			case x > p:
				v[i], v[gt] = v[gt], v[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return
		}
	}
	insertionSort(v[lo : hi+1])
}

// selectPivot picks a pivot value of v[lo..hi]: the median of three, or of
// three medians of three (Tukey's ninther) on larger ranges.
func selectPivot(v []float32, lo, hi int) float32 {
	mid := lo + (hi-lo)/2
	if hi-lo < 128 {
		return median3(v[lo], v[mid], v[hi])
	}
	s := (hi - lo) / 8
	return median3(
		median3(v[lo], v[lo+s], v[lo+2*s]),
		median3(v[mid-s], v[mid], v[mid+s]),
		median3(v[hi-2*s], v[hi-s], v[hi]))
}

func median3(a, b, c float32) float32 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}

func insertionSort(v []float32) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}
