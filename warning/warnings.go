package warning

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/warning/detect"
)

// State is where a warning is in its life: NEW → ACKNOWLEDGED → VISITED
// (入户核查) → RESOLVED, or DISMISSED from any open state.
type State string

const (
	StateNew          State = "NEW"
	StateAcknowledged State = "ACKNOWLEDGED"
	StateVisited      State = "VISITED"
	StateResolved     State = "RESOLVED"
	StateDismissed    State = "DISMISSED"
)

// openStates are the states of a warning someone still has to act on.
var openStates = []State{StateNew, StateAcknowledged, StateVisited}

// Open reports whether the state still asks for action.
func (s State) Open() bool { return slices.Contains(openStates, s) }

// Outcome is how a resolved warning ended.
type Outcome string

const (
	OutcomeApplicationOpened Outcome = "APPLICATION_OPENED"
	OutcomeReferred          Outcome = "REFERRED"
	OutcomeNoActionNeeded    Outcome = "NO_ACTION_NEEDED"
)

// Warning is one warning raised for a household (and a person where the
// type names one), with its evidence, the unit that must act and its due
// date.
type Warning struct {
	bun.BaseModel `bun:"table:warnings,alias:w"`

	ID              int64 `bun:",pk,autoincrement"`
	TypeCode        string
	HouseholdID     int64
	PersonID        *int64
	RegionCode      string // the household's community
	ResponsibleCode string // its street (9 digits) or district (6), by the type's level
	Severity        detect.Severity
	State           State
	Month           detect.Month
	EvidenceJSON    string `bun:"evidence"`
	RaisedAt        time.Time
	DueOn           aidhub.Date
	AcknowledgedAt  *time.Time
	VisitedAt       *time.Time
	VisitNote       string `bun:",notnull"`
	ClosedAt        *time.Time
	Outcome         Outcome `bun:",notnull"`
	DismissReason   string  `bun:",notnull"`
	ApplicationID   *int64
	Version         int64
	UpdatedAt       time.Time
}

// Evidence is what a warning was raised on: the engine's hit (measure,
// peers, threshold, facts, explanation) and the signals behind it.
type Evidence struct {
	detect.Hit
	// SignalIDs are every signal read: the events of the hit and the
	// amounts of its months.
	SignalIDs []int64 `json:"signalIds"`
}

// Evidence decodes the warning's evidence.
func (w *Warning) Evidence() (*Evidence, error) {
	var e Evidence
	if err := json.Unmarshal([]byte(w.EvidenceJSON), &e); err != nil {
		return nil, fmt.Errorf("warning %d: evidence: %w", w.ID, err)
	}
	return &e, nil
}

// Overdue reports whether the warning is open past its due date on today.
func (w *Warning) Overdue(today aidhub.Date) bool { return w.State.Open() && w.DueOn.Before(today) }

// Event is one step in a warning's history.
type Event struct {
	bun.BaseModel `bun:"table:warning_events,alias:we"`

	ID           int64 `bun:",pk,autoincrement"`
	WarningID    int64
	State        State
	At           time.Time
	ActorTokenID *int64
	Note         string `bun:",notnull"`
}

var errWarningNotFound = aidhub.Errorf(aidhub.ENOTFOUND, "no warning with this ID")

// Warning returns one warning to a case worker of its region. One of
// another region is NOT_FOUND, so its existence does not leak.
func (s *Service) Warning(ctx context.Context, id int64) (*Warning, error) {
	p := auth.FromContext(ctx)
	if err := requireCaseworker(p, "reading warnings"); err != nil {
		return nil, err
	}
	w, err := s.fromContext(ctx).warnings.Load(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("warning: load %d: %w", id, err)
	}
	if w == nil || !p.WorksIn(w.RegionCode) {
		return nil, errWarningNotFound
	}
	return w, nil
}

// Type returns a warning type by code (nil when there is none), through
// the request's loader.
func (s *Service) Type(ctx context.Context, code string) (*WarningType, error) {
	if err := requireCaseworker(auth.FromContext(ctx), "reading warning types"); err != nil {
		return nil, err
	}
	ts, err := s.fromContext(ctx).types()
	if err != nil {
		return nil, err
	}
	return ts[code], nil
}

// EvidenceSignals returns the signals behind a warning the caller may see.
func (s *Service) EvidenceSignals(ctx context.Context, w *Warning) ([]*Signal, error) {
	if _, err := s.Warning(ctx, w.ID); err != nil {
		return nil, err
	}
	ev, err := w.Evidence()
	if err != nil {
		return nil, err
	}
	sigs, err := s.fromContext(ctx).signals.LoadAll(ctx, ev.SignalIDs)
	if err != nil {
		return nil, fmt.Errorf("warning: load evidence of %d: %w", w.ID, err)
	}
	out := sigs[:0]
	for _, sg := range sigs {
		if sg != nil {
			out = append(out, sg)
		}
	}
	return out, nil
}

// Filter narrows a list of warnings; zero values do not narrow.
type Filter struct {
	RegionPrefix string
	TypeCodes    []string
	Severities   []detect.Severity
	States       []State
	Overdue      *bool
	HouseholdID  int64
}

