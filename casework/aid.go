package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
)

// ProviderKind is who gave an aid.
type ProviderKind string

// Provider kinds; the organization kinds plus OTHER.
const (
	ProviderGovernment ProviderKind = "GOVERNMENT"
	ProviderCharity    ProviderKind = "CHARITY"
	ProviderSocialOrg  ProviderKind = "SOCIAL_ORGANIZATION"
	ProviderOther      ProviderKind = "OTHER"
)

// AidSource is how an aid reached the ledger.
type AidSource string

// Aid sources.
const (
	SourceReferral AidSource = "REFERRAL"
	SourceDirect   AidSource = "DIRECT"
	SourceImport   AidSource = "IMPORT"
)

// AidRecord is one line of the aid ledger: an aid any provider gave a
// person, or a household as a whole (PersonID nil).
type AidRecord struct {
	bun.BaseModel `bun:"table:aid_records,alias:ar"`

	ID                int64 `bun:",pk,autoincrement"`
	HouseholdID       int64 `bun:",notnull"`
	PersonID          *int64
	CategoryCode      string
	ItemCode          *string
	ProviderKind      ProviderKind
	ProviderOrgID     *int64
	ProviderName      string
	AmountFen         int64 `bun:",notnull"`
	Units             int64 `bun:",notnull"`
	PeriodStart       aidhub.Date
	PeriodEnd         aidhub.Date
	Source            AidSource
	ReferralID        *int64
	NeedID            *int64
	OverrideReason    string `bun:",notnull"`
	RecordedByTokenID *int64
	RecordedAt        time.Time
}

// AidInput records an aid directly.
type AidInput struct {
	HouseholdID    int64
	PersonID       *int64
	CategoryCode   string
	ItemCode       *string
	ProviderKind   ProviderKind
	ProviderOrgID  *int64
	ProviderName   string
	AmountFen      int64
	Units          int64
	Period         Period
	Source         AidSource // DIRECT (default) or IMPORT
	NeedID         *int64
	OverrideReason string
}

// maxAidFen bounds one aid: above it a value is a typo.
const maxAidFen = 10_000_000_000 // 100 million yuan

// RecordAid writes an aid to the ledger, refusing duplicate aid.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT,
// DUPLICATE_AID (a CASE_MANAGER may override with a reason).
func (s *Service) RecordAid(ctx context.Context, in AidInput) (*AidRecord, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("recording aid", auth.Admin, auth.CaseManager, auth.Charity); err != nil {
		return nil, err
	}
	if err := in.checkGiven(); err != nil {
		return nil, err
	}
	override, err := s.checkOverride(pr, in.OverrideReason)
	if err != nil {
		return nil, err
	}
	cat, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkCategoryItem(cat, "", &in.CategoryCode, in.ItemCode); err != nil {
		return nil, err
	}
	if in.ProviderName, err = aidhub.CleanText("providerName", in.ProviderName, false, 100); err != nil {
		return nil, err
	}
	if pr.Is(auth.Charity) {
		if in.ProviderOrgID != nil && *in.ProviderOrgID != pr.OrganizationID {
			return nil, aidhub.Errorf(aidhub.EFORBIDDEN, "a charity records only its own aid")
		}
		in.ProviderOrgID = &pr.OrganizationID
	}
	rec := &AidRecord{
		HouseholdID: in.HouseholdID, PersonID: in.PersonID, CategoryCode: in.CategoryCode, ItemCode: in.ItemCode,
		ProviderKind: in.ProviderKind, ProviderOrgID: in.ProviderOrgID, ProviderName: in.ProviderName,
		AmountFen: in.AmountFen, Units: in.Units, PeriodStart: in.Period.Start, PeriodEnd: in.Period.End,
		Source: in.Source, NeedID: in.NeedID, OverrideReason: override, RecordedByTokenID: tokenOf(pr),
		RecordedAt: s.now().UTC(),
	}
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		h, err := s.householdForAid(ctx, tx, pr, in.HouseholdID)
		if err != nil {
			return err
		}
		if err := s.resolveProvider(ctx, tx, rec); err != nil {
			return err
		}
		subj, err := s.subject(ctx, tx, cat, h.ID, rec.PersonID, rec.CategoryCode, rec.ItemCode)
		if err != nil {
			return err
		}
		rec.PersonID = subj.personID
		if pr.Is(auth.Charity) {
			if err := s.charityMayRecord(ctx, tx, pr, subj, in.NeedID); err != nil {
				return err
			}
		}
		if in.NeedID != nil {
			if err := s.checkNeed(ctx, tx, cat, *in.NeedID, &subj); err != nil {
				return err
			}
		}
		if err := s.checkDuplicate(ctx, tx, pr, cat, subj, in.Period, override != "", 0); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(rec).Exec(ctx); err != nil {
			return err
		}
		if err := s.meetNeed(ctx, tx, rec.NeedID); err != nil {
			return err
		}
		if err := s.needsChanged(ctx, tx, h.ID); err != nil {
			return err
		}
		return s.audit.Append(ctx, db.UnitOf(tx), "recordAid", "AidRecord", rec.ID, audit.Summary{
			"householdId": h.ID, "personId": rec.PersonID, "category": rec.CategoryCode, "item": rec.ItemCode,
			"providerKind": rec.ProviderKind, "providerOrgId": rec.ProviderOrgID, "amountFen": rec.AmountFen,
			"units": rec.Units, "period": []string{rec.PeriodStart.String(), rec.PeriodEnd.String()},
			"source": rec.Source, "override": override != "",
		})
	})
	if err != nil {
		return nil, wrap(err, "casework: record aid")
	}
	return rec, nil
}

