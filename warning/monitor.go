package warning

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/warning/detect"
)

// historyMonths is how many months before the evaluated one a household's
// amounts are read for: the 3 of its baseline and a few more for
// consecutive-month facts (months of arrears).
const historyMonths = 6

// monitor is one evaluation run: the types compiled once, the thresholds
// of the month, the day.
type monitor struct {
	s         *Service
	evaluator *detect.Evaluator
	types     map[string]*detect.Type
	today     aidhub.Date
	month     detect.Month
}

// newMonitor prepares an evaluation of the month of today. The compiled
// types and thresholds are kept while the latest calibration and the types
// stay the same (two small reads tell), so the job that evaluates a few
// households after new signals does not reload them: a cache of what the
// database says, checked on every use, so every replica stays current.
func (s *Service) newMonitor(ctx context.Context) (*monitor, error) {
	today := s.today()
	month := monthOf(today)
	calID, err := s.latestCalibration(ctx, month)
	if err != nil {
		return nil, err
	}
	var stamp typesStamp
	if err := s.db.NewSelect().Model((*typeRow)(nil)).ColumnExpr("COUNT(*) AS n, COALESCE(SUM(version), 0) AS versions").
		Scan(ctx, &stamp.n, &stamp.versions); err != nil {
		return nil, fmt.Errorf("warning: read types: %w", err)
	}
	key := monitorKey{calibration: calID, types: stamp, month: month}
	s.cache.mu.Lock()
	cached := s.cache.compiled
	s.cache.mu.Unlock()
	if cached == nil || cached.key != key {
		if cached, err = s.compile(ctx, key); err != nil {
			return nil, err
		}
		s.cache.mu.Lock()
		s.cache.compiled = cached
		s.cache.mu.Unlock()
	}
	return &monitor{s: s, evaluator: cached.evaluator, types: cached.types, today: today, month: month}, nil
}

type typesStamp struct{ n, versions int64 }

type monitorKey struct {
	calibration int64
	types       typesStamp
	month       detect.Month
}

type compiled struct {
	key       monitorKey
	evaluator *detect.Evaluator
	types     map[string]*detect.Type
}

func (s *Service) compile(ctx context.Context, key monitorKey) (*compiled, error) {
	types, err := s.engineTypes(ctx)
	if err != nil {
		return nil, err
	}
	th, err := s.thresholdsOf(ctx, key.calibration)
	if err != nil {
		return nil, err
	}
	ev, err := detect.NewEvaluator(types, th, detect.WithDibaoStandard(s.cfg.DibaoStandardFen))
	if err != nil {
		return nil, fmt.Errorf("warning: compile types: %w", err)
	}
	c := &compiled{key: key, evaluator: ev, types: map[string]*detect.Type{}}
	for i := range types {
		c.types[types[i].Code] = &types[i]
	}
	return c, nil
}

// EvaluateHouseholds evaluates the households against every type and
// raises the warnings that are not open yet: the job queued with new
// signals runs it. It checks no principal.
func (s *Service) EvaluateHouseholds(ctx context.Context, ids []int64) (raised []*Warning, err error) {
	m, err := s.newMonitor(ctx)
	if err != nil {
		return nil, err
	}
	hs, err := s.casework.MonitoredHouseholds(ctx, ids)
	if err != nil {
		return nil, err
	}
	return m.evaluateBatch(ctx, hs)
}

// PassResult counts what a full pass did.
type PassResult struct {
	Month      detect.Month
	Households int
	Raised     map[string]int // by type
	BySeverity map[detect.Severity]int
	Took       time.Duration
}

// FullPass evaluates every household against every type for the month of
// today, reporting progress as (phase, done, total). It uses the month's
// stored calibration (the schedule makes one a day), and calibrates first
// only when the month has none. It checks no principal: the CLI and the
// demo run it.
func (s *Service) FullPass(ctx context.Context, progress func(phase string, done, total int)) (*PassResult, error) {
	start := s.now()
	if progress == nil {
		progress = func(string, int, int) {}
	}
	month := monthOf(s.today())
	calibrated, err := s.db.NewSelect().Model((*Calibration)(nil)).Where("month = ?", month).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("warning: full pass: %w", err)
	}
	if !calibrated {
		if _, err := s.calibrate(ctx, month, "FULL_PASS", progress); err != nil {
			return nil, err
		}
	}
	m, err := s.newMonitor(ctx)
	if err != nil {
		return nil, err
	}
	total, err := s.casework.CountHouseholds(ctx)
	if err != nil {
		return nil, err
	}
	res := &PassResult{Month: m.month, Raised: map[string]int{}, BySeverity: map[detect.Severity]int{}}
	progress("evaluate", 0, total)
	err = s.casework.ScanMonitoredHouseholds(ctx, func(hs []casework.MonitoredHousehold) error {
		raised, err := m.evaluateBatch(ctx, hs)
		if err != nil {
			return err
		}
		for _, w := range raised {
			res.Raised[w.TypeCode]++
			res.BySeverity[w.Severity]++
		}
		res.Households += len(hs)
		progress("evaluate", res.Households, total)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("warning: full pass: %w", err)
	}
	res.Took = s.now().Sub(start)
	return res, nil
}

