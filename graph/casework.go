package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/graph/model"
)

func personInput(in *model.PersonInput) casework.PersonInput {
	p := casework.PersonInput{ExternalID: in.ExternalID, Name: in.Name, ResidentID: in.ResidentID, Relation: in.Relation}
	for _, g := range in.Groups {
		p.Groups = append(p.Groups, casework.MembershipInput{GroupCode: g.GroupCode, Since: g.Since, Until: g.Until})
	}
	return p
}

func needInputs(in []*model.NeedInput) ([]casework.NeedInput, error) {
	out := make([]casework.NeedInput, len(in))
	for i, n := range in {
		person, err := optRowID(fmt.Sprintf("needs[%d].personId", i), typePerson, n.PersonID)
		if err != nil {
			return nil, err
		}
		out[i] = casework.NeedInput{PersonID: person, CategoryCode: deref(n.CategoryCode), ItemCode: n.ItemCode, Severity: n.Severity, Notes: deref(n.Notes)}
	}
	return out, nil
}

func (r *Resolver) registerHousehold(ctx context.Context, in model.RegisterHouseholdInput) (*casework.Household, error) {
	h := casework.HouseholdInput{
		ExternalID: in.ExternalID, RegionCode: in.RegionCode, Address: deref(in.Address), MonthlyIncomeFen: deref(in.MonthlyIncomeFen),
	}
	if s := in.Spending; s != nil {
		h.MedicalSpendingFen, h.EducationSpendingFen = deref(s.MedicalFen), deref(s.EducationFen)
		h.HousingSpendingFen, h.OtherSpendingFen = deref(s.HousingFen), deref(s.OtherFen)
	}
	for _, m := range in.Members {
		h.Members = append(h.Members, personInput(m))
	}
	household, _, err := r.Casework.RegisterHousehold(ctx, h)
	return household, err
}

func (r *Resolver) recordAid(ctx context.Context, in model.RecordAidInput) (*casework.AidRecord, error) {
	household, err := decodeRowID("householdId", typeHousehold, in.HouseholdID)
	if err != nil {
		return nil, err
	}
	a := casework.AidInput{
		HouseholdID: household, CategoryCode: deref(in.CategoryCode), ItemCode: in.ItemCode,
		ProviderKind: deref(in.ProviderKind), ProviderName: deref(in.ProviderName), AmountFen: deref(in.AmountFen),
		Units: int64(deref(in.Units)), Period: casework.Period{Start: in.PeriodStart, End: in.PeriodEnd},
		Source: deref(in.Source), OverrideReason: deref(in.OverrideReason),
	}
	if a.PersonID, err = optRowID("personId", typePerson, in.PersonID); err != nil {
		return nil, err
	}
	if a.ProviderOrgID, err = optRowID("providerOrganizationId", typeOrganization, in.ProviderOrganizationID); err != nil {
		return nil, err
	}
	if a.NeedID, err = optRowID("needId", typeNeed, in.NeedID); err != nil {
		return nil, err
	}
	return r.Casework.RecordAid(ctx, a)
}

func (r *Resolver) createReferral(ctx context.Context, in model.CreateReferralInput) (*casework.Referral, error) {
	resource, err := decodeRowID("resourceId", typeResource, in.ResourceID)
	if err != nil {
		return nil, err
	}
	ref := casework.ReferralInput{
		ResourceID: resource, CategoryCode: deref(in.CategoryCode), ItemCode: in.ItemCode,
		Units: int64(deref(in.Units)), AmountFen: deref(in.AmountFen), Note: deref(in.Note),
		OverrideReason: deref(in.OverrideReason), RespondWithin: deref(in.RespondWithinDays),
	}
	if ref.NeedID, err = optRowID("needId", typeNeed, in.NeedID); err != nil {
		return nil, err
	}
	household, err := optRowID("householdId", typeHousehold, in.HouseholdID)
	if err != nil {
		return nil, err
	}
	if household == nil && ref.NeedID == nil {
		return nil, aidhub.Invalid("householdId", "give a needId or a householdId")
	}
	ref.HouseholdID = deref(household)
	if ref.PersonID, err = optRowID("personId", typePerson, in.PersonID); err != nil {
		return nil, err
	}
	if (in.PeriodStart == nil) != (in.PeriodEnd == nil) {
		return nil, aidhub.Invalid("periodEnd", "give both periodStart and periodEnd, or neither")
	}
	if in.PeriodStart != nil {
		ref.Period = &casework.Period{Start: *in.PeriodStart, End: *in.PeriodEnd}
	}
	return r.Casework.CreateReferral(ctx, ref)
}

