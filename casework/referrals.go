package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
)

// ReferralStatus is where a referral is in its closed loop:
// PENDING → ACCEPTED → IN_PROGRESS → DELIVERED, or DECLINED, CANCELLED,
// EXPIRED.
type ReferralStatus string

// Referral statuses.
const (
	Pending    ReferralStatus = "PENDING"
	Accepted   ReferralStatus = "ACCEPTED"
	InProgress ReferralStatus = "IN_PROGRESS"
	Delivered  ReferralStatus = "DELIVERED"
	Declined   ReferralStatus = "DECLINED"
	Cancelled  ReferralStatus = "CANCELLED"
	Expired    ReferralStatus = "EXPIRED"
)

// openReferralStatuses are the statuses in which a referral is aid under
// way: it counts for the duplicate rule.
var openReferralStatuses = []ReferralStatus{Pending, Accepted, InProgress}

// DeclineReason says why a charity declined a referral.
type DeclineReason string

// Decline reasons.
var DeclineReasons = []DeclineReason{"NOT_ELIGIBLE", "NO_CAPACITY", "COULD_NOT_CONTACT", "REFUSED_BY_HOUSEHOLD", "OTHER"}

// Referral sends a person or household to a charity resource.
type Referral struct {
	bun.BaseModel `bun:"table:referrals,alias:rf"`

	ID               int64 `bun:",pk,autoincrement"`
	HouseholdID      int64 `bun:",notnull"`
	PersonID         *int64
	NeedID           *int64
	ResourceID       int64
	OrganizationID   int64
	CategoryCode     string
	ItemCode         *string
	Units            int64 `bun:",notnull"`
	AmountFen        int64 `bun:",notnull"`
	PeriodStart      aidhub.Date
	PeriodEnd        aidhub.Date
	Status           ReferralStatus
	CapacityTaken    bool `bun:",notnull"`
	DeclineReason    *DeclineReason
	Note             string `bun:",notnull"`
	OverrideReason   string `bun:",notnull"`
	RespondBy        time.Time
	CreatedByTokenID *int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int64 `bun:",notnull"`
}

// ReferralEvent is one transition of a referral.
type ReferralEvent struct {
	bun.BaseModel `bun:"table:referral_events,alias:re"`

	ID           int64 `bun:",pk,autoincrement"`
	ReferralID   int64
	FromStatus   *ReferralStatus
	ToStatus     ReferralStatus
	At           time.Time
	ActorTokenID *int64
	ActorRole    string
	Reason       string `bun:",notnull"`
}

// ReferralInput creates a referral. With a need, household, person and
// category come from it.
type ReferralInput struct {
	HouseholdID    int64
	PersonID       *int64
	NeedID         *int64
	ResourceID     int64
	CategoryCode   string
	ItemCode       *string
	Units          int64
	AmountFen      int64
	Period         *Period // default: today for 30 days
	Note           string
	OverrideReason string
	RespondWithin  int // days, default 14
}

// CreateReferral refers a person or household to a published resource,
// after checking consent, the resource and the duplicate rule.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT,
// CONSENT_REQUIRED, DUPLICATE_AID, CAPACITY_EXHAUSTED, CONFLICT
// (resource not published or expired).
func (s *Service) CreateReferral(ctx context.Context, in ReferralInput) (*Referral, error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "creating a referral"); err != nil {
		return nil, err
	}
	override, err := s.checkOverride(pr, in.OverrideReason)
	if err != nil {
		return nil, err
	}
	note, err := aidhub.CleanText("note", in.Note, false, 1000)
	if err != nil {
		return nil, err
	}
	if err := checkReferralQuantity(in); err != nil {
		return nil, err
	}
	today := s.today()
	period, err := referralPeriod(in.Period, today)
	if err != nil {
		return nil, err
	}
	respondWithin, err := respondWithinDays(in.RespondWithin)
	if err != nil {
		return nil, err
	}
	cat, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	ref := &Referral{
		HouseholdID: in.HouseholdID, PersonID: in.PersonID, NeedID: in.NeedID, ResourceID: in.ResourceID,
		CategoryCode: in.CategoryCode, ItemCode: in.ItemCode, Units: in.Units, AmountFen: in.AmountFen,
		PeriodStart: period.Start, PeriodEnd: period.End, Status: Pending, Note: note, OverrideReason: override,
		RespondBy: now.Add(time.Duration(respondWithin) * 24 * time.Hour), CreatedByTokenID: tokenOf(pr),
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		h, err := s.referredHousehold(ctx, tx, pr, ref)
		if err != nil {
			return err
		}
		if err := checkReferralItem(cat, &ref.CategoryCode, ref.ItemCode); err != nil {
			return err
		}
		if err := s.requireSharingConsent(ctx, tx, h.ID); err != nil {
			return err
		}
		r, err := s.referredResource(ctx, tx, ref.ResourceID)
		if err != nil {
			return err
		}
		forCategory := ref.CategoryCode
		if err := s.checkReferable(r, ref, cat, today, in.ItemCode != nil); err != nil {
			return err
		}
		ref.OrganizationID = r.OrganizationID
		subj, err := s.subject(ctx, tx, cat, h.ID, ref.PersonID, forCategory, ref.ItemCode)
		if err != nil {
			return err
		}
		ref.PersonID = subj.personID
		if err := s.checkDuplicate(ctx, tx, pr, cat, subj, period, override != "", 0); err != nil {
			return err
		}
		return s.insertReferral(ctx, tx, pr, ref)
	})
	if err != nil {
		return nil, wrap(err, "casework: create referral")
	}
	return ref, nil
}