// checkGiven checks the source (DIRECT unless given), the amount or
// units and the period of an aid, before anything is read from the store.
func (in *AidInput) checkGiven() error {
	if in.Source == "" {
		in.Source = SourceDirect
	}
	if in.Source != SourceDirect && in.Source != SourceImport {
		return aidhub.Invalid("source", "must be DIRECT or IMPORT; REFERRAL aid is recorded by delivering the referral")
	}
	if in.AmountFen < 0 || in.AmountFen > maxAidFen {
		return aidhub.Invalid("amountFen", "must be 0 to %d, got %d", maxAidFen, in.AmountFen)
	}
	if in.Units < 0 || in.Units > 1_000_000 {
		return aidhub.Invalid("units", "must be 0 to 1,000,000, got %d", in.Units)
	}
	if in.AmountFen == 0 && in.Units == 0 {
		return aidhub.Invalid("amountFen", "give an amount or a number of units")
	}
	return in.Period.validate("period")
}

// charityMayRecord lets a charity record aid only for whom it may see:
// a person referred to it (any category: it may have helped them in more
// ways than the referral), or the household as a whole when it has a
// household-level referral; and a need only when it is the need of one of
// its own referrals. Other members and their needs are not its business.
func (s *Service) charityMayRecord(ctx context.Context, idb bun.IDB, pr auth.Principal, subj aidSubject, needID *int64) error {
	q := idb.NewSelect().Model((*Referral)(nil)).Where("household_id = ? AND organization_id = ?", subj.householdID, pr.OrganizationID)
	if subj.personID != nil {
		q.Where("person_id = ?", *subj.personID)
	} else {
		q.Where("person_id IS NULL")
	}
	n, err := q.Count(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return aidhub.Errorf(aidhub.EFORBIDDEN, "a charity records aid only for the persons (or households) referred to it")
	}
	if needID != nil {
		n, err := idb.NewSelect().Model((*Referral)(nil)).Where("need_id = ? AND organization_id = ?", *needID, pr.OrganizationID).Count(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return aidhub.Errorf(aidhub.EFORBIDDEN, "a charity may only meet the needs referred to it")
		}
	}
	return nil
}

