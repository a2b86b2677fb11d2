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
	"strings"
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
func (s *Service) today() db.Date { return db.DateOf(s.now().In(chinaTime)) }

// inRegion reports whether p may work on a household in region: ADMIN
// everywhere, a CASE_MANAGER inside its prefix.
// MayWorkIn reports whether p may do casework for a household of region:
// an ADMIN, or a CASE_MANAGER whose region prefix covers it.
func MayWorkIn(p auth.Principal, region string) bool { return inRegion(p, region) }

func inRegion(p auth.Principal, region string) bool {
	return p.Is(auth.Admin) || (p.Is(auth.CaseManager) && strings.HasPrefix(region, p.RegionPrefix))
}

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

// tx runs fn in a transaction and audits it there.
func (s *Service) tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.Tx(ctx, fn)
}

// PageArgs and Page are the catalog's: one way of paging everywhere.
type (
	PageArgs    = catalog.PageArgs
	Page[T any] = catalog.Page[T]
)

func catalogNewPage[T any](rows []T, page PageArgs, total int, id func(T) int64) *Page[T] {
	return catalog.NewPage(rows, page, total, id)
}

var cleanText = catalog.CleanText

// Period is an inclusive range of dates.
type Period struct {
	Start, End db.Date
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