// checkReferralQuantity bounds the units and the amount referred; above
// them a value is a typo.
func checkReferralQuantity(in ReferralInput) error {
	if in.Units < 0 || in.Units > 1_000_000 {
		return aidhub.Invalid("units", "must be 0 to 1,000,000, got %d", in.Units)
	}
	if in.AmountFen < 0 || in.AmountFen > maxAidFen {
		return aidhub.Invalid("amountFen", "must be 0 to %d, got %d", maxAidFen, in.AmountFen)
	}
	return nil
}

// referralPeriod is the period given, or today for 30 days.
func referralPeriod(given *Period, today aidhub.Date) (Period, error) {
	period := Period{today, today.AddDays(29)}
	if given != nil {
		period = *given
	}
	if err := period.validate("period"); err != nil {
		return Period{}, err
	}
	return period, nil
}

// respondWithinDays is the days the organization has to answer: 14 unless
// given, at most 90.
func respondWithinDays(given int) (int, error) {
	if given == 0 {
		given = 14
	}
	if given < 1 || given > 90 {
		return 0, aidhub.Invalid("respondWithinDays", "must be 1 to 90, got %d", given)
	}
	return given, nil
}

// referredHousehold returns the household referred, which the caseworker
// must be allowed to work on. A referral for a need takes the need's
// household, person and category (and item, unless named); such a need
// that cannot be worked on is NOT_FOUND, never FORBIDDEN, so it does not
// reveal that it exists.
func (s *Service) referredHousehold(ctx context.Context, tx bun.Tx, pr auth.Principal, ref *Referral) (*Household, error) {
	if ref.NeedID != nil {
		if err := s.takeNeed(ctx, tx, pr, ref); err != nil {
			return nil, err
		}
	}
	h, err := s.householdForWork(ctx, tx, pr, ref.HouseholdID)
	if err != nil {
		if ref.NeedID != nil {
			return nil, ErrNeedNotFound
		}
		return nil, err
	}
	return h, nil
}

// takeNeed copies the open need the referral serves into it.
func (s *Service) takeNeed(ctx context.Context, tx bun.Tx, pr auth.Principal, ref *Referral) error {
	n := new(Need)
	err := tx.NewSelect().Model(n).Where("id = ?", *ref.NeedID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNeedNotFound
	}
	if err != nil {
		return err
	}
	// Scope before status, so a need outside the region does not
	// reveal that it exists or where it is.
	if _, err := s.householdForWork(ctx, tx, pr, n.HouseholdID); err != nil {
		return ErrNeedNotFound
	}
	if n.Status != NeedOpen {
		return aidhub.Errorf(aidhub.ECONFLICT, "the need is %s, not OPEN", n.Status)
	}
	ref.HouseholdID, ref.PersonID, ref.CategoryCode = n.HouseholdID, n.PersonID, n.CategoryCode
	if ref.ItemCode == nil {
		ref.ItemCode = n.ItemCode
	}
	return nil
}

