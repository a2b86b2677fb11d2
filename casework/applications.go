package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
)

// Channel is where an application came in.
type Channel string

// Channels of an application.
const (
	ChannelApp         Channel = "APP"
	ChannelCaseManager Channel = "CASE_MANAGER"
	ChannelHotline     Channel = "HOTLINE"
	ChannelPaper       Channel = "PAPER"
)

// ApplicationStatus is where an application is.
type ApplicationStatus string

// Application statuses: SUBMITTED → CLASSIFIED, or WITHDRAWN.
const (
	Submitted  ApplicationStatus = "SUBMITTED"
	Classified ApplicationStatus = "CLASSIFIED"
	Withdrawn  ApplicationStatus = "WITHDRAWN"
)

// Application is one application for help (一次申请), in the household's
// own words, before it is classified into needs.
type Application struct {
	bun.BaseModel `bun:"table:applications,alias:a"`

	ID                int64 `bun:",pk,autoincrement"`
	HouseholdID       int64 `bun:",notnull"`
	ApplicantPersonID *int64
	Channel           Channel
	HelpText          string
	CategoryCodesText string `bun:"category_codes,notnull"`
	Status            ApplicationStatus
	AssessmentID      *int64
	SubmittedAt       time.Time
	UpdatedAt         time.Time
}

// CategoryCodes are the categories the applicant named, if any.
func (a *Application) CategoryCodes() []string { return splitCodes(a.CategoryCodesText) }

func splitCodes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// ApplicationEvent is one step in an application's history.
type ApplicationEvent struct {
	bun.BaseModel `bun:"table:application_events,alias:ae"`

	ID            int64 `bun:",pk,autoincrement"`
	ApplicationID int64
	Status        ApplicationStatus
	At            time.Time
	ActorTokenID  *int64
	ActorRole     string
	Note          string `bun:",notnull"`
}

// ApplicationInput is one application.
type ApplicationInput struct {
	HouseholdID       int64
	ApplicantPersonID *int64
	Channel           Channel
	HelpText          string
	CategoryCodes     []string
}

func tokenOf(p auth.Principal) *int64 {
	if p.TokenID == 0 {
		return nil
	}
	id := p.TokenID
	return &id
}

// SubmitApplication takes one application for a household.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) SubmitApplication(ctx context.Context, in ApplicationInput) (*Application, error) {
	var a *Application
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		a, err = s.submitApplication(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, wrap(err, "casework: submit application")
	}
	return a, nil
}

// SubmitApplicationIn is SubmitApplication inside another package's
// change (u): a warning that opens an application commits with it or not
// at all.
func (s *Service) SubmitApplicationIn(ctx context.Context, u db.Unit, in ApplicationInput) (*Application, error) {
	a, err := s.submitApplication(ctx, u.Tx(), in)
	return a, wrap(err, "casework: submit application")
}

func (s *Service) submitApplication(ctx context.Context, tx bun.Tx, in ApplicationInput) (*Application, error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "submitting an application"); err != nil {
		return nil, err
	}
	if !slices.Contains([]Channel{ChannelApp, ChannelCaseManager, ChannelHotline, ChannelPaper}, in.Channel) {
		return nil, aidhub.Invalid("channel", "%q is not a channel", aidhub.Clip(string(in.Channel)))
	}
	text, err := aidhub.CleanText("helpText", in.HelpText, true, 2000)
	if err != nil {
		return nil, err
	}
	cat, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := categoryList(cat, "categoryCodes", in.CategoryCodes)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	a := &Application{
		HouseholdID: in.HouseholdID, ApplicantPersonID: in.ApplicantPersonID, Channel: in.Channel, HelpText: text,
		CategoryCodesText: strings.Join(codes, ","), Status: Submitted, SubmittedAt: now, UpdatedAt: now,
	}
	if _, err := s.householdForWork(ctx, tx, pr, in.HouseholdID); err != nil {
		return nil, err
	}
	if a.ApplicantPersonID != nil {
		if err := s.checkMember(ctx, tx, in.HouseholdID, *a.ApplicantPersonID, "applicantPersonId"); err != nil {
			return nil, err
		}
	}
	if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
		return nil, err
	}
	if err := s.applicationEvent(ctx, tx, pr, a, ""); err != nil {
		return nil, err
	}
	if err := s.audit.Append(ctx, db.UnitOf(tx), "submitApplication", "Application", a.ID, audit.Summary{
		"householdId": a.HouseholdID, "channel": a.Channel, "categories": codes,
	}); err != nil {
		return nil, err
	}
	return a, nil
}