// checkOverride returns the cleaned override reason. Only a CASE_MANAGER
// may override the duplicate-aid rule.
func (s *Service) checkOverride(pr auth.Principal, reason string) (string, error) {
	if reason == "" {
		return "", nil
	}
	if !pr.Is(auth.CaseManager) {
		return "", aidhub.Errorf(aidhub.EFORBIDDEN, "only a case manager may override the duplicate-aid rule")
	}
	return cleanReason(reason)
}

// householdForAid loads the household for recording aid: case workers in
// region, or a charity that may see the household.
func (s *Service) householdForAid(ctx context.Context, idb bun.IDB, pr auth.Principal, id int64) (*Household, error) {
	if !pr.Is(auth.Charity) {
		return s.householdForWork(ctx, idb, pr, id)
	}
	h := new(Household)
	err := idb.NewSelect().Model(h).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errHouseholdNotFound
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.canSee(ctx, idb, pr, h)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errHouseholdNotFound
	}
	return h, nil
}

func (s *Service) resolveProvider(ctx context.Context, idb bun.IDB, rec *AidRecord) error {
	if rec.ProviderOrgID != nil {
		var org catalog.Organization
		err := idb.NewSelect().Model(&org).Where("id = ?", *rec.ProviderOrgID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return aidhub.Invalid("providerOrganizationId", "is not an organization")
		}
		if err != nil {
			return err
		}
		rec.ProviderName, rec.ProviderKind = org.Name, ProviderKind(org.Kind)
		return nil
	}
	if !slices.Contains([]ProviderKind{ProviderGovernment, ProviderCharity, ProviderSocialOrg, ProviderOther}, rec.ProviderKind) {
		return aidhub.Invalid("providerKind", "%q is not a provider kind", aidhub.Clip(string(rec.ProviderKind)))
	}
	if rec.ProviderName == "" {
		return aidhub.Invalid("providerName", "is required when no provider organization is given")
	}
	return nil
}

// aidSubject is who an aid is for and which category of need it meets, as
// the duplicate rule sees it: the need's category when it names one,
// else the aid's own.
type aidSubject struct {
	householdID int64
	personID    *int64 // nil: the household as a whole
	category    string
	window      int // days of category; 0: it has no duplicate rule
	root        string
	// own is the window of the aid's own category (its item's): how long
	// the new aid counts from its start, as any aid does in covers.
	own int
}

// subject checks the person and decides whether the aid goes to the
// household as a whole (household-level items, or no person named).
func (s *Service) subject(ctx context.Context, idb bun.IDB, cat *catalog.Catalog, householdID int64, personID *int64, category string, item *string) (aidSubject, error) {
	c, _ := cat.Category(category)
	subj := aidSubject{householdID: householdID, personID: personID, category: category, window: c.DuplicateWindowDays, root: cat.Root(category), own: c.DuplicateWindowDays}
	if item != nil {
		if it, ok := cat.Item(*item); ok {
			if it.HouseholdLevel {
				subj.personID = nil
			}
			if ic, ok := cat.Category(it.CategoryCode); ok {
				subj.own = ic.DuplicateWindowDays
			}
		}
	}
	if subj.personID != nil {
		if err := s.checkMember(ctx, idb, householdID, *subj.personID, "personId"); err != nil {
			return subj, err
		}
	}
	return subj, nil
}

// checkNeed checks that the aid can meet the need (its category is the
// need's or below it) and makes the need's category what the duplicate
// rule judges the aid by: the aid is for that need.
func (s *Service) checkNeed(ctx context.Context, idb bun.IDB, cat *catalog.Catalog, needID int64, subj *aidSubject) error {
	n := new(Need)
	err := idb.NewSelect().Model(n).Where("id = ? AND household_id = ?", needID, subj.householdID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return aidhub.Invalid("needId", "is not a need of this household")
	}
	if err != nil {
		return err
	}
	if !slices.Contains(cat.Subtree(n.CategoryCode), subj.category) {
		return aidhub.Invalid("needId", "is a need in category %s; aid in %s does not meet it (aid meets needs in its category or above it)", n.CategoryCode, subj.category)
	}
	c, _ := cat.Category(n.CategoryCode)
	subj.category, subj.window = n.CategoryCode, c.DuplicateWindowDays
	return nil
}

