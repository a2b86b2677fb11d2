package casework

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
)

// One-record look-ups for node(id) and the fields that point at records.
// Each answers NOT_FOUND alike for what does not exist and what the caller
// may not see, so existence does not leak.

func (s *Service) load(ctx context.Context, model any, id int64, notFound error) error {
	err := s.db.NewSelect().Model(model).Where("?TableAlias.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound
	}
	return wrap(err, "casework: load %d", id)
}

// forCaseworkers passes only ADMIN and CASE_MANAGERs of the household's
// region. It reads the household through the request's loaders.
func (s *Service) forCaseworkers(ctx context.Context, householdID int64, notFound error) error {
	pr := auth.FromContext(ctx)
	if !pr.Is(auth.Admin, auth.CaseManager) {
		return notFound // no household is theirs to work on: no need to read it
	}
	ctx, l := s.fromContext(ctx)
	h, err := l.households.Load(ctx, householdID)
	if err != nil {
		return wrap(err, "casework: load household %d", householdID)
	}
	if h == nil || !pr.WorksIn(h.RegionCode) {
		return notFound
	}
	return nil
}

// Person returns a person the caller may see: case workers of the region,
// or a charity the person (or, for household-level referrals, the
// household head) was referred to while consent holds.
func (s *Service) Person(ctx context.Context, id int64) (*Person, error) {
	ctx, l := s.fromContext(ctx)
	p, err := l.persons.Load(ctx, id)
	if err != nil {
		return nil, wrap(err, "casework: load person %d", id)
	}
	if p == nil {
		return nil, errPersonNotFound
	}
	if auth.FromContext(ctx).Is(auth.Charity) {
		h, err := s.Household(ctx, p.HouseholdID)
		noConsent := aidhub.ErrorCode(err) == aidhub.ECONSENT
		if err != nil && !noConsent {
			return nil, errPersonNotFound
		}
		if noConsent {
			// Which persons were referred to it does not depend on consent.
			h = &Household{ID: p.HouseholdID}
		}
		visible, err2 := s.Persons(ctx, h)
		if err2 != nil {
			return nil, err2
		}
		if !slices.ContainsFunc(visible, func(v *Person) bool { return v.ID == id }) {
			return nil, errPersonNotFound
		}
		if noConsent {
			return nil, err // CONSENT_REQUIRED: a person referred to it
		}
		return p, nil
	}
	return p, s.forCaseworkers(ctx, p.HouseholdID, errPersonNotFound)
}

// Need returns a need, to case workers of the region.
func (s *Service) Need(ctx context.Context, id int64) (*Need, error) {
	ctx, l := s.fromContext(ctx)
	n, err := l.needs.Load(ctx, id)
	if err != nil {
		return nil, wrap(err, "casework: load need %d", id)
	}
	if n == nil {
		return nil, ErrNeedNotFound
	}
	return n, s.forCaseworkers(ctx, n.HouseholdID, ErrNeedNotFound)
}

// Assessment returns an assessment, to case workers of the region.
func (s *Service) Assessment(ctx context.Context, id int64) (*Assessment, error) {
	a := new(Assessment)
	notFound := aidhub.Errorf(aidhub.ENOTFOUND, "no assessment with this ID")
	if err := s.load(ctx, a, id, notFound); err != nil {
		return nil, err
	}
	return a, s.forCaseworkers(ctx, a.HouseholdID, notFound)
}

// Application returns an application, to case workers of the region.
func (s *Service) Application(ctx context.Context, id int64) (*Application, error) {
	a := new(Application)
	if err := s.load(ctx, a, id, errApplicationNotFound); err != nil {
		return nil, err
	}
	return a, s.forCaseworkers(ctx, a.HouseholdID, errApplicationNotFound)
}

// Consent returns a consent, to case workers of the region.
func (s *Service) Consent(ctx context.Context, id int64) (*Consent, error) {
	c := new(Consent)
	notFound := aidhub.Errorf(aidhub.ENOTFOUND, "no consent with this ID")
	if err := s.load(ctx, c, id, notFound); err != nil {
		return nil, err
	}
	return c, s.forCaseworkers(ctx, c.HouseholdID, notFound)
}

// AidRecord returns a ledger line: to case workers of the region, or to
// the charity that gave it while it may see the household.
func (s *Service) AidRecord(ctx context.Context, id int64) (*AidRecord, error) {
	r := new(AidRecord)
	notFound := aidhub.Errorf(aidhub.ENOTFOUND, "no aid record with this ID")
	if err := s.load(ctx, r, id, notFound); err != nil {
		return nil, err
	}
	if pr := auth.FromContext(ctx); pr.Is(auth.Charity) {
		if r.ProviderOrgID == nil || *r.ProviderOrgID != pr.OrganizationID {
			return nil, notFound
		}
		if _, err := s.Household(ctx, r.HouseholdID); err != nil {
			if aidhub.ErrorCode(err) == aidhub.ECONSENT {
				return nil, err // its own aid: it knows the household
			}
			return nil, notFound
		}
		return r, nil
	}
	return r, s.forCaseworkers(ctx, r.HouseholdID, notFound)
}

// SharingConsented reports whether the household consents to sharing now.
func (s *Service) SharingConsented(ctx context.Context, householdID int64) (bool, error) {
	ctx, l := s.fromContext(ctx)
	ok, err := l.sharing.Load(ctx, householdID)
	return ok, wrap(err, "casework: consent of household %d", householdID)
}

// SharingConsents reports for each household whether it consents to
// sharing now, in one read: for callers that walk many households one after
// another, where each SharingConsented would wait for its own batch.
func (s *Service) SharingConsents(ctx context.Context, householdIDs []int64) (map[int64]bool, error) {
	ctx, l := s.fromContext(ctx)
	ok, err := l.sharing.LoadAll(ctx, householdIDs)
	if err != nil {
		return nil, wrap(err, "casework: consent of %d households", len(householdIDs))
	}
	out := make(map[int64]bool, len(householdIDs))
	for i, id := range householdIDs {
		out[id] = ok[i]
	}
	return out, nil
}

// Today is the current calendar date in China Standard Time.
func (s *Service) Today() aidhub.Date { return s.today() }

// WaitingDays is how long a need has waited since it was first assessed.
func (s *Service) WaitingDays(n *Need) int {
	return int(s.today().Sub(n.OpenedOn.Time).Hours() / 24)
}

// ConsentActive reports whether a consent holds now.
func (s *Service) ConsentActive(c *Consent) bool { return c.ActiveAt(s.now()) }