// requireSharingConsent refuses a referral, which shares the household's
// data with a charity, unless the household consented to that.
func (s *Service) requireSharingConsent(ctx context.Context, tx bun.Tx, householdID int64) error {
	ok, err := s.sharingConsent(ctx, tx, householdID)
	if err != nil {
		return err
	}
	if !ok {
		e := aidhub.Errorf(aidhub.ECONSENT, "the household has no active consent to share its data with charities: record consent first")
		e.MessageZh = "该家庭尚未授权（或授权已失效）向慈善组织共享信息：请先登记授权"
		return e
	}
	return nil
}

// referredResource loads the resource referred to; one the caller may not
// see is NOT_FOUND, as if it did not exist.
func (s *Service) referredResource(ctx context.Context, tx bun.Tx, id int64) (*catalog.Resource, error) {
	r, err := s.catalog.LoadResourceIn(ctx, db.UnitOf(tx), id)
	if err != nil && aidhub.ErrorCode(err) != aidhub.ENOTFOUND {
		return nil, err
	}
	if err != nil || !catalog.Visible(ctx, r) {
		return nil, aidhub.Errorf(aidhub.ENOTFOUND, "no resource with this ID")
	}
	return r, nil
}

// insertReferral stores the new referral with its first event, refreshes
// the household's needs and audits it.
func (s *Service) insertReferral(ctx context.Context, tx bun.Tx, pr auth.Principal, ref *Referral) error {
	if _, err := tx.NewInsert().Model(ref).Exec(ctx); err != nil {
		return err
	}
	if err := s.referralEvent(ctx, tx, pr, ref, nil, ""); err != nil {
		return err
	}
	if err := s.needsChanged(ctx, tx, ref.HouseholdID); err != nil {
		return err
	}
	return s.audit.Append(ctx, db.UnitOf(tx), "createReferral", "Referral", ref.ID, audit.Summary{
		"householdId": ref.HouseholdID, "personId": ref.PersonID, "needId": ref.NeedID, "resourceId": ref.ResourceID,
		"organizationId": ref.OrganizationID, "category": ref.CategoryCode, "units": ref.Units, "amountFen": ref.AmountFen,
		"override": ref.OverrideReason != "",
	})
}

// checkReferralItem checks a referral's category and item: the item, when
// named, may be in the category or below it (a MEDICAL need may be referred
// for INPATIENT_AID, as matching meets it); the category defaults to the
// item's.
func checkReferralItem(cat *catalog.Catalog, category *string, item *string) error {
	if item == nil {
		return checkCategoryItem(cat, "", category, nil)
	}
	it, ok := cat.Item(*item)
	if !ok {
		return aidhub.Invalid("itemCode", "%q is not a service item", aidhub.Clip(*item))
	}
	if *category == "" {
		*category = it.CategoryCode
	}
	if _, ok := cat.Category(*category); !ok {
		return aidhub.Invalid("categoryCode", "%q is not a service category", aidhub.Clip(*category))
	}
	if !slices.Contains(cat.Subtree(*category), it.CategoryCode) {
		return aidhub.Invalid("itemCode", "%q belongs to category %s, which is not %s nor below it", *item, it.CategoryCode, aidhub.Clip(*category))
	}
	return nil
}

// ErrNeedNotFound is the answer for a need that does not exist or that the caller may not see.
var ErrNeedNotFound = aidhub.Errorf(aidhub.ENOTFOUND, "no need with this ID")