// Warnings lists the warnings of the caller's region (narrowed by f), the
// newest first.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not a case worker), BAD_USER_INPUT.
func (s *Service) Warnings(ctx context.Context, f Filter, page aidhub.PageArgs) (*aidhub.Page[*Warning], error) {
	p := auth.FromContext(ctx)
	if err := requireCaseworker(p, "reading warnings"); err != nil {
		return nil, err
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	if f.RegionPrefix != "" {
		if reason := s.regions.Check(f.RegionPrefix); reason != "" {
			return nil, aidhub.Invalid("filter.regionPrefix", "%s", reason)
		}
	}
	prefix := f.RegionPrefix
	if p.Role == auth.CaseManager {
		switch {
		case prefix == "" || strings.HasPrefix(prefix, p.RegionPrefix):
			if prefix == "" {
				prefix = p.RegionPrefix
			}
		case strings.HasPrefix(p.RegionPrefix, prefix):
			prefix = p.RegionPrefix // narrower than asked: the caller's own
		default:
			return &aidhub.Page[*Warning]{Items: []*Warning{}}, nil
		}
	}
	for _, st := range f.States {
		if !slices.Contains(append(slices.Clone(openStates), StateResolved, StateDismissed), st) {
			return nil, aidhub.Invalid("filter.states", "%q is not a state", aidhub.Clip(string(st)))
		}
	}
	where := func(q *bun.SelectQuery) *bun.SelectQuery {
		if prefix != "" {
			q.Where("w.region_code LIKE ?", prefix+"%")
		}
		if len(f.TypeCodes) > 0 {
			q.Where("w.type_code IN (?)", bun.List(f.TypeCodes))
		}
		if len(f.Severities) > 0 {
			q.Where("w.severity IN (?)", bun.List(f.Severities))
		}
		if len(f.States) > 0 {
			q.Where("w.state IN (?)", bun.List(f.States))
		}
		if f.HouseholdID > 0 {
			q.Where("w.household_id = ?", f.HouseholdID)
		}
		if f.Overdue != nil {
			today := s.today()
			if *f.Overdue {
				q.Where("w.state IN (?) AND w.due_on < ?", bun.List(openStates), today)
			} else {
				q.Where("NOT (w.state IN (?) AND w.due_on < ?)", bun.List(openStates), today)
			}
		}
		return q
	}
	total, err := where(s.db.NewSelect().Model((*Warning)(nil))).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("warning: count warnings: %w", err)
	}
	var rows []*Warning
	q := where(s.db.NewSelect().Model(&rows)).OrderExpr("w.id DESC").Limit(int64(page.First + 1))
	if page.After > 0 {
		q.Where("w.id < ?", page.After)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("warning: list warnings: %w", err)
	}
	return aidhub.NewPage(rows, page, int(total), func(w *Warning) int64 { return w.ID }), nil
}

// History returns a warning's events, oldest first, through the request's
// loader.
func (s *Service) History(ctx context.Context, warningID int64) ([]*Event, error) {
	if _, err := s.Warning(ctx, warningID); err != nil {
		return nil, err
	}
	evs, err := s.fromContext(ctx).events.Load(ctx, warningID)
	if err != nil {
		return nil, fmt.Errorf("warning: history of %d: %w", warningID, err)
	}
	return evs, nil
}

// Action is a step a case worker takes on a warning.
type Action string

const (
	ActionAcknowledge     Action = "ACKNOWLEDGE"
	ActionVisit           Action = "VISIT"
	ActionResolve         Action = "RESOLVE"
	ActionDismiss         Action = "DISMISS"
	ActionOpenApplication Action = "OPEN_APPLICATION" // resolves it with APPLICATION_OPENED and opens the application
)

// Transition is one step on a warning.
type Transition struct {
	WarningID int64
	Action    Action
	Note      string  // VISIT: what the visit found (required); others: optional
	Outcome   Outcome // RESOLVE: required
	Reason    string  // DISMISS: required
	// OPEN_APPLICATION: the application's text (default: the warning's
	// explanation) and the categories it names.
	HelpText      string
	CategoryCodes []string
	Version       *int64 // optimistic locking, when given
}

// from lists the states each action may start from.
var from = map[Action][]State{
	ActionAcknowledge:     {StateNew},
	ActionVisit:           {StateNew, StateAcknowledged},
	ActionResolve:         {StateVisited},
	ActionOpenApplication: {StateNew, StateAcknowledged, StateVisited},
	ActionDismiss:         openStates,
}

