// Package casework is the case manager's daily work: households and the
// persons in them, consent, one application classified into needs, needs
// assessments, the ledger of every aid any provider gives, closed-loop
// referrals to charity resources, and the rule that the same need is never
// aided twice (重复帮扶). Every method checks the caller in ctx and appends
// to the audit log in the transaction of its change.
package casework

import (
	"context"
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
	"github.com/aidhub/aidhub/secret"
)

// Service is the casework store.
type Service struct {
	db      *db.DB
	regions *regions.Directory
	keys    *secret.Keys
	catalog *catalog.Service
	audit   *audit.Log
	now     func() time.Time
	needs   NeedsOutbox
}

// NeedsOutbox hears, inside the change's transaction (u), that a
// household's open needs or the aid that blocks them changed, so
// re-matching follows the change or does not happen at all.
type NeedsOutbox interface {
	NeedsChanged(ctx context.Context, u db.Unit, householdID int64) error
}

// Option configures a Service.
type Option func(*Service)

// WithNeedsOutbox sends need changes to o.
func WithNeedsOutbox(o NeedsOutbox) Option { return func(s *Service) { s.needs = o } }

// needsChanged tells the outbox, when there is one.
func (s *Service) needsChanged(ctx context.Context, tx bun.Tx, householdID int64) error {
	if s.needs == nil {
		return nil
	}
	return s.needs.NeedsChanged(ctx, db.UnitOf(tx), householdID)
}

// NewService returns the casework service. The catalog service gives the
// catalog (windows, household-level items) and the resources referred to;
// the service registers with it as a referrer, so the catalog keeps the
// codes casework names.
func NewService(d *db.DB, dir *regions.Directory, keys *secret.Keys, cat *catalog.Service, log *audit.Log, now func() time.Time, opts ...Option) *Service {
	s := &Service{db: d, regions: dir, keys: keys, catalog: cat, audit: log, now: now}
	for _, o := range opts {
		o(s)
	}
	cat.ReferredBy(s)
	return s
}

var chinaTime = time.FixedZone("CST", 8*3600)

// today is the calendar date in China Standard Time.
func (s *Service) today() aidhub.Date { return aidhub.DateOf(s.now().In(chinaTime)) }

// requireCaseworker lets ADMIN and CASE_MANAGER through.
func requireCaseworker(p auth.Principal, action string) error {
	return p.Require(action, auth.Admin, auth.CaseManager)
}

var errHouseholdNotFound = aidhub.Errorf(aidhub.ENOTFOUND, "no household with this ID")

// wrap adds the action to errors that are not for the caller.
func wrap(err error, format string, args ...any) error {
	var ae *aidhub.Error
	if err == nil || errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// Period is an inclusive range of dates.
type Period struct {
	Start, End aidhub.Date
}

func (p Period) validate(field string) error {
	if p.Start.IsZero() || p.End.IsZero() {
		return aidhub.Invalid(field, "needs a start and an end date")
	}
	if p.End.Before(p.Start) {
		return aidhub.Invalid(field, "ends (%s) before it starts (%s)", p.End, p.Start)
	}
	if p.End.Sub(p.Start.Time) > 10*366*24*time.Hour {
		return aidhub.Invalid(field, "is longer than ten years")
	}
	return nil
}
