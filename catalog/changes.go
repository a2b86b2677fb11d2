package catalog

import (
	"context"
	"fmt"
	"time"
)

// The reads below are for the hub's own maintenance (rebuilding the
// search index); they check no principal.

// ResourcesChangedSince returns the IDs of the resources created or
// changed (their updated_at) at or after since.
func (s *Service) ResourcesChangedSince(ctx context.Context, since time.Time) ([]int64, error) {
	var ids []int64
	if err := s.db.NewSelect().Model((*Resource)(nil)).ColumnExpr("r.id").Where("r.updated_at >= ?", since).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("catalog: resources changed since %s: %w", since.Format(time.RFC3339), err)
	}
	return ids, nil
}

// CountPublished counts the published resources.
func (s *Service) CountPublished(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*Resource)(nil)).Where("r.status = ?", Published).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("catalog: count published resources: %w", err)
	}
	return int(n), nil
}