// evaluateBatch builds the engine's households for hs, evaluates them and
// raises their new warnings in one transaction.
func (m *monitor) evaluateBatch(ctx context.Context, hs []casework.MonitoredHousehold) ([]*Warning, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	households, err := m.s.engineHouseholds(ctx, hs, m.month, historyMonths, m.today)
	if err != nil {
		return nil, err
	}
	type found struct {
		h   *detect.Household
		hit detect.Hit
	}
	var hits []found
	day := dayOf(m.today)
	for i := range households {
		month := evaluationMonth(&households[i], m.month)
		for _, hit := range m.evaluator.Evaluate(&households[i], month, day) {
			hits = append(hits, found{&households[i], hit})
		}
	}
	if len(hits) == 0 {
		return nil, nil
	}
	var raised []*Warning
	err = m.s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		last, err := latestWarnings(ctx, tx, hs)
		if err != nil {
			return err
		}
		raised = raised[:0]
		for _, f := range hits {
			key := openKey{f.hit.Type, f.h.ID}
			if prev, ok := last[key]; ok && prev.State.Open() {
				continue // the same type stays one open warning
			}
			w, err := m.newWarning(ctx, tx, f.h, f.hit)
			if err != nil {
				return err
			}
			if prev, ok := last[key]; ok && !raisesAgain(prev, w) {
				continue
			}
			last[key] = w
			raised = append(raised, w)
		}
		if len(raised) == 0 {
			return nil
		}
		if _, err := tx.NewInsert().Model(&raised).Exec(ctx); err != nil {
			return fmt.Errorf("insert warnings: %w", err)
		}
		events := make([]*Event, len(raised))
		for i, w := range raised {
			events[i] = &Event{WarningID: w.ID, State: StateNew, At: w.RaisedAt}
		}
		if _, err := tx.NewInsert().Model(&events).Exec(ctx); err != nil {
			return fmt.Errorf("insert warning events: %w", err)
		}
		for _, w := range raised {
			if err := m.s.audit.Append(ctx, db.UnitOf(tx), "raiseWarning", "Warning", w.ID, audit.Summary{
				"type": w.TypeCode, "householdId": w.HouseholdID, "severity": w.Severity, "dueOn": w.DueOn.String(),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("warning: raise warnings: %w", err)
	}
	return raised, nil
}

type openKey struct {
	typ         string
	householdID int64
}

// latestWarnings returns the latest warning of each (type, household) of
// the households.
func latestWarnings(ctx context.Context, idb bun.IDB, hs []casework.MonitoredHousehold) (map[openKey]*Warning, error) {
	ids := make([]int64, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	var rows []*Warning
	if err := idb.NewSelect().Model(&rows).Where("w.household_id IN (?)", bun.List(ids)).OrderExpr("w.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read warnings: %w", err)
	}
	out := make(map[openKey]*Warning, len(rows))
	for _, w := range rows {
		out[openKey{w.TypeCode, w.HouseholdID}] = w // the latest wins
	}
	return out, nil
}

// raisesAgain says whether a new hit (next) is a new warning after prev:
// never while prev is open (the same type stays one warning); after it was
// closed, only on new evidence — a later month, or a signal newer than
// any prev was raised on — so resolving a warning does not bring it back
// on the next evaluation of the same facts.
func raisesAgain(prev, next *Warning) bool {
	if prev.State.Open() {
		return false
	}
	if next.Month > prev.Month {
		return true
	}
	pe, err1 := prev.Evidence()
	ne, err2 := next.Evidence()
	if err1 != nil || err2 != nil {
		return false
	}
	return maxID(ne.SignalIDs) > maxID(pe.SignalIDs)
}

func maxID(ids []int64) int64 {
	var m int64
	for _, id := range ids {
		m = max(m, id)
	}
	return m
}

// newWarning makes the warning of a hit, its evidence completed with the
// amount signals of the months the hit read.
func (m *monitor) newWarning(ctx context.Context, tx bun.Tx, h *detect.Household, hit detect.Hit) (*Warning, error) {
	t := m.types[hit.Type]
	ev := Evidence{Hit: hit, SignalIDs: slices.Clone(hit.SignalIDs)}
	if len(hit.Months) > 0 {
		var ids []int64
		if err := tx.NewSelect().TableExpr("signals").Column("id").
			Where("household_id = ?", h.ID).Where("month IN (?)", bun.List(hit.Months)).
			Where("kind IN (?)", bun.List(amountKinds)).OrderExpr("id").Scan(ctx, &ids); err != nil {
			return nil, fmt.Errorf("read evidence signals: %w", err)
		}
		ev.SignalIDs = append(ev.SignalIDs, ids...)
		slices.Sort(ev.SignalIDs)
		ev.SignalIDs = slices.Compact(ev.SignalIDs)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	responsible := h.Region
	if t.Level == detect.LevelDistrict {
		responsible = h.District()
	} else if len(responsible) >= 9 {
		responsible = responsible[:9]
	}
	now := m.s.now().UTC()
	w := &Warning{TypeCode: hit.Type, HouseholdID: h.ID, RegionCode: h.Region, ResponsibleCode: responsible,
		Severity: t.Severity, State: StateNew, Month: hit.Month, EvidenceJSON: string(b), RaisedAt: now,
		DueOn: m.today.AddDays(t.SLADays), Version: 1, UpdatedAt: now}
	if hit.PersonID != 0 {
		id := hit.PersonID
		w.PersonID = &id
	}
	return w, nil
}
