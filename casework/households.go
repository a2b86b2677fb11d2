package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/residentid"
	"github.com/aidhub/aidhub/secret"
)

// Household is a registered household: its village, income and rigid
// expenditures per month.
type Household struct {
	bun.BaseModel `bun:"table:households,alias:h"`

	ID                   int64 `bun:",pk,autoincrement"`
	ExternalID           *string
	RegionCode           string // 12-digit village or community code
	Address              string
	MonthlyIncomeFen     int64 `bun:",notnull"`
	MedicalSpendingFen   int64 `bun:",notnull"`
	EducationSpendingFen int64 `bun:",notnull"`
	HousingSpendingFen   int64 `bun:",notnull"`
	OtherSpendingFen     int64 `bun:",notnull"`
	Version              int64 `bun:",notnull"`
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Relation is a person's place in the household.
type Relation string

// Relations a person can have to the household head.
var Relations = []Relation{"HEAD", "SPOUSE", "CHILD", "PARENT", "GRANDCHILD", "GRANDPARENT", "SIBLING", "OTHER"}

// Person is a member of a household. The resident ID is kept only as a
// keyed blind index (for lookup and uniqueness) and a ciphertext.
type Person struct {
	bun.BaseModel `bun:"table:persons,alias:p"`

	ID                  int64 `bun:",pk,autoincrement"`
	HouseholdID         int64 `bun:",notnull"`
	ExternalID          *string
	Name                string
	Relation            Relation
	ResidentIDIndex     []byte `bun:"resident_id_index,type:blob"`
	ResidentIDSealed    []byte `bun:"resident_id_sealed,type:blob"`
	BirthDate           aidhub.Date
	Female              bool `bun:",notnull"`
	PossibleDuplicateOf *int64
	CreatedAt           time.Time
}

// Age is the person's age in whole years on a day.
func (p *Person) Age(on aidhub.Date) int {
	age := on.Year() - p.BirthDate.Year()
	if on.Month() < p.BirthDate.Month() || (on.Month() == p.BirthDate.Month() && on.Day() < p.BirthDate.Day()) {
		age--
	}
	return max(age, 0)
}

// Membership is a person's membership of a population group for a period.
type Membership struct {
	bun.BaseModel `bun:"table:group_memberships,alias:gm"`

	ID        int64 `bun:",pk,autoincrement"`
	PersonID  int64 `bun:",notnull"`
	GroupCode string
	Since     aidhub.Date
	Until     *aidhub.Date
	CreatedAt time.Time
}

// ActiveOn reports whether the membership holds on day d.
func (m *Membership) ActiveOn(d aidhub.Date) bool {
	return !d.Before(m.Since) && (m.Until == nil || !m.Until.Before(d))
}

// MembershipInput is a group membership to record.
type MembershipInput struct {
	GroupCode string
	Since     aidhub.Date
	Until     *aidhub.Date
}

// PersonInput is a person to register.
type PersonInput struct {
	ExternalID *string
	Name       string
	ResidentID string
	Relation   Relation
	Groups     []MembershipInput
}

// HouseholdInput registers a household with its members.
type HouseholdInput struct {
	ExternalID           *string
	RegionCode           string
	Address              string
	MonthlyIncomeFen     int64
	MedicalSpendingFen   int64
	EducationSpendingFen int64
	HousingSpendingFen   int64
	OtherSpendingFen     int64
	Members              []PersonInput
}

// maxMonthlyFen bounds money per month: above it a value is a typo.
const maxMonthlyFen = 100_000_000 // one million yuan

const residentIDPurpose = "resident-id"

// SealResidentID returns how a person's resident ID is stored: its keyed
// blind index (for lookup and uniqueness) and its ciphertext, sealed with
// the index as associated data. Bulk loaders use it so that what they
// write opens and is found exactly like what RegisterHousehold writes.
func SealResidentID(keys *secret.Keys, id residentid.ID) (index, sealed []byte, err error) {
	index = keys.BlindIndex(residentIDPurpose, string(id))
	sealed, err = keys.Seal([]byte(id), index)
	if err != nil {
		return nil, nil, fmt.Errorf("casework: seal resident ID: %w", err)
	}
	return index, sealed, nil
}

func (s *Service) checkHousehold(in *HouseholdInput) error {
	if problems := s.householdProblems(in); len(problems) > 0 {
		return problems[0]
	}
	return nil
}

// householdProblems checks every field of in (cleaning its address and
// external ID) and returns each fault in field order: the API reports the
// first, the import all of them.
func (s *Service) householdProblems(in *HouseholdInput) []error {
	var problems []error
	if reason := s.regions.Check(in.RegionCode, regions.Village); reason != "" {
		problems = append(problems, aidhub.Invalid("regionCode", "%s", reason))
	}
	var err error
	if in.Address, err = aidhub.CleanText("address", in.Address, false, 200); err != nil {
		problems = append(problems, err)
	}
	if in.ExternalID, err = checkExternalID("externalId", in.ExternalID); err != nil {
		problems = append(problems, err)
	}
	for _, m := range []struct {
		field string
		v     int64
	}{
		{"monthlyIncomeFen", in.MonthlyIncomeFen}, {"spending.medicalFen", in.MedicalSpendingFen},
		{"spending.educationFen", in.EducationSpendingFen}, {"spending.housingFen", in.HousingSpendingFen},
		{"spending.otherFen", in.OtherSpendingFen},
	} {
		if m.v < 0 || m.v > maxMonthlyFen {
			problems = append(problems, aidhub.Invalid(m.field, "must be 0 to %d fen per month, got %d", maxMonthlyFen, m.v))
		}
	}
	return problems
}

func checkExternalID(field string, id *string) (*string, error) {
	if id == nil {
		return nil, nil
	}
	v, err := aidhub.CleanText(field, *id, false, 100)
	if err != nil || v == "" {
		return nil, err
	}
	return &v, nil
}

// preparedPerson is a checked PersonInput with its ID sealed.
type preparedPerson struct {
	person Person
	groups []MembershipInput
}

func (s *Service) preparePerson(in PersonInput, cat *catalog.Catalog, field string) (*preparedPerson, error) {
	pp, problems := s.checkPerson(in, cat, field)
	if len(problems) > 0 {
		return nil, problems[0]
	}
	return pp, nil
}

// checkPerson checks every field of in and returns the person with its ID
// sealed, or each fault in field order: the API reports the first, the
// import all of them.
func (s *Service) checkPerson(in PersonInput, cat *catalog.Catalog, field string) (*preparedPerson, []error) {
	var problems []error
	name, err := aidhub.CleanText(field+"name", in.Name, true, 50)
	if err != nil {
		problems = append(problems, err)
	}
	id, err := residentid.Parse(in.ResidentID, s.now().In(chinaTime))
	if err != nil {
		var ae *aidhub.Error
		if errors.As(err, &ae) {
			ae.Field = field + ae.Field
		}
		problems = append(problems, err)
	}
	if !validRelation(in.Relation) {
		problems = append(problems, aidhub.Invalid(field+"relation", "%q is not a relation", aidhub.Clip(string(in.Relation))))
	}
	ext, err := checkExternalID(field+"externalId", in.ExternalID)
	if err != nil {
		problems = append(problems, err)
	}
	for i, g := range in.Groups {
		f := fmt.Sprintf("%sgroups[%d].", field, i)
		if _, ok := cat.Group(g.GroupCode); !ok {
			problems = append(problems, aidhub.Invalid(f+"groupCode", "%q is not a population group", aidhub.Clip(g.GroupCode)))
		}
		if g.Since.IsZero() {
			problems = append(problems, aidhub.Invalid(f+"since", "is required"))
		}
		if g.Until != nil && g.Until.Before(g.Since) {
			problems = append(problems, aidhub.Invalid(f+"until", "is before since"))
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	index, sealed, err := SealResidentID(s.keys, id)
	if err != nil {
		return nil, []error{err}
	}
	return &preparedPerson{
		person: Person{
			ExternalID: ext, Name: name, Relation: in.Relation, ResidentIDIndex: index, ResidentIDSealed: sealed,
			BirthDate: aidhub.DateOf(id.BirthDate()), Female: id.Female(),
		},
		groups: in.Groups,
	}, nil
}

func validRelation(r Relation) bool {
	for _, k := range Relations {
		if r == k {
			return true
		}
	}
	return false
}

// insertPerson writes a prepared person into household h: CONFLICT when the
// resident ID is on file already, and a possible-duplicate mark when a
// person with the same name and birth date lives in the same village.
func (s *Service) insertPerson(ctx context.Context, tx bun.Tx, h *Household, pp *preparedPerson) (*Person, error) {
	p := pp.person
	p.HouseholdID = h.ID
	p.CreatedAt = s.now().UTC()
	var existing int64
	err := tx.NewSelect().Model((*Person)(nil)).Column("id").Where("resident_id_index = ?", p.ResidentIDIndex).Scan(ctx, &existing)
	switch {
	case err == nil:
		e := aidhub.Errorf(aidhub.ECONFLICT, "a person with this resident ID is registered already")
		e.Field, e.Existing = "residentId", &aidhub.Ref{Type: "Person", ID: existing}
		return nil, e
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	var twins []int64
	err = tx.NewSelect().Model((*Person)(nil)).Column("p.id").
		Join("JOIN households AS h ON h.id = p.household_id").
		Where("p.name = ? AND p.birth_date = ? AND h.region_code = ?", p.Name, p.BirthDate, h.RegionCode).
		Order("p.id").Limit(1).Scan(ctx, &twins)
	if err != nil {
		return nil, err
	}
	if len(twins) == 1 {
		p.PossibleDuplicateOf = &twins[0]
	}
	if _, err := tx.NewInsert().Model(&p).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, aidhub.Errorf(aidhub.ECONFLICT, "a person with this resident ID or external ID is registered already")
		}
		return nil, err
	}
	for _, g := range pp.groups {
		m := Membership{PersonID: p.ID, GroupCode: g.GroupCode, Since: g.Since, Until: g.Until, CreatedAt: p.CreatedAt}
		if _, err := tx.NewInsert().Model(&m).Exec(ctx); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// RegisterHousehold registers a household with its members (at least one,
// exactly one HEAD).
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not a case worker, or outside the
// case manager's region), BAD_USER_INPUT, CONFLICT (resident ID or
// external ID on file; extensions name the existing person).
func (s *Service) RegisterHousehold(ctx context.Context, in HouseholdInput) (*Household, []*Person, error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "registering a household"); err != nil {
		return nil, nil, err
	}
	if err := s.checkHousehold(&in); err != nil {
		return nil, nil, err
	}
	if !pr.WorksIn(in.RegionCode) {
		return nil, nil, aidhub.Errorf(aidhub.EFORBIDDEN, "the household's village is outside your region %s", pr.RegionPrefix)
	}
	if len(in.Members) == 0 || len(in.Members) > 30 {
		return nil, nil, aidhub.Invalid("members", "must list 1 to 30 persons, got %d", len(in.Members))
	}
	cat, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	heads := 0
	prepared := make([]*preparedPerson, len(in.Members))
	seen := map[string]bool{}
	for i, m := range in.Members {
		if prepared[i], err = s.preparePerson(m, cat, fmt.Sprintf("members[%d].", i)); err != nil {
			return nil, nil, err
		}
		if m.Relation == "HEAD" {
			heads++
		}
		key := string(prepared[i].person.ResidentIDIndex)
		if seen[key] {
			return nil, nil, aidhub.Invalid(fmt.Sprintf("members[%d].residentId", i), "appears twice in this household")
		}
		seen[key] = true
	}
	if heads != 1 {
		return nil, nil, aidhub.Invalid("members", "must have exactly one HEAD, got %d", heads)
	}
	now := s.now().UTC()
	h := &Household{
		ExternalID: in.ExternalID, RegionCode: in.RegionCode, Address: in.Address,
		MonthlyIncomeFen: in.MonthlyIncomeFen, MedicalSpendingFen: in.MedicalSpendingFen,
		EducationSpendingFen: in.EducationSpendingFen, HousingSpendingFen: in.HousingSpendingFen,
		OtherSpendingFen: in.OtherSpendingFen, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	var persons []*Person
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(h).Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return aidhub.Errorf(aidhub.ECONFLICT, "a household with this external ID is registered already")
			}
			return err
		}
		for _, pp := range prepared {
			p, err := s.insertPerson(ctx, tx, h, pp)
			if err != nil {
				return err
			}
			persons = append(persons, p)
		}
		return s.audit.Append(ctx, db.UnitOf(tx), "registerHousehold", "Household", h.ID, audit.Summary{
			"regionCode": h.RegionCode, "persons": len(persons),
		})
	})
	if err != nil {
		return nil, nil, wrap(err, "casework: register household")
	}
	return h, persons, nil
}

