package matching

import (
	"fmt"
	"math"
)

// Weights weigh the score factors. Each factor's value is in [0, 1]; a
// factor's share of the score's MaxScore points is its weight over the sum
// of the weights, and its contribution is that share × its value. Weights
// are configuration: finite, not negative, at least one above zero.
type Weights struct {
	Severity    float64 `json:"severity"`    // the need's severity
	ItemFit     float64 `json:"itemFit"`     // exact item, then its category, then a sub-category
	Entitlement float64 `json:"entitlement"` // the groups' differentiated plan
	Distance    float64 `json:"distance"`    // administrative proximity
	Waiting     float64 `json:"waiting"`     // days the need has waited
	Priority    float64 `json:"priority"`    // the best tier among the groups
	Scarcity    float64 `json:"scarcity"`    // how much of the resource is taken
}

// DefaultWeights favour who needs it most and longest (severity, waiting),
// what the groups are entitled to, then proximity and priority; scarcity
// is small so that it separates near ties rather than overriding fit.
func DefaultWeights() Weights {
	return Weights{Severity: 3, ItemFit: 1, Entitlement: 2, Distance: 1, Waiting: 2, Priority: 1.5, Scarcity: 0.5}
}

func (w Weights) list() [nFactors]float64 {
	return [nFactors]float64{w.Severity, w.ItemFit, w.Entitlement, w.Distance, w.Waiting, w.Priority, w.Scarcity}
}

// points are the weights scaled so that they add up to MaxScore: each
// factor's points at value 1.
func (w Weights) points() [nFactors]float64 {
	l := w.list()
	sum := 0.0
	for _, v := range l {
		sum += v
	}
	for i := range l {
		l[i] = MaxScore * l[i] / sum
	}
	return l
}

// Validate refuses a negative, NaN or infinite weight, naming it.
func (w Weights) Validate() error {
	for i, v := range w.list() {
		switch {
		case math.IsNaN(v):
			return fmt.Errorf("matching: weight %s is NaN; weights must be finite numbers ≥ 0", factorNames[i])
		case math.IsInf(v, 0):
			return fmt.Errorf("matching: weight %s is %v; weights must be finite numbers ≥ 0", factorNames[i], v)
		case v < 0:
			return fmt.Errorf("matching: weight %s is %v; weights must be finite numbers ≥ 0", factorNames[i], v)
		}
	}
	sum := 0.0
	for _, v := range w.list() {
		sum += v
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return fmt.Errorf("matching: the weights add up to %v; at least one must be above zero, and their sum finite", sum)
	}
	return nil
}