func categoryList(cat *catalog.Catalog, field string, codes []string) ([]string, error) {
	if len(codes) > 20 {
		return nil, aidhub.Invalid(field, "lists %d categories; at most 20", len(codes))
	}
	var out []string
	for _, c := range codes {
		if _, ok := cat.Category(c); !ok {
			return nil, aidhub.Invalid(field, "%q is not a service category", aidhub.Clip(c))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *Service) checkMember(ctx context.Context, idb bun.IDB, householdID, personID int64, field string) error {
	n, err := idb.NewSelect().Model((*Person)(nil)).Where("id = ? AND household_id = ?", personID, householdID).Count(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return aidhub.Invalid(field, "is not a member of this household")
	}
	return nil
}

func (s *Service) applicationEvent(ctx context.Context, tx bun.Tx, pr auth.Principal, a *Application, note string) error {
	e := &ApplicationEvent{ApplicationID: a.ID, Status: a.Status, At: a.UpdatedAt, ActorTokenID: tokenOf(pr), ActorRole: string(pr.Role), Note: note}
	_, err := tx.NewInsert().Model(e).Exec(ctx)
	return err
}

// ApplicationHistory lists an application's status changes, oldest first.
func (s *Service) ApplicationHistory(ctx context.Context, applicationID int64) ([]*ApplicationEvent, error) {
	var out []*ApplicationEvent
	err := s.db.NewSelect().Model(&out).Where("application_id = ?", applicationID).Order("id").Scan(ctx)
	return out, wrap(err, "casework: history of application %d", applicationID)
}

// Applications lists a household's applications, newest first.
func (s *Service) Applications(ctx context.Context, householdID int64) ([]*Application, error) {
	var out []*Application
	err := s.db.NewSelect().Model(&out).Where("household_id = ?", householdID).Order("id DESC").Scan(ctx)
	return out, wrap(err, "casework: applications of household %d", householdID)
}

// Assessment is a needs assessment of a household (需求评估). A
// reassessment supersedes the current one, which stays as history.
type Assessment struct {
	bun.BaseModel `bun:"table:assessments,alias:asm"`

	ID              int64 `bun:",pk,autoincrement"`
	HouseholdID     int64 `bun:",notnull"`
	ApplicationID   *int64
	AssessedOn      aidhub.Date
	AssessorTokenID *int64
	AssessorRole    string
	Notes           string `bun:",notnull"`
	SupersedesID    *int64
	SupersededAt    *time.Time
	CreatedAt       time.Time
}

// NeedStatus is where a need is.
type NeedStatus string

// Need statuses.
const (
	NeedOpen       NeedStatus = "OPEN"
	NeedMet        NeedStatus = "MET"
	NeedSuperseded NeedStatus = "SUPERSEDED"
	NeedClosed     NeedStatus = "CLOSED"
)

// Need is one assessed need: a category (and item where known) with a
// severity from 1 (mild) to 5 (urgent). OpenedOn is when the need was
// first assessed; a reassessment of the same need keeps it, so waiting
// time does not restart.
type Need struct {
	bun.BaseModel `bun:"table:needs,alias:n"`

	ID           int64 `bun:",pk,autoincrement"`
	AssessmentID int64 `bun:",notnull"`
	HouseholdID  int64 `bun:",notnull"`
	PersonID     *int64
	CategoryCode string
	ItemCode     *string
	Severity     int
	Notes        string `bun:",notnull"`
	OpenedOn     aidhub.Date
	Status       NeedStatus
	ClosedAt     *time.Time
}

// NeedInput is one need of an assessment.
type NeedInput struct {
	PersonID     *int64
	CategoryCode string
	ItemCode     *string
	Severity     int
	Notes        string
}

// AssessmentInput is a needs assessment.
type AssessmentInput struct {
	HouseholdID   int64
	ApplicationID *int64
	AssessedOn    *aidhub.Date // default today
	Notes         string
	Needs         []NeedInput
}

// CreateAssessment records a needs assessment, superseding the household's
// current one.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT
// (another assessment of the household was recorded at the same moment).
func (s *Service) CreateAssessment(ctx context.Context, in AssessmentInput) (*Assessment, []*Need, error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "assessing needs"); err != nil {
		return nil, nil, err
	}
	// The catalog is read before the transaction: inside it, a second
	// connection would be needed while one is held, and a full pool would
	// wait for itself.
	cat, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	var (
		a     *Assessment
		needs []*Need
	)
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		a, needs, err = s.createAssessment(ctx, tx, pr, cat, in)
		return err
	})
	if err != nil {
		return nil, nil, wrap(err, "casework: create assessment")
	}
	return a, needs, nil
}

