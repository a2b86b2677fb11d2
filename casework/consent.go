package casework

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
)

// Purpose is what a household consents to (电子授权).
type Purpose string

const (
	// EconomicVerification allows checking the household's finances
	// (家庭经济状况核对).
	EconomicVerification Purpose = "ECONOMIC_VERIFICATION"
	// ShareWithCharities allows showing the household to the charities it
	// is referred to.
	ShareWithCharities Purpose = "SHARE_WITH_CHARITIES"
)

// ConsentMethod is how consent was given.
type ConsentMethod string

// Consent methods.
const (
	Electronic ConsentMethod = "ELECTRONIC"
	Remote     ConsentMethod = "REMOTE"
	Paper      ConsentMethod = "PAPER"
)

// Consent is one grant of consent by a household member.
type Consent struct {
	bun.BaseModel `bun:"table:consents,alias:c"`

	ID                int64  `bun:",pk,autoincrement"`
	HouseholdID       int64  `bun:",notnull"`
	PurposesText      string `bun:"purposes"`
	GrantedByPersonID int64
	Method            ConsentMethod
	GrantedAt         time.Time
	ExpiresAt         *time.Time
	RevokedAt         *time.Time
	RevokeReason      string `bun:",notnull"`
	RecordedBy        *int64
	CreatedAt         time.Time
}

// Purposes lists what the consent covers.
func (c *Consent) Purposes() []Purpose {
	var out []Purpose
	for _, p := range strings.Split(c.PurposesText, ",") {
		if p != "" {
			out = append(out, Purpose(p))
		}
	}
	return out
}

// ActiveAt reports whether the consent holds at t.
func (c *Consent) ActiveAt(t time.Time) bool {
	return !c.GrantedAt.After(t) && c.RevokedAt == nil && (c.ExpiresAt == nil || c.ExpiresAt.After(t))
}

// Covers reports whether the consent is active at t for purpose p.
func (c *Consent) Covers(p Purpose, t time.Time) bool {
	return c.ActiveAt(t) && slices.Contains(c.Purposes(), p)
}

// ConsentInput records a consent.
type ConsentInput struct {
	HouseholdID       int64
	Purposes          []Purpose
	GrantedByPersonID int64
	Method            ConsentMethod
	GrantedAt         *time.Time // default now
	ExpiresAt         *time.Time
}

// RecordConsent records that a member of the household consented.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (household or person),
// BAD_USER_INPUT.
func (s *Service) RecordConsent(ctx context.Context, in ConsentInput) (*Consent, error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "recording consent"); err != nil {
		return nil, err
	}
	if len(in.Purposes) == 0 {
		return nil, aidhub.Invalid("purposes", "name at least one purpose")
	}
	var texts []string
	for _, p := range in.Purposes {
		if p != EconomicVerification && p != ShareWithCharities {
			return nil, aidhub.Invalid("purposes", "%q is not a consent purpose", aidhub.Clip(string(p)))
		}
		if !slices.Contains(texts, string(p)) {
			texts = append(texts, string(p))
		}
	}
	slices.Sort(texts)
	if in.Method != Electronic && in.Method != Remote && in.Method != Paper {
		return nil, aidhub.Invalid("method", "%q is not a consent method", aidhub.Clip(string(in.Method)))
	}
	now := s.now().UTC()
	granted := now
	if in.GrantedAt != nil {
		granted = in.GrantedAt.UTC()
		if granted.After(now.Add(5 * time.Minute)) {
			return nil, aidhub.Invalid("grantedAt", "is in the future")
		}
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(granted) {
		return nil, aidhub.Invalid("expiresAt", "must be after grantedAt")
	}
	c := &Consent{
		HouseholdID: in.HouseholdID, PurposesText: strings.Join(texts, ","), GrantedByPersonID: in.GrantedByPersonID,
		Method: in.Method, GrantedAt: granted, ExpiresAt: utcPtr(in.ExpiresAt), CreatedAt: now,
	}
	if pr.TokenID != 0 {
		c.RecordedBy = &pr.TokenID
	}
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := s.householdForWork(ctx, tx, pr, in.HouseholdID); err != nil {
			return err
		}
		n, err := tx.NewSelect().Model((*Person)(nil)).Where("id = ? AND household_id = ?", in.GrantedByPersonID, in.HouseholdID).Count(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return aidhub.Invalid("grantedByPersonId", "is not a member of this household")
		}
		if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
			return err
		}
		return s.audit.Append(ctx, db.UnitOf(tx), "recordConsent", "Consent", c.ID, audit.Summary{
			"householdId": c.HouseholdID, "purposes": texts, "method": c.Method,
		})
	})
	if err != nil {
		return nil, wrap(err, "casework: record consent")
	}
	return c, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// RevokeConsent ends a consent now. Referrals already made stay, but the
// charity no longer sees the household and no new referral can be made.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT (revoked already).
func (s *Service) RevokeConsent(ctx context.Context, consentID int64, reason string) (*Consent, error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "revoking consent"); err != nil {
		return nil, err
	}
	reason, err := aidhub.CleanText("reason", reason, false, 500)
	if err != nil {
		return nil, err
	}
	c := new(Consent)
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model(c).Where("id = ?", consentID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return aidhub.Errorf(aidhub.ENOTFOUND, "no consent with this ID")
		}
		if err != nil {
			return err
		}
		if _, err := s.householdForWork(ctx, tx, pr, c.HouseholdID); err != nil {
			return aidhub.Errorf(aidhub.ENOTFOUND, "no consent with this ID")
		}
		if c.RevokedAt != nil {
			return aidhub.Errorf(aidhub.ECONFLICT, "the consent was revoked already")
		}
		now := s.now().UTC()
		c.RevokedAt, c.RevokeReason = &now, reason
		if _, err := tx.NewUpdate().Model(c).Column("revoked_at", "revoke_reason").WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.audit.Append(ctx, db.UnitOf(tx), "revokeConsent", "Consent", c.ID, audit.Summary{"householdId": c.HouseholdID})
	})
	if err != nil {
		return nil, wrap(err, "casework: revoke consent %d", consentID)
	}
	return c, nil
}

// Consents lists a household's consents, newest first.
func (s *Service) Consents(ctx context.Context, householdID int64) ([]*Consent, error) {
	var out []*Consent
	err := s.db.NewSelect().Model(&out).Where("household_id = ?", householdID).Order("id DESC").Scan(ctx)
	return out, wrap(err, "casework: consents of household %d", householdID)
}

// sharingConsent reports whether the household has an active consent to be
// shared with charities.
func (s *Service) sharingConsent(ctx context.Context, idb bun.IDB, householdID int64) (bool, error) {
	var cs []*Consent
	if err := idb.NewSelect().Model(&cs).Where("household_id = ? AND revoked_at IS NULL", householdID).Scan(ctx); err != nil {
		return false, err
	}
	now := s.now()
	for _, c := range cs {
		if c.Covers(ShareWithCharities, now) {
			return true, nil
		}
	}
	return false, nil
}
