package graph

// Helpers of the organization and resource resolvers (resources.resolvers.go).

import (
	"context"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/graph/model"
)

func resourceConnection(p *aidhub.Page[*catalog.Resource], after int64) *model.ResourceConnection {
	c := &model.ResourceConnection{TotalCount: p.TotalCount, PageInfo: pageInfo(p.IDs, p.HasNextPage, after)}
	c.Edges = make([]*model.ResourceEdge, len(p.Items))
	for i, res := range p.Items {
		c.Edges[i] = &model.ResourceEdge{Cursor: encodeCursor(res.ID), Node: res}
	}
	return c
}

func (r *Resolver) transition(ctx context.Context, input model.ResourceTransitionInput,
	do func(context.Context, int64, *int64) (*catalog.Resource, error),
) (*model.ResourceTransitionPayload, error) {
	id, err := decodeRowID("id", typeResource, input.ID)
	if err != nil {
		return nil, err
	}
	res, err := do(ctx, id, versionPtr(input.ExpectedVersion))
	if err != nil {
		return nil, err
	}
	return &model.ResourceTransitionPayload{Resource: res}, nil
}

func organizationFilter(in *model.OrganizationFilter) catalog.OrganizationFilter {
	if in == nil {
		return catalog.OrganizationFilter{}
	}
	return catalog.OrganizationFilter{Kind: in.Kind, LocatedIn: in.LocatedIn}
}

func organizationConnection(p *aidhub.Page[*catalog.Organization], after int64) *model.OrganizationConnection {
	c := &model.OrganizationConnection{TotalCount: p.TotalCount, PageInfo: pageInfo(p.IDs, p.HasNextPage, after)}
	c.Edges = make([]*model.OrganizationEdge, len(p.Items))
	for i, o := range p.Items {
		c.Edges[i] = &model.OrganizationEdge{Cursor: encodeCursor(o.ID), Node: o}
	}
	return c
}

func resourceFilter(in *model.ResourceFilter) (catalog.ResourceFilter, error) {
	if in == nil {
		return catalog.ResourceFilter{}, nil
	}
	f := catalog.ResourceFilter{
		Statuses: in.Statuses, CategoryCode: in.CategoryCode, ItemCode: in.ItemCode,
		GroupCode: in.GroupCode, CoversRegion: in.CoversRegion, LocatedIn: in.LocatedIn,
		IncludeExpired: deref(in.IncludeExpired),
	}
	var err error
	f.OrganizationID, err = optRowID("filter.organizationId", typeOrganization, in.OrganizationID)
	return f, err
}

// newResourcePatch carries the fields createResource gives; an absent one
// stays unset.
func newResourcePatch(in model.CreateResourceInput) catalog.ResourcePatch {
	return catalog.ResourcePatch{
		Title: &in.Title, Description: in.Description,
		ItemCodes: listPtr(in.ItemCodes), GroupCodes: listPtr(in.GroupCodes), Coverage: listPtr(in.Coverage),
		AgeMin: ptrOpt(in.AgeMin), AgeMax: ptrOpt(in.AgeMax),
		IncomeCeilingFen: ptrOpt(in.IncomeCeilingFen),
		CapacityUnits:    int64Opt(in.CapacityUnits), CapacityBudgetFen: ptrOpt(in.CapacityBudgetFen),
		ValidFrom: ptrOpt(in.ValidFrom), ValidUntil: ptrOpt(in.ValidUntil),
		Address: in.Address, DivisionCode: ptrOpt(in.DivisionCode), Lat: ptrOpt(in.Lat), Lng: ptrOpt(in.Lng),
		ContactName: in.ContactName, ContactPhone: in.ContactPhone, EligibilityRule: in.EligibilityRule,
	}
}

// resourcePatch changes only the fields an update names; null clears one.
func resourcePatch(in model.UpdateResourceInput) catalog.ResourcePatch {
	return catalog.ResourcePatch{
		Title: optString(in.Title), Description: optString(in.Description),
		ItemCodes: optList(in.ItemCodes), GroupCodes: optList(in.GroupCodes), Coverage: optList(in.Coverage),
		AgeMin: opt(in.AgeMin), AgeMax: opt(in.AgeMax),
		IncomeCeilingFen: opt(in.IncomeCeilingFen),
		CapacityUnits:    optInt64(in.CapacityUnits), CapacityBudgetFen: opt(in.CapacityBudgetFen),
		ValidFrom: opt(in.ValidFrom), ValidUntil: opt(in.ValidUntil),
		Address: optString(in.Address), DivisionCode: opt(in.DivisionCode), Lat: opt(in.Lat), Lng: opt(in.Lng),
		ContactName: optString(in.ContactName), ContactPhone: optString(in.ContactPhone),
		EligibilityRule: optString(in.EligibilityRule),
	}
}
