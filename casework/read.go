package casework

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/residentid"
)

// canSee reports whether p may see household h at all: ADMIN, a
// CASE_MANAGER in region, or a CHARITY the household was referred to while
// it consents to sharing. Donors see no household. A charity the household
// was referred to that no longer consents gets CONSENT_REQUIRED (it knows
// the household through its referral, so this reveals nothing); any other
// caller gets false.
func (s *Service) canSee(ctx context.Context, idb bun.IDB, p auth.Principal, h *Household) (bool, error) {
	return canSeeWith(ctx, dbFacts{s, idb}, p, h)
}

// householdFacts are what canSee asks of a household: read directly (in a
// transaction) or through the request's loaders.
type householdFacts interface {
	referredToOrg(ctx context.Context, householdID, orgID int64) (bool, error)
	sharingConsent(ctx context.Context, householdID int64) (bool, error)
}

func canSeeWith(ctx context.Context, facts householdFacts, p auth.Principal, h *Household) (bool, error) {
	switch {
	case p.WorksIn(h.RegionCode):
		return true, nil
	case p.Is(auth.Charity):
		referred, err := facts.referredToOrg(ctx, h.ID, p.OrganizationID)
		if err != nil || !referred {
			return false, err
		}
		ok, err := facts.sharingConsent(ctx, h.ID)
		if err == nil && !ok {
			err = errNoSharingConsent()
		}
		return ok, err
	}
	return false, nil
}

type dbFacts struct {
	s   *Service
	idb bun.IDB
}

func (f dbFacts) referredToOrg(ctx context.Context, householdID, orgID int64) (bool, error) {
	n, err := f.idb.NewSelect().Model((*Referral)(nil)).
		Where("household_id = ? AND organization_id = ?", householdID, orgID).Count(ctx)
	return n > 0, err
}

func (f dbFacts) sharingConsent(ctx context.Context, householdID int64) (bool, error) {
	return f.s.sharingConsent(ctx, f.idb, householdID)
}

// errNoSharingConsent is what a charity gets for a household referred to
// it once the household's consent to share has been revoked or has expired.
func errNoSharingConsent() *aidhub.Error {
	e := aidhub.Errorf(aidhub.ECONSENT, "the household no longer consents to sharing its data with charities; its referrals stay, its data is not shown")
	e.MessageZh = "该家庭已撤回（或授权已失效）向慈善组织共享信息的授权：转介记录保留，但不再显示其信息"
	return e
}

// Household returns a household the caller may see.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (donors), NOT_FOUND.
func (s *Service) Household(ctx context.Context, id int64) (*Household, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("reading a household", auth.Admin, auth.CaseManager, auth.Charity); err != nil {
		return nil, err
	}
	ctx, l := s.fromContext(ctx)
	h, err := l.households.Load(ctx, id)
	if err != nil {
		return nil, wrap(err, "casework: load household %d", id)
	}
	if h == nil {
		return nil, errHouseholdNotFound
	}
	ok, err := canSeeWith(ctx, l, pr, h)
	if err != nil {
		return nil, wrap(err, "casework: load household %d", id)
	}
	if !ok {
		return nil, errHouseholdNotFound
	}
	return h, nil
}

// HouseholdFilter narrows Households.
type HouseholdFilter struct {
	RegionPrefix string
	GroupCode    string
	// ResidentID finds the household of one person, by blind index.
	ResidentID string
}

// Households lists the households the caller may see, by ID.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (donors), BAD_USER_INPUT.
func (s *Service) Households(ctx context.Context, f HouseholdFilter, page aidhub.PageArgs) (*aidhub.Page[*Household], error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("listing households", auth.Admin, auth.CaseManager, auth.Charity); err != nil {
		return nil, err
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*Household)(nil))
	if f.RegionPrefix != "" {
		if len(f.RegionPrefix) > 12 || strings.Trim(f.RegionPrefix, "0123456789") != "" {
			return nil, aidhub.Invalid("regionPrefix", "must be up to 12 digits")
		}
		q.Where("h.region_code LIKE ?", f.RegionPrefix+"%")
	}
	switch {
	case pr.Is(auth.CaseManager):
		q.Where("h.region_code LIKE ?", pr.RegionPrefix+"%")
	case pr.Is(auth.Charity):
		q.Where("EXISTS (SELECT 1 FROM referrals AS rf WHERE rf.household_id = h.id AND rf.organization_id = ?)", pr.OrganizationID)
		// Consent is checked in the query (at the service's clock), so the
		// total and the pages count only households the charity may see.
		now := s.now().UTC()
		q.Where("EXISTS (SELECT 1 FROM consents AS sc WHERE sc.household_id = h.id AND sc.revoked_at IS NULL AND sc.granted_at <= ? AND (sc.expires_at IS NULL OR sc.expires_at > ?) AND sc.purposes LIKE ?)",
			now, now, "%"+string(ShareWithCharities)+"%")
	}
	if pr.Is(auth.Charity) && (f.GroupCode != "" || f.ResidentID != "") {
		// They look at every member; a charity sees only those referred to it.
		return nil, aidhub.Errorf(aidhub.EFORBIDDEN, "a charity cannot filter households by group or resident ID")
	}
	if f.GroupCode != "" {
		q.Where("EXISTS (SELECT 1 FROM persons AS gp JOIN group_memberships AS g ON g.person_id = gp.id WHERE gp.household_id = h.id AND g.group_code = ? AND g.since <= ? AND (g.until IS NULL OR g.until >= ?))",
			f.GroupCode, s.today(), s.today())
	}
	if f.ResidentID != "" {
		id, err := residentid.Parse(f.ResidentID, s.now().In(chinaTime))
		if err != nil {
			return nil, err
		}
		q.Where("EXISTS (SELECT 1 FROM persons AS ip WHERE ip.household_id = h.id AND ip.resident_id_index = ?)",
			s.keys.BlindIndex(residentIDPurpose, string(id)))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, wrap(err, "casework: count households")
	}
	var rows []*Household
	if err := q.Where("h.id > ?", page.After).Order("h.id").Limit(int64(page.First)+1).Scan(ctx, &rows); err != nil {
		return nil, wrap(err, "casework: list households")
	}
	return newPage(rows, page, int(total)), nil
}