func (r *Resolver) transitionReferral(ctx context.Context, in model.TransitionReferralInput) (*casework.Referral, error) {
	id, err := decodeRowID("referralId", typeReferral, in.ReferralID)
	if err != nil {
		return nil, err
	}
	t := casework.Transition{
		ReferralID: id, To: in.To, DeclineReason: in.DeclineReason, Note: deref(in.Note),
		DeliveredAmountFen: in.DeliveredAmountFen, DeliveredUntil: in.DeliveredUntil,
	}
	if in.DeliveredUnits != nil {
		u := int64(*in.DeliveredUnits)
		t.DeliveredUnits = &u
	}
	return r.Casework.TransitionReferral(ctx, t)
}

func (r *Resolver) households(ctx context.Context, filter *model.HouseholdFilter, first *int, after *string) (*model.HouseholdConnection, error) {
	args, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	var f casework.HouseholdFilter
	if filter != nil {
		f = casework.HouseholdFilter{RegionPrefix: deref(filter.RegionPrefix), GroupCode: deref(filter.GroupCode), ResidentID: deref(filter.ResidentID)}
	}
	if f.GroupCode != "" {
		// An unknown code is a typo, not a group without households.
		cat, err := r.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		if _, ok := cat.Group(f.GroupCode); !ok {
			return nil, aidhub.Invalid("filter.groupCode", "%q is not a population group", aidhub.Clip(f.GroupCode))
		}
	}
	p, err := r.Casework.Households(ctx, f, args)
	if err != nil {
		return nil, err
	}
	c := &model.HouseholdConnection{TotalCount: p.TotalCount, PageInfo: pageInfo(p.IDs, p.HasNextPage, args.After), Edges: []*model.HouseholdEdge{}}
	for _, h := range p.Items {
		c.Edges = append(c.Edges, &model.HouseholdEdge{Cursor: encodeCursor(h.ID), Node: h})
	}
	return c, nil
}

func (r *Resolver) aidHistory(ctx context.Context, householdID string, personID *string, categoryCode *string, first *int, after *string) (*model.AidRecordConnection, error) {
	args, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	f := casework.AidFilter{CategoryCode: deref(categoryCode)}
	if f.CategoryCode != "" {
		cat, err := r.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		if _, ok := cat.Category(f.CategoryCode); !ok {
			return nil, aidhub.Invalid("categoryCode", "%q is not a service category", aidhub.Clip(f.CategoryCode))
		}
	}
	if f.HouseholdID, err = decodeRowID("householdId", typeHousehold, householdID); err != nil {
		return nil, err
	}
	if f.PersonID, err = optRowID("personId", typePerson, personID); err != nil {
		return nil, err
	}
	p, err := r.Casework.AidHistory(ctx, f, args)
	if err != nil {
		return nil, err
	}
	c := &model.AidRecordConnection{TotalCount: p.TotalCount, PageInfo: pageInfo(p.IDs, p.HasNextPage, args.After), Edges: []*model.AidRecordEdge{}}
	for _, a := range p.Items {
		c.Edges = append(c.Edges, &model.AidRecordEdge{Cursor: encodeCursor(a.ID), Node: a})
	}
	return c, nil
}

func (r *Resolver) referrals(ctx context.Context, filter *model.ReferralFilter, first *int, after *string) (*model.ReferralConnection, error) {
	args, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	var f casework.ReferralFilter
	if filter != nil {
		f.Statuses, f.RegionPrefix = filter.Statuses, deref(filter.RegionPrefix)
		// The prefix goes into a LIKE pattern: digits only.
		if len(f.RegionPrefix) > 12 || strings.Trim(f.RegionPrefix, "0123456789") != "" {
			return nil, aidhub.Invalid("filter.regionPrefix", "must be up to 12 digits")
		}
		if f.HouseholdID, err = optRowID("filter.householdId", typeHousehold, filter.HouseholdID); err != nil {
			return nil, err
		}
		if f.ResourceID, err = optRowID("filter.resourceId", typeResource, filter.ResourceID); err != nil {
			return nil, err
		}
	}
	p, err := r.Casework.Referrals(ctx, f, args)
	if err != nil {
		return nil, err
	}
	c := &model.ReferralConnection{TotalCount: p.TotalCount, PageInfo: pageInfo(p.IDs, p.HasNextPage, args.After), Edges: []*model.ReferralEdge{}}
	for _, ref := range p.Items {
		c.Edges = append(c.Edges, &model.ReferralEdge{Cursor: encodeCursor(ref.ID), Node: ref})
	}
	return c, nil
}