func (s *Service) createAssessment(ctx context.Context, tx bun.Tx, pr auth.Principal, cat *catalog.Catalog, in AssessmentInput) (*Assessment, []*Need, error) {
	on, err := assessedOn(in, s.today())
	if err != nil {
		return nil, nil, err
	}
	notes, err := aidhub.CleanText("notes", in.Notes, false, 2000)
	if err != nil {
		return nil, nil, err
	}
	if len(in.Needs) == 0 || len(in.Needs) > 50 {
		return nil, nil, aidhub.Invalid("needs", "must list 1 to 50 needs, got %d", len(in.Needs))
	}
	if _, err := s.householdForWork(ctx, tx, pr, in.HouseholdID); err != nil {
		return nil, nil, err
	}
	needs, err := s.assessedNeeds(ctx, tx, cat, in, on)
	if err != nil {
		return nil, nil, err
	}
	app, err := applicationToClassify(ctx, tx, in)
	if err != nil {
		return nil, nil, err
	}

	now := s.now().UTC()
	a := &Assessment{HouseholdID: in.HouseholdID, ApplicationID: in.ApplicationID, AssessedOn: on, AssessorTokenID: tokenOf(pr), AssessorRole: string(pr.Role), Notes: notes, CreatedAt: now}
	carried, oldIDs, err := supersedeCurrentAssessment(ctx, tx, a, now)
	if err != nil {
		return nil, nil, err
	}
	if err := insertAssessment(ctx, tx, a, needs, carried); err != nil {
		return nil, nil, err
	}
	if err := moveOpenReferrals(ctx, tx, needs, oldIDs); err != nil {
		return nil, nil, err
	}
	if app != nil {
		if err := s.classifyApplication(ctx, tx, pr, app, a, len(needs), now); err != nil {
			return nil, nil, err
		}
	}
	cats := make([]string, len(needs))
	for i, n := range needs {
		cats[i] = n.CategoryCode
	}
	if err := s.needsChanged(ctx, tx, a.HouseholdID); err != nil {
		return nil, nil, err
	}
	return a, needs, s.audit.Append(ctx, db.UnitOf(tx), "createAssessment", "Assessment", a.ID, audit.Summary{
		"householdId": a.HouseholdID, "supersedes": a.SupersedesID, "needs": len(needs), "categories": cats,
	})
}

// assessedOn is the day the assessment is dated: today unless given, and
// never in the future.
func assessedOn(in AssessmentInput, today aidhub.Date) (aidhub.Date, error) {
	if in.AssessedOn == nil {
		return today, nil
	}
	if today.Before(*in.AssessedOn) {
		return aidhub.Date{}, aidhub.Invalid("assessedOn", "is in the future")
	}
	return *in.AssessedOn, nil
}

