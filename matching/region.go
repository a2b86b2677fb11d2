package matching

import "fmt"

// Division codes (GB/T 2260 and its 12-digit statistical extension) are
// handled as numbers: a code of n digits is the pair (n, value), and its
// prefix of l digits is (l, value / 10^(n−l)). A region keeps every prefix
// so that coverage and proximity tests are integer comparisons.
type region struct {
	n uint8                 // digits, 0 when unknown
	p [maxDigits + 1]uint64 // p[l] = value of the first l digits, l ≤ n
}

const maxDigits = 12

// parseRegion reads a code of 1 to 12 ASCII digits; "" is the unknown
// region.
func parseRegion(s string) (region, error) {
	var r region
	if s == "" {
		return r, nil
	}
	if len(s) > maxDigits {
		return r, fmt.Errorf("%q is not a division code: more than %d digits", s, maxDigits)
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch < '0' || ch > '9' {
			return r, fmt.Errorf("%q is not a division code: digits only", s)
		}
		v = v*10 + uint64(ch-'0')
		r.p[i+1] = v
	}
	r.n = uint8(len(s))
	return r, nil
}

// has reports whether the region lies within prefix c (also a region).
func (r *region) has(c *region) bool {
	return c.n > 0 && c.n <= r.n && r.p[c.n] == c.p[c.n]
}

// value is the whole code as a number.
func (r *region) value() uint64 { return r.p[r.n] }

// municipality reports whether a 2-digit province prefix is one of the
// four municipalities (Beijing, Tianjin, Shanghai, Chongqing), where the
// province is the city.
func municipality(p2 uint64) bool { return p2 == 11 || p2 == 12 || p2 == 31 || p2 == 50 }

// proximity is the distance factor between where a need is and where a
// resource is (locN digits, padded to 12 in loc12), by administrative
// proximity, since households have no coordinates: same village 1, same
// street 0.75, same district 0.5, same city 0.2, resource location
// unknown 0.1, farther 0.
func proximity(need *region, locN uint8, loc12 uint64) float64 {
	if locN == 0 {
		return 0.1
	}
	l := min(need.n, locN)
	switch {
	case l >= 12 && need.p[12] == loc12:
		return 1
	case l >= 9 && need.p[9] == loc12/1e3:
		return 0.75
	case l >= 6 && need.p[6] == loc12/1e6:
		return 0.5
	case l >= 4 && need.p[4] == loc12/1e8,
		l >= 2 && need.p[2] == loc12/1e10 && municipality(need.p[2]):
		return 0.2
	}
	return 0
}
