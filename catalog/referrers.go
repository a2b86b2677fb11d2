package catalog

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/db"
)

// CodeKind is what a catalog code names.
type CodeKind string

// The kinds of code other packages' data may name.
const (
	GroupKind    CodeKind = "POPULATION_GROUP"
	CategoryKind CodeKind = "SERVICE_CATEGORY"
	ItemKind     CodeKind = "SERVICE_ITEM"
)

// Referrer is a package whose data names catalog codes (casework: group
// memberships, needs, referrals, aid). Its tables are its own, so the
// catalog asks it, inside u, the transaction of a deletion, whether a code
// is still named, and refuses the deletion while it is.
type Referrer interface {
	// CatalogReferences returns the first of the referrer's tables that
	// names the code of kind, and how many of its rows do (0 when none).
	CatalogReferences(ctx context.Context, u db.Unit, kind CodeKind, code string) (table string, n int, err error)
}

// ReferredBy makes deletions ask r too. It is called once, while the
// services are being assembled (casework.NewService calls it), before the
// catalog serves.
func (s *Service) ReferredBy(r Referrer) { s.referrers = append(s.referrers, r) }

// refuseIfReferred is CONFLICT when a referrer names the code; message
// takes the code and the referrer's table.
func (s *Service) refuseIfReferred(ctx context.Context, tx bun.Tx, kind CodeKind, code string, message func(code, table string) string) error {
	for _, r := range s.referrers {
		table, n, err := r.CatalogReferences(ctx, db.UnitOf(tx), kind, code)
		if err != nil {
			return err
		}
		if n > 0 {
			return aidhub.Errorf(aidhub.ECONFLICT, "%s (%d references)", message(code, table), n)
		}
	}
	return nil
}