// assessedNeeds checks each listed need, in order, and builds it open on
// the assessment's day.
func (s *Service) assessedNeeds(ctx context.Context, tx bun.Tx, cat *catalog.Catalog, in AssessmentInput, on aidhub.Date) ([]*Need, error) {
	needs := make([]*Need, len(in.Needs))
	for i, n := range in.Needs {
		f := fmt.Sprintf("needs[%d].", i)
		need := &Need{HouseholdID: in.HouseholdID, PersonID: n.PersonID, CategoryCode: n.CategoryCode, ItemCode: n.ItemCode, Severity: n.Severity, OpenedOn: on, Status: NeedOpen}
		if err := checkCategoryItem(cat, f, &need.CategoryCode, need.ItemCode); err != nil {
			return nil, err
		}
		if n.Severity < 1 || n.Severity > 5 {
			return nil, aidhub.Invalid(f+"severity", "must be 1 (mild) to 5 (urgent), got %d", n.Severity)
		}
		var err error
		if need.Notes, err = aidhub.CleanText(f+"notes", n.Notes, false, 1000); err != nil {
			return nil, err
		}
		if n.PersonID != nil {
			if err := s.checkMember(ctx, tx, in.HouseholdID, *n.PersonID, f+"personId"); err != nil {
				return nil, err
			}
		}
		needs[i] = need
	}
	return needs, nil
}

// applicationToClassify returns the household's submitted application the
// assessment answers, or nil when it names none.
func applicationToClassify(ctx context.Context, tx bun.Tx, in AssessmentInput) (*Application, error) {
	if in.ApplicationID == nil {
		return nil, nil
	}
	app := new(Application)
	err := tx.NewSelect().Model(app).Where("id = ? AND household_id = ?", *in.ApplicationID, in.HouseholdID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aidhub.Invalid("applicationId", "is not an application of this household")
	}
	if err != nil {
		return nil, err
	}
	if app.Status != Submitted {
		return nil, aidhub.Errorf(aidhub.ECONFLICT, "the application is %s already", app.Status)
	}
	return app, nil
}

// supersedeCurrentAssessment retires the household's current assessment,
// if any, and its open needs, and points a at it. Needs still open under
// the old assessment carry their opened date into the new one when the
// same person has the same category again: carried holds those dates and
// oldIDs the old needs, by needKey.
func supersedeCurrentAssessment(ctx context.Context, tx bun.Tx, a *Assessment, now time.Time) (carried map[string]aidhub.Date, oldIDs map[string][]int64, err error) {
	var prev []*Assessment
	if err := tx.NewSelect().Model(&prev).Where("household_id = ? AND superseded_at IS NULL", a.HouseholdID).Scan(ctx); err != nil {
		return nil, nil, err
	}
	carried = map[string]aidhub.Date{}
	oldIDs = map[string][]int64{}
	if len(prev) != 1 {
		return carried, oldIDs, nil
	}
	a.SupersedesID = &prev[0].ID
	var old []*Need
	if err := tx.NewSelect().Model(&old).Where("assessment_id = ? AND status = ?", prev[0].ID, NeedOpen).Scan(ctx); err != nil {
		return nil, nil, err
	}
	for _, n := range old {
		carried[needKey(n)] = n.OpenedOn
		oldIDs[needKey(n)] = append(oldIDs[needKey(n)], n.ID)
	}
	if _, err := tx.NewUpdate().Model((*Assessment)(nil)).Set("superseded_at = ?", now).Where("id = ? AND superseded_at IS NULL", prev[0].ID).Exec(ctx); err != nil {
		return nil, nil, err
	}
	if _, err := tx.NewUpdate().Model((*Need)(nil)).Set("status = ?", NeedSuperseded).Set("closed_at = ?", now).
		Where("assessment_id = ? AND status = ?", prev[0].ID, NeedOpen).Exec(ctx); err != nil {
		return nil, nil, err
	}
	return carried, oldIDs, nil
}

// insertAssessment stores a and its needs, each need keeping the earlier
// opened date carried from the assessment it supersedes.
func insertAssessment(ctx context.Context, tx bun.Tx, a *Assessment, needs []*Need, carried map[string]aidhub.Date) error {
	if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return aidhub.Errorf(aidhub.ECONFLICT, "another assessment of this household was recorded at the same moment: reload and try again")
		}
		return err
	}
	for _, n := range needs {
		n.AssessmentID = a.ID
		if d, ok := carried[needKey(n)]; ok && d.Before(n.OpenedOn) {
			n.OpenedOn = d
		}
	}
	_, err := tx.NewInsert().Model(&needs).Exec(ctx)
	return err
}