// meetNeed marks a need met once aid is delivered for it.
func (s *Service) meetNeed(ctx context.Context, tx bun.Tx, needID *int64) error {
	if needID == nil {
		return nil
	}
	_, err := tx.NewUpdate().Model((*Need)(nil)).Set("status = ?", NeedMet).Set("closed_at = ?", s.now().UTC()).
		Where("id = ? AND status = ?", *needID, NeedOpen).Exec(ctx)
	return err
}

// coverEnd is the last day an aid counts for in the duplicate rule: its
// period, but at least the category's window from its start, so a one-off
// grant covers the need for the window.
func coverEnd(p Period, window int) aidhub.Date {
	if end := p.Start.AddDays(window - 1); p.End.Before(end) {
		return end
	}
	return p.End
}

// lockSubject orders concurrent aid decisions about one household and
// category tree (its root: aid in a sub-category and in its parent judge
// each other). SQLite write transactions are serialised already; on
// PostgreSQL a transaction-scoped advisory lock does it.
func (s *Service) lockSubject(ctx context.Context, tx bun.Tx, subj aidSubject) error {
	if !s.db.IsPostgres() {
		return nil
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "aid/%d/%s", subj.householdID, subj.root)
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(h.Sum64()))
	return err
}

// checkDuplicate refuses aid that overlaps aid already given or under way
// (a referral not yet closed) to the same person, or the same household
// for household-level aid, that covers the category the new aid is for
// (aidhub.Catalog.CoverWindow: aid in that category or below it, linked to a need or not).
// excludeReferral is a referral that is this same aid.
func (s *Service) checkDuplicate(ctx context.Context, tx bun.Tx, pr auth.Principal, cat *catalog.Catalog, subj aidSubject, p Period, override bool, excludeReferral int64) error {
	if err := s.lockSubject(ctx, tx, subj); err != nil {
		return err
	}
	if subj.window == 0 || subj.own == 0 || override {
		return nil
	}
	tree, err := cat.Tree()
	if err != nil {
		return err
	}
	end := coverEnd(p, subj.own)
	under := cat.Subtree(subj.category)
	sameSubject := func(person *int64) bool {
		return subj.personID == nil || person == nil || *person == *subj.personID
	}
	// blocks returns the last day an earlier aid covers the new aid's
	// category, when it overlaps the new aid's span.
	blocks := func(person *int64, category string, start, stop aidhub.Date) (aidhub.Date, bool) {
		w, ok := tree.CoverWindow(subj.category, category)
		if !ok || !sameSubject(person) {
			return aidhub.Date{}, false
		}
		until := coverEnd(Period{start, stop}, w)
		return until, !until.Before(p.Start)
	}
	var recs []*AidRecord
	if err := tx.NewSelect().Model(&recs).Where("household_id = ? AND category_code IN (?)", subj.householdID, bun.List(under)).
		Where("period_start <= ?", end).Order("period_start", "id").Scan(ctx); err != nil {
		return err
	}
	for _, r := range recs {
		if until, ok := blocks(r.PersonID, r.CategoryCode, r.PeriodStart, r.PeriodEnd); ok {
			return s.duplicateError(pr, cat, subj, r.CategoryCode, r.ProviderOrgID, r.ProviderName, r.PeriodStart, r.PeriodEnd, until)
		}
	}
	var refs []*Referral
	if err := tx.NewSelect().Model(&refs).Where("household_id = ? AND category_code IN (?) AND status IN (?)", subj.householdID, bun.List(under), bun.List(openReferralStatuses)).
		Where("id <> ?", excludeReferral).Where("period_start <= ?", end).Order("period_start", "id").Scan(ctx); err != nil {
		return err
	}
	for _, r := range refs {
		if until, ok := blocks(r.PersonID, r.CategoryCode, r.PeriodStart, r.PeriodEnd); ok {
			var org catalog.Organization
			if err := tx.NewSelect().Model(&org).Where("id = ?", r.OrganizationID).Scan(ctx); err != nil {
				return err
			}
			return s.duplicateError(pr, cat, subj, r.CategoryCode, &r.OrganizationID, org.Name+" (referral "+string(r.Status)+")", r.PeriodStart, r.PeriodEnd, until)
		}
	}
	return nil
}

