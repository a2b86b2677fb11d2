package casework

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/residentid"
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
		hs, err := s.monitored(ctx, s.db, cat, false, func(q *bun.SelectQuery) { q.Where("h.id IN (?)", bun.List(chunk)) })
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
	return s.ScanMonitoredHouseholdsBetween(ctx, 0, math.MaxInt64, fn)
}

// ScanMonitoredHouseholdsBetween is ScanMonitoredHouseholds for the
// households with IDs in (lo, hi]: several ranges can be read at once.
func (s *Service) ScanMonitoredHouseholdsBetween(ctx context.Context, lo, hi int64, fn func([]MonitoredHousehold) error) error {
	cat, err := s.tree(ctx)
	if err != nil {
		return err
	}
	after := lo
	for {
		hs, err := s.monitored(ctx, s.db, cat, true, func(q *bun.SelectQuery) {
			q.Where("h.id > ? AND h.id <= ?", after, hi).OrderExpr("h.id").Limit(monitoredBatch)
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

// HouseholdIDBounds returns the lowest and highest household ID (0, 0
// when there are none), for reading ranges at once.
func (s *Service) HouseholdIDBounds(ctx context.Context) (lo, hi int64, err error) {
	var b struct{ Lo, Hi int64 }
	if err := s.db.NewSelect().TableExpr("households").ColumnExpr("COALESCE(MIN(id), 0) AS lo, COALESCE(MAX(id), 0) AS hi").Scan(ctx, &b); err != nil {
		return 0, 0, fmt.Errorf("casework: household IDs: %w", err)
	}
	return b.Lo, b.Hi, nil
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

// monitored reads the households where selects and what early warning
// needs of them. ranged says the households are every one with an ID from
// the first to the last (a scan's batch): the other reads then ask for that
// range, which PostgreSQL answers from its indexes far faster than a list
// of thousands of IDs it must plan first.
func (s *Service) monitored(ctx context.Context, idb bun.IDB, cat *aidhub.Catalog, ranged bool, where func(*bun.SelectQuery)) ([]MonitoredHousehold, error) {
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
	inBatch := func(q *bun.SelectQuery, column string) *bun.SelectQuery {
		if ranged {
			return q.Where("? BETWEEN ? AND ?", bun.Ident(column), ids[0], ids[len(ids)-1])
		}
		return q.Where("? IN (?)", bun.Ident(column), bun.List(ids))
	}
	personIDs, err := monitoredMembers(ctx, idb, inBatch, index, out)
	if err != nil {
		return nil, err
	}
	if err := monitoredGroups(ctx, idb, cat, today, personIDs, index, out); err != nil {
		return nil, err
	}
	if err := monitoredAidAndNeeds(ctx, idb, cat, today, inBatch, index, out); err != nil {
		return nil, err
	}
	return out, nil
}

// batchFilter narrows a query to the batch's households by the named column.
type batchFilter func(q *bun.SelectQuery, column string) *bun.SelectQuery

func monitoredMembers(ctx context.Context, idb bun.IDB, inBatch batchFilter, index map[int64]int, out []MonitoredHousehold) ([]int64, error) {
	var members []struct {
		ID          int64
		HouseholdID int64
		Relation    string
		BirthDate   aidhub.Date
		Female      bool
	}
	if err := inBatch(idb.NewSelect().TableExpr("persons").ColumnExpr("id, household_id, relation, birth_date, female"), "household_id").
		OrderExpr("id").Scan(ctx, &members); err != nil {
		return nil, fmt.Errorf("casework: load monitored members: %w", err)
	}
	personIDs := make([]int64, len(members))
	for i, m := range members {
		h := &out[index[m.HouseholdID]]
		h.Members = append(h.Members, MonitoredMember{PersonID: m.ID, Relation: m.Relation, BirthDate: m.BirthDate, Female: m.Female})
		personIDs[i] = m.ID
	}
	return personIDs, nil
}

// monitoredGroups reads the memberships by person ID: joined from the
// households instead, PostgreSQL scanned every membership for each batch.
func monitoredGroups(ctx context.Context, idb bun.IDB, cat *aidhub.Catalog, today aidhub.Date, personIDs []int64, index map[int64]int, out []MonitoredHousehold) error {
	if len(personIDs) == 0 {
		return nil
	}
	var rows []struct {
		PersonID  int64
		GroupCode string
		Since     aidhub.Date
		Until     *aidhub.Date
	}
	yearAgo := today.AddDays(-365)
	q := idb.NewSelect().TableExpr("group_memberships").ColumnExpr("person_id, group_code, since, until").
		Where("since <= ?", today).Where("until IS NULL OR until >= ?", yearAgo)
	// A batch's persons mostly have neighbouring IDs (registered with
	// their households): their range walks the index once, and rows of
	// persons outside the batch are dropped below. A scattered batch
	// takes the list.
	lo, hi := slices.Min(personIDs), slices.Max(personIDs)
	if hi-lo <= int64(4*len(personIDs)+1000) {
		q.Where("person_id BETWEEN ? AND ?", lo, hi)
	} else {
		q.Where("person_id IN (?)", bun.List(personIDs))
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return fmt.Errorf("casework: load monitored groups: %w", err)
	}
	householdOf := make(map[int64]int64, len(personIDs))
	for i, h := range out {
		for _, m := range h.Members {
			householdOf[m.PersonID] = out[i].ID
		}
	}
	in := map[int64]map[string]bool{}
	left := map[int64]map[string]bool{}
	for _, r := range rows {
		hh, ok := householdOf[r.PersonID]
		if !ok {
			continue
		}
		m := in
		if r.Until != nil && r.Until.Before(today) {
			m = left
		}
		if m[hh] == nil {
			m[hh] = map[string]bool{}
		}
		m[hh][r.GroupCode] = true
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

func monitoredAidAndNeeds(ctx context.Context, idb bun.IDB, cat *aidhub.Catalog, today aidhub.Date, inBatch batchFilter, index map[int64]int, out []MonitoredHousehold) error {
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
		if err := inBatch(idb.NewSelect().TableExpr("aid_records").ColumnExpr("household_id, COUNT(*) AS n"), "household_id").
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
	if err := inBatch(idb.NewSelect().TableExpr("needs").ColumnExpr("household_id, MIN(opened_on) AS oldest"), "household_id").
		Where("status = ?", NeedOpen).
		GroupExpr("household_id").Scan(ctx, &needs); err != nil {
		return fmt.Errorf("casework: load oldest open needs: %w", err)
	}
	for _, n := range needs {
		out[index[n.HouseholdID]].OldestOpenNeed = n.Oldest
	}
	return nil
}

// HouseholdsByExternalIDs returns the ID of each household on file under
// one of the external IDs (those that are not are absent): a data feed
// names households by the ID their import gave them.
func (s *Service) HouseholdsByExternalIDs(ctx context.Context, externalIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(externalIDs))
	for chunk := range slices.Chunk(externalIDs, monitoredBatch) {
		var rows []struct {
			ID         int64
			ExternalID string
		}
		if err := s.db.NewSelect().TableExpr("households").ColumnExpr("id, external_id").
			Where("external_id IN (?)", bun.List(chunk)).Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("casework: look up households by external ID: %w", err)
		}
		for _, r := range rows {
			out[r.ExternalID] = r.ID
		}
	}
	return out, nil
}

// ResidentLookup is what a resident ID resolved to: the person and their
// household, nothing (zero IDs) when no one on file has it, or Err
// (BAD_USER_INPUT on field residentId, never quoting the number) when it
// is not a valid resident ID.
type ResidentLookup struct {
	PersonID    int64
	HouseholdID int64
	Err         error
}

// PersonsByResidentIDs resolves resident IDs (身份证号) through their blind
// index, one result per input in order: other departments know people by
// this number, not by the hub's person IDs. The numbers are neither logged
// nor kept.
func (s *Service) PersonsByResidentIDs(ctx context.Context, residentIDs []string) ([]ResidentLookup, error) {
	out := make([]ResidentLookup, len(residentIDs))
	today := s.now().In(chinaTime)
	indexes := make([][]byte, 0, len(residentIDs))
	at := make(map[string][]int, len(residentIDs))
	for i, raw := range residentIDs {
		id, err := residentid.Parse(raw, today)
		if err != nil {
			out[i].Err = err
			continue
		}
		index := s.keys.BlindIndex(residentIDPurpose, string(id))
		key := string(index)
		if _, ok := at[key]; !ok {
			indexes = append(indexes, index)
		}
		at[key] = append(at[key], i)
	}
	for chunk := range slices.Chunk(indexes, monitoredBatch) {
		var rows []struct {
			ID              int64
			HouseholdID     int64
			ResidentIDIndex []byte
		}
		q := s.db.NewSelect().TableExpr("persons AS p").ColumnExpr("p.id, p.household_id, p.resident_id_index")
		if s.db.IsPostgres() {
			// One probe of the unique index per number: for a list of
			// thousands PostgreSQL prefers to scan every person.
			q.Join("JOIN unnest(?::bytea[]) AS k (v) ON p.resident_id_index = k.v", pgdialect.Array(chunk))
		} else {
			q.Where("p.resident_id_index IN (?)", bun.List(chunk))
		}
		if err := q.Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("casework: look up persons by resident ID: %w", err)
		}
		for _, r := range rows {
			for _, i := range at[string(r.ResidentIDIndex)] {
				out[i].PersonID, out[i].HouseholdID = r.ID, r.HouseholdID
			}
		}
	}
	return out, nil
}