// moveOpenReferrals makes referrals under way for a superseded need serve
// its successor, so delivering them meets it and the watchlist knows help
// is coming.
func moveOpenReferrals(ctx context.Context, tx bun.Tx, needs []*Need, oldIDs map[string][]int64) error {
	for _, n := range needs {
		if ids := oldIDs[needKey(n)]; len(ids) > 0 {
			if _, err := tx.NewUpdate().Model((*Referral)(nil)).Set("need_id = ?", n.ID).
				Where("need_id IN (?) AND status IN (?)", bun.List(ids), bun.List(openReferralStatuses)).Exec(ctx); err != nil {
				return err
			}
			delete(oldIDs, needKey(n))
		}
	}
	return nil
}

// classifyApplication marks app classified by a and records
// the event.
func (s *Service) classifyApplication(ctx context.Context, tx bun.Tx, pr auth.Principal, app *Application, a *Assessment, needs int, now time.Time) error {
	app.Status, app.AssessmentID, app.UpdatedAt = Classified, &a.ID, now
	if _, err := tx.NewUpdate().Model(app).Column("status", "assessment_id", "updated_at").WherePK().Exec(ctx); err != nil {
		return err
	}
	return s.applicationEvent(ctx, tx, pr, app, fmt.Sprintf("classified into %d needs", needs))
}

func needKey(n *Need) string {
	p := int64(0)
	if n.PersonID != nil {
		p = *n.PersonID
	}
	return fmt.Sprintf("%d/%s", p, n.CategoryCode)
}

// checkCategoryItem checks a category and optional item; an item alone
// names its category.
func checkCategoryItem(cat *catalog.Catalog, field string, category *string, item *string) error {
	if item != nil {
		it, ok := cat.Item(*item)
		if !ok {
			return aidhub.Invalid(field+"itemCode", "%q is not a service item", aidhub.Clip(*item))
		}
		if *category == "" {
			*category = it.CategoryCode
		}
		if it.CategoryCode != *category {
			return aidhub.Invalid(field+"itemCode", "%q belongs to category %s, not %s", *item, it.CategoryCode, aidhub.Clip(*category))
		}
	}
	if _, ok := cat.Category(*category); !ok {
		return aidhub.Invalid(field+"categoryCode", "%q is not a service category", aidhub.Clip(*category))
	}
	return nil
}

// ClassifyApplication classifies a submitted application into needs: the
// assessment it creates supersedes the household's current one.
//
// Errors: as CreateAssessment; CONFLICT when the application is not
// SUBMITTED.
func (s *Service) ClassifyApplication(ctx context.Context, applicationID int64, in AssessmentInput) (*Application, *Assessment, []*Need, error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "classifying an application"); err != nil {
		return nil, nil, nil, err
	}
	cat, err := s.catalog.Snapshot(ctx) // before the transaction: see CreateAssessment
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		app   = new(Application)
		a     *Assessment
		needs []*Need
	)
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model(app).Where("id = ?", applicationID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errApplicationNotFound
		}
		if err != nil {
			return err
		}
		if _, err := s.householdForWork(ctx, tx, pr, app.HouseholdID); err != nil {
			return errApplicationNotFound
		}
		in.HouseholdID, in.ApplicationID = app.HouseholdID, &app.ID
		if a, needs, err = s.createAssessment(ctx, tx, pr, cat, in); err != nil {
			return err
		}
		return tx.NewSelect().Model(app).WherePK().Scan(ctx)
	})
	if err != nil {
		return nil, nil, nil, wrap(err, "casework: classify application %d", applicationID)
	}
	return app, a, needs, nil
}

var errApplicationNotFound = aidhub.Errorf(aidhub.ENOTFOUND, "no application with this ID")

// Assessments lists a household's assessments, current first.
func (s *Service) Assessments(ctx context.Context, householdID int64) ([]*Assessment, error) {
	var out []*Assessment
	err := s.db.NewSelect().Model(&out).Where("household_id = ?", householdID).Order("id DESC").Scan(ctx)
	return out, wrap(err, "casework: assessments of household %d", householdID)
}

// Needs lists an assessment's needs.
func (s *Service) Needs(ctx context.Context, assessmentID int64) ([]*Need, error) {
	var out []*Need
	err := s.db.NewSelect().Model(&out).Where("assessment_id = ?", assessmentID).Order("id").Scan(ctx)
	return out, wrap(err, "casework: needs of assessment %d", assessmentID)
}
