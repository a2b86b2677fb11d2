package warning

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/warning/detect"
)

// Signal is one fact another department sent about a household or one of
// its persons. Signals are kept as sent, with their source; they never
// change the household's own record.
type Signal struct {
	bun.BaseModel `bun:"table:signals,alias:sg"`

	ID          int64 `bun:",pk,autoincrement"`
	Source      string
	ExternalID  string
	HouseholdID int64
	PersonID    *int64
	Kind        string
	ObservedOn  aidhub.Date
	Month       detect.Month
	AmountFen   *int64
	Status      string `bun:",notnull"`
	RecordedAt  time.Time
	RecordedBy  *int64
}

// SignalInput is one signal to record. A signal names its household, or a
// person (whose household it then is), or both when they agree.
type SignalInput struct {
	Source      string // the sending department's name; a DATA_FEED token's own
	ExternalID  string // the source's own ID of the fact: sending it again is a no-op
	HouseholdID int64
	PersonID    int64
	Kind        string
	ObservedOn  aidhub.Date
	AmountFen   *int64
	Status      string
}

// MaxSignalsPerCall bounds one recordSignals call.
const MaxSignalsPerCall = 1000

// amountKinds carry an amount; the rest are events.
var amountKinds = []string{detect.KindIncome, detect.KindMedicalSpending, detect.KindEducationSpending, detect.KindArrears}

// personKinds are about one person.
var personKinds = []string{detect.KindEmployment, detect.KindHospitalisation, detect.KindDisabilityGrade, detect.KindDeath, detect.KindSchoolLeaving}

// statuses are the statuses of the kinds that carry one.
var statuses = map[string][]string{
	detect.KindEmployment:      {"EMPLOYED", "LOST_JOB", "REEMPLOYED"},
	detect.KindDisabilityGrade: {"1", "2", "3", "4", "NONE"},
}

// earliestSignal is the first day a signal may describe.
var earliestSignal = aidhub.Date{Time: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}

// checkSignal validates one input; field prefixes the field names.
func checkSignal(in *SignalInput, p auth.Principal, today aidhub.Date, field string) error {
	if p.Role == auth.DataFeed {
		if in.Source == "" {
			in.Source = p.Source
		} else if in.Source != p.Source {
			return &aidhub.Error{Code: aidhub.EFORBIDDEN, Field: field + ".source", Message: "this token sends signals of source " + p.Source + " only"}
		}
	}
	if !auth.ValidSource(in.Source) {
		return aidhub.Invalid(field+".source", "a source is 1 to 40 of A-Z, 0-9 and _, starting with a letter (e.g. MEDICAL_INSURANCE)")
	}
	ext, err := aidhub.CleanText(field+".externalId", in.ExternalID, true, 100)
	if err != nil {
		return err
	}
	in.ExternalID = ext
	if !slices.Contains(detect.Kinds, in.Kind) {
		return aidhub.Invalid(field+".kind", "%q is not a signal kind: want one of %s", aidhub.Clip(in.Kind), strings.Join(detect.Kinds, ", "))
	}
	if in.HouseholdID <= 0 && in.PersonID <= 0 {
		return aidhub.Invalid(field+".householdId", "a signal names its household or its person")
	}
	if slices.Contains(personKinds, in.Kind) && in.PersonID <= 0 {
		return aidhub.Invalid(field+".personId", "a %s signal is about one person: name them", in.Kind)
	}
	if in.ObservedOn.IsZero() {
		return aidhub.Invalid(field+".observedOn", "needs the date the fact is about")
	}
	if in.ObservedOn.Before(earliestSignal) {
		return aidhub.Invalid(field+".observedOn", "%s is before 2000-01-01", in.ObservedOn)
	}
	if today.Before(in.ObservedOn) {
		return aidhub.Invalid(field+".observedOn", "%s is in the future (today is %s in China)", in.ObservedOn, today)
	}
	return checkSignalValue(in, field)
}