// checkReferable checks that the resource takes this referral now: it is
// published and valid, offers an item in the referral's category or below
// it, and has capacity left. The referral then names the item the
// resource gives, and that item's category: the item asked for when the
// resource offers it, else one of the need's category, else one below it
// (in the catalog's order). An item the caller named itself (explicit)
// must be offered.
func (s *Service) checkReferable(r *catalog.Resource, ref *Referral, cat *catalog.Catalog, today aidhub.Date, explicit bool) error {
	if r.Status != catalog.Published {
		return aidhub.Errorf(aidhub.ECONFLICT, "resource %d is %s; only a published resource takes referrals", r.ID, r.Status)
	}
	if r.Expired(today) || (r.ValidFrom != nil && today.Before(*r.ValidFrom)) {
		return aidhub.Errorf(aidhub.ECONFLICT, "resource %d is not valid today", r.ID)
	}
	var item *catalog.Item
	if ref.ItemCode != nil && slices.Contains(r.ItemCodes, *ref.ItemCode) {
		item, _ = cat.Item(*ref.ItemCode)
	} else if !explicit {
		for _, code := range cat.Subtree(ref.CategoryCode) {
			for _, it := range cat.ItemsOf(code) {
				if item == nil && slices.Contains(r.ItemCodes, it.Code) {
					item = it
				}
			}
		}
	}
	if item == nil {
		return aidhub.Invalid("resourceId", "resource %d does not offer this item, nor any item in category %s or below it", r.ID, ref.CategoryCode)
	}
	ref.ItemCode, ref.CategoryCode = &item.Code, item.CategoryCode
	if r.CapacityUnits != nil && ref.Units == 0 {
		ref.Units = 1
	}
	if r.CapacityBudgetFen != nil && ref.AmountFen == 0 {
		return aidhub.Invalid("amountFen", "is required: resource %d counts its budget", r.ID)
	}
	if left := r.UnitsLeft(); left != nil && *left < ref.Units {
		e := aidhub.Errorf(aidhub.ECAPACITY, "resource %d has %d units left; the referral asks for %d", r.ID, *left, ref.Units)
		e.MessageZh = fmt.Sprintf("资源 %d 仅剩 %d 个名额，此转介需要 %d 个", r.ID, *left, ref.Units)
		e.Details = map[string]any{"unitsLeft": *left, "unitsRequested": ref.Units}
		return e
	}
	if left := r.BudgetLeftFen(); left != nil && *left < ref.AmountFen {
		e := aidhub.Errorf(aidhub.ECAPACITY, "resource %d has %s yuan left; the referral asks for %s", r.ID, aidhub.Yuan(*left), aidhub.Yuan(ref.AmountFen))
		e.MessageZh = fmt.Sprintf("资源 %d 预算仅剩 %s 元，此转介需要 %s 元", r.ID, aidhub.Yuan(*left), aidhub.Yuan(ref.AmountFen))
		e.Details = map[string]any{"budgetLeftFen": *left, "budgetRequestedFen": ref.AmountFen}
		return e
	}
	return nil
}

func (s *Service) referralEvent(ctx context.Context, tx bun.Tx, pr auth.Principal, ref *Referral, from *ReferralStatus, reason string) error {
	e := &ReferralEvent{ReferralID: ref.ID, FromStatus: from, ToStatus: ref.Status, At: ref.UpdatedAt, ActorTokenID: tokenOf(pr), ActorRole: string(pr.Role), Reason: reason}
	_, err := tx.NewInsert().Model(e).Exec(ctx)
	return err
}

// Transition asks to move a referral to another status.
type Transition struct {
	ReferralID    int64
	To            ReferralStatus
	DeclineReason *DeclineReason
	Note          string
	// On DELIVERED, what was actually given when it differs from the
	// referral: amount, units and the last day of the aid.
	DeliveredAmountFen *int64
	DeliveredUnits     *int64
	DeliveredUntil     *aidhub.Date
}

// transitions lists who may move a referral from where to where.
var transitions = map[ReferralStatus]map[ReferralStatus]string{
	Pending:    {Accepted: "charity", Declined: "charity", Cancelled: "caseworker", Expired: "system"},
	Accepted:   {InProgress: "charity", Delivered: "charity", Declined: "charity", Cancelled: "caseworker", Expired: "system"},
	InProgress: {Delivered: "charity", Declined: "charity", Cancelled: "caseworker"},
}

