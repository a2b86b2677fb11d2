package catalog

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/regions"
)

// Service is the catalog, organization and resource store. Every method
// checks the caller in ctx (auth.FromContext) and returns *aidhub.Error for
// anything the caller can act on.
type Service struct {
	db      *db.DB
	regions *regions.Directory
	now     func() time.Time
	outbox  Outbox
	audit   *audit.Log
	// referrers own the data that names catalog codes (see ReferredBy).
	referrers []Referrer
	// checkRule compiles a resource's eligibility rule (matching's
	// language); without it rules are stored unchecked.
	checkRule func(string) error
}

// Outbox hears of every change to a resource inside the change's own
// transaction (u), so what must follow the change (the search index,
// re-matching) is committed with it or not at all.
type Outbox interface {
	ResourceChanged(ctx context.Context, u db.Unit, resourceID int64) error
}

// Option configures a Service.
type Option func(*Service)

// WithOutbox sends resource changes to o.
func WithOutbox(o Outbox) Option { return func(s *Service) { s.outbox = o } }

// NewService returns a service over d that appends every change to log,
// in the change's transaction. now is the clock (time.Now in production,
// fixed in tests).
func NewService(d *db.DB, dir *regions.Directory, log *audit.Log, now func() time.Time, opts ...Option) *Service {
	s := &Service{db: d, regions: dir, audit: log, now: now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// WithRuleCheck checks eligibility rules when resources are saved.
func WithRuleCheck(check func(rule string) error) Option {
	return func(s *Service) { s.checkRule = check }
}

// record appends to the audit log, after telling the outbox of a catalog
// edit. Catalog entries are keyed by code, which the summary carries.
func (s *Service) record(ctx context.Context, tx bun.Tx, action, subjectType string, summary audit.Summary) error {
	if o, ok := s.outbox.(CatalogOutbox); ok {
		if err := o.CatalogChanged(ctx, db.UnitOf(tx)); err != nil {
			return err
		}
	}
	return s.recordID(ctx, tx, action, subjectType, 0, summary)
}

// CatalogOutbox is an Outbox that also hears of catalog edits (groups,
// categories, items, plans), in their transaction: what depends on the
// catalog (the matching engine) reloads.
type CatalogOutbox interface {
	CatalogChanged(ctx context.Context, u db.Unit) error
}

func (s *Service) recordID(ctx context.Context, tx bun.Tx, action, subjectType string, id int64, summary audit.Summary) error {
	return s.audit.Append(ctx, db.UnitOf(tx), action, subjectType, id, summary)
}

// changed tells the outbox, inside tx, that a resource changed.
func (s *Service) changed(ctx context.Context, tx bun.Tx, id int64) error {
	if s.outbox == nil {
		return nil
	}
	return s.outbox.ResourceChanged(ctx, db.UnitOf(tx), id)
}

// Regions returns the division directory the service validates against.
func (s *Service) Regions() *regions.Directory { return s.regions }

// today is the current calendar date in China Standard Time, the zone in
// which validity windows are meant.
func (s *Service) today() aidhub.Date {
	return aidhub.DateOf(s.now().In(chinaTime))
}

var chinaTime = time.FixedZone("CST", 8*3600)

// Snapshot loads the whole catalog. It is a few small tables, read together.
func (s *Service) Snapshot(ctx context.Context) (*Catalog, error) {
	return snapshot(ctx, s.db)
}

func snapshot(ctx context.Context, idb bun.IDB) (*Catalog, error) {
	var (
		groups []Group
		cats   []Category
		items  []Item
		plans  []PlanEntry
	)
	if err := idb.NewSelect().Model(&groups).Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: load groups: %w", err)
	}
	if err := idb.NewSelect().Model(&cats).Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: load categories: %w", err)
	}
	if err := idb.NewSelect().Model(&items).Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: load items: %w", err)
	}
	if err := idb.NewSelect().Model(&plans).Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: load plans: %w", err)
	}
	return NewCatalog(groups, cats, items, plans), nil
}

//go:embed defaults.json
var defaultsJSON []byte