func checkSignalValue(in *SignalInput, field string) error {
	if slices.Contains(amountKinds, in.Kind) {
		if in.AmountFen == nil {
			return aidhub.Invalid(field+".amountFen", "a %s signal carries an amount", in.Kind)
		}
		if *in.AmountFen < 0 {
			return aidhub.Invalid(field+".amountFen", "an amount is not negative")
		}
		if *in.AmountFen > 1e12 {
			return aidhub.Invalid(field+".amountFen", "an amount is at most 10,000,000,000 yuan")
		}
	} else if in.AmountFen != nil {
		return aidhub.Invalid(field+".amountFen", "a %s signal carries no amount", in.Kind)
	}
	if want, ok := statuses[in.Kind]; ok {
		if !slices.Contains(want, in.Status) {
			return aidhub.Invalid(field+".status", "a %s signal's status is one of %s", in.Kind, strings.Join(want, ", "))
		}
	} else if in.Status != "" {
		return aidhub.Invalid(field+".status", "a %s signal carries no status", in.Kind)
	}
	return nil
}

// RecordResult says what happened to each input: the signal stored, or
// the one already stored under its source and external ID.
type RecordResult struct {
	Signal    *Signal
	Duplicate bool
}

// RecordSignals stores signals, all or none, and queues the evaluation of
// their households in the same transaction. A signal already stored under
// its source and external ID is not stored again (Duplicate); one that
// differs from it is refused, since a signal never changes silently.
//
// Errors: UNAUTHENTICATED; FORBIDDEN (not ADMIN or DATA_FEED, or a feed
// sending another source's signals); BAD_USER_INPUT (the field of the first
// bad input, e.g. input[3].amountFen); NOT_FOUND (an unknown household or
// person); CONFLICT (a source and external ID already used for a different
// fact).
func (s *Service) RecordSignals(ctx context.Context, ins []SignalInput) ([]RecordResult, error) {
	p := auth.FromContext(ctx)
	if err := p.Require("recording signals", auth.Admin, auth.DataFeed); err != nil {
		return nil, err
	}
	if len(ins) == 0 {
		return nil, aidhub.Invalid("input", "no signals")
	}
	if len(ins) > MaxSignalsPerCall {
		return nil, aidhub.Invalid("input", "%d signals; at most %d per call (the import takes files of any size)", len(ins), MaxSignalsPerCall)
	}
	ins = slices.Clone(ins)
	sigs, err := s.prepareSignals(ctx, p, ins, "input")
	if err != nil {
		return nil, err
	}
	var out []RecordResult
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.storeSignals(ctx, tx, sigs, "input")
		if err != nil {
			return err
		}
		return s.audit.Append(ctx, db.UnitOf(tx), "recordSignals", "Signal", out[0].Signal.ID, audit.Summary{
			"signals": len(sigs), "new": countNew(out), "source": sigs[0].Source,
		})
	})
	if err != nil {
		return nil, wrap(err, "warning: record signals")
	}
	return out, nil
}

func countNew(rs []RecordResult) int {
	n := 0
	for _, r := range rs {
		if !r.Duplicate {
			n++
		}
	}
	return n
}

// prepareSignals validates the inputs and resolves their households.
func (s *Service) prepareSignals(ctx context.Context, p auth.Principal, ins []SignalInput, field string) ([]*Signal, error) {
	today := s.today()
	var households, persons []int64
	for i := range ins {
		if err := checkSignal(&ins[i], p, today, fmt.Sprintf("%s[%d]", field, i)); err != nil {
			return nil, err
		}
		if ins[i].HouseholdID > 0 {
			households = append(households, ins[i].HouseholdID)
		}
		if ins[i].PersonID > 0 {
			persons = append(persons, ins[i].PersonID)
		}
	}
	known, personHH, err := s.casework.HouseholdOfPersons(ctx, households, persons)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sigs := make([]*Signal, len(ins))
	for i, in := range ins {
		f := fmt.Sprintf("%s[%d]", field, i)
		hh := in.HouseholdID
		if in.PersonID > 0 {
			owner, ok := personHH[in.PersonID]
			if !ok {
				return nil, &aidhub.Error{Code: aidhub.ENOTFOUND, Field: f + ".personId", Message: "no person with this ID"}
			}
			if hh > 0 && hh != owner {
				return nil, aidhub.Invalid(f+".personId", "the person is not a member of household %d", hh)
			}
			hh = owner
		} else if !known[hh] {
			return nil, &aidhub.Error{Code: aidhub.ENOTFOUND, Field: f + ".householdId", Message: "no household with this ID"}
		}
		sig := &Signal{Source: in.Source, ExternalID: in.ExternalID, HouseholdID: hh, Kind: in.Kind,
			ObservedOn: in.ObservedOn, Month: monthOf(in.ObservedOn), AmountFen: in.AmountFen, Status: in.Status,
			RecordedAt: now, RecordedBy: tokenOf(p)}
		if in.PersonID > 0 {
			id := in.PersonID
			sig.PersonID = &id
		}
		sigs[i] = sig
	}
	return sigs, nil
}

