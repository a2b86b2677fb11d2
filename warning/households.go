package warning

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/warning/detect"
)

// signalRow is what the engine reads of a signal.
type signalRow struct {
	ID          int64
	HouseholdID int64
	PersonID    *int64
	Kind        string
	ObservedOn  aidhub.Date
	Month       detect.Month
	AmountFen   *int64
	Status      string
}

// engineHouseholds turns casework's households and their signals into the
// engine's: amounts of the months [month − before, month] summed per kind
// and month, every person event, ages on today.
func (s *Service) engineHouseholds(ctx context.Context, hs []casework.MonitoredHousehold, month detect.Month, before int, today aidhub.Date) ([]detect.Household, error) {
	out := make([]detect.Household, len(hs))
	index := make(map[int64]int, len(hs))
	from := month - detect.Month(before)
	span := int(month-from) + 1
	for i, h := range hs {
		index[h.ID] = i
		d := &out[i]
		d.ID, d.Region, d.Groups, d.Left = h.ID, h.Region, h.Groups, h.Left
		d.EmergencyAid12m = h.EmergencyAid12m
		if !h.OldestOpenNeed.IsZero() {
			d.OldestUnmetDays = int(dayOf(today) - dayOf(h.OldestOpenNeed))
		}
		d.Members = make([]detect.Member, len(h.Members))
		for j, p := range h.Members {
			d.Members[j] = detect.Member{PersonID: p.PersonID, Age: ageOn(p.BirthDate, today), Relation: p.Relation, Female: p.Female}
		}
		d.History = newHistory(from, span)
	}
	rows, err := s.signalsOf(ctx, s.db, hs, from)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		i, ok := index[r.HouseholdID]
		if !ok {
			continue
		}
		d := &out[i]
		if r.AmountFen != nil {
			addAmount(&d.History, r)
			continue
		}
		ev := detect.Event{SignalID: r.ID, Kind: r.Kind, Day: dayOf(r.ObservedOn), Status: r.Status}
		if r.PersonID != nil {
			ev.PersonID = *r.PersonID
		}
		d.Events = append(d.Events, ev)
	}
	return out, nil
}

func newHistory(from detect.Month, span int) detect.History {
	h := detect.History{From: from}
	all := make([]int64, 4*span)
	for i := range all {
		all[i] = detect.Unknown
	}
	h.Income, h.Medical, h.Education, h.Arrears = all[:span:span], all[span:2*span:2*span], all[2*span:3*span:3*span], all[3*span:]
	return h
}

// addAmount adds an amount signal to its month; several in one month add up.
func addAmount(h *detect.History, r signalRow) {
	var s []int64
	switch r.Kind {
	case detect.KindIncome:
		s = h.Income
	case detect.KindMedicalSpending:
		s = h.Medical
	case detect.KindEducationSpending:
		s = h.Education
	case detect.KindArrears:
		s = h.Arrears
	default:
		return
	}
	i := int(r.Month - h.From)
	if i < 0 || i >= len(s) {
		return
	}
	if s[i] == detect.Unknown {
		s[i] = 0
	}
	s[i] += *r.AmountFen
}

// signalsOf reads the households' amount signals from month from on and
// all their events (a disability grade's change needs the grade before).
func (s *Service) signalsOf(ctx context.Context, idb bun.IDB, hs []casework.MonitoredHousehold, from detect.Month) ([]signalRow, error) {
	q := idb.NewSelect().TableExpr("signals").
		ColumnExpr("id, household_id, person_id, kind, observed_on, month, amount_fen, status").
		Where("month >= ? OR amount_fen IS NULL", from)
	if contiguous(hs) {
		// A scan's batch is a range of IDs: the index walks it once.
		q.Where("household_id BETWEEN ? AND ?", hs[0].ID, hs[len(hs)-1].ID)
	} else {
		ids := make([]int64, len(hs))
		for i, h := range hs {
			ids[i] = h.ID
		}
		q.Where("household_id IN (?)", bun.List(ids))
	}
	// Scanned by hand: a full pass reads ten million of these, and bun's
	// reflection per column was most of the time.
	rs, err := q.Rows(ctx)
	if err != nil {
		return nil, fmt.Errorf("warning: read signals: %w", err)
	}
	defer rs.Close()
	var rows []signalRow
	for rs.Next() {
		var r signalRow
		var person, amount sql.NullInt64
		if err := rs.Scan(&r.ID, &r.HouseholdID, &person, &r.Kind, &r.ObservedOn, &r.Month, &amount, &r.Status); err != nil {
			return nil, fmt.Errorf("warning: read signals: %w", err)
		}
		if person.Valid {
			r.PersonID = &person.Int64
		}
		if amount.Valid {
			r.AmountFen = &amount.Int64
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("warning: read signals: %w", err)
	}
	return rows, nil
}

// contiguous reports whether hs is in ID order and many enough that a
// range read is cheaper than a list; rows of households in the range but
// not in hs are dropped by the caller.
func contiguous(hs []casework.MonitoredHousehold) bool {
	if len(hs) < 100 || hs[len(hs)-1].ID-hs[0].ID > int64(2*len(hs)) {
		return false
	}
	for i := 1; i < len(hs); i++ {
		if hs[i].ID <= hs[i-1].ID {
			return false
		}
	}
	return true
}

// ageOn is the age in whole years on day.
func ageOn(birth, day aidhub.Date) int {
	by, bm, bd := birth.Date()
	y, m, d := day.Date()
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return max(age, 0)
}

// evaluationMonth is the month a household is evaluated for: the latest
// month of its income up to the current one, when it is the current or
// the previous month (departments send a month's income after it ends);
// otherwise the current month.
func evaluationMonth(h *detect.Household, current detect.Month) detect.Month {
	for m := current; m >= current-1; m-- {
		i := int(m - h.History.From)
		if i >= 0 && i < len(h.History.Income) && h.History.Income[i] != detect.Unknown {
			return m
		}
	}
	return current
}

// ScanEngineHouseholds hands fn every household as the engine sees it on
// today, with the amounts of the months [month − before, month] and every
// event, in batches in ID order: the backtest and benchmarks read the whole
// population through it. fn may keep the batch. It checks no principal.
func (s *Service) ScanEngineHouseholds(ctx context.Context, month detect.Month, before int, fn func([]detect.Household) error) error {
	today := s.today()
	return s.casework.ScanMonitoredHouseholds(ctx, func(hs []casework.MonitoredHousehold) error {
		out, err := s.engineHouseholds(ctx, hs, month, before, today)
		if err != nil {
			return err
		}
		return fn(out)
	})
}