// TransitionReferral moves a referral one step. ACCEPTED takes capacity;
// DECLINED, CANCELLED and EXPIRED give it back; DELIVERED writes the aid
// ledger and meets the need — each in the transition's transaction.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not the party that may make this
// step), NOT_FOUND, BAD_USER_INPUT, CONFLICT (not allowed from the current
// status, or changed meanwhile), CAPACITY_EXHAUSTED.
func (s *Service) TransitionReferral(ctx context.Context, t Transition) (*Referral, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("changing a referral", auth.Admin, auth.CaseManager, auth.Charity); err != nil {
		return nil, err
	}
	note, err := aidhub.CleanText("note", t.Note, false, 1000)
	if err != nil {
		return nil, err
	}
	if !slices.Contains([]ReferralStatus{Accepted, InProgress, Delivered, Declined, Cancelled, Expired}, t.To) {
		return nil, aidhub.Invalid("to", "%q is not a status a referral can move to", aidhub.Clip(string(t.To)))
	}
	if t.To == Declined {
		if t.DeclineReason == nil || !slices.Contains(DeclineReasons, *t.DeclineReason) {
			return nil, aidhub.Invalid("declineReason", "is required to decline: one of NOT_ELIGIBLE, NO_CAPACITY, COULD_NOT_CONTACT, REFUSED_BY_HOUSEHOLD, OTHER")
		}
	} else if t.DeclineReason != nil {
		return nil, aidhub.Invalid("declineReason", "is only for DECLINED")
	}
	if t.To != Delivered && (t.DeliveredAmountFen != nil || t.DeliveredUnits != nil || t.DeliveredUntil != nil) {
		return nil, aidhub.Invalid("delivered", "delivered amounts are only for DELIVERED")
	}
	if (t.DeliveredAmountFen != nil && (*t.DeliveredAmountFen < 0 || *t.DeliveredAmountFen > maxAidFen)) || (t.DeliveredUnits != nil && *t.DeliveredUnits < 0) {
		return nil, aidhub.Invalid("delivered", "amounts and units cannot be negative")
	}
	// A delivery that ends later than referred is checked against other
	// aid, which needs the catalog: read it before the transaction.
	var cat *catalog.Catalog
	if t.To == Delivered && t.DeliveredUntil != nil {
		if cat, err = s.catalog.Snapshot(ctx); err != nil {
			return nil, err
		}
	}
	ref := new(Referral)
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if ref, err = s.referralFor(ctx, tx, pr, t.ReferralID); err != nil {
			return err
		}
		party, ok := transitions[ref.Status][t.To]
		if !ok {
			return aidhub.Errorf(aidhub.ECONFLICT, "referral %d is %s; it cannot become %s from there", ref.ID, ref.Status, t.To)
		}
		if err := s.mayMove(ctx, tx, pr, ref, party, t.To); err != nil {
			return err
		}
		return s.move(ctx, tx, pr, ref, t, note, cat)
	})
	if err != nil {
		return nil, wrap(err, "casework: referral %d to %s", t.ReferralID, t.To)
	}
	return ref, nil
}

// mayMove checks the caller is the party the step belongs to.
func (s *Service) mayMove(ctx context.Context, idb bun.IDB, pr auth.Principal, ref *Referral, party string, to ReferralStatus) error {
	switch party {
	case "charity":
		if pr.Is(auth.Admin) || pr.OwnsOrganization(ref.OrganizationID) {
			return nil
		}
		return aidhub.Errorf(aidhub.EFORBIDDEN, "only the charity the referral was made to may set it %s", to)
	case "caseworker":
		if pr.Is(auth.Admin) {
			return nil
		}
		if pr.Is(auth.CaseManager) {
			if _, err := s.householdForWork(ctx, idb, pr, ref.HouseholdID); err == nil {
				return nil
			}
		}
		return aidhub.Errorf(aidhub.EFORBIDDEN, "only a case manager of the household's region may cancel a referral")
	default: // system: expiry runs as the hub itself
		if pr == auth.System {
			return nil
		}
		return aidhub.Errorf(aidhub.EFORBIDDEN, "referrals expire by themselves when their response time passes")
	}
}

// move makes the step: status compare-and-set, capacity, ledger, history.
func (s *Service) move(ctx context.Context, tx bun.Tx, pr auth.Principal, ref *Referral, t Transition, note string, cat *catalog.Catalog) error {
	from := ref.Status
	now := s.now().UTC()
	switch t.To {
	case Accepted:
		if err := s.catalog.TakeCapacity(ctx, db.UnitOf(tx), ref.ResourceID, ref.Units, ref.AmountFen); err != nil {
			return err
		}
		ref.CapacityTaken = true
	case Declined, Cancelled, Expired:
		if ref.CapacityTaken {
			if err := s.catalog.ReturnCapacity(ctx, db.UnitOf(tx), ref.ResourceID, ref.Units, ref.AmountFen); err != nil {
				return err
			}
			ref.CapacityTaken = false
		}
		ref.DeclineReason = t.DeclineReason
	}
	ref.Status, ref.UpdatedAt = t.To, now
	ref.Version++
	res, err := tx.NewUpdate().Model(ref).Column("status", "capacity_taken", "decline_reason", "updated_at", "version").
		Where("id = ? AND status = ?", ref.ID, from).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return aidhub.Errorf(aidhub.ECONFLICT, "referral %d changed meanwhile: reload it", ref.ID)
	}
	reason := note
	if t.DeclineReason != nil {
		reason = string(*t.DeclineReason) + ": " + note
	}
	if err := s.referralEvent(ctx, tx, pr, ref, &from, reason); err != nil {
		return err
	}
	if err := s.needsChanged(ctx, tx, ref.HouseholdID); err != nil {
		return err
	}
	summary := audit.Summary{"from": from, "to": t.To, "resourceId": ref.ResourceID, "householdId": ref.HouseholdID}
	if t.DeclineReason != nil {
		summary["declineReason"] = *t.DeclineReason
	}
	if t.To == Delivered {
		rec, err := s.deliver(ctx, tx, pr, ref, t, cat)
		if err != nil {
			return err
		}
		summary["aidRecordId"] = rec.ID
	}
	return s.audit.Append(ctx, db.UnitOf(tx), "transitionReferral", "Referral", ref.ID, summary)
}

