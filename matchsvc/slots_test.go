package matchsvc

import (
	"slices"
	"testing"
)

func TestNeedSlots(t *testing.T) {
	s := newNeedSlots()
	s.add(11, 1, 0)
	s.add(21, 2, 1)
	s.add(12, 1, 2)
	s.add(13, 1, 3)
	s.add(12, 1, 7) // again: the slot moves, the chain stays
	for need, want := range map[int64]int{11: 0, 21: 1, 12: 7, 13: 3} {
		if got, ok := s.slot(need); !ok || got != want {
			t.Errorf("slot(%d) = %d, %v; want %d", need, got, ok, want)
		}
	}
	got := s.removeHousehold(1)
	slices.Sort(got)
	if !slices.Equal(got, []int{0, 3, 7}) {
		t.Errorf("household 1 had slots %v", got)
	}
	for _, need := range []int64{11, 12, 13} {
		if _, ok := s.slot(need); ok {
			t.Errorf("need %d still indexed", need)
		}
	}
	if got := s.removeHousehold(1); len(got) != 0 {
		t.Errorf("removed twice: %v", got)
	}
	if got, ok := s.slot(21); !ok || got != 1 {
		t.Errorf("another household's need: %d, %v", got, ok)
	}
	s.add(14, 1, 9)
	if got := s.removeHousehold(1); !slices.Equal(got, []int{9}) {
		t.Errorf("after re-adding: %v", got)
	}
}
