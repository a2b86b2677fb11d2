package warning

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/warning/detect"
)

// Calibration is one run of the adaptive thresholds for a month.
type Calibration struct {
	bun.BaseModel `bun:"table:warning_calibrations,alias:wc"`

	ID         int64 `bun:",pk,autoincrement"`
	Month      detect.Month
	Trigger    string // SCHEDULE, DEMAND or FULL_PASS
	Households int64
	StartedAt  time.Time
	FinishedAt time.Time
}

type thresholdRow struct {
	bun.BaseModel `bun:"table:warning_thresholds,alias:wth"`

	CalibrationID int64  `bun:",pk"`
	TypeCode      string `bun:",pk"`
	District      string `bun:",pk"`
	GroupCode     string `bun:",pk"`
	Month         detect.Month
	Scope         detect.Scope
	Value         float64
	Raw           float64
	N             int
	WindowFrom    detect.Month
	WindowTo      detect.Month
	Method        string
	Clamped       string `bun:",notnull"`
}

func (r *thresholdRow) threshold() detect.Threshold {
	return detect.Threshold{Type: r.TypeCode, Cell: detect.Cell{District: r.District, Group: r.GroupCode}, Month: r.Month,
		Scope: r.Scope, Value: r.Value, Raw: r.Raw, N: r.N, Window: [2]detect.Month{r.WindowFrom, r.WindowTo},
		Method: r.Method, Clamped: r.Clamped}
}

type peerRow struct {
	bun.BaseModel `bun:"table:warning_peer_medians,alias:wpm"`

	CalibrationID int64        `bun:",pk"`
	Measure       string       `bun:",pk"`
	District      string       `bun:",pk"`
	GroupCode     string       `bun:",pk"`
	Month         detect.Month `bun:",pk"`
	Median        float64
	N             int
}

// Recalibrate computes the thresholds of a month from the months before it
// and stores them with their inputs' sizes (ADMIN, on demand).
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not ADMIN).
func (s *Service) Recalibrate(ctx context.Context, month detect.Month) (*Calibration, error) {
	if err := auth.FromContext(ctx).Require("recalibrating thresholds", auth.Admin); err != nil {
		return nil, err
	}
	return s.calibrate(ctx, month, "DEMAND", nil)
}

// CalibrateScheduled is the schedule's calibration of the current month;
// it checks no principal.
func (s *Service) CalibrateScheduled(ctx context.Context) (*Calibration, error) {
	return s.calibrate(ctx, monthOf(s.today()), "SCHEDULE", nil)
}