// Defaults is the seeded catalog.
type Defaults struct {
	Groups     []Group     `json:"groups"`
	Categories []Category  `json:"categories"`
	Items      []Item      `json:"items"`
	Plans      []PlanEntry `json:"plans"`
}

// LoadDefaults parses the embedded default catalog.
func LoadDefaults() (*Defaults, error) {
	var d Defaults
	if err := json.Unmarshal(defaultsJSON, &d); err != nil {
		return nil, fmt.Errorf("catalog: parse defaults: %w", err)
	}
	return &d, nil
}

// SeedDefaults fills an empty catalog with the defaults and reports whether
// it did. A catalog that has any group or category is left alone: the
// administrators own it from then on.
func (s *Service) SeedDefaults(ctx context.Context) (bool, error) {
	d, err := LoadDefaults()
	if err != nil {
		return false, err
	}
	seeded := false
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*Group)(nil)).Count(ctx)
		if err != nil {
			return err
		}
		m, err := tx.NewSelect().Model((*Category)(nil)).Count(ctx)
		if err != nil || n+m > 0 {
			return err
		}
		// Parents before children: insert categories in tree order.
		cats := NewCatalog(nil, append([]Category(nil), d.Categories...), nil, nil)
		var ordered []Category
		for _, code := range cats.Subtree("")[1:] {
			c, _ := cats.Category(code)
			ordered = append(ordered, *c)
		}
		for _, part := range []any{&d.Groups, &ordered, &d.Items, &d.Plans} {
			if _, err := tx.NewInsert().Model(part).Exec(ctx); err != nil {
				return err
			}
		}
		seeded = true
		return nil
	})
	if db.IsUniqueViolation(err) {
		// Another hub seeded the empty catalog at the same moment (on
		// PostgreSQL both saw it empty); its transaction holds the defaults.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("catalog: seed defaults: %w", err)
	}
	return seeded, nil
}

func requireAdmin(ctx context.Context, action string) error {
	return auth.FromContext(ctx).Require(action, auth.Admin)
}

// GroupPatch changes a group; nil fields stay as they are.
type GroupPatch struct {
	NameZh, NameEn, Description *string
	Tier, Sort                  *int
}

func (g *Group) validate() error {
	var err error
	if err = checkCode("code", g.Code); err != nil {
		return err
	}
	if g.NameZh, err = aidhub.CleanText("nameZh", g.NameZh, true, 100); err != nil {
		return err
	}
	if g.NameEn, err = aidhub.CleanText("nameEn", g.NameEn, true, 100); err != nil {
		return err
	}
	if g.Description, err = aidhub.CleanText("description", g.Description, false, 2000); err != nil {
		return err
	}
	if g.Tier < 1 || g.Tier > 9 {
		return aidhub.Invalid("tier", "must be 1 (served first) to 9, got %d", g.Tier)
	}
	return nil
}

// CreateGroup adds a population group.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not ADMIN), BAD_USER_INPUT, CONFLICT
// (code taken).
func (s *Service) CreateGroup(ctx context.Context, g Group) (*Group, error) {
	if err := requireAdmin(ctx, "creating a population group"); err != nil {
		return nil, err
	}
	if err := g.validate(); err != nil {
		return nil, err
	}
	if err := s.insertUnique(ctx, &g, "population group", g.Code); err != nil {
		return nil, err
	}
	return &g, nil
}

// UpdateGroup changes a population group.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) UpdateGroup(ctx context.Context, code string, p GroupPatch) (*Group, error) {
	if err := requireAdmin(ctx, "updating a population group"); err != nil {
		return nil, err
	}
	var g Group
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := getByCode(ctx, tx, &g, "population group", code); err != nil {
			return err
		}
		setIf(&g.NameZh, p.NameZh)
		setIf(&g.NameEn, p.NameEn)
		setIf(&g.Description, p.Description)
		setIf(&g.Tier, p.Tier)
		setIf(&g.Sort, p.Sort)
		if err := g.validate(); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(&g).WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, "updatePopulationGroup", "PopulationGroup", audit.Summary{"code": g.Code, "tier": g.Tier})
	})
	if err != nil {
		return nil, wrap(err, "catalog: update group %s", code)
	}
	return &g, nil
}

