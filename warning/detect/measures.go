package detect

// at returns the amount of month m in s, Unknown outside the history.
func (h *History) at(s []int64, m Month) int64 {
	i := int(m - h.From)
	if i < 0 || i >= len(s) {
		return Unknown
	}
	return s[i]
}

// Baseline is the median of the household's income in the 3 months before m,
// ok when at least 2 of them are known and the median is positive: the
// household's own recent level, so a one-off spike last month does not make
// this month a "drop".
func (h *History) Baseline(m Month) (fen int64, ok bool) {
	var known [3]int64
	n := 0
	for k := m - 3; k < m; k++ {
		if v := h.at(h.Income, k); v != Unknown {
			known[n] = v
			n++
		}
	}
	if n < 2 {
		return 0, false
	}
	var med int64
	if n == 3 { // the median of three without sorting: this runs for every household-month
		a, b, c := known[0], known[1], known[2]
		med = max(min(a, b), min(max(a, b), c))
	} else {
		med = (known[0] + known[1]) / 2
	}
	return med, med > 0
}

// Measure returns the named measure of month m, ok false when the history
// cannot say (no baseline, no signal of the kind that month).
func (h *History) Measure(name string, m Month) (float64, bool) {
	base, ok := h.Baseline(m)
	switch name {
	case MeasureIncomeDrop:
		inc := h.at(h.Income, m)
		if !ok || inc == Unknown {
			return 0, false
		}
		return float64(base-inc) / float64(base), true
	case MeasureMedicalShare:
		return h.share(h.Medical, m, base)
	case MeasureEducationShare:
		return h.share(h.Education, m, base)
	case MeasureArrearsShare:
		return h.share(h.Arrears, m, base)
	case MeasureRigidShare:
		var sum int64
		any := h.at(h.Income, m) != Unknown // silence is zero, as in share
		for _, s := range [][]int64{h.Medical, h.Education, h.Arrears} {
			if v := h.at(s, m); v != Unknown {
				sum += v
				any = true
			}
		}
		if !any {
			return 0, false
		}
		return burden(sum, base), true
	}
	return 0, false
}

// share is a spending kind's burden in month m. A month without a signal
// of the kind counts as no spending when the household's income is known:
// departments report claims, arrears and fees when there are some, so
// silence is zero, and a peer median taken over claimants only would be a
// typical bill, subtracted from everyone's.
func (h *History) share(s []int64, m Month, base int64) (float64, bool) {
	v := h.at(s, m)
	if v == Unknown {
		if h.at(h.Income, m) == Unknown {
			return 0, false
		}
		v = 0
	}
	return burden(v, base), true
}

// burden is spending over income, with the income floor and capped at 100
// months so one absurd figure cannot dominate a cell's statistics.
func burden(spent, base int64) float64 {
	base = max(base, MinIncomeFen)
	return min(float64(spent)/float64(base), 100)
}
