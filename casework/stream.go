package casework

import (
	"context"
	"fmt"

	"github.com/aidhub/aidhub"
	"github.com/uptrace/bun"
)

// The reads below stream the open needs with what matching needs to know
// of them, for the matcher's engine: they check no principal (the hub's
// own loads and jobs call them) and return casework's rows, which the
// matcher turns into the engine's values.

// OpenNeed is an open need with its subject (the person, or the household
// head for a need of the whole household), its household and the aid that
// may cover it, as of one day.
type OpenNeed struct {
	ID           int64
	HouseholdID  int64
	PersonID     int64 // 0 for a need of the whole household
	CategoryCode string
	ItemCode     string // "" when the need names only its category
	Severity     int
	OpenedOn     aidhub.Date

	RegionCode         string
	HouseholdIncomeFen int64 // monthly
	HouseholdSize      int   // at least 1

	// Age and Female describe the subject; zero when it is not known.
	Age    int
	Female bool
	// Groups are the population groups in force that day: the person's
	// own and the household head's (whose status the household shares),
	// or every member's for a need of the whole household.
	Groups []string
	// Aid is every aid of the subject in any category, from the ledger
	// and from open referrals; which of it covers the need is the
	// catalog's rule, the matcher's to apply.
	Aid []CoveringAid
}

// CoveringAid is one aid given or promised to a household or one of its
// persons, for a period.
type CoveringAid struct {
	CategoryCode string
	Start, End   aidhub.Date
}

// openNeedBatch is how many open needs one query reads.
const openNeedBatch = 5000

// ScanOpenNeeds hands fn every open need as of today, in need-ID order,
// in batches. With workers 0 it reads them in one sequential pass;
// otherwise in ranges of chunkIDs need IDs, workers ranges at once.
// Reading a batch is mostly this process decoding rows while the database
// waits, then the database answering while this process waits; two at a
// time keep both busy (the 1.7 million open needs of 3 million people:
// 70 s alone).
func (s *Service) ScanOpenNeeds(ctx context.Context, workers int, chunkIDs int64, fn func([]OpenNeed) error) error {
	today := s.today()
	if workers == 0 {
		return scanOpenNeeds(ctx, s.db, today, 0, nil, fn)
	}
	return scanOpenNeedRanges(ctx, s.db, today, workers, chunkIDs, fn)
}

// OpenNeedsByID returns those of the given needs that are open, as of
// today, in ID order.
func (s *Service) OpenNeedsByID(ctx context.Context, ids []int64) ([]OpenNeed, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []OpenNeed
	err := scanOpenNeeds(ctx, s.db, s.today(), 0, func(q *bun.SelectQuery) { q.Where("n.id IN (?)", bun.List(ids)) },
		func(ns []OpenNeed) error { out = append(out, ns...); return nil })
	return out, err
}

// HouseholdOpenNeeds returns a household's open needs as of today, in ID
// order.
func (s *Service) HouseholdOpenNeeds(ctx context.Context, householdID int64) ([]OpenNeed, error) {
	var out []OpenNeed
	err := scanOpenNeeds(ctx, s.db, s.today(), 0, func(q *bun.SelectQuery) { q.Where("n.household_id = ?", householdID) },
		func(ns []OpenNeed) error { out = append(out, ns...); return nil })
	return out, err
}

// CountOpenNeeds counts the open needs.
func (s *Service) CountOpenNeeds(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().TableExpr("needs").Where("status = ?", NeedOpen).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("casework: count open needs: %w", err)
	}
	return int(n), nil
}

// openNeedRow is one open need with what matching needs to know of its
// household and person.
type openNeedRow struct {
	ID           int64
	HouseholdID  int64
	PersonID     *int64
	CategoryCode string
	ItemCode     *string
	Severity     int
	OpenedOn     aidhub.Date
	RegionCode   string
	IncomeFen    int64
	BirthDate    *aidhub.Date
	Female       *bool
}

