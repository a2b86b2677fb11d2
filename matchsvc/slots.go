package matchsvc

// needSlots maps the open needs in the index to their slots and finds a
// household's needs, in maps without pointers: the garbage collector
// marks them without looking inside. (A map of household → slice of need
// IDs was 1.4 million small objects for it to mark on every cycle, which
// showed as latency under load.)
type needSlots struct {
	byNeed map[int64]needSlot // need ID → slot and the household's next need
	first  map[int64]int64    // household → its first indexed need ID
}

type needSlot struct {
	slot int
	next int64 // the household's next indexed need ID; 0 ends the chain
}

func newNeedSlots() *needSlots {
	return &needSlots{byNeed: map[int64]needSlot{}, first: map[int64]int64{}}
}

// add records need's slot, first among its household's needs.
func (s *needSlots) add(needID, householdID int64, slot int) {
	if e, ok := s.byNeed[needID]; ok { // already chained: only the slot moves
		e.slot = slot
		s.byNeed[needID] = e
		return
	}
	s.byNeed[needID] = needSlot{slot: slot, next: s.first[householdID]}
	s.first[householdID] = needID
}

// slot returns the slot of an indexed need.
func (s *needSlots) slot(needID int64) (int, bool) {
	e, ok := s.byNeed[needID]
	return e.slot, ok
}

// removeHousehold forgets the household's needs and returns their slots.
func (s *needSlots) removeHousehold(householdID int64) []int {
	var slots []int
	for id := s.first[householdID]; id != 0; {
		e, ok := s.byNeed[id]
		if !ok {
			break
		}
		slots = append(slots, e.slot)
		delete(s.byNeed, id)
		id = e.next
	}
	delete(s.first, householdID)
	return slots
}