func newPage(rows []*Household, page aidhub.PageArgs, total int) *aidhub.Page[*Household] {
	return aidhub.NewPage(rows, page, int(total), func(h *Household) int64 { return h.ID })
}

// Persons lists the members of a household the caller may see: all of
// them for case workers, only those referred to it for a charity.
func (s *Service) Persons(ctx context.Context, h *Household) ([]*Person, error) {
	ctx, l := s.fromContext(ctx)
	out, err := l.visibleMembers(ctx, auth.FromContext(ctx), h)
	return out, wrap(err, "casework: persons of household %d", h.ID)
}

// Memberships lists a person's group memberships.
func (s *Service) Memberships(ctx context.Context, personID int64) ([]*Membership, error) {
	var out []*Membership
	err := s.db.NewSelect().Model(&out).Where("person_id = ?", personID).Order("since", "id").Scan(ctx)
	return out, wrap(err, "casework: memberships of person %d", personID)
}

// MaskedResidentID shows a person's resident ID as much as the caller may
// see: region and last four to case workers, less to a charity, nothing to
// others.
func (s *Service) MaskedResidentID(ctx context.Context, p *Person) (string, error) {
	level := residentid.MaskFull
	switch pr := auth.FromContext(ctx); {
	case pr.Is(auth.Admin, auth.CaseManager):
		level = residentid.MaskPartial
	case pr.Is(auth.Charity):
		level = residentid.MaskStrict
	}
	if level == residentid.MaskFull {
		return residentid.ID("").Mask(level), nil
	}
	id, err := s.openResidentID(p)
	if err != nil {
		return "", err
	}
	return id.Mask(level), nil
}

func (s *Service) openResidentID(p *Person) (residentid.ID, error) {
	plain, err := s.keys.Open(p.ResidentIDSealed, p.ResidentIDIndex)
	if err != nil {
		return "", wrap(err, "casework: open resident ID of person %d", p.ID)
	}
	return residentid.ID(plain), nil
}

// RevealResidentID shows a person's whole resident ID to a case manager in
// region, and audits that it did.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (only CASE_MANAGER), NOT_FOUND,
// BAD_USER_INPUT (a reason is required).
func (s *Service) RevealResidentID(ctx context.Context, personID int64, reason string) (string, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("revealing a resident ID", auth.CaseManager); err != nil {
		return "", err
	}
	reason, err := cleanReason(reason)
	if err != nil {
		return "", err
	}
	var id residentid.ID
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		p := new(Person)
		err := tx.NewSelect().Model(p).Where("id = ?", personID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errPersonNotFound
		}
		if err != nil {
			return err
		}
		if _, err := s.householdForWork(ctx, tx, pr, p.HouseholdID); err != nil {
			return errPersonNotFound
		}
		if id, err = s.openResidentID(p); err != nil {
			return err
		}
		// The reason is the caseworker's own words and may name people;
		// the audit keeps only its length.
		return s.audit.Append(ctx, db.UnitOf(tx), "revealResidentId", "Person", p.ID, audit.Summary{"householdId": p.HouseholdID, "reasonLength": len([]rune(reason))})
	})
	if err != nil {
		return "", wrap(err, "casework: reveal resident ID of person %d", personID)
	}
	return string(id), nil
}

var errPersonNotFound = aidhub.Errorf(aidhub.ENOTFOUND, "no person with this ID")

func cleanReason(reason string) (string, error) {
	r, err := aidhub.CleanText("reason", reason, true, 500)
	if err != nil {
		return "", err
	}
	if len([]rune(r)) < 4 {
		return "", aidhub.Invalid("reason", "say why in a few words")
	}
	return r, nil
}
