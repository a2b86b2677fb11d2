package aidhub

import "fmt"

// Colour is a need's place on the five-colour watchlist, by waiting time.
type Colour uint8

// Colours from the shortest wait to the longest.
const (
	Green Colour = iota
	Blue
	Yellow
	Orange
	Red
)

// NumColours is how many colours the watchlist has: counts by colour are
// arrays of this length, indexed by Colour.
const NumColours = int(Red) + 1

var colourNames = [NumColours]string{"GREEN", "BLUE", "YELLOW", "ORANGE", "RED"}

func (c Colour) String() string {
	if int(c) < NumColours {
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
	return fmt.Errorf("%q is not a colour (GREEN, BLUE, YELLOW, ORANGE or RED)", b)
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
		return fmt.Errorf("colour threshold blue is %d days; it must be at least 1", c.Blue)
	}
	prev, prevName := c.Blue, "blue"
	for _, t := range []struct {
		name string
		v    int
	}{{"yellow", c.Yellow}, {"orange", c.Orange}, {"red", c.Red}} {
		if t.v <= prev {
			return fmt.Errorf("colour threshold %s is %d days; it must be more than %s (%d days)", t.name, t.v, prevName, prev)
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
