package graph

import (
	"context"
	"strconv"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/graph/gqltypes"
)

// node resolves a global ID. IDs that are not ours, or name something the
// caller may not see, are NOT_FOUND alike, so existence does not leak.
func (r *Resolver) node(ctx context.Context, id string) (gqltypes.Node, error) {
	notFound := aidhub.Errorf(aidhub.ENOTFOUND, "no object with ID %q", clipID(id))
	typ, key, ok := parseGlobalID(id)
	if !ok {
		return nil, notFound
	}
	switch typ {
	case typeResource, typeOrganization:
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil || n <= 0 {
			return nil, notFound
		}
		if typ == typeResource {
			return r.CatalogService.Resource(ctx, n)
		}
		return r.CatalogService.Organization(ctx, n)
	case typeHousehold, typePerson, typeConsent, typeApplication, typeAssessment, typeNeed, typeAidRecord, typeReferral:
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil || n <= 0 {
			return nil, notFound
		}
		found, err := r.caseworkNode(ctx, typ, n)
		if aidhub.ErrorCode(err) == aidhub.ENOTFOUND {
			return nil, notFound
		}
		return found, err
	case typeWarning, typeSignal:
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil || n <= 0 {
			return nil, notFound
		}
		found, err := r.warningNode(ctx, typ, n)
		if aidhub.ErrorCode(err) == aidhub.ENOTFOUND {
			return nil, notFound
		}
		return found, err
	case typeGroup, typeCategory, typeItem:
		cat, err := r.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		var found gqltypes.Node
		switch typ {
		case typeGroup:
			if g, ok := cat.Group(key); ok {
				found = g
			}
		case typeCategory:
			if c, ok := cat.Category(key); ok {
				found = c
			}
		case typeItem:
			if it, ok := cat.Item(key); ok {
				found = it
			}
		}
		if found == nil {
			return nil, notFound
		}
		return found, nil
	}
	return nil, notFound
}

// caseworkNode loads a casework record once node's rule (policy.go) lets
// the caller ask; the service decides whether it may see that record.
func (r *Resolver) caseworkNode(ctx context.Context, typ string, id int64) (gqltypes.Node, error) {
	if err := authorizeNode(ctx, typ); err != nil {
		return nil, err
	}
	var (
		found gqltypes.Node
		err   error
	)
	switch typ {
	case typeHousehold:
		found, err = r.Casework.Household(ctx, id)
	case typePerson:
		found, err = r.Casework.Person(ctx, id)
	case typeConsent:
		found, err = r.Casework.Consent(ctx, id)
	case typeApplication:
		found, err = r.Casework.Application(ctx, id)
	case typeAssessment:
		found, err = r.Casework.Assessment(ctx, id)
	case typeNeed:
		found, err = r.Casework.Need(ctx, id)
	case typeAidRecord:
		found, err = r.Casework.AidRecord(ctx, id)
	case typeReferral:
		found, err = r.Casework.Referral(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return found, nil
}