// deliver writes the ledger line of a delivered referral and meets its need.
// cat is needed only when t.DeliveredUntil is set.
func (s *Service) deliver(ctx context.Context, tx bun.Tx, pr auth.Principal, ref *Referral, t Transition, cat *catalog.Catalog) (*AidRecord, error) {
	var org catalog.Organization
	if err := tx.NewSelect().Model(&org).Where("id = ?", ref.OrganizationID).Scan(ctx); err != nil {
		return nil, err
	}
	rec := &AidRecord{
		HouseholdID: ref.HouseholdID, PersonID: ref.PersonID, CategoryCode: ref.CategoryCode, ItemCode: ref.ItemCode,
		ProviderKind: ProviderKind(org.Kind), ProviderOrgID: &org.ID, ProviderName: org.Name,
		AmountFen: ref.AmountFen, Units: ref.Units, PeriodStart: ref.PeriodStart, PeriodEnd: ref.PeriodEnd,
		Source: SourceReferral, ReferralID: &ref.ID, NeedID: ref.NeedID, OverrideReason: ref.OverrideReason,
		RecordedByTokenID: tokenOf(pr), RecordedAt: ref.UpdatedAt,
	}
	if t.DeliveredAmountFen != nil {
		rec.AmountFen = *t.DeliveredAmountFen
	}
	if t.DeliveredUnits != nil {
		rec.Units = *t.DeliveredUnits
	}
	if t.DeliveredUntil != nil {
		if t.DeliveredUntil.Before(rec.PeriodStart) {
			return nil, aidhub.Invalid("deliveredUntil", "is before the referral's period starts (%s)", rec.PeriodStart)
		}
		p := Period{rec.PeriodStart, *t.DeliveredUntil}
		if err := p.validate("deliveredUntil"); err != nil {
			return nil, err
		}
		// Days beyond the referred period were never checked for
		// duplicate aid: check the whole delivered period now.
		if ref.PeriodEnd.Before(p.End) {
			forCategory := ref.CategoryCode
			if ref.NeedID != nil {
				if err := tx.NewSelect().Model((*Need)(nil)).Column("category_code").Where("id = ?", *ref.NeedID).Scan(ctx, &forCategory); err != nil {
					return nil, err
				}
			}
			subj, err := s.subject(ctx, tx, cat, ref.HouseholdID, ref.PersonID, forCategory, ref.ItemCode)
			if err != nil {
				return nil, err
			}
			if err := s.checkDuplicate(ctx, tx, pr, cat, subj, p, ref.OverrideReason != "", ref.ID); err != nil {
				return nil, err
			}
		}
		rec.PeriodEnd = p.End
	}
	if _, err := tx.NewInsert().Model(rec).Exec(ctx); err != nil {
		return nil, err
	}
	return rec, s.meetNeed(ctx, tx, rec.NeedID)
}

// referralFor loads a referral the caller may act on or see: case workers
// of the household's region and the charity it was made to. Others get
// NOT_FOUND.
func (s *Service) referralFor(ctx context.Context, idb bun.IDB, pr auth.Principal, id int64) (*Referral, error) {
	ref := new(Referral)
	err := idb.NewSelect().Model(ref).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errReferralNotFound
	}
	if err != nil {
		return nil, err
	}
	if pr.OwnsOrganization(ref.OrganizationID) || pr == auth.System {
		return ref, nil
	}
	if _, err := s.householdForWork(ctx, idb, pr, ref.HouseholdID); err != nil {
		return nil, errReferralNotFound
	}
	return ref, nil
}

var errReferralNotFound = aidhub.Errorf(aidhub.ENOTFOUND, "no referral with this ID")

