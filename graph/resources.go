package graph

// Helpers of the organization and resource resolvers (resources.resolvers.go).

import (
	"context"

	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/graph/model"
)

func resourceConnection(p *catalog.Page[*catalog.Resource], after int64) *model.ResourceConnection {
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
