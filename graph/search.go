package graph

import (
	"context"
	"strconv"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/graph/model"
	"github.com/aidhub/aidhub/search"
)

const typeSearchCursor = "search"

func (r *Resolver) searchResources(ctx context.Context, text *string, filter *model.SearchFilter, near *model.NearInput,
	sort *search.Sort, facets []string, first *int, after *string,
) (*model.SearchResultConnection, error) {
	if r.Search == nil {
		return nil, aidhub.Errorf(aidhub.EINTERNAL, "search is not configured")
	}
	req := search.Request{Text: deref(text), Facets: facets, Limit: 20, Today: search.DateNumber(r.CatalogService.Today())}
	if first != nil {
		req.Limit = *first
	}
	if after != nil && *after != "" {
		offset, err := decodeRowID("after", typeSearchCursor, *after)
		if err != nil {
			return nil, err
		}
		req.Offset = int(offset)
	}
	if sort != nil {
		req.Sort = *sort
	}
	if near != nil {
		req.Near = &search.Near{Lat: near.Lat, Lng: near.Lng, RadiusMeters: near.RadiusMeters}
	}
	if filter != nil {
		f, err := r.searchFilter(ctx, filter)
		if err != nil {
			return nil, err
		}
		req.Filter = f
	}
	res, err := r.Search.Search(ctx, req)
	if err != nil {
		return nil, err
	}

	ids := make([]int64, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	resources, err := r.CatalogService.ResourcesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	conn := &model.SearchResultConnection{TotalCount: res.Total, Edges: []*model.SearchHit{}, Facets: []*model.Facet{}}
	for i, h := range res.Hits {
		// The index is a moment behind the database: skip what is gone or
		// no longer searchable. ResourcesByID gives owners and
		// administrators their drafts, paused and closed resources too,
		// which search must never list.
		if resources[i] == nil || !search.Searchable(resources[i]) {
			continue
		}
		conn.Edges = append(conn.Edges, &model.SearchHit{
			Cursor: rowID(typeSearchCursor, int64(req.Offset+i+1)), Node: resources[i],
			Highlight: h.Highlight, DistanceMeters: h.DistanceMeters,
		})
	}
	conn.PageInfo = &model.PageInfo{HasNextPage: req.Offset+len(res.Hits) < res.Total, HasPreviousPage: req.Offset > 0}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[n-1].Cursor
	}
	for _, f := range res.Facets {
		facet := &model.Facet{Field: f.Field, Values: []*model.FacetValue{}}
		for _, v := range f.Values {
			value, label, err := r.facetLabel(ctx, f.Field, v.Value)
			if err != nil {
				return nil, err
			}
			facet.Values = append(facet.Values, &model.FacetValue{Value: value, Label: label, Count: v.Count})
		}
		conn.Facets = append(conn.Facets, facet)
	}
	return conn, nil
}

// searchFilter checks every code against the catalog and the division
// directory, so unknown values are refused rather than silently matching
// nothing.
func (r *Resolver) searchFilter(ctx context.Context, in *model.SearchFilter) (search.Filter, error) {
	cat, err := r.snapshot(ctx)
	if err != nil {
		return search.Filter{}, err
	}
	f := search.Filter{Categories: in.CategoryCodes, Items: in.ItemCodes, Groups: in.GroupCodes}
	for _, c := range in.CategoryCodes {
		if _, ok := cat.Category(c); !ok {
			return f, aidhub.Invalid("filter.categoryCodes", "%q is not a known service category", clipID(c))
		}
	}
	for _, c := range in.ItemCodes {
		if _, ok := cat.Item(c); !ok {
			return f, aidhub.Invalid("filter.itemCodes", "%q is not a known service item", clipID(c))
		}
	}
	for _, c := range in.GroupCodes {
		if _, ok := cat.Group(c); !ok {
			return f, aidhub.Invalid("filter.groupCodes", "%q is not a known population group", clipID(c))
		}
	}
	for _, id := range in.OrganizationIds {
		n, err := decodeRowID("filter.organizationIds", typeOrganization, id)
		if err != nil {
			return f, err
		}
		f.OrganizationIDs = append(f.OrganizationIDs, n)
	}
	dir := r.CatalogService.Regions()
	if in.CoversRegion != nil {
		if reason := dir.Check(*in.CoversRegion); reason != "" {
			return f, aidhub.Invalid("filter.coversRegion", "%s", reason)
		}
		f.CoversRegion = *in.CoversRegion
	}
	if in.LocatedIn != nil {
		if reason := dir.Check(*in.LocatedIn); reason != "" {
			return f, aidhub.Invalid("filter.locatedIn", "%s", reason)
		}
		f.LocatedIn = *in.LocatedIn
	}
	return f, nil
}

// facetLabel names a facet value; organization values become global IDs.
func (r *Resolver) facetLabel(ctx context.Context, field, value string) (string, string, error) {
	switch field {
	case search.FacetCategory, search.FacetGroup:
		cat, err := r.snapshot(ctx)
		if err != nil {
			return "", "", err
		}
		if field == search.FacetCategory {
			if c, ok := cat.Category(value); ok {
				return value, c.NameZh, nil
			}
		} else if g, ok := cat.Group(value); ok {
			return value, g.NameZh, nil
		}
	case search.FacetDistrict:
		if d, ok := r.CatalogService.Regions().Lookup(value); ok {
			return value, d.Name, nil
		}
	case search.FacetOrganization:
		id, err := strconv.ParseInt(value, 10, 64)
		if err == nil {
			org, err := r.CatalogService.Organization(ctx, id)
			if err != nil && aidhub.ErrorCode(err) != aidhub.ENOTFOUND {
				return "", "", err
			}
			if err == nil {
				return rowID(typeOrganization, id), org.Name, nil
			}
		}
	}
	return value, value, nil
}