// Transition applies one step, appends its event and the audit entry, and
// for OPEN_APPLICATION submits the household's application in the same
// transaction.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not a case worker), NOT_FOUND (no such
// warning in the caller's region), BAD_USER_INPUT (a missing note, outcome or
// reason), CONFLICT (the step does not follow from the warning's state, or
// another change came first).
func (s *Service) Transition(ctx context.Context, t Transition) (*Warning, error) {
	p := auth.FromContext(ctx)
	if err := requireCaseworker(p, "acting on a warning"); err != nil {
		return nil, err
	}
	if err := checkTransition(&t); err != nil {
		return nil, err
	}
	var out *Warning
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		w := new(Warning)
		if err := tx.NewSelect().Model(w).Where("id = ?", t.WarningID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errWarningNotFound
			}
			return err
		}
		if !p.WorksIn(w.RegionCode) {
			return errWarningNotFound
		}
		if t.Version != nil && *t.Version != w.Version {
			return aidhub.Errorf(aidhub.ECONFLICT, "warning %d is at version %d, not %d: reload it", w.ID, w.Version, *t.Version)
		}
		if !slices.Contains(from[t.Action], w.State) {
			return aidhub.Errorf(aidhub.ECONFLICT, "warning %d is %s; %s does not follow from there", w.ID, w.State, t.Action)
		}
		if err := s.apply(ctx, tx, w, t); err != nil {
			return err
		}
		out = w
		return nil
	})
	if err != nil {
		return nil, wrap(err, "warning: %s warning %d", strings.ToLower(string(t.Action)), t.WarningID)
	}
	return out, nil
}

func checkTransition(t *Transition) error {
	if _, ok := from[t.Action]; !ok {
		return aidhub.Invalid("action", "%q is not an action: ACKNOWLEDGE, VISIT, RESOLVE, DISMISS or OPEN_APPLICATION", aidhub.Clip(string(t.Action)))
	}
	var err error
	if t.Note, err = aidhub.CleanText("note", t.Note, t.Action == ActionVisit, 2000); err != nil {
		return err
	}
	if t.Reason, err = aidhub.CleanText("reason", t.Reason, t.Action == ActionDismiss, 500); err != nil {
		return err
	}
	switch {
	case t.Action == ActionResolve && !slices.Contains([]Outcome{OutcomeReferred, OutcomeNoActionNeeded, OutcomeApplicationOpened}, t.Outcome):
		return aidhub.Invalid("outcome", "resolving needs an outcome: REFERRED or NO_ACTION_NEEDED (OPEN_APPLICATION opens one)")
	case t.Action == ActionResolve && t.Outcome == OutcomeApplicationOpened:
		return aidhub.Invalid("outcome", "APPLICATION_OPENED is the outcome of OPEN_APPLICATION, which opens the application too")
	case t.Action != ActionResolve && t.Outcome != "":
		return aidhub.Invalid("outcome", "only RESOLVE takes an outcome")
	}
	return nil
}

// apply changes w by t inside tx.
func (s *Service) apply(ctx context.Context, tx bun.Tx, w *Warning, t Transition) error {
	p := auth.FromContext(ctx)
	now := s.now().UTC()
	note := t.Note
	switch t.Action {
	case ActionAcknowledge:
		w.State, w.AcknowledgedAt = StateAcknowledged, &now
	case ActionVisit:
		w.State, w.VisitedAt, w.VisitNote = StateVisited, &now, t.Note
	case ActionResolve:
		w.State, w.ClosedAt, w.Outcome = StateResolved, &now, t.Outcome
	case ActionDismiss:
		w.State, w.ClosedAt, w.DismissReason = StateDismissed, &now, t.Reason
		note = t.Reason
	case ActionOpenApplication:
		app, err := s.openApplication(ctx, tx, w, t)
		if err != nil {
			return err
		}
		w.State, w.ClosedAt, w.Outcome, w.ApplicationID = StateResolved, &now, OutcomeApplicationOpened, &app.ID
	}
	read := w.Version
	w.Version++
	w.UpdatedAt = now
	// Compare and set on the version read: of two steps at once, the
	// second finds the warning changed (no row lock on SQLite).
	res, err := tx.NewUpdate().Model(w).WherePK().Where("version = ?", read).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return aidhub.Errorf(aidhub.ECONFLICT, "warning %d changed meanwhile: reload it", w.ID)
	}
	ev := &Event{WarningID: w.ID, State: w.State, At: now, ActorTokenID: tokenOf(p), Note: note}
	if _, err := tx.NewInsert().Model(ev).Exec(ctx); err != nil {
		return err
	}
	return s.audit.Append(ctx, db.UnitOf(tx), "transitionWarning", "Warning", w.ID, audit.Summary{
		"action": t.Action, "state": w.State, "type": w.TypeCode, "outcome": w.Outcome, "applicationId": w.ApplicationID,
	})
}

// openApplication submits the household's application for the warning,
// in the warning's transaction.
func (s *Service) openApplication(ctx context.Context, tx bun.Tx, w *Warning, t Transition) (*casework.Application, error) {
	text := t.HelpText
	if strings.TrimSpace(text) == "" {
		ev, err := w.Evidence()
		if err != nil {
			return nil, err
		}
		text = "预警 " + w.TypeCode + ": " + ev.ExplanationZh
	}
	return s.casework.SubmitApplicationIn(ctx, db.UnitOf(tx), casework.ApplicationInput{
		HouseholdID: w.HouseholdID, Channel: casework.ChannelCaseManager,
		HelpText: text, CategoryCodes: t.CategoryCodes,
	})
}
