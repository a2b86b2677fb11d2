package casework

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
)

// The reads below are early warning's view of households (package
// warning): who lives there, the population groups they are in or left
// within the year, the emergency aid of the last year and the oldest open
// need. Like the open-need stream they check no principal: the monitoring
// jobs and the full pass call them.

// MonitoredHousehold is a household as early warning sees it on one day.
type MonitoredHousehold struct {
	ID      int64
	Region  string
	Members []MonitoredMember
	// Groups are the codes in force on the day for any member, in catalog
	// order; Left those a member left within the year before (and is no
	// longer in), for the re-entry watch (防止返贫).
	Groups []string
	Left   []string
	// EmergencyAid12m counts aid records in the EMERGENCY category tree
	// whose period started within the year before the day.
	EmergencyAid12m int
	// OldestOpenNeed is the day the longest-waiting open need was opened;
	// zero when none is open.
	OldestOpenNeed aidhub.Date
}

// MonitoredMember is one person of a monitored household.
type MonitoredMember struct {
	PersonID  int64
	Relation  string
	BirthDate aidhub.Date
	Female    bool
}

// monitoredBatch is how many households one read takes.
const monitoredBatch = 5000

// MonitoredHouseholds returns the households with the given IDs (those
// that exist), in ID order, as of today.
func (s *Service) MonitoredHouseholds(ctx context.Context, ids []int64) ([]MonitoredHousehold, error) {
	cat, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	var out []MonitoredHousehold
	for chunk := range slices.Chunk(ids, monitoredBatch) {
		hs, err := s.monitored(ctx, s.db, cat, func(q *bun.SelectQuery) { q.Where("h.id IN (?)", bun.List(chunk)) })
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
	}
	slices.SortFunc(out, func(a, b MonitoredHousehold) int { return int(a.ID - b.ID) })
	return out, nil
}

// ScanMonitoredHouseholds hands fn every household in ID order, in batches
// of up to 5,000, as of today.
func (s *Service) ScanMonitoredHouseholds(ctx context.Context, fn func([]MonitoredHousehold) error) error {
	cat, err := s.tree(ctx)
	if err != nil {
		return err
	}
	var after int64
	for {
		hs, err := s.monitored(ctx, s.db, cat, func(q *bun.SelectQuery) {
			q.Where("h.id > ?", after).OrderExpr("h.id").Limit(monitoredBatch)
		})
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			return nil
		}
		if err := fn(hs); err != nil {
			return err
		}
		after = hs[len(hs)-1].ID
		if len(hs) < monitoredBatch {
			return nil
		}
	}
}

// CountHouseholds counts the households.
func (s *Service) CountHouseholds(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().TableExpr("households").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("casework: count households: %w", err)
	}
	return int(n), nil
}

// HouseholdOfPersons returns the household of each of the persons that
// exist, and which of the households exist: a data feed's signals name
// either.
func (s *Service) HouseholdOfPersons(ctx context.Context, householdIDs, personIDs []int64) (households map[int64]bool, personHousehold map[int64]int64, err error) {
	households, personHousehold = map[int64]bool{}, map[int64]int64{}
	for chunk := range slices.Chunk(householdIDs, monitoredBatch) {
		var ids []int64
		if err := s.db.NewSelect().TableExpr("households").Column("id").Where("id IN (?)", bun.List(chunk)).Scan(ctx, &ids); err != nil {
			return nil, nil, fmt.Errorf("casework: look up households: %w", err)
		}
		for _, id := range ids {
			households[id] = true
		}
	}
	for chunk := range slices.Chunk(personIDs, monitoredBatch) {
		var rows []struct{ ID, HouseholdID int64 }
		if err := s.db.NewSelect().TableExpr("persons").ColumnExpr("id, household_id").Where("id IN (?)", bun.List(chunk)).Scan(ctx, &rows); err != nil {
			return nil, nil, fmt.Errorf("casework: look up persons: %w", err)
		}
		for _, r := range rows {
			personHousehold[r.ID] = r.HouseholdID
		}
	}
	return households, personHousehold, nil
}

// tree is the catalog's category tree and groups, read once per scan.
func (s *Service) tree(ctx context.Context) (*aidhub.Catalog, error) {
	snap, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Tree()
}

func (s *Service) monitored(ctx context.Context, idb bun.IDB, cat *aidhub.Catalog, where func(*bun.SelectQuery)) ([]MonitoredHousehold, error) {
	var rows []struct {
		ID         int64
		RegionCode string
	}
	q := idb.NewSelect().TableExpr("households AS h").ColumnExpr("h.id, h.region_code")
	where(q)
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("casework: load monitored households: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]MonitoredHousehold, len(rows))
	index := make(map[int64]int, len(rows))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = MonitoredHousehold{ID: r.ID, Region: r.RegionCode}
		index[r.ID] = i
		ids[i] = r.ID
	}
	today := s.today()
	if err := monitoredMembers(ctx, idb, ids, index, out); err != nil {
		return nil, err
	}
	if err := monitoredGroups(ctx, idb, cat, today, ids, index, out); err != nil {
		return nil, err
	}
	if err := monitoredAidAndNeeds(ctx, idb, cat, today, ids, index, out); err != nil {
		return nil, err
	}
	return out, nil
}

