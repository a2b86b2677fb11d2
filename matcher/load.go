package matcher

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/matching"
)

// engineCatalog turns the stored catalog into the engine's view.
func engineCatalog(c *catalog.Catalog) (*aidhub.Catalog, error) {
	groups := make([]aidhub.Group, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = aidhub.Group{Code: g.Code, Tier: g.Tier, Name: g.NameEn, NameZh: g.NameZh}
	}
	cats := make([]aidhub.Category, len(c.Categories))
	for i, k := range c.Categories {
		cats[i] = aidhub.Category{Code: k.Code, WindowDays: k.DuplicateWindowDays, Name: k.NameEn, NameZh: k.NameZh}
		if k.ParentCode != nil {
			cats[i].Parent = *k.ParentCode
		}
	}
	items := make([]aidhub.Item, len(c.Items))
	for i, it := range c.Items {
		items[i] = aidhub.Item{Code: it.Code, Category: it.CategoryCode, HouseholdLevel: it.HouseholdLevel, Name: it.NameEn, NameZh: it.NameZh}
	}
	plans := make([]aidhub.PlanEntry, len(c.Plans))
	for i, p := range c.Plans {
		lv, err := aidhub.ParseLevel(string(p.Level))
		if err != nil {
			return nil, err
		}
		plans[i] = aidhub.PlanEntry{Group: p.GroupCode, Item: p.ItemCode, Level: lv}
	}
	return aidhub.NewCatalog(groups, cats, items, plans)
}

func day(d *aidhub.Date) *aidhub.Day {
	if d == nil {
		return nil
	}
	v := aidhub.DayOf(d.Time)
	return &v
}

// engineResource turns a stored resource into the engine's form.
func engineResource(r *catalog.Resource) matching.Resource {
	m := matching.Resource{
		ID: r.ID, OrganizationID: r.OrganizationID, Items: r.ItemCodes, Groups: r.GroupCodes, Coverage: r.Coverage,
		AgeMin: r.AgeMin, AgeMax: r.AgeMax, IncomeCeilingFen: r.IncomeCeilingFen,
		ValidFrom: day(r.ValidFrom), ValidUntil: day(r.ValidUntil),
		UnitsLeft: r.UnitsLeft(), UnitsTotal: r.CapacityUnits, BudgetLeftFen: r.BudgetLeftFen(),
		Rule: r.EligibilityRule,
	}
	if r.DivisionCode != nil {
		m.Region = *r.DivisionCode
	}
	return m
}