// DeleteGroup removes a population group and its plan entries.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT (resources
// name the group).
func (s *Service) DeleteGroup(ctx context.Context, code string) error {
	if err := requireAdmin(ctx, "deleting a population group"); err != nil {
		return err
	}
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := getByCode(ctx, tx, &Group{}, "population group", code); err != nil {
			return err
		}
		if err := refuseIfUsed(ctx, tx, "resource_groups", "group_code", code, "resources are offered to population group %s"); err != nil {
			return err
		}
		if err := s.refuseIfReferred(ctx, tx, GroupKind, code, func(code, _ string) string {
			return "persons are members of population group " + code
		}); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*PlanEntry)(nil)).Where("group_code = ?", code).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Group)(nil)).Where("code = ?", code).Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, "deletePopulationGroup", "PopulationGroup", audit.Summary{"code": code})
	})
	return wrap(err, "catalog: delete group %s", code)
}

// CategoryPatch changes a category; unset fields stay as they are.
type CategoryPatch struct {
	ParentCode          aidhub.Opt[string]
	NameZh, NameEn      *string
	DuplicateWindowDays *int
	Sort                *int
}

func (c *Category) validate(cat *Catalog) error {
	var err error
	if err = checkCode("code", c.Code); err != nil {
		return err
	}
	if c.NameZh, err = aidhub.CleanText("nameZh", c.NameZh, true, 100); err != nil {
		return err
	}
	if c.NameEn, err = aidhub.CleanText("nameEn", c.NameEn, true, 100); err != nil {
		return err
	}
	if c.DuplicateWindowDays < 0 || c.DuplicateWindowDays > 3660 {
		return aidhub.Invalid("duplicateWindowDays", "must be 0 to 3660 days, got %d", c.DuplicateWindowDays)
	}
	if c.ParentCode != nil {
		parent := *c.ParentCode
		if _, ok := cat.Category(parent); !ok {
			return aidhub.Invalid("parentCode", "no service category %q", aidhub.Clip(parent))
		}
		// A cycle would appear if the new parent sits in c's own subtree.
		for _, below := range cat.Subtree(c.Code) {
			if below == parent {
				return aidhub.Invalid("parentCode", "%s is %s itself or below it; categories form a tree", parent, c.Code)
			}
		}
	}
	return nil
}

// CreateCategory adds a service category, top-level or under a parent.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT (unknown parent),
// CONFLICT (code taken).
func (s *Service) CreateCategory(ctx context.Context, c Category) (*Category, error) {
	if err := requireAdmin(ctx, "creating a service category"); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		cat, err := snapshot(ctx, tx)
		if err != nil {
			return err
		}
		if err := c.validate(cat); err != nil {
			return err
		}
		return s.insertUniqueTx(ctx, tx, &c, "service category", c.Code)
	})
	if err != nil {
		return nil, wrap(err, "catalog: create category %s", c.Code)
	}
	return &c, nil
}

// UpdateCategory changes a service category, including moving it under
// another parent (never under itself or its own descendants).
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT (cycle,
// unknown parent).
func (s *Service) UpdateCategory(ctx context.Context, code string, p CategoryPatch) (*Category, error) {
	if err := requireAdmin(ctx, "updating a service category"); err != nil {
		return nil, err
	}
	var c Category
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := getByCode(ctx, tx, &c, "service category", code); err != nil {
			return err
		}
		cat, err := snapshot(ctx, tx)
		if err != nil {
			return err
		}
		p.ParentCode.Apply(&c.ParentCode)
		setIf(&c.NameZh, p.NameZh)
		setIf(&c.NameEn, p.NameEn)
		setIf(&c.DuplicateWindowDays, p.DuplicateWindowDays)
		setIf(&c.Sort, p.Sort)
		if err := c.validate(cat); err != nil {
			return err
		}
		if _, err = tx.NewUpdate().Model(&c).WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, "updateServiceCategory", "ServiceCategory", audit.Summary{"code": c.Code, "parent": c.ParentCode, "duplicateWindowDays": c.DuplicateWindowDays})
	})
	if err != nil {
		return nil, wrap(err, "catalog: update category %s", code)
	}
	return &c, nil
}