func monitoredMembers(ctx context.Context, idb bun.IDB, ids []int64, index map[int64]int, out []MonitoredHousehold) error {
	var members []struct {
		ID          int64
		HouseholdID int64
		Relation    string
		BirthDate   aidhub.Date
		Female      bool
	}
	if err := idb.NewSelect().TableExpr("persons").ColumnExpr("id, household_id, relation, birth_date, female").
		Where("household_id IN (?)", bun.List(ids)).OrderExpr("id").Scan(ctx, &members); err != nil {
		return fmt.Errorf("casework: load monitored members: %w", err)
	}
	for _, m := range members {
		h := &out[index[m.HouseholdID]]
		h.Members = append(h.Members, MonitoredMember{PersonID: m.ID, Relation: m.Relation, BirthDate: m.BirthDate, Female: m.Female})
	}
	return nil
}

func monitoredGroups(ctx context.Context, idb bun.IDB, cat *aidhub.Catalog, today aidhub.Date, ids []int64, index map[int64]int, out []MonitoredHousehold) error {
	var rows []struct {
		HouseholdID int64
		GroupCode   string
		Since       aidhub.Date
		Until       *aidhub.Date
	}
	yearAgo := today.AddDays(-365)
	if err := idb.NewSelect().TableExpr("group_memberships AS gm").Join("JOIN persons AS p ON p.id = gm.person_id").
		ColumnExpr("p.household_id, gm.group_code, gm.since, gm.until").
		Where("p.household_id IN (?)", bun.List(ids)).
		Where("gm.since <= ?", today).
		Where("gm.until IS NULL OR gm.until >= ?", yearAgo).
		Scan(ctx, &rows); err != nil {
		return fmt.Errorf("casework: load monitored groups: %w", err)
	}
	in := map[int64]map[string]bool{}
	left := map[int64]map[string]bool{}
	for _, r := range rows {
		m := in
		if r.Until != nil && r.Until.Before(today) {
			m = left
		}
		if m[r.HouseholdID] == nil {
			m[r.HouseholdID] = map[string]bool{}
		}
		m[r.HouseholdID][r.GroupCode] = true
	}
	for _, g := range cat.Groups() { // catalog order: the most protected first
		for hh, codes := range in {
			if codes[g.Code] {
				out[index[hh]].Groups = append(out[index[hh]].Groups, g.Code)
			}
		}
		for hh, codes := range left {
			if codes[g.Code] && !in[hh][g.Code] {
				out[index[hh]].Left = append(out[index[hh]].Left, g.Code)
			}
		}
	}
	return nil
}

func monitoredAidAndNeeds(ctx context.Context, idb bun.IDB, cat *aidhub.Catalog, today aidhub.Date, ids []int64, index map[int64]int, out []MonitoredHousehold) error {
	emergency := []string{}
	for _, c := range cat.Categories() {
		if c.Code == "EMERGENCY" || cat.Within(c.Code, "EMERGENCY") {
			emergency = append(emergency, c.Code)
		}
	}
	if len(emergency) > 0 {
		var aid []struct {
			HouseholdID int64
			N           int
		}
		if err := idb.NewSelect().TableExpr("aid_records").ColumnExpr("household_id, COUNT(*) AS n").
			Where("household_id IN (?)", bun.List(ids)).
			Where("category_code IN (?)", bun.List(emergency)).
			Where("period_start > ? AND period_start <= ?", today.AddDays(-365), today).
			GroupExpr("household_id").Scan(ctx, &aid); err != nil {
			return fmt.Errorf("casework: count emergency aid: %w", err)
		}
		for _, a := range aid {
			out[index[a.HouseholdID]].EmergencyAid12m = a.N
		}
	}
	var needs []struct {
		HouseholdID int64
		Oldest      aidhub.Date
	}
	if err := idb.NewSelect().TableExpr("needs").ColumnExpr("household_id, MIN(opened_on) AS oldest").
		Where("household_id IN (?)", bun.List(ids)).Where("status = ?", NeedOpen).
		GroupExpr("household_id").Scan(ctx, &needs); err != nil {
		return fmt.Errorf("casework: load oldest open needs: %w", err)
	}
	for _, n := range needs {
		out[index[n.HouseholdID]].OldestOpenNeed = n.Oldest
	}
	return nil
}