// needRow is one open need with what the engine needs to know of its
// household and person.
type needRow struct {
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

// loadNeeds reads the open needs with IDs above after (narrowed by
// where) with their person's and household's attributes, the groups in
// force today and the aid that blocks their category, in batches of up to
// 5,000 in need-ID order. fn receives each batch.
//
// ID order walks the primary key: each batch reads its 5,000 rows through
// the index. (Ordered by household, which has no index on needs, every
// batch sorted all open needs again: 1.7 million needs took five minutes
// to load instead of a few seconds.) An assessment creates a household's
// needs together, so ID order still keeps them together, as
// matching.Population prefers; any order gives the same matches.
func loadNeeds(ctx context.Context, idb bun.IDB, cat *aidhub.Catalog, today aidhub.Date, after int64, where func(*bun.SelectQuery), fn func([]matching.Need) error) error {
	for {
		var rows []needRow
		q := idb.NewSelect().TableExpr("needs AS n").
			Join("JOIN households AS h ON h.id = n.household_id").
			Join("LEFT JOIN persons AS p ON p.id = n.person_id").
			ColumnExpr("n.id, n.household_id, n.person_id, n.category_code, n.item_code, n.severity, n.opened_on").
			ColumnExpr("h.region_code, h.monthly_income_fen AS income_fen, p.birth_date, p.female").
			Where("n.status = ?", casework.NeedOpen).
			Where("n.id > ?", after).
			OrderExpr("n.id").Limit(5000)
		if where != nil {
			where(q)
		}
		if err := q.Scan(ctx, &rows); err != nil {
			return fmt.Errorf("matcher: load needs: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		needs, err := describe(ctx, idb, cat, today, rows)
		if err != nil {
			return err
		}
		if err := fn(needs); err != nil {
			return err
		}
		after = rows[len(rows)-1].ID
		if len(rows) < 5000 {
			return nil
		}
	}
}

// describe completes a batch of need rows: household size and head, the
// groups in force today (a person's own and those of the household head,
// whose status the household shares; every member's for household-level
// needs), and the duplicate-rule block from the ledger and open referrals.
func describe(ctx context.Context, idb bun.IDB, cat *aidhub.Catalog, today aidhub.Date, rows []needRow) ([]matching.Need, error) {
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
		return nil, fmt.Errorf("matcher: load members: %w", err)
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
		return nil, fmt.Errorf("matcher: load groups: %w", err)
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
			Where("household_id IN (?) AND status IN (?)", bun.List(households), bun.List([]casework.ReferralStatus{casework.Pending, casework.Accepted, casework.InProgress}))).
		Scan(ctx, &aids); err != nil {
		return nil, fmt.Errorf("matcher: load aid: %w", err)
	}

	aidsOf := make(map[int64][]int, len(aids)) // household → indexes into aids
	for i, a := range aids {
		aidsOf[a.HouseholdID] = append(aidsOf[a.HouseholdID], i)
	}

	out := make([]matching.Need, len(rows))
	for i, r := range rows {
		n := matching.Need{
			ID: r.ID, HouseholdID: r.HouseholdID, Region: r.RegionCode, Category: r.CategoryCode,
			Severity: r.Severity, OpenedOn: aidhub.DayOf(r.OpenedOn.Time), HouseholdSize: max(size[r.HouseholdID], 1),
		}
		n.IncomePerCapitaFen = r.IncomeFen / int64(n.HouseholdSize)
		n.HouseholdIncomeFen = r.IncomeFen
		if r.ItemCode != nil {
			n.Item = *r.ItemCode
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
			p := casework.Person{BirthDate: subject.BirthDate}
			n.Age, n.Female = p.Age(today), subject.Female
		}
		// Every aid of the subject counts, linked to the need or not, in
		// whatever category: Catalog.Covers decides which cover this one.
		var blocking []aidhub.Aid
		for _, ai := range aidsOf[r.HouseholdID] {
			a := &aids[ai]
			if n.PersonID != 0 && a.PersonID != nil && *a.PersonID != n.PersonID {
				continue // aid to another member
			}
			blocking = append(blocking, aidhub.Aid{Category: a.CategoryCode, Start: aidhub.DayOf(a.PeriodStart.Time), End: aidhub.DayOf(a.PeriodEnd.Time)})
		}
		if a, until, ok := cat.BlockingAid(r.CategoryCode, blocking); ok {
			n.BlockedUntil, n.BlockedBy = until, &a
		}
		out[i] = n
	}
	return out, nil
}

// loadWorkers is how many ranges of needs a full load reads at once.
const loadWorkers = 2

// needChunk is how many need IDs one worker of loadAllNeeds reads at a
// time: one batch of loadNeeds.
const needChunk = 5000

// loadAllNeeds reads every open need, like loadNeeds without a filter, in
// ranges of chunkIDs need IDs of which workers are read at once, and hands
// them to fn in ID order. Reading a batch is mostly this process decoding
// rows while the database waits, then the database answering while this
// process waits; two at a time keep both busy (the 1.7 million open needs
// of 3 million people: 70 s alone).
func loadAllNeeds(ctx context.Context, idb bun.IDB, cat *aidhub.Catalog, today aidhub.Date, workers int, chunkIDs int64, fn func([]matching.Need) error) error {
	var bounds struct{ Lo, Hi int64 }
	if err := idb.NewSelect().TableExpr("needs").ColumnExpr("COALESCE(MIN(id), 0) AS lo, COALESCE(MAX(id), 0) AS hi").
		Where("status = ?", casework.NeedOpen).Scan(ctx, &bounds); err != nil {
		return fmt.Errorf("matcher: load needs: %w", err)
	}
	if bounds.Hi == 0 {
		return nil
	}
	type chunk struct {
		needs []matching.Need
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
				c.err = loadNeeds(ctx, idb, cat, today, lo, func(q *bun.SelectQuery) { q.Where("n.id <= ?", hi) }, func(ns []matching.Need) error {
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
