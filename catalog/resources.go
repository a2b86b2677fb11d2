package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
)

// Status is where a resource is in its lifecycle:
// DRAFT → PUBLISHED ⇄ PAUSED, and any of them → CLOSED, which is final.
// The daily expiry job moves a PUBLISHED or PAUSED resource whose validity
// has ended to EXPIRED; extending validUntil and publishing again brings it
// back (EXPIRED → PUBLISHED).
type Status string

const (
	Draft     Status = "DRAFT"
	Published Status = "PUBLISHED"
	Paused    Status = "PAUSED"
	Expired   Status = "EXPIRED"
	Closed    Status = "CLOSED"
)

// allStatuses lists every status, in lifecycle order.
var allStatuses = []Status{Draft, Published, Paused, Expired, Closed}

// Limits on resource fields; beyond them a value is a typo, not a plan.
const (
	MaxAge            = 150
	MaxIncomeCeiling  = 10_000_000      // fen per person per month: 100,000 yuan
	MaxCapacityUnits  = 10_000_000      // units
	MaxCapacityBudget = 100_000_000_000 // fen: 1 billion yuan
	maxListEntries    = 50
)

// Resource is a charity resource (慈善资源): what an organization offers,
// to whom, where, how much and when.
type Resource struct {
	bun.BaseModel `bun:"table:resources,alias:r"`

	ID                int64 `bun:",pk,autoincrement"`
	OrganizationID    int64 `bun:",notnull"`
	Title             string
	Description       string
	Status            Status
	AgeMin, AgeMax    *int
	IncomeCeilingFen  *int64
	CapacityUnits     *int64
	UnitsTaken        int64 `bun:",notnull"`
	CapacityBudgetFen *int64
	BudgetTakenFen    int64 `bun:",notnull"`
	ValidFrom         *aidhub.Date
	ValidUntil        *aidhub.Date
	Address           string
	DivisionCode      *string
	Lat, Lng          *float64
	ContactName       string
	ContactPhone      string
	// EligibilityRule is an optional expression over the person matched
	// (see matching); "" means none.
	EligibilityRule string `bun:",notnull"`
	Version         int64  `bun:",notnull"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
	PublishedAt     *time.Time
	ClosedAt        *time.Time

	ItemCodes  []string `bun:"-"`
	GroupCodes []string `bun:"-"`
	Coverage   []string `bun:"-"` // division-code prefixes
}

// UnitsLeft returns the units still free, nil when capacity is not counted
// in units.
func (r *Resource) UnitsLeft() *int64 {
	if r.CapacityUnits == nil {
		return nil
	}
	left := *r.CapacityUnits - r.UnitsTaken
	return &left
}

// BudgetLeftFen returns the budget still free, nil when there is none.
func (r *Resource) BudgetLeftFen() *int64 {
	if r.CapacityBudgetFen == nil {
		return nil
	}
	left := *r.CapacityBudgetFen - r.BudgetTakenFen
	return &left
}

// Expired reports whether the validity window ended before today.
func (r *Resource) Expired(today aidhub.Date) bool {
	return r.ValidUntil != nil && r.ValidUntil.Before(today)
}

// ResourcePatch sets resource fields. For CreateResource it is the whole
// resource; for UpdateResource unset fields stay as they are.
type ResourcePatch struct {
	Title, Description                 *string
	ItemCodes, GroupCodes, Coverage    *[]string
	AgeMin, AgeMax                     aidhub.Opt[int]
	IncomeCeilingFen                   aidhub.Opt[int64]
	CapacityUnits, CapacityBudgetFen   aidhub.Opt[int64]
	ValidFrom, ValidUntil              aidhub.Opt[aidhub.Date]
	Address, ContactName, ContactPhone *string
	EligibilityRule                    *string
	DivisionCode                       aidhub.Opt[string]
	Lat, Lng                           aidhub.Opt[float64]
}

func (p *ResourcePatch) apply(r *Resource) {
	setIf(&r.Title, p.Title)
	setIf(&r.Description, p.Description)
	setIf(&r.ItemCodes, p.ItemCodes)
	setIf(&r.GroupCodes, p.GroupCodes)
	setIf(&r.Coverage, p.Coverage)
	p.AgeMin.Apply(&r.AgeMin)
	p.AgeMax.Apply(&r.AgeMax)
	p.IncomeCeilingFen.Apply(&r.IncomeCeilingFen)
	p.CapacityUnits.Apply(&r.CapacityUnits)
	p.CapacityBudgetFen.Apply(&r.CapacityBudgetFen)
	p.ValidFrom.Apply(&r.ValidFrom)
	p.ValidUntil.Apply(&r.ValidUntil)
	setIf(&r.Address, p.Address)
	setIf(&r.ContactName, p.ContactName)
	setIf(&r.ContactPhone, p.ContactPhone)
	setIf(&r.EligibilityRule, p.EligibilityRule)
	p.DivisionCode.Apply(&r.DivisionCode)
	p.Lat.Apply(&r.Lat)
	p.Lng.Apply(&r.Lng)
}

// validate checks and normalizes every field of r against the catalog. The
// steps run in a fixed order, so the first bad field reported stays the same.
func (s *Service) validate(r *Resource, cat *Catalog) error {
	if err := cleanTitleAndDescription(r); err != nil {
		return err
	}
	if err := s.checkCodes(r, cat); err != nil {
		return err
	}
	if err := checkAgeRange(r); err != nil {
		return err
	}
	if err := checkAmounts(r); err != nil {
		return err
	}
	if err := checkCapacityCoversTaken(r); err != nil {
		return err
	}
	if err := checkValidityWindow(r); err != nil {
		return err
	}
	if err := cleanContact(r); err != nil {
		return err
	}
	if err := s.checkEligibilityRule(r); err != nil {
		return err
	}
	return s.checkPlace(r)
}

// cleanTitleAndDescription normalizes the title and the description.
func cleanTitleAndDescription(r *Resource) error {
	var err error
	if r.Title, err = aidhub.CleanText("title", r.Title, true, 200); err != nil {
		return err
	}
	r.Description, err = aidhub.CleanText("description", r.Description, false, 5000)
	return err
}

// checkCodes normalizes the item, group and coverage codes, each against
// what the catalog or the region list knows.
func (s *Service) checkCodes(r *Resource, cat *Catalog) error {
	var err error
	if r.ItemCodes, err = codeList("itemCodes", r.ItemCodes, func(c string) bool { _, ok := cat.Item(c); return ok }, "service item"); err != nil {
		return err
	}
	if r.GroupCodes, err = codeList("groupCodes", r.GroupCodes, func(c string) bool { _, ok := cat.Group(c); return ok }, "population group"); err != nil {
		return err
	}
	r.Coverage, err = codeList("coverage", r.Coverage, func(c string) bool { return s.regions.Check(c) == "" }, "Chongqing division code")
	return err
}

// checkAgeRange refuses ages outside 0..MaxAge and an inverted range.
func checkAgeRange(r *Resource) error {
	for _, f := range []struct {
		name string
		v    *int
	}{{"ageMin", r.AgeMin}, {"ageMax", r.AgeMax}} {
		if f.v != nil && (*f.v < 0 || *f.v > MaxAge) {
			return aidhub.Invalid(f.name, "must be 0 to %d years, got %d", MaxAge, *f.v)
		}
	}
	if r.AgeMin != nil && r.AgeMax != nil && *r.AgeMin > *r.AgeMax {
		return aidhub.Invalid("ageMax", "the age range is inverted: ageMin %d is above ageMax %d", *r.AgeMin, *r.AgeMax)
	}
	return nil
}

// checkAmounts refuses a non-positive or oversized income ceiling or capacity.
func checkAmounts(r *Resource) error {
	for _, f := range []struct {
		name string
		v    *int64
		max  int64
	}{
		{"incomeCeilingFen", r.IncomeCeilingFen, MaxIncomeCeiling},
		{"capacityUnits", r.CapacityUnits, MaxCapacityUnits},
		{"capacityBudgetFen", r.CapacityBudgetFen, MaxCapacityBudget},
	} {
		if f.v != nil && (*f.v <= 0 || *f.v > f.max) {
			return aidhub.Invalid(f.name, "must be 1 to %d, got %d", f.max, *f.v)
		}
	}
	return nil
}

// checkCapacityCoversTaken keeps units and budget already promised to
// households: a capacity may not drop below them nor be removed.
func checkCapacityCoversTaken(r *Resource) error {
	if r.CapacityUnits != nil && *r.CapacityUnits < r.UnitsTaken {
		return aidhub.Invalid("capacityUnits", "%d units are already taken; capacity cannot go below that", r.UnitsTaken)
	}
	if r.CapacityUnits == nil && r.UnitsTaken > 0 {
		return aidhub.Invalid("capacityUnits", "%d units are already taken; capacity cannot be removed", r.UnitsTaken)
	}
	if r.CapacityBudgetFen != nil && *r.CapacityBudgetFen < r.BudgetTakenFen {
		return aidhub.Invalid("capacityBudgetFen", "%d fen are already committed; the budget cannot go below that", r.BudgetTakenFen)
	}
	if r.CapacityBudgetFen == nil && r.BudgetTakenFen > 0 {
		return aidhub.Invalid("capacityBudgetFen", "%d fen are already committed; the budget cannot be removed", r.BudgetTakenFen)
	}
	return nil
}

// checkValidityWindow refuses dates outside 2000–2100 and a window that ends
// before it starts.
func checkValidityWindow(r *Resource) error {
	for _, f := range []struct {
		name string
		v    *aidhub.Date
	}{{"validFrom", r.ValidFrom}, {"validUntil", r.ValidUntil}} {
		if f.v != nil && (f.v.Year() < 2000 || f.v.Year() > 2100) {
			return aidhub.Invalid(f.name, "%s is outside 2000–2100", f.v)
		}
	}
	if r.ValidFrom != nil && r.ValidUntil != nil && r.ValidUntil.Before(*r.ValidFrom) {
		return aidhub.Invalid("validUntil", "the validity window ends (%s) before it starts (%s)", r.ValidUntil, r.ValidFrom)
	}
	return nil
}

// cleanContact normalizes the address, the contact name and the phone.
func cleanContact(r *Resource) error {
	var err error
	if r.Address, err = aidhub.CleanText("address", r.Address, false, 300); err != nil {
		return err
	}
	if r.ContactName, err = aidhub.CleanText("contactName", r.ContactName, false, 50); err != nil {
		return err
	}
	r.ContactPhone, err = aidhub.CheckPhone("contactPhone", r.ContactPhone)
	return err
}

// checkEligibilityRule normalizes the rule text and, when the service was
// given a rule checker, refuses a rule that does not compile.
func (s *Service) checkEligibilityRule(r *Resource) error {
	var err error
	if r.EligibilityRule, err = aidhub.CleanText("eligibilityRule", r.EligibilityRule, false, 500); err != nil {
		return err
	}
	if r.EligibilityRule != "" && s.checkRule != nil {
		if err := s.checkRule(r.EligibilityRule); err != nil {
			return ruleInvalid(err)
		}
	}
	return nil
}

// checkPlace refuses an unknown division code and a half or out-of-range
// coordinate pair.
func (s *Service) checkPlace(r *Resource) error {
	if r.DivisionCode != nil {
		if reason := s.regions.Check(*r.DivisionCode); reason != "" {
			return aidhub.Invalid("divisionCode", "%s", reason)
		}
	}
	if (r.Lat == nil) != (r.Lng == nil) {
		return aidhub.Invalid("lat", "give both lat and lng, or neither")
	}
	if r.Lat != nil {
		if math.IsNaN(*r.Lat) || *r.Lat < -90 || *r.Lat > 90 {
			return aidhub.Invalid("lat", "must be -90 to 90")
		}
		if math.IsNaN(*r.Lng) || *r.Lng < -180 || *r.Lng > 180 {
			return aidhub.Invalid("lng", "must be -180 to 180")
		}
	}
	return nil
}

// codeList trims, checks and de-duplicates a list of codes, keeping order.
func codeList(field string, codes []string, known func(string) bool, what string) ([]string, error) {
	if len(codes) > maxListEntries {
		return nil, aidhub.Invalid(field, "at most %d entries, got %d", maxListEntries, len(codes))
	}
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		c = strings.TrimSpace(c)
		if !known(c) {
			return nil, aidhub.Invalid(field, "%q is not a known %s", aidhub.Clip(c), what)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// publishable returns why r cannot be (or stay) published, or nil.
func (r *Resource) publishable(today aidhub.Date) error {
	var missing []string
	if len(r.ItemCodes) == 0 {
		missing = append(missing, "it offers no service item")
	}
	if len(r.Coverage) == 0 {
		missing = append(missing, "it covers no region")
	}
	units, budget := r.UnitsLeft(), r.BudgetLeftFen()
	if (units == nil || *units <= 0) && (budget == nil || *budget <= 0) {
		missing = append(missing, "it has no capacity left (set capacityUnits or capacityBudgetFen)")
	}
	if r.Expired(today) {
		missing = append(missing, fmt.Sprintf("its validity ended on %s", r.ValidUntil))
	}
	if len(missing) > 0 {
		return aidhub.Invalid("", "resource %d cannot be published: %s", r.ID, strings.Join(missing, "; "))
	}
	return nil
}

// visible reports whether p may see r at all.
func visible(p auth.Principal, r *Resource) bool {
	return r.Status == Published || p.Is(auth.Admin) || p.OwnsOrganization(r.OrganizationID)
}

// canManage returns nil when p may change r: an admin, or the owning charity.
// Someone who may not even see r gets NOT_FOUND, so drafts do not leak.
func canManage(p auth.Principal, r *Resource, action string) error {
	if p.IsAnonymous() {
		return aidhub.Errorf(aidhub.EUNAUTHENTICATED, "%s needs a bearer token", action)
	}
	if p.Is(auth.Admin) || p.OwnsOrganization(r.OrganizationID) {
		return nil
	}
	if !visible(p, r) {
		return errResourceNotFound
	}
	return aidhub.Errorf(aidhub.EFORBIDDEN, "%s: the resource belongs to another organization", action)
}

var errResourceNotFound = aidhub.Errorf(aidhub.ENOTFOUND, "no resource with this ID")

// CreateResource creates a DRAFT resource for an organization. A CHARITY
// creates for its own organization (orgID 0 means its own); an ADMIN names
// the organization.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (organization),
// BAD_USER_INPUT.
func (s *Service) CreateResource(ctx context.Context, orgID int64, p ResourcePatch) (*Resource, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("creating a resource", auth.Admin, auth.Charity); err != nil {
		return nil, err
	}
	if pr.Is(auth.Charity) {
		if orgID != 0 && orgID != pr.OrganizationID {
			return nil, aidhub.Errorf(aidhub.EFORBIDDEN, "creating a resource: a charity creates resources only for its own organization")
		}
		orgID = pr.OrganizationID
	}
	if orgID == 0 {
		return nil, aidhub.Invalid("organizationId", "is required")
	}
	now := s.now().UTC()
	r := &Resource{OrganizationID: orgID, Status: Draft, Version: 1, CreatedAt: now, UpdatedAt: now}
	p.apply(r)
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if n, err := tx.NewSelect().Model((*Organization)(nil)).Where("id = ?", orgID).Count(ctx); err != nil {
			return err
		} else if n == 0 {
			return aidhub.Errorf(aidhub.ENOTFOUND, "no organization with this ID")
		}
		cat, err := snapshot(ctx, tx)
		if err != nil {
			return err
		}
		if err := s.validate(r, cat); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return err
		}
		if err := writeLinks(ctx, tx, r); err != nil {
			return err
		}
		return s.recordID(ctx, tx, "createResource", "Resource", r.ID, audit.Summary{"organizationId": r.OrganizationID})
	})
	if err != nil {
		return nil, wrap(err, "catalog: create resource")
	}
	return r, nil
}

// UpdateResource changes a resource that is not closed. When
// expectedVersion is given and the resource has moved on, nothing is
// written. A published resource must stay publishable.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT
// (closed, or changed since expectedVersion).
func (s *Service) UpdateResource(ctx context.Context, id int64, expectedVersion *int64, p ResourcePatch) (*Resource, error) {
	return s.change(ctx, id, expectedVersion, "updating a resource", func(r *Resource, cat *Catalog) error {
		if r.Status == Closed {
			return aidhub.Errorf(aidhub.ECONFLICT, "resource %d is closed; a closed resource cannot change", r.ID)
		}
		p.apply(r)
		if err := s.validate(r, cat); err != nil {
			return err
		}
		if r.Status == Published {
			if err := r.publishable(s.today()); err != nil {
				return aidhub.Invalid("", "%s; pause the resource before making this change", aidhub.ErrorMessage(err))
			}
		}
		return nil
	})
}

// PublishResource makes a DRAFT, PAUSED or EXPIRED resource public. It must
// offer an item, cover a region, have capacity left and not be expired: an
// EXPIRED resource is published again once its validUntil is extended.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT (not
// publishable), CONFLICT (wrong state or version).
func (s *Service) PublishResource(ctx context.Context, id int64, expectedVersion *int64) (*Resource, error) {
	return s.change(ctx, id, expectedVersion, "publishing a resource", func(r *Resource, _ *Catalog) error {
		if err := transition(r, Published, Draft, Paused, Expired); err != nil {
			return err
		}
		if err := r.publishable(s.today()); err != nil {
			return err
		}
		now := s.now().UTC()
		r.PublishedAt = &now
		return nil
	})
}

// PauseResource hides a PUBLISHED resource without closing it.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT.
func (s *Service) PauseResource(ctx context.Context, id int64, expectedVersion *int64) (*Resource, error) {
	return s.change(ctx, id, expectedVersion, "pausing a resource", func(r *Resource, _ *Catalog) error {
		return transition(r, Paused, Published)
	})
}

// CloseResource ends a resource for good.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT (already closed).
func (s *Service) CloseResource(ctx context.Context, id int64, expectedVersion *int64) (*Resource, error) {
	return s.change(ctx, id, expectedVersion, "closing a resource", func(r *Resource, _ *Catalog) error {
		if err := transition(r, Closed, Draft, Published, Paused, Expired); err != nil {
			return err
		}
		now := s.now().UTC()
		r.ClosedAt = &now
		return nil
	})
}

func transition(r *Resource, to Status, from ...Status) error {
	if !slices.Contains(from, r.Status) {
		if r.Status == Closed {
			return aidhub.Errorf(aidhub.ECONFLICT, "resource %d is closed; CLOSED is final", r.ID)
		}
		return aidhub.Errorf(aidhub.ECONFLICT, "resource %d is %s; it cannot become %s from there", r.ID, r.Status, to)
	}
	r.Status = to
	return nil
}

// change loads a resource in a transaction, lets fn modify it, and writes it
// back guarded by its version, so concurrent writers never lose each
// other's changes: the loser gets CONFLICT and nothing is written.
func (s *Service) change(ctx context.Context, id int64, expectedVersion *int64, action string, fn func(*Resource, *Catalog) error) (*Resource, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require(action, auth.Admin, auth.Charity); err != nil {
		return nil, err
	}
	var r *Resource
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if r, err = loadResource(ctx, tx, id); err != nil {
			return err
		}
		if err := canManage(pr, r, action); err != nil {
			return err
		}
		if expectedVersion != nil && *expectedVersion != r.Version {
			return aidhub.Errorf(aidhub.ECONFLICT, "resource %d is at version %d, not %d: reload it and try again", r.ID, r.Version, *expectedVersion)
		}
		cat, err := snapshot(ctx, tx)
		if err != nil {
			return err
		}
		if err := fn(r, cat); err != nil {
			return err
		}
		old := r.Version
		r.Version++
		r.UpdatedAt = s.now().UTC()
		res, err := tx.NewUpdate().Model(r).ExcludeColumn("id", "organization_id", "created_at", "units_taken", "budget_taken_fen").
			Where("id = ? AND version = ?", r.ID, old).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return aidhub.Errorf(aidhub.ECONFLICT, "resource %d changed while this change was made: reload it and try again", r.ID)
		}
		if err := writeLinks(ctx, tx, r); err != nil {
			return err
		}
		if err := s.recordID(ctx, tx, action, "Resource", r.ID, audit.Summary{"status": r.Status, "version": r.Version}); err != nil {
			return err
		}
		return s.changed(ctx, tx, r.ID)
	})
	if err != nil {
		return nil, wrap(err, "catalog: %s %d", action, id)
	}
	return r, nil
}

type resourceItem struct {
	bun.BaseModel `bun:"table:resource_items"`
	ResourceID    int64
	ItemCode      string
}

type resourceGroup struct {
	bun.BaseModel `bun:"table:resource_groups"`
	ResourceID    int64
	GroupCode     string
}

type resourceCoverage struct {
	bun.BaseModel  `bun:"table:resource_coverage"`
	ResourceID     int64
	DivisionPrefix string
}

// writeLinks replaces the item, group and coverage rows of r.
func writeLinks(ctx context.Context, tx bun.Tx, r *Resource) error {
	for _, table := range []string{"resource_items", "resource_groups", "resource_coverage"} {
		if _, err := tx.NewDelete().TableExpr(table).Where("resource_id = ?", r.ID).Exec(ctx); err != nil {
			return err
		}
	}
	var (
		items  []resourceItem
		groups []resourceGroup
		cover  []resourceCoverage
	)
	for _, c := range r.ItemCodes {
		items = append(items, resourceItem{ResourceID: r.ID, ItemCode: c})
	}
	for _, c := range r.GroupCodes {
		groups = append(groups, resourceGroup{ResourceID: r.ID, GroupCode: c})
	}
	for _, c := range r.Coverage {
		cover = append(cover, resourceCoverage{ResourceID: r.ID, DivisionPrefix: c})
	}
	for _, rows := range []struct {
		n     int
		model any
	}{{len(items), &items}, {len(groups), &groups}, {len(cover), &cover}} {
		if rows.n == 0 {
			continue
		}
		if _, err := tx.NewInsert().Model(rows.model).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

func loadResource(ctx context.Context, idb bun.IDB, id int64) (*Resource, error) {
	var r Resource
	err := idb.NewSelect().Model(&r).Where("r.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errResourceNotFound
	} else if err != nil {
		return nil, err
	}
	if err := loadLinks(ctx, idb, []*Resource{&r}); err != nil {
		return nil, err
	}
	return &r, nil
}

// loadLinks fills the item, group and coverage lists of rs in one query
// (a resource read is then two round trips, not four: lists of matches
// read their resources on every request).
func loadLinks(ctx context.Context, idb bun.IDB, rs []*Resource) error {
	if len(rs) == 0 {
		return nil
	}
	byID := make(map[int64]*Resource, len(rs))
	ids := make([]int64, len(rs))
	for i, r := range rs {
		byID[r.ID], ids[i] = r, r.ID
		r.ItemCodes, r.GroupCodes, r.Coverage = []string{}, []string{}, []string{}
	}
	var rows []struct {
		Kind       int
		ResourceID int64
		Code       string
	}
	err := idb.NewRaw(`SELECT kind, resource_id, code FROM (
		SELECT 0 AS kind, resource_id, item_code AS code FROM resource_items WHERE resource_id IN (?0)
		UNION ALL SELECT 1, resource_id, group_code FROM resource_groups WHERE resource_id IN (?0)
		UNION ALL SELECT 2, resource_id, division_prefix FROM resource_coverage WHERE resource_id IN (?0)
	) AS links ORDER BY kind, resource_id, code`, bun.List(ids)).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, row := range rows {
		r := byID[row.ResourceID]
		switch row.Kind {
		case 0:
			r.ItemCodes = append(r.ItemCodes, row.Code)
		case 1:
			r.GroupCodes = append(r.GroupCodes, row.Code)
		default:
			r.Coverage = append(r.Coverage, row.Code)
		}
	}
	return nil
}

// Resource returns one resource the caller may see.
//
// Errors: NOT_FOUND (absent, or not visible to the caller).
func (s *Service) Resource(ctx context.Context, id int64) (*Resource, error) {
	ctx, l := s.fromContext(ctx)
	r, err := l.resources.Load(ctx, id)
	if err != nil {
		return nil, wrap(err, "catalog: get resource %d", id)
	}
	if r == nil || !visible(auth.FromContext(ctx), r) {
		return nil, errResourceNotFound
	}
	return r, nil
}

// ResourceFilter narrows ListResources. Whatever the filter, callers other
// than an admin or the owner see published resources only.
type ResourceFilter struct {
	OrganizationID *int64
	Statuses       []Status
	CategoryCode   *string // the category or any below it
	ItemCode       *string
	GroupCode      *string
	CoversRegion   *string // a division code some coverage prefix contains
	LocatedIn      *string // a division-code prefix of the resource's location
	// IncludeExpired also lists published resources whose window has ended.
	IncludeExpired bool
}

// ListResources returns a page of the resources the caller may see,
// ordered by ID.
//
// Errors: BAD_USER_INPUT (page size, unknown codes in the filter).
func (s *Service) ListResources(ctx context.Context, f ResourceFilter, page aidhub.PageArgs) (*aidhub.Page[*Resource], error) {
	if err := page.Validate(); err != nil {
		return nil, err
	}
	cat, err := s.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if f.ItemCode != nil {
		if _, ok := cat.Item(*f.ItemCode); !ok {
			return nil, aidhub.Invalid("filter.itemCode", "%q is not a known service item", aidhub.Clip(*f.ItemCode))
		}
	}
	var items []string
	switch {
	case f.CategoryCode != nil:
		if _, ok := cat.Category(*f.CategoryCode); !ok {
			return nil, aidhub.Invalid("filter.categoryCode", "%q is not a known service category", aidhub.Clip(*f.CategoryCode))
		}
		items = cat.ItemsUnder(*f.CategoryCode)
		if f.ItemCode != nil {
			if !slices.Contains(items, *f.ItemCode) {
				items = nil
			} else {
				items = []string{*f.ItemCode}
			}
		}
		if len(items) == 0 {
			items = []string{""} // matches nothing, keeps the query shape
		}
	case f.ItemCode != nil:
		items = []string{*f.ItemCode}
	}
	if f.GroupCode != nil {
		if _, ok := cat.Group(*f.GroupCode); !ok {
			return nil, aidhub.Invalid("filter.groupCode", "%q is not a known population group", aidhub.Clip(*f.GroupCode))
		}
	}
	for _, c := range []struct {
		field string
		v     *string
	}{{"filter.coversRegion", f.CoversRegion}, {"filter.locatedIn", f.LocatedIn}} {
		if c.v != nil {
			if reason := s.regions.Check(*c.v); reason != "" {
				return nil, aidhub.Invalid(c.field, "%s", reason)
			}
		}
	}
	for _, st := range f.Statuses {
		if !slices.Contains(allStatuses, st) {
			return nil, aidhub.Invalid("filter.statuses", "%q is not a resource status", st)
		}
	}
	pr := auth.FromContext(ctx)
	today := s.today()
	where := func(q *bun.SelectQuery) *bun.SelectQuery {
		switch {
		case pr.Is(auth.Admin):
		case pr.Is(auth.Charity):
			q = q.Where("(r.status = ? OR r.organization_id = ?)", Published, pr.OrganizationID)
		default:
			q = q.Where("r.status = ?", Published)
		}
		if len(f.Statuses) > 0 {
			q = q.Where("r.status IN (?)", bun.List(f.Statuses))
		}
		if !f.IncludeExpired {
			q = q.Where("NOT (r.status = ? AND r.valid_until IS NOT NULL AND r.valid_until < ?)", Published, today)
		}
		if f.OrganizationID != nil {
			q = q.Where("r.organization_id = ?", *f.OrganizationID)
		}
		if items != nil {
			q = q.Where("EXISTS (SELECT 1 FROM resource_items ri WHERE ri.resource_id = r.id AND ri.item_code IN (?))", bun.List(items))
		}
		if f.GroupCode != nil {
			q = q.Where("EXISTS (SELECT 1 FROM resource_groups rg WHERE rg.resource_id = r.id AND rg.group_code = ?)", *f.GroupCode)
		}
		if f.CoversRegion != nil {
			// Every prefix of the code is a candidate coverage entry, so
			// the test is an IN list that uses the primary key.
			q = q.Where("EXISTS (SELECT 1 FROM resource_coverage rc WHERE rc.resource_id = r.id AND rc.division_prefix IN (?))", bun.List(prefixes(*f.CoversRegion)))
		}
		if f.LocatedIn != nil {
			q = q.Where("r.division_code LIKE ?", *f.LocatedIn+"%")
		}
		return q
	}
	var rows []*Resource
	if err := where(s.db.NewSelect().Model(&rows)).Where("r.id > ?", page.After).OrderExpr("r.id").Limit(int64(page.First + 1)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: list resources: %w", err)
	}
	total, err := where(s.db.NewSelect().Model((*Resource)(nil))).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog: count resources: %w", err)
	}
	p := aidhub.NewPage(rows, page, int(total), func(r *Resource) int64 { return r.ID })
	if err := loadLinks(ctx, s.db, p.Items); err != nil {
		return nil, fmt.Errorf("catalog: list resources: %w", err)
	}
	return p, nil
}

// prefixes returns the division-code prefixes at every level that contain
// code (for 500103002001: 50, 500103, 500103002, 500103002001).
func prefixes(code string) []string {
	var out []string
	for _, n := range []int{2, 6, 9, 12} {
		if len(code) >= n {
			out = append(out, code[:n])
		}
	}
	return out
}

// Expired reports whether r's validity window ended before today.
func (s *Service) Expired(r *Resource) bool { return r.Expired(s.today()) }

// Capacity is how much a resource has and has given.
type Capacity struct {
	Units, UnitsLeft         *int64
	UnitsTaken               int64
	BudgetFen, BudgetLeftFen *int64
	BudgetTakenFen           int64
}

// Capacity returns r's capacity.
func (r *Resource) Capacity() *Capacity {
	return &Capacity{
		Units: r.CapacityUnits, UnitsLeft: r.UnitsLeft(), UnitsTaken: r.UnitsTaken,
		BudgetFen: r.CapacityBudgetFen, BudgetLeftFen: r.BudgetLeftFen(), BudgetTakenFen: r.BudgetTakenFen,
	}
}

// ScanResources returns up to limit resources with IDs above afterID, in ID
// order, with their links, whatever their status. It is for the hub's own
// jobs (index rebuilds, sweeps), not for callers: it checks no principal.
func (s *Service) ScanResources(ctx context.Context, afterID int64, limit int, statuses ...Status) ([]*Resource, error) {
	var rows []*Resource
	q := s.db.NewSelect().Model(&rows).Where("r.id > ?", afterID).OrderExpr("r.id").Limit(int64(limit))
	if len(statuses) > 0 {
		q = q.Where("r.status IN (?)", bun.List(statuses))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: scan resources after %d: %w", afterID, err)
	}
	if err := loadLinks(ctx, s.db, rows); err != nil {
		return nil, fmt.Errorf("catalog: scan resources after %d: %w", afterID, err)
	}
	return rows, nil
}

// LoadResource returns one resource whatever its status, for the hub's own
// jobs; it checks no principal. Errors: NOT_FOUND.
func (s *Service) LoadResource(ctx context.Context, id int64) (*Resource, error) {
	r, err := loadResource(ctx, s.db, id)
	return r, wrap(err, "catalog: load resource %d", id)
}

// LoadResourceIn is LoadResource inside u, the transaction of another
// package that depends on the resource (a referral to it; the search
// delivery holding the resource's lock), so it sees the resource as the
// transaction does.
func (s *Service) LoadResourceIn(ctx context.Context, u db.Unit, id int64) (*Resource, error) {
	r, err := loadResource(ctx, u.Tx(), id)
	return r, wrap(err, "catalog: load resource %d", id)
}

// ResourcesByID returns the resources with the given IDs in the same order,
// nil where one does not exist or the caller may not see it.
func (s *Service) ResourcesByID(ctx context.Context, ids []int64) ([]*Resource, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []*Resource
	if err := s.db.NewSelect().Model(&rows).Where("r.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: load resources: %w", err)
	}
	if err := loadLinks(ctx, s.db, rows); err != nil {
		return nil, fmt.Errorf("catalog: load resources: %w", err)
	}
	p := auth.FromContext(ctx)
	byID := make(map[int64]*Resource, len(rows))
	for _, r := range rows {
		if visible(p, r) {
			byID[r.ID] = r
		}
	}
	out := make([]*Resource, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

// TakeCapacity takes units and budget from a published resource inside
// u, the transaction of the caller's change. The check and the take are one UPDATE, so
// concurrent takers can never overdraw: CAPACITY_EXHAUSTED when what is
// left is not enough, CONFLICT when the resource is not published. Units
// count only against a resource that has a capacity in units, and money
// only against one with a budget: taken always means counted.
func (s *Service) TakeCapacity(ctx context.Context, u db.Unit, resourceID, units, fen int64) error {
	tx := u.Tx()
	res, err := tx.NewUpdate().Model((*Resource)(nil)).
		Set("units_taken = units_taken + CASE WHEN capacity_units IS NULL THEN 0 ELSE ? END", units).
		Set("budget_taken_fen = budget_taken_fen + CASE WHEN capacity_budget_fen IS NULL THEN 0 ELSE ? END", fen).
		Set("version = version + 1"). // an edit that read the old capacity gets CONFLICT
		Where("id = ? AND status = ?", resourceID, Published).
		Where("(capacity_units IS NULL OR units_taken + ? <= capacity_units)", units).
		Where("(capacity_budget_fen IS NULL OR budget_taken_fen + ? <= capacity_budget_fen)", fen).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("catalog: take capacity of resource %d: %w", resourceID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return s.changed(ctx, tx, resourceID)
	}
	r, err := loadResource(ctx, tx, resourceID)
	if err != nil {
		return err
	}
	if r.Status != Published {
		return aidhub.Errorf(aidhub.ECONFLICT, "resource %d is %s; only a published resource takes referrals", r.ID, r.Status)
	}
	e := aidhub.Errorf(aidhub.ECAPACITY, "resource %d has no capacity left for this referral", r.ID)
	e.MessageZh = fmt.Sprintf("资源 %d 名额或预算已不足，无法接收此转介", r.ID)
	e.Details = map[string]any{"unitsRequested": units, "budgetRequestedFen": fen}
	if left := r.UnitsLeft(); left != nil {
		e.Details["unitsLeft"] = *left
	}
	if left := r.BudgetLeftFen(); left != nil {
		e.Details["budgetLeftFen"] = *left
	}
	return e
}

// ReturnCapacity gives back what TakeCapacity took, inside u, in any
// status: units to a resource with a capacity in units, money to one with
// a budget. A capacity set after the take (nothing was counted then) is
// not driven below zero, so a cancellation or expiry never fails on it.
func (s *Service) ReturnCapacity(ctx context.Context, u db.Unit, resourceID, units, fen int64) error {
	tx := u.Tx()
	res, err := tx.NewUpdate().Model((*Resource)(nil)).
		Set("units_taken = CASE WHEN capacity_units IS NULL THEN units_taken WHEN units_taken < ? THEN 0 ELSE units_taken - ? END", units, units).
		Set("budget_taken_fen = CASE WHEN capacity_budget_fen IS NULL THEN budget_taken_fen WHEN budget_taken_fen < ? THEN 0 ELSE budget_taken_fen - ? END", fen, fen).
		Set("version = version + 1").
		Where("id = ?", resourceID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("catalog: return capacity of resource %d: %w", resourceID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("catalog: return capacity of resource %d: no such resource", resourceID)
	}
	return s.changed(ctx, tx, resourceID)
}

// Visible reports whether the caller in ctx may see r.
func Visible(ctx context.Context, r *Resource) bool { return visible(auth.FromContext(ctx), r) }

// ruleInvalid is the BAD_USER_INPUT of a rule the check refused: its one
// sentence, and the line and column (from 1) as extensions when the check
// knows them.
func ruleInvalid(err error) *aidhub.Error {
	e := aidhub.Invalid("eligibilityRule", "%s", err)
	var at interface{ Position() (line, column int) }
	if errors.As(err, &at) {
		if line, col := at.Position(); line > 0 {
			e.Details = map[string]any{"line": line, "column": col}
		}
	}
	return e
}