// duplicateError says which aid blocks and until when, in English and
// Chinese, with the figures in the error's details.
func (s *Service) duplicateError(pr auth.Principal, cat *catalog.Catalog, subj aidSubject, aidCategory string, orgID *int64, provider string, start, end, until aidhub.Date) error {
	providerZh := provider
	if pr.Is(auth.Charity) && (orgID == nil || *orgID != pr.OrganizationID) {
		provider, providerZh = "another provider", "其他机构"
	}
	e := aidhub.Errorf(aidhub.EDUPLICATEAID, "already aided in category %s by %s (aid in %s for %s to %s); the duplicate-aid rule blocks aid in %s until %s inclusive",
		subj.category, provider, aidCategory, start, end, subj.category, until)
	e.MessageZh = fmt.Sprintf("已由%s在“%s”类别给予帮扶（%s，%s 至 %s），按防止重复帮扶规则，%s（含）前不能在“%s”类别再次帮扶",
		providerZh, nameZh(cat, subj.category), nameZh(cat, aidCategory), start, end, until, nameZh(cat, subj.category))
	if pr.Is(auth.CaseManager) {
		e.Message += "; a case manager may override with a reason"
		e.MessageZh += "；个案管理员可填写理由后覆盖"
	}
	e.Details = map[string]any{
		"category": subj.category, "aidCategory": aidCategory, "provider": provider,
		"periodStart": start.String(), "periodEnd": end.String(), "blockedUntil": until.String(),
	}
	return e
}

// nameZh is a category's Chinese name, or its code.
func nameZh(cat *catalog.Catalog, code string) string {
	if c, ok := cat.Category(code); ok && c.NameZh != "" {
		return c.NameZh
	}
	return code
}

// AidFilter narrows AidHistory.
type AidFilter struct {
	HouseholdID  int64
	PersonID     *int64
	CategoryCode string
}

// AidHistory lists a household's (or person's) aid, newest first. A
// charity sees only the aid it gave; donors none.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) AidHistory(ctx context.Context, f AidFilter, page aidhub.PageArgs) (*aidhub.Page[*AidRecord], error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("reading aid history", auth.Admin, auth.CaseManager, auth.Charity); err != nil {
		return nil, err
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.householdForAid(ctx, s.db, pr, f.HouseholdID); err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*AidRecord)(nil)).Where("household_id = ?", f.HouseholdID)
	if f.PersonID != nil {
		q.Where("(person_id = ? OR person_id IS NULL)", *f.PersonID)
	}
	if f.CategoryCode != "" {
		// The category and those below it, as aid covers needs
		// (aidhub.Catalog.CoverWindow). A read: the request's snapshot.
		cat, err := s.catalog.RequestSnapshot(ctx)
		if err != nil {
			return nil, err
		}
		q.Where("category_code IN (?)", bun.List(cat.Subtree(f.CategoryCode)))
	}
	if pr.Is(auth.Charity) {
		q.Where("provider_org_id = ?", pr.OrganizationID)
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, wrap(err, "casework: count aid")
	}
	var rows []*AidRecord
	if page.After > 0 {
		q.Where("id < ?", page.After)
	}
	if err := q.Order("id DESC").Limit(int64(page.First)+1).Scan(ctx, &rows); err != nil {
		return nil, wrap(err, "casework: aid history")
	}
	return aidhub.NewPage(rows, page, int(total), func(r *AidRecord) int64 { return r.ID }), nil
}