// DeleteCategory removes a category that has no sub-categories and no items.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT.
func (s *Service) DeleteCategory(ctx context.Context, code string) error {
	if err := requireAdmin(ctx, "deleting a service category"); err != nil {
		return err
	}
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := getByCode(ctx, tx, &Category{}, "service category", code); err != nil {
			return err
		}
		if err := refuseIfUsed(ctx, tx, "service_categories", "parent_code", code, "service category %s has sub-categories; move or delete them first"); err != nil {
			return err
		}
		if err := refuseIfUsed(ctx, tx, "service_items", "category_code", code, "service category %s has items; move or delete them first"); err != nil {
			return err
		}
		if err := s.refuseIfReferred(ctx, tx, CategoryKind, code, func(code, table string) string {
			return "casework refers to service category " + code + " in " + table
		}); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Category)(nil)).Where("code = ?", code).Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, "deleteServiceCategory", "ServiceCategory", audit.Summary{"code": code})
	})
	return wrap(err, "catalog: delete category %s", code)
}

// ItemPatch changes an item; nil fields stay as they are.
type ItemPatch struct {
	CategoryCode, NameZh, NameEn, Unit *string
	HouseholdLevel                     *bool
	Sort                               *int
}

func (it *Item) validate(cat *Catalog) error {
	var err error
	if err = checkCode("code", it.Code); err != nil {
		return err
	}
	if _, ok := cat.Category(it.CategoryCode); !ok {
		return aidhub.Invalid("categoryCode", "no service category %q", aidhub.Clip(it.CategoryCode))
	}
	if it.NameZh, err = aidhub.CleanText("nameZh", it.NameZh, true, 100); err != nil {
		return err
	}
	if it.NameEn, err = aidhub.CleanText("nameEn", it.NameEn, true, 100); err != nil {
		return err
	}
	if it.Unit, err = aidhub.CleanText("unit", it.Unit, false, 20); err != nil {
		return err
	}
	return nil
}

// CreateItem adds a service item under a category.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) CreateItem(ctx context.Context, it Item) (*Item, error) {
	if err := requireAdmin(ctx, "creating a service item"); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		cat, err := snapshot(ctx, tx)
		if err != nil {
			return err
		}
		if err := it.validate(cat); err != nil {
			return err
		}
		return s.insertUniqueTx(ctx, tx, &it, "service item", it.Code)
	})
	if err != nil {
		return nil, wrap(err, "catalog: create item %s", it.Code)
	}
	return &it, nil
}

// UpdateItem changes a service item.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) UpdateItem(ctx context.Context, code string, p ItemPatch) (*Item, error) {
	if err := requireAdmin(ctx, "updating a service item"); err != nil {
		return nil, err
	}
	var it Item
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := getByCode(ctx, tx, &it, "service item", code); err != nil {
			return err
		}
		cat, err := snapshot(ctx, tx)
		if err != nil {
			return err
		}
		setIf(&it.CategoryCode, p.CategoryCode)
		setIf(&it.NameZh, p.NameZh)
		setIf(&it.NameEn, p.NameEn)
		setIf(&it.Unit, p.Unit)
		setIf(&it.HouseholdLevel, p.HouseholdLevel)
		setIf(&it.Sort, p.Sort)
		if err := it.validate(cat); err != nil {
			return err
		}
		if _, err = tx.NewUpdate().Model(&it).WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, "updateServiceItem", "ServiceItem", audit.Summary{"code": it.Code, "category": it.CategoryCode})
	})
	if err != nil {
		return nil, wrap(err, "catalog: update item %s", code)
	}
	return &it, nil
}

// DeleteItem removes an item no resource offers, with its plan entries.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT.
func (s *Service) DeleteItem(ctx context.Context, code string) error {
	if err := requireAdmin(ctx, "deleting a service item"); err != nil {
		return err
	}
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := getByCode(ctx, tx, &Item{}, "service item", code); err != nil {
			return err
		}
		if err := refuseIfUsed(ctx, tx, "resource_items", "item_code", code, "resources offer service item %s"); err != nil {
			return err
		}
		if err := s.refuseIfReferred(ctx, tx, ItemKind, code, func(code, table string) string {
			return "casework refers to service item " + code + " in " + table
		}); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*PlanEntry)(nil)).Where("item_code = ?", code).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Item)(nil)).Where("code = ?", code).Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, "deleteServiceItem", "ServiceItem", audit.Summary{"code": code})
	})
	return wrap(err, "catalog: delete item %s", code)
}

