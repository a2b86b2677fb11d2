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

// Colour is a need's place on the five-colour watchlist, by waiting time.
type Colour uint8

// Colours from the shortest wait to the longest.
const (
	Green Colour = iota
	Blue
	Yellow
	Orange
	Red
	nColours
)

var colourNames = [nColours]string{"GREEN", "BLUE", "YELLOW", "ORANGE", "RED"}

func (c Colour) String() string {
	if c < nColours {
		return colourNames[c]
	}
	return fmt.Sprintf("Colour(%d)", uint8(c))
}

// MarshalText writes the colour's name.
func (c Colour) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a colour's name.
func (c *Colour) UnmarshalText(b []byte) error {
	for i, n := range colourNames {
		if n == string(b) {
			*c = Colour(i)
			return nil
		}
	}
	return fmt.Errorf("matching: %q is not a colour (GREEN, BLUE, YELLOW, ORANGE or RED)", b)
}

// Colours are the waiting-day thresholds of the watchlist: a need that has
// waited fewer than Blue days is GREEN, fewer than Yellow BLUE, fewer than
// Orange YELLOW, fewer than Red ORANGE, and RED from Red days on.
type Colours struct {
	Blue   int `json:"blue"`
	Yellow int `json:"yellow"`
	Orange int `json:"orange"`
	Red    int `json:"red"`
}

// DefaultColours are 7, 14, 30 and 60 days.
func DefaultColours() Colours { return Colours{Blue: 7, Yellow: 14, Orange: 30, Red: 60} }

// Validate requires positive, strictly increasing thresholds.
func (c Colours) Validate() error {
	if c.Blue <= 0 {
		return fmt.Errorf("matching: colour threshold blue is %d days; it must be at least 1", c.Blue)
	}
	prev, prevName := c.Blue, "blue"
	for _, t := range []struct {
		name string
		v    int
	}{{"yellow", c.Yellow}, {"orange", c.Orange}, {"red", c.Red}} {
		if t.v <= prev {
			return fmt.Errorf("matching: colour threshold %s is %d days; it must be more than %s (%d days)", t.name, t.v, prevName, prev)
		}
		prev, prevName = t.v, t.name
	}
	return nil
}

// Of returns the colour of a need that has waited waitingDays.
func (c Colours) Of(waitingDays int) Colour {
	switch {
	case waitingDays < c.Blue:
		return Green
	case waitingDays < c.Yellow:
		return Blue
	case waitingDays < c.Orange:
		return Yellow
	case waitingDays < c.Red:
		return Orange
	}
	return Red
}
