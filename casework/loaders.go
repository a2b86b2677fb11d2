package casework

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"

	"github.com/aidhub/aidhub/auth"
)

// Per-request loaders: the one-record getters read households, persons,
// needs and referrals, and the facts their visibility rules ask about
// (what was referred to a charity, whether a household shares), through
// them, so a page of N records costs a few batched statements, not N.
// Writes never read through them: they read inside their transactions.

// loaders batch and cache the reads of one request. The values are shared
// by every caller of the request: nobody may change them.
type loaders struct {
	households *dataloadgen.Loader[int64, *Household]
	persons    *dataloadgen.Loader[int64, *Person]
	needs      *dataloadgen.Loader[int64, *Need]
	referrals  *dataloadgen.Loader[int64, *Referral]
	// members are the persons of a household, by ID.
	members *dataloadgen.Loader[int64, []*Person]
	// sharing tells whether a household consents to sharing now.
	sharing *dataloadgen.Loader[int64, bool]
	// referred is what of a household was referred to an organization.
	referred *dataloadgen.Loader[householdOrg, referredTo]
}

type householdOrg struct{ householdID, orgID int64 }

// referredTo is what a household's referrals to one organization name.
type referredTo struct {
	any       bool
	persons   []int64
	household bool // a referral of the household as a whole (no person)
}

type loadersKey struct{}

// NewLoaderContext returns ctx carrying fresh loaders for one request (or
// one mutation field, or one subscription event: whatever must not see
// rows cached before it). wait is how long a loader gathers keys before it
// reads them in one statement.
// The loaders are made on first use: most requests (a page of matches, the
// catalog) never read casework's rows and should not pay for them.
func (s *Service) NewLoaderContext(ctx context.Context, wait time.Duration) context.Context {
	return context.WithValue(ctx, loadersKey{}, sync.OnceValue(func() *loaders { return s.newLoaders(wait) }))
}

// fromContext returns the request's loaders and ctx. Without any (jobs, the
// command line, tests calling the service) it makes one-off loaders, kept in
// the returned ctx for the getters the call makes itself: one code path,
// and nothing cached beyond the call.
func (s *Service) fromContext(ctx context.Context) (context.Context, *loaders) {
	if l, ok := ctx.Value(loadersKey{}).(func() *loaders); ok {
		return ctx, l()
	}
	l := s.newLoaders(0)
	return context.WithValue(ctx, loadersKey{}, func() *loaders { return l }), l
}

func (s *Service) newLoaders(wait time.Duration) *loaders {
	opt := dataloadgen.WithWait(wait)
	return &loaders{
		households: dataloadgen.NewLoader(byID[Household](s, func(h *Household) int64 { return h.ID }), opt),
		persons:    dataloadgen.NewLoader(byID[Person](s, func(p *Person) int64 { return p.ID }), opt),
		needs:      dataloadgen.NewLoader(byID[Need](s, func(n *Need) int64 { return n.ID }), opt),
		referrals:  dataloadgen.NewLoader(byID[Referral](s, func(r *Referral) int64 { return r.ID }), opt),
		members:    dataloadgen.NewLoader(s.loadMembers, opt),
		sharing:    dataloadgen.NewLoader(s.loadSharing, opt),
		referred:   dataloadgen.NewLoader(s.loadReferred, opt),
	}
}

// byID reads the rows of T with the given IDs in one statement, in key
// order, nil where one does not exist.
func byID[T any](s *Service, id func(*T) int64) func(ctx context.Context, ids []int64) ([]*T, []error) {
	return func(ctx context.Context, ids []int64) ([]*T, []error) {
		var rows []*T
		if err := s.db.NewSelect().Model(&rows).Where("?TableAlias.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
			return nil, []error{fmt.Errorf("casework: load %T rows: %w", rows, err)}
		}
		found := make(map[int64]*T, len(rows))
		for _, r := range rows {
			found[id(r)] = r
		}
		out := make([]*T, len(ids))
		for i, k := range ids {
			out[i] = found[k]
		}
		return out, nil
	}
}