// SetPlanEntry puts an item into a group's plan at a level, or changes the
// level of one already there.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT (unknown group, item
// or level).
func (s *Service) SetPlanEntry(ctx context.Context, e PlanEntry) (*PlanEntry, error) {
	if err := requireAdmin(ctx, "editing a service plan"); err != nil {
		return nil, err
	}
	if !e.Level.Valid() {
		return nil, aidhub.Invalid("level", "must be ENTITLED, RECOMMENDED or OPTIONAL")
	}
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		cat, err := snapshot(ctx, tx)
		if err != nil {
			return err
		}
		if _, ok := cat.Group(e.GroupCode); !ok {
			return aidhub.Invalid("groupCode", "no population group %q", aidhub.Clip(e.GroupCode))
		}
		if _, ok := cat.Item(e.ItemCode); !ok {
			return aidhub.Invalid("itemCode", "no service item %q", aidhub.Clip(e.ItemCode))
		}
		if _, err = tx.NewInsert().Model(&e).On("CONFLICT (group_code, item_code) DO UPDATE").Set("level = EXCLUDED.level").Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, "setPlanEntry", "PlanEntry", audit.Summary{"group": e.GroupCode, "item": e.ItemCode, "level": e.Level})
	})
	if err != nil {
		return nil, wrap(err, "catalog: set plan entry %s/%s", e.GroupCode, e.ItemCode)
	}
	return &e, nil
}

// RemovePlanEntry takes an item out of a group's plan.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) RemovePlanEntry(ctx context.Context, group, item string) error {
	if err := requireAdmin(ctx, "editing a service plan"); err != nil {
		return err
	}
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*PlanEntry)(nil)).Where("group_code = ? AND item_code = ?", group, item).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return aidhub.Errorf(aidhub.ENOTFOUND, "the plan of %q has no item %q", aidhub.Clip(group), aidhub.Clip(item))
		}
		return s.record(ctx, tx, "removePlanEntry", "PlanEntry", audit.Summary{"group": group, "item": item})
	})
	return wrap(err, "catalog: remove plan entry %s/%s", group, item)
}

// --- helpers shared by the stores of this package ---

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// wrap adds the action to internal errors and passes *aidhub.Error through
// unchanged, so callers still see the code.
func wrap(err error, format string, args ...any) error {
	var ae *aidhub.Error
	if err == nil || errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

func getByCode(ctx context.Context, idb bun.IDB, model any, what, code string) error {
	err := idb.NewSelect().Model(model).Where("code = ?", code).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return aidhub.Errorf(aidhub.ENOTFOUND, "no %s with code %q", what, aidhub.Clip(code))
	}
	return err
}

func refuseIfUsed(ctx context.Context, idb bun.IDB, table, column, code, message string) error {
	n, err := idb.NewSelect().TableExpr(table).Where("? = ?", bun.Ident(column), code).Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return aidhub.Errorf(aidhub.ECONFLICT, message+" (%d references)", code, n)
	}
	return nil
}

func (s *Service) insertUnique(ctx context.Context, model any, what, code string) error {
	return s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.insertUniqueTx(ctx, tx, model, what, code)
	})
}

func (s *Service) insertUniqueTx(ctx context.Context, tx bun.Tx, model any, what, code string) error {
	_, err := tx.NewInsert().Model(model).Exec(ctx)
	if db.IsUniqueViolation(err) {
		return aidhub.Errorf(aidhub.ECONFLICT, "a %s with code %s already exists", what, code)
	}
	if err != nil {
		return fmt.Errorf("catalog: create %s %s: %w", what, code, err)
	}
	return s.record(ctx, tx, "create "+what, what, audit.Summary{"code": code})
}

// Today is the current date in China Standard Time.
func (s *Service) Today() aidhub.Date { return s.today() }