// Referral returns one referral the caller may see.
func (s *Service) Referral(ctx context.Context, id int64) (*Referral, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("reading a referral", auth.Admin, auth.CaseManager, auth.Charity); err != nil {
		return nil, err
	}
	ctx, l := s.fromContext(ctx)
	ref, err := l.referrals.Load(ctx, id)
	if err != nil {
		return nil, wrap(err, "casework: load referral %d", id)
	}
	if ref == nil {
		return nil, errReferralNotFound
	}
	if pr.OwnsOrganization(ref.OrganizationID) || pr == auth.System {
		return ref, nil // the same rule as referralFor's
	}
	if err := s.forCaseworkers(ctx, ref.HouseholdID, errReferralNotFound); err != nil {
		return nil, err
	}
	return ref, nil
}

// ReferralFilter narrows Referrals.
type ReferralFilter struct {
	Statuses     []ReferralStatus
	HouseholdID  *int64
	ResourceID   *int64
	RegionPrefix string
}

// Referrals lists the referrals the caller may see, newest first: a
// charity its own, a case manager those of its region.
func (s *Service) Referrals(ctx context.Context, f ReferralFilter, page aidhub.PageArgs) (*aidhub.Page[*Referral], error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("listing referrals", auth.Admin, auth.CaseManager, auth.Charity); err != nil {
		return nil, err
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*Referral)(nil))
	switch {
	case pr.Is(auth.Charity):
		q.Where("rf.organization_id = ?", pr.OrganizationID)
	case pr.Is(auth.CaseManager):
		q.Where("rf.household_id IN (SELECT h.id FROM households AS h WHERE h.region_code LIKE ?)", pr.RegionPrefix+"%")
	}
	for _, st := range f.Statuses {
		if _, ok := transitions[st]; !ok && !slices.Contains([]ReferralStatus{Delivered, Declined, Cancelled, Expired}, st) {
			return nil, aidhub.Invalid("statuses", "%q is not a referral status", aidhub.Clip(string(st)))
		}
	}
	if len(f.Statuses) > 0 {
		q.Where("rf.status IN (?)", bun.List(f.Statuses))
	}
	if f.HouseholdID != nil {
		q.Where("rf.household_id = ?", *f.HouseholdID)
	}
	if f.ResourceID != nil {
		q.Where("rf.resource_id = ?", *f.ResourceID)
	}
	if f.RegionPrefix != "" {
		q.Where("rf.household_id IN (SELECT h2.id FROM households AS h2 WHERE h2.region_code LIKE ?)", f.RegionPrefix+"%")
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, wrap(err, "casework: count referrals")
	}
	if page.After > 0 {
		q.Where("rf.id < ?", page.After)
	}
	var rows []*Referral
	if err := q.Order("rf.id DESC").Limit(int64(page.First)+1).Scan(ctx, &rows); err != nil {
		return nil, wrap(err, "casework: list referrals")
	}
	return aidhub.NewPage(rows, page, int(total), func(r *Referral) int64 { return r.ID }), nil
}

// ReferralHistory lists a referral's transitions, oldest first.
func (s *Service) ReferralHistory(ctx context.Context, referralID int64) ([]*ReferralEvent, error) {
	var out []*ReferralEvent
	err := s.db.NewSelect().Model(&out).Where("referral_id = ?", referralID).Order("id").Scan(ctx)
	return out, wrap(err, "casework: history of referral %d", referralID)
}

// ExpireReferrals expires every PENDING or ACCEPTED referral whose
// response time has passed, returning capacity. It runs as the hub
// (auth.System) from a periodic job and reports how many expired.
func (s *Service) ExpireReferrals(ctx context.Context) (int, error) {
	ctx = auth.WithPrincipal(ctx, auth.System)
	var ids []int64
	err := s.db.NewSelect().Model((*Referral)(nil)).Column("id").
		Where("status IN (?) AND respond_by < ?", bun.List([]ReferralStatus{Pending, Accepted}), s.now().UTC()).
		Order("id").Scan(ctx, &ids)
	if err != nil {
		return 0, wrap(err, "casework: find overdue referrals")
	}
	n := 0
	for _, id := range ids {
		_, err := s.TransitionReferral(ctx, Transition{ReferralID: id, To: Expired, Note: "no response in time"})
		if aidhub.ErrorCode(err) == aidhub.ECONFLICT {
			continue // moved on meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
