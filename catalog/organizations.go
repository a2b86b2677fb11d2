package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/db"
)

// OrgKind is what sort of body an organization is.
type OrgKind string

const (
	KindCharity            OrgKind = "CHARITY"             // 慈善组织
	KindGovernment         OrgKind = "GOVERNMENT"          // government department
	KindSocialOrganization OrgKind = "SOCIAL_ORGANIZATION" // 社会组织, e.g. social-work centres
)

// Valid reports whether k is known.
func (k OrgKind) Valid() bool {
	return k == KindCharity || k == KindGovernment || k == KindSocialOrganization
}

// Organization gives aid: it owns resources and receives referrals.
type Organization struct {
	bun.BaseModel `bun:"table:organizations,alias:o"`

	ID           int64   `bun:",pk,autoincrement"`
	Name         string  `bun:",notnull"`
	Kind         OrgKind `bun:",notnull"`
	DivisionCode string  `bun:",notnull"`
	Description  string  `bun:",notnull"`
	ContactPhone string  `bun:",notnull"`
	Website      string  `bun:",notnull"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NewOrganization is the input of CreateOrganization.
type NewOrganization struct {
	Name, DivisionCode, Description, ContactPhone, Website string
	Kind                                                   OrgKind
}

// CreateOrganization registers an organization.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not ADMIN), BAD_USER_INPUT, CONFLICT
// (name taken).
func (s *Service) CreateOrganization(ctx context.Context, in NewOrganization) (*Organization, error) {
	if err := requireAdmin(ctx, "creating an organization"); err != nil {
		return nil, err
	}
	o := &Organization{Kind: in.Kind}
	var err error
	if o.Name, err = aidhub.CleanText("name", in.Name, true, 100); err != nil {
		return nil, err
	}
	if !o.Kind.Valid() {
		return nil, aidhub.Invalid("kind", "must be CHARITY, GOVERNMENT or SOCIAL_ORGANIZATION")
	}
	if reason := s.regions.Check(in.DivisionCode); reason != "" {
		return nil, aidhub.Invalid("divisionCode", "%s", reason)
	}
	o.DivisionCode = in.DivisionCode
	if o.Description, err = aidhub.CleanText("description", in.Description, false, 2000); err != nil {
		return nil, err
	}
	if o.ContactPhone, err = aidhub.CheckPhone("contactPhone", in.ContactPhone); err != nil {
		return nil, err
	}
	if o.Website, err = checkWebsite("website", in.Website); err != nil {
		return nil, err
	}
	o.CreatedAt = s.now().UTC()
	o.UpdatedAt = o.CreatedAt
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(o).Exec(ctx); err != nil {
			return err
		}
		return s.recordID(ctx, tx, "createOrganization", "Organization", o.ID, audit.Summary{"kind": o.Kind, "divisionCode": o.DivisionCode})
	})
	if db.IsUniqueViolation(err) {
		return nil, aidhub.Errorf(aidhub.ECONFLICT, "an organization named %q already exists", o.Name)
	} else if err != nil {
		return nil, fmt.Errorf("catalog: create organization: %w", err)
	}
	return o, nil
}

// Organization returns one organization. Organizations are public.
//
// Errors: NOT_FOUND.
func (s *Service) Organization(ctx context.Context, id int64) (*Organization, error) {
	ctx, l := s.fromContext(ctx)
	o, err := l.organizations.Load(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("catalog: get organization %d: %w", id, err)
	}
	if o == nil {
		return nil, aidhub.Errorf(aidhub.ENOTFOUND, "no organization with this ID")
	}
	return o, nil
}

// OrganizationsByID returns the organizations with the given IDs in the
// same order, nil where one does not exist (for per-request loaders).
func (s *Service) OrganizationsByID(ctx context.Context, ids []int64) ([]*Organization, error) {
	var rows []*Organization
	if err := s.db.NewSelect().Model(&rows).Where("id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: load organizations: %w", err)
	}
	byID := make(map[int64]*Organization, len(rows))
	for _, o := range rows {
		byID[o.ID] = o
	}
	out := make([]*Organization, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

// OrganizationFilter narrows ListOrganizations.
type OrganizationFilter struct {
	Kind      *OrgKind
	LocatedIn *string // division-code prefix
}

// ListOrganizations returns a page of organizations ordered by ID.
//
// Errors: BAD_USER_INPUT (page size, filter).
func (s *Service) ListOrganizations(ctx context.Context, f OrganizationFilter, page aidhub.PageArgs) (*aidhub.Page[*Organization], error) {
	if err := page.Validate(); err != nil {
		return nil, err
	}
	if f.Kind != nil && !f.Kind.Valid() {
		return nil, aidhub.Invalid("filter.kind", "must be CHARITY, GOVERNMENT or SOCIAL_ORGANIZATION")
	}
	if f.LocatedIn != nil {
		if reason := s.regions.Check(*f.LocatedIn); reason != "" {
			return nil, aidhub.Invalid("filter.locatedIn", "%s", reason)
		}
	}
	where := func(q *bun.SelectQuery) *bun.SelectQuery {
		if f.Kind != nil {
			q = q.Where("o.kind = ?", *f.Kind)
		}
		if f.LocatedIn != nil {
			q = q.Where("o.division_code LIKE ?", *f.LocatedIn+"%")
		}
		return q
	}
	var rows []*Organization
	q := where(s.db.NewSelect().Model(&rows)).Where("o.id > ?", page.After).OrderExpr("o.id").Limit(int64(page.First + 1))
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: list organizations: %w", err)
	}
	total, err := where(s.db.NewSelect().Model((*Organization)(nil))).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog: count organizations: %w", err)
	}
	return aidhub.NewPage(rows, page, int(total), func(o *Organization) int64 { return o.ID }), nil
}