// calibrate streams every household with the signals of the window and
// stores what the engine's calibrator makes of them.
func (s *Service) calibrate(ctx context.Context, month detect.Month, trigger string, progress func(phase string, done, total int)) (*Calibration, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	types, err := s.engineTypes(ctx)
	if err != nil {
		return nil, err
	}
	window := 0
	for _, t := range types {
		if t.Threshold != nil && t.Enabled {
			window = max(window, t.Threshold.WindowMonths)
		}
	}
	started := s.now().UTC()
	total, err := s.casework.CountHouseholds(ctx)
	if err != nil {
		return nil, err
	}
	cal := detect.NewCalibrator(types, month)
	today := s.today()
	done := 0
	progress("calibrate", 0, total)
	err = s.casework.ScanMonitoredHouseholds(ctx, func(hs []casework.MonitoredHousehold) error {
		// The window's first month needs its own 3-month baseline.
		households, err := s.engineHouseholds(ctx, hs, month, window+3, today)
		if err != nil {
			return err
		}
		for i := range households {
			cal.Add(&households[i])
		}
		done += len(hs)
		progress("calibrate", done, total)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("warning: calibrate %s: %w", month, err)
	}
	ths, peers := cal.Result()
	c := &Calibration{Month: month, Trigger: trigger, Households: int64(done), StartedAt: started, FinishedAt: s.now().UTC()}
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
			return err
		}
		if err := insertChunked(ctx, tx, thresholdRows(c.ID, ths)); err != nil {
			return err
		}
		if err := insertChunked(ctx, tx, peerRows(c.ID, peers)); err != nil {
			return err
		}
		return s.audit.Append(ctx, db.UnitOf(tx), "recalibrate", "Calibration", c.ID, audit.Summary{
			"month": month.String(), "trigger": trigger, "households": done, "thresholds": len(ths),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("warning: store calibration of %s: %w", month, err)
	}
	return c, nil
}

func thresholdRows(id int64, ths []detect.Threshold) []*thresholdRow {
	rows := make([]*thresholdRow, len(ths))
	for i, t := range ths {
		rows[i] = &thresholdRow{CalibrationID: id, TypeCode: t.Type, District: t.Cell.District, GroupCode: t.Cell.Group,
			Month: t.Month, Scope: t.Scope, Value: t.Value, Raw: t.Raw, N: t.N, WindowFrom: t.Window[0], WindowTo: t.Window[1],
			Method: t.Method, Clamped: t.Clamped}
	}
	return rows
}

func peerRows(id int64, peers []detect.PeerMedian) []*peerRow {
	rows := make([]*peerRow, len(peers))
	for i, p := range peers {
		rows[i] = &peerRow{CalibrationID: id, Measure: p.Measure, District: p.Cell.District, GroupCode: p.Cell.Group,
			Month: p.Month, Median: p.Median, N: p.N}
	}
	return rows
}

// insertChunked inserts rows in statements of at most 500 rows (SQLite's
// bound on parameters).
func insertChunked[T any](ctx context.Context, tx bun.Tx, rows []T) error {
	for len(rows) > 0 {
		n := min(len(rows), 500)
		chunk := rows[:n]
		if _, err := tx.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// latestCalibration is the ID of the latest calibration of a month up to
// month, 0 when there is none.
func (s *Service) latestCalibration(ctx context.Context, month detect.Month) (int64, error) {
	var id int64
	if err := s.db.NewSelect().TableExpr("warning_calibrations").ColumnExpr("COALESCE(MAX(id), 0)").
		Where("month = (?)", s.db.NewSelect().TableExpr("warning_calibrations").ColumnExpr("MAX(month)").Where("month <= ?", month)).
		Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("warning: read calibrations: %w", err)
	}
	return id, nil
}

// thresholdsOf loads the thresholds and peer medians of one calibration
// (none for id 0): a month not calibrated yet uses the latest before it.
func (s *Service) thresholdsOf(ctx context.Context, id int64) (*detect.Thresholds, error) {
	if id == 0 {
		return detect.NewThresholds(nil, nil), nil
	}
	ids := []int64{id}
	var trs []*thresholdRow
	if err := s.db.NewSelect().Model(&trs).Where("calibration_id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("warning: read thresholds: %w", err)
	}
	var prs []*peerRow
	if err := s.db.NewSelect().Model(&prs).Where("calibration_id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("warning: read peer medians: %w", err)
	}
	ths := make([]detect.Threshold, len(trs))
	for i, r := range trs {
		ths[i] = r.threshold()
	}
	peers := make([]detect.PeerMedian, len(prs))
	for i, r := range prs {
		peers[i] = detect.PeerMedian{Measure: r.Measure, Cell: detect.Cell{District: r.District, Group: r.GroupCode}, Month: r.Month, Median: r.Median, N: r.N}
	}
	return detect.NewThresholds(ths, peers), nil
}

// Thresholds returns the current thresholds of a type for the cells under
// a region prefix (a district, or "" for all), as of the latest
// calibration of the month of today or before.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not a case worker).
func (s *Service) Thresholds(ctx context.Context, regionPrefix, typeCode string) ([]detect.Threshold, error) {
	p := auth.FromContext(ctx)
	if err := requireCaseworker(p, "reading thresholds"); err != nil {
		return nil, err
	}
	month := monthOf(s.today())
	var id int64
	err := s.db.NewSelect().TableExpr("warning_calibrations").ColumnExpr("COALESCE(MAX(id), 0)").Where("month <= ?", month).Scan(ctx, &id)
	if err != nil {
		return nil, fmt.Errorf("warning: read calibrations: %w", err)
	}
	var rows []*thresholdRow
	q := s.db.NewSelect().Model(&rows).Where("calibration_id = ?", id).OrderExpr("type_code, district, group_code")
	if typeCode != "" {
		q.Where("type_code = ?", typeCode)
	}
	if len(regionPrefix) >= 6 {
		q.Where("district = ?", regionPrefix[:6])
	} else if regionPrefix != "" {
		q.Where("district LIKE ?", regionPrefix+"%")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("warning: read thresholds: %w", err)
	}
	out := make([]detect.Threshold, len(rows))
	for i, r := range rows {
		out[i] = r.threshold()
	}
	return out, nil
}