// scanOpenNeeds reads the open needs with IDs above after (narrowed by
// where) with their person's and household's attributes, the groups in
// force on today and the aid that may cover them, in batches of up to
// 5,000 in need-ID order. fn receives each batch.
//
// ID order walks the primary key: each batch reads its 5,000 rows through
// the index. (Ordered by household, which has no index on needs, every
// batch sorted all open needs again: 1.7 million needs took five minutes
// to load instead of a few seconds.) An assessment creates a household's
// needs together, so ID order still keeps them together, as the matcher's
// population prefers; any order gives the same matches.
func scanOpenNeeds(ctx context.Context, idb bun.IDB, today aidhub.Date, after int64, where func(*bun.SelectQuery), fn func([]OpenNeed) error) error {
	for {
		var rows []openNeedRow
		q := idb.NewSelect().TableExpr("needs AS n").
			Join("JOIN households AS h ON h.id = n.household_id").
			Join("LEFT JOIN persons AS p ON p.id = n.person_id").
			ColumnExpr("n.id, n.household_id, n.person_id, n.category_code, n.item_code, n.severity, n.opened_on").
			ColumnExpr("h.region_code, h.monthly_income_fen AS income_fen, p.birth_date, p.female").
			Where("n.status = ?", NeedOpen).
			Where("n.id > ?", after).
			OrderExpr("n.id").Limit(openNeedBatch)
		if where != nil {
			where(q)
		}
		if err := q.Scan(ctx, &rows); err != nil {
			return fmt.Errorf("casework: load open needs: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		needs, err := completeOpenNeeds(ctx, idb, today, rows)
		if err != nil {
			return err
		}
		if err := fn(needs); err != nil {
			return err
		}
		after = rows[len(rows)-1].ID
		if len(rows) < openNeedBatch {
			return nil
		}
	}
}

// completeOpenNeeds completes a batch of need rows: household size and
// head, the groups in force on today (a person's own and those of the
// household head, whose status the household shares; every member's for
// household-level needs), and the aid from the ledger and open referrals.
func completeOpenNeeds(ctx context.Context, idb bun.IDB, today aidhub.Date, rows []openNeedRow) ([]OpenNeed, error) {
	households := make([]int64, 0, len(rows))
	seen := map[int64]bool{}
	for _, r := range rows {
		if !seen[r.HouseholdID] {
			seen[r.HouseholdID] = true
			households = append(households, r.HouseholdID)
		}
	}
	type member struct {
		ID          int64
		HouseholdID int64
		Relation    string
		BirthDate   aidhub.Date
		Female      bool
	}
	var members []member
	if err := idb.NewSelect().TableExpr("persons").ColumnExpr("id, household_id, relation, birth_date, female").
		Where("household_id IN (?)", bun.List(households)).Scan(ctx, &members); err != nil {
		return nil, fmt.Errorf("casework: load members: %w", err)
	}
	size := map[int64]int{}
	head := map[int64]member{}
	personHH := map[int64]int64{}
	for _, m := range members {
		size[m.HouseholdID]++
		personHH[m.ID] = m.HouseholdID
		if m.Relation == "HEAD" {
			head[m.HouseholdID] = m
		}
	}
	var memberships []struct {
		PersonID  int64
		GroupCode string
	}
	if err := idb.NewSelect().TableExpr("group_memberships AS gm").Join("JOIN persons AS p ON p.id = gm.person_id").
		ColumnExpr("gm.person_id, gm.group_code").
		Where("p.household_id IN (?)", bun.List(households)).
		Where("gm.since <= ? AND (gm.until IS NULL OR gm.until >= ?)", today, today).Scan(ctx, &memberships); err != nil {
		return nil, fmt.Errorf("casework: load groups: %w", err)
	}
	personGroups := map[int64][]string{}
	householdGroups := map[int64][]string{}
	for _, m := range memberships {
		personGroups[m.PersonID] = append(personGroups[m.PersonID], m.GroupCode)
		hh := personHH[m.PersonID]
		householdGroups[hh] = append(householdGroups[hh], m.GroupCode)
	}
	var aids []struct {
		HouseholdID  int64
		PersonID     *int64
		CategoryCode string
		PeriodStart  aidhub.Date
		PeriodEnd    aidhub.Date
	}
	if err := idb.NewSelect().TableExpr("aid_records").ColumnExpr("household_id, person_id, category_code, period_start, period_end").
		Where("household_id IN (?)", bun.List(households)).
		UnionAll(idb.NewSelect().TableExpr("referrals").ColumnExpr("household_id, person_id, category_code, period_start, period_end").
			Where("household_id IN (?) AND status IN (?)", bun.List(households), bun.List([]ReferralStatus{Pending, Accepted, InProgress}))).
		Scan(ctx, &aids); err != nil {
		return nil, fmt.Errorf("casework: load aid: %w", err)
	}

	aidsOf := make(map[int64][]int, len(aids)) // household → indexes into aids
	for i, a := range aids {
		aidsOf[a.HouseholdID] = append(aidsOf[a.HouseholdID], i)
	}

	out := make([]OpenNeed, len(rows))
	for i, r := range rows {
		n := OpenNeed{
			ID: r.ID, HouseholdID: r.HouseholdID, RegionCode: r.RegionCode, CategoryCode: r.CategoryCode,
			Severity: r.Severity, OpenedOn: r.OpenedOn, HouseholdSize: max(size[r.HouseholdID], 1),
			HouseholdIncomeFen: r.IncomeFen,
		}
		if r.ItemCode != nil {
			n.ItemCode = *r.ItemCode
		}
		subject := head[r.HouseholdID]
		if r.PersonID != nil && r.BirthDate != nil {
			n.PersonID = *r.PersonID
			subject = member{BirthDate: *r.BirthDate, Female: r.Female != nil && *r.Female}
			n.Groups = append(append([]string{}, personGroups[*r.PersonID]...), personGroups[head[r.HouseholdID].ID]...)
		} else {
			n.Groups = householdGroups[r.HouseholdID]
		}
		if !subject.BirthDate.IsZero() {
			p := Person{BirthDate: subject.BirthDate}
			n.Age, n.Female = p.Age(today), subject.Female
		}
		// Every aid of the subject counts, linked to the need or not, in
		// whatever category: the catalog's rule decides which covers it.
		for _, ai := range aidsOf[r.HouseholdID] {
			a := &aids[ai]
			if n.PersonID != 0 && a.PersonID != nil && *a.PersonID != n.PersonID {
				continue // aid to another member
			}
			n.Aid = append(n.Aid, CoveringAid{CategoryCode: a.CategoryCode, Start: a.PeriodStart, End: a.PeriodEnd})
		}
		out[i] = n
	}
	return out, nil
}

// scanOpenNeedRanges is scanOpenNeeds without a filter, in ranges of
// chunkIDs need IDs of which workers are read at once, handed to fn in ID
// order.
func scanOpenNeedRanges(ctx context.Context, idb bun.IDB, today aidhub.Date, workers int, chunkIDs int64, fn func([]OpenNeed) error) error {
	var bounds struct{ Lo, Hi int64 }
	if err := idb.NewSelect().TableExpr("needs").ColumnExpr("COALESCE(MIN(id), 0) AS lo, COALESCE(MAX(id), 0) AS hi").
		Where("status = ?", NeedOpen).Scan(ctx, &bounds); err != nil {
		return fmt.Errorf("casework: load open needs: %w", err)
	}
	if bounds.Hi == 0 {
		return nil
	}
	type chunk struct {
		needs []OpenNeed
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chan chunk, max(workers, 1)) // in ID order; each worker's answer
	go func() {
		defer close(chunks)
		sem := make(chan struct{}, max(workers, 1))
		for lo := bounds.Lo - 1; lo < bounds.Hi; lo += chunkIDs {
			answer := make(chan chunk, 1)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case chunks <- answer:
			case <-ctx.Done():
				return
			}
			go func(lo, hi int64) {
				defer func() { <-sem }()
				var c chunk
				c.err = scanOpenNeeds(ctx, idb, today, lo, func(q *bun.SelectQuery) { q.Where("n.id <= ?", hi) }, func(ns []OpenNeed) error {
					c.needs = append(c.needs, ns...)
					return nil
				})
				answer <- c
			}(lo, lo+chunkIDs)
		}
	}()
	for answer := range chunks {
		c := <-answer
		if c.err != nil {
			return c.err
		}
		if err := fn(c.needs); err != nil {
			return err
		}
	}
	return ctx.Err()
}