func (s *Service) loadMembers(ctx context.Context, householdIDs []int64) ([][]*Person, []error) {
	var rows []*Person
	if err := s.db.NewSelect().Model(&rows).Where("p.household_id IN (?)", bun.List(householdIDs)).Order("p.id").Scan(ctx); err != nil {
		return nil, []error{fmt.Errorf("casework: load household members: %w", err)}
	}
	by := make(map[int64][]*Person, len(householdIDs))
	for _, p := range rows {
		by[p.HouseholdID] = append(by[p.HouseholdID], p)
	}
	out := make([][]*Person, len(householdIDs))
	for i, id := range householdIDs {
		out[i] = by[id]
	}
	return out, nil
}

func (s *Service) loadSharing(ctx context.Context, householdIDs []int64) ([]bool, []error) {
	var cs []*Consent
	if err := s.db.NewSelect().Model(&cs).Where("household_id IN (?) AND revoked_at IS NULL", bun.List(householdIDs)).Scan(ctx); err != nil {
		return nil, []error{fmt.Errorf("casework: load consents: %w", err)}
	}
	now := s.now()
	shares := make(map[int64]bool, len(householdIDs))
	for _, c := range cs {
		if c.Covers(ShareWithCharities, now) {
			shares[c.HouseholdID] = true
		}
	}
	out := make([]bool, len(householdIDs))
	for i, id := range householdIDs {
		out[i] = shares[id]
	}
	return out, nil
}

func (s *Service) loadReferred(ctx context.Context, keys []householdOrg) ([]referredTo, []error) {
	var households, orgs []int64
	for _, k := range keys {
		if !slices.Contains(households, k.householdID) {
			households = append(households, k.householdID)
		}
		if !slices.Contains(orgs, k.orgID) {
			orgs = append(orgs, k.orgID)
		}
	}
	var rows []struct {
		HouseholdID    int64
		OrganizationID int64
		PersonID       *int64
	}
	err := s.db.NewSelect().Model((*Referral)(nil)).Column("household_id", "organization_id", "person_id").
		Where("household_id IN (?) AND organization_id IN (?)", bun.List(households), bun.List(orgs)).
		Scan(ctx, &rows)
	if err != nil {
		return nil, []error{fmt.Errorf("casework: load referrals of households: %w", err)}
	}
	by := make(map[householdOrg]*referredTo, len(keys))
	for _, r := range rows {
		k := householdOrg{r.HouseholdID, r.OrganizationID}
		to := by[k]
		if to == nil {
			to = &referredTo{any: true}
			by[k] = to
		}
		if r.PersonID == nil {
			to.household = true
		} else {
			to.persons = append(to.persons, *r.PersonID)
		}
	}
	out := make([]referredTo, len(keys))
	for i, k := range keys {
		if to := by[k]; to != nil {
			out[i] = *to
		}
	}
	return out, nil
}

// referredToOrg implements householdFacts over the request's loaders.
func (l *loaders) referredToOrg(ctx context.Context, householdID, orgID int64) (bool, error) {
	to, err := l.referred.Load(ctx, householdOrg{householdID, orgID})
	return to.any, err
}

func (l *loaders) sharingConsent(ctx context.Context, householdID int64) (bool, error) {
	return l.sharing.Load(ctx, householdID)
}

// warmHouseholds reads the households of rows in one statement for the
// request's loaders, so the getters called for each row one after another
// (each would otherwise wait and read alone) find them cached. Without
// request loaders there is nothing to warm.
func (s *Service) warmHouseholds(ctx context.Context, householdIDs []int64) {
	load, ok := ctx.Value(loadersKey{}).(func() *loaders)
	if !ok || len(householdIDs) == 0 {
		return
	}
	l := load()
	// An error is cached for the getters, which report it.
	_, _ = l.households.LoadAll(ctx, householdIDs)
}

// visibleMembers filters the members of a household to those pr may see:
// all of them for case workers, for a charity those referred to it (and the
// head, for referrals of the household as a whole).
func (l *loaders) visibleMembers(ctx context.Context, pr auth.Principal, h *Household) ([]*Person, error) {
	if !pr.WorksIn(h.RegionCode) && !pr.Is(auth.Charity) {
		return nil, nil
	}
	all, err := l.members.Load(ctx, h.ID)
	if err != nil || pr.WorksIn(h.RegionCode) {
		return all, err
	}
	to, err := l.referred.Load(ctx, householdOrg{h.ID, pr.OrganizationID})
	if err != nil {
		return nil, err
	}
	var out []*Person
	for _, p := range all {
		if slices.Contains(to.persons, p.ID) || (to.household && p.Relation == "HEAD") {
			out = append(out, p)
		}
	}
	return out, nil
}
