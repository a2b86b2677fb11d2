package casework

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
)

// CatalogReferences implements catalog.Referrer: the catalog keeps the
// groups, categories and items that casework's rows name.
func (s *Service) CatalogReferences(ctx context.Context, u db.Unit, kind catalog.CodeKind, code string) (string, int, error) {
	tables, column := []string{"needs", "referrals", "aid_records"}, ""
	switch kind {
	case catalog.GroupKind:
		tables, column = []string{"group_memberships"}, "group_code"
	case catalog.CategoryKind:
		column = "category_code"
	case catalog.ItemKind:
		column = "item_code"
	default:
		return "", 0, fmt.Errorf("casework: references to a catalog code of kind %q", kind)
	}
	for _, table := range tables {
		n, err := u.Tx().NewSelect().TableExpr(table).Where("? = ?", bun.Ident(column), code).Count(ctx)
		if err != nil {
			return "", 0, fmt.Errorf("casework: references to %s in %s: %w", code, table, err)
		}
		if n > 0 {
			return table, int(n), nil
		}
	}
	return "", 0, nil
}

var _ catalog.Referrer = (*Service)(nil)