// storeSignals inserts the signals that are new, compares the rest with
// what is stored, and queues the evaluation of the households with new
// ones.
func (s *Service) storeSignals(ctx context.Context, tx bun.Tx, sigs []*Signal, field string) ([]RecordResult, error) {
	out := make([]RecordResult, len(sigs))
	existing, err := storedSignals(ctx, tx, sigs)
	if err != nil {
		return nil, err
	}
	var fresh []*Signal
	seen := map[[2]string]int{}
	for i, sg := range sigs {
		key := [2]string{sg.Source, sg.ExternalID}
		if j, ok := seen[key]; ok { // the same fact twice in one call
			if !sameFact(sigs[j], sg) {
				return nil, &aidhub.Error{Code: aidhub.ECONFLICT, Field: fmt.Sprintf("%s[%d].externalId", field, i),
					Message: fmt.Sprintf("%s %s appears twice in this call with different facts", sg.Source, sg.ExternalID)}
			}
			out[i] = RecordResult{Signal: sigs[j], Duplicate: true}
			continue
		}
		seen[key] = i
		if old, ok := existing[key]; ok {
			if !sameFact(old, sg) {
				return nil, &aidhub.Error{Code: aidhub.ECONFLICT, Field: fmt.Sprintf("%s[%d].externalId", field, i),
					Message: fmt.Sprintf("%s %s is already stored with different facts; a correction is a new signal with its own ID", sg.Source, sg.ExternalID)}
			}
			out[i] = RecordResult{Signal: old, Duplicate: true}
			continue
		}
		out[i] = RecordResult{Signal: sg}
		fresh = append(fresh, sg)
	}
	if len(fresh) == 0 {
		return out, nil
	}
	if _, err := tx.NewInsert().Model(&fresh).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert signals: %w", err)
	}
	if s.outbox != nil {
		var households []int64
		for _, sg := range fresh {
			households = append(households, sg.HouseholdID)
		}
		slices.Sort(households)
		if err := s.outbox.SignalsRecorded(ctx, db.UnitOf(tx), slices.Compact(households)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sameFact reports whether two signals under one key say the same thing.
func sameFact(a, b *Signal) bool {
	eqID := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.HouseholdID == b.HouseholdID && eqID(a.PersonID, b.PersonID) && a.Kind == b.Kind &&
		a.ObservedOn.String() == b.ObservedOn.String() && eqID(a.AmountFen, b.AmountFen) && a.Status == b.Status
}

// storedSignals returns the stored signals with the inputs' keys.
func storedSignals(ctx context.Context, idb bun.IDB, sigs []*Signal) (map[[2]string]*Signal, error) {
	bySource := map[string][]string{}
	for _, sg := range sigs {
		bySource[sg.Source] = append(bySource[sg.Source], sg.ExternalID)
	}
	out := map[[2]string]*Signal{}
	for source, ids := range bySource {
		var rows []*Signal
		if err := idb.NewSelect().Model(&rows).Where("source = ?", source).Where("external_id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("read stored signals: %w", err)
		}
		for _, r := range rows {
			out[[2]string{r.Source, r.ExternalID}] = r
		}
	}
	return out, nil
}

// CountSignals counts the stored signals.
func (s *Service) CountSignals(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*Signal)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("warning: count signals: %w", err)
	}
	return int(n), nil
}

var errSignalNotFound = aidhub.Errorf(aidhub.ENOTFOUND, "no signal with this ID")

// Signal returns one signal, through the request's loader, to a case
// worker who may see its household; any other is NOT_FOUND, so its
// existence does not leak.
func (s *Service) Signal(ctx context.Context, id int64) (*Signal, error) {
	if err := requireCaseworker(auth.FromContext(ctx), "reading signals"); err != nil {
		return nil, err
	}
	sg, err := s.fromContext(ctx).signals.Load(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("warning: load signal %d: %w", id, err)
	}
	if sg == nil {
		return nil, errSignalNotFound
	}
	if _, err := s.casework.Household(ctx, sg.HouseholdID); err != nil {
		if aidhub.ErrorCode(err) == aidhub.ENOTFOUND {
			return nil, errSignalNotFound
		}
		return nil, err
	}
	return sg, nil
}