// AddPerson adds a member to a household.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (household outside the
// caller's view), BAD_USER_INPUT, CONFLICT.
func (s *Service) AddPerson(ctx context.Context, householdID int64, in PersonInput) (*Person, error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "adding a person"); err != nil {
		return nil, err
	}
	cat, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	pp, err := s.preparePerson(in, cat, "")
	if err != nil {
		return nil, err
	}
	if in.Relation == "HEAD" {
		return nil, aidhub.Invalid("relation", "the household has its HEAD already")
	}
	var p *Person
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		h, err := s.householdForWork(ctx, tx, pr, householdID)
		if err != nil {
			return err
		}
		if p, err = s.insertPerson(ctx, tx, h, pp); err != nil {
			return err
		}
		return s.audit.Append(ctx, db.UnitOf(tx), "addPerson", "Person", p.ID, audit.Summary{"householdId": h.ID, "relation": p.Relation, "groups": len(pp.groups)})
	})
	if err != nil {
		return nil, wrap(err, "casework: add person to household %d", householdID)
	}
	return p, nil
}

// householdForWork loads a household a case worker may change: NOT_FOUND
// when it does not exist or lies outside the caller's region (so its
// existence does not leak).
func (s *Service) householdForWork(ctx context.Context, idb bun.IDB, pr auth.Principal, id int64) (*Household, error) {
	h := new(Household)
	err := idb.NewSelect().Model(h).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errHouseholdNotFound
	}
	if err != nil {
		return nil, err
	}
	if !pr.WorksIn(h.RegionCode) {
		return nil, errHouseholdNotFound
	}
	return h, nil
}
