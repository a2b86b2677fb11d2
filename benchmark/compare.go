package benchmark

import (
	"fmt"
	"math"
)

// ScoreTolerance is how far two matchers' scores of the same match may
// differ: they add the same float64 products in the same order, so in
// practice they agree to the bit.
const ScoreTolerance = 1e-9

// Answer is one matcher's best match for a need; Found is false when it
// has none.
type Answer struct {
	Best
	Found bool
}

func (a Answer) String() string {
	if !a.Found {
		return "no match"
	}
	return fmt.Sprintf("resource %d score %.12g", a.ResourceID, a.Score)
}

// Same reports whether two answers name the same resource with scores
// within ScoreTolerance (or both have none).
func Same(a, b Answer) bool {
	if a.Found != b.Found {
		return false
	}
	return !a.Found || a.ResourceID == b.ResourceID && math.Abs(a.Score-b.Score) <= ScoreTolerance
}

// Mismatch is a need on which matchers disagree.
type Mismatch struct {
	NeedID  int64
	Answers map[string]Answer // by matcher name
}

func (m Mismatch) String() string {
	s := fmt.Sprintf("need %d:", m.NeedID)
	for _, name := range []string{"engine", "sql", "meilisearch"} {
		if a, ok := m.Answers[name]; ok {
			s += fmt.Sprintf(" %s %s;", name, a)
		}
	}
	return s[:len(s)-1]
}

// Compare checks, for every need in ids, that every matcher in answers
// gives the first one's answer (a missing entry is "no match"); names
// lists the matchers in order.
func Compare(ids []int64, names []string, answers ...map[int64]Answer) []Mismatch {
	var out []Mismatch
	for _, id := range ids {
		ref := answers[0][id]
		agree := true
		for _, m := range answers[1:] {
			if !Same(ref, m[id]) {
				agree = false
				break
			}
		}
		if !agree {
			mm := Mismatch{NeedID: id, Answers: map[string]Answer{}}
			for i, m := range answers {
				mm.Answers[names[i]] = m[id]
			}
			out = append(out, mm)
		}
	}
	return out
}
