package warning

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/warning/detect"
)

// typeRow stores a warning type as its definition in JSON: the type is
// data, and its shape (rule or threshold) is the engine's.
type typeRow struct {
	bun.BaseModel `bun:"table:warning_types,alias:wt"`

	Code       string `bun:",pk"`
	Definition string
	Enabled    bool
	Version    int64
	UpdatedAt  time.Time
}

// WarningType is a stored warning type.
type WarningType struct {
	detect.Type
	Version   int64
	UpdatedAt time.Time
}

func (r *typeRow) decode() (*WarningType, error) {
	var t detect.Type
	if err := json.Unmarshal([]byte(r.Definition), &t); err != nil {
		return nil, fmt.Errorf("warning type %s: %w", r.Code, err)
	}
	t.Code, t.Enabled = r.Code, r.Enabled
	return &WarningType{Type: t, Version: r.Version, UpdatedAt: r.UpdatedAt}, nil
}

func encodeType(t *detect.Type, version int64, now time.Time) (*typeRow, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return &typeRow{Code: t.Code, Definition: string(b), Enabled: t.Enabled, Version: version, UpdatedAt: now}, nil
}

// Types returns every warning type, in code order.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not a case worker).
func (s *Service) Types(ctx context.Context) ([]*WarningType, error) {
	if err := requireCaseworker(auth.FromContext(ctx), "reading warning types"); err != nil {
		return nil, err
	}
	return s.loadTypes(ctx, s.db)
}

func (s *Service) loadTypes(ctx context.Context, idb bun.IDB) ([]*WarningType, error) {
	var rows []*typeRow
	if err := idb.NewSelect().Model(&rows).OrderExpr("code").Scan(ctx); err != nil {
		return nil, fmt.Errorf("warning: load types: %w", err)
	}
	out := make([]*WarningType, len(rows))
	for i, r := range rows {
		t, err := r.decode()
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// engineTypes returns the stored types as the engine takes them.
func (s *Service) engineTypes(ctx context.Context) ([]detect.Type, error) {
	ts, err := s.loadTypes(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make([]detect.Type, len(ts))
	for i, t := range ts {
		out[i] = t.Type
	}
	return out, nil
}

// SeedDefaults stores the default warning types into an empty table and
// reports how many it stored.
func (s *Service) SeedDefaults(ctx context.Context) (int, error) {
	n := 0
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		count, err := tx.NewSelect().Model((*typeRow)(nil)).Count(ctx)
		if err != nil || count > 0 {
			return err
		}
		now := s.now().UTC()
		var rows []*typeRow
		for _, t := range detect.DefaultTypes() {
			r, err := encodeType(&t, 1, now)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
		if len(rows) == 0 {
			return nil
		}
		if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return err
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("warning: seed default types: %w", err)
	}
	return n, nil
}

// UpdateType creates a warning type or replaces one. With a version, the
// stored type must be at that version (optimistic locking).
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not ADMIN), BAD_USER_INPUT (the field
// at fault, e.g. threshold.floor, or a rule that does not compile, with its
// line and column), CONFLICT (another change came first).
func (s *Service) UpdateType(ctx context.Context, t detect.Type, version *int64) (*WarningType, error) {
	p := auth.FromContext(ctx)
	if err := p.Require("changing warning types", auth.Admin); err != nil {
		return nil, err
	}
	snap, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	groups := map[string]bool{}
	for _, g := range snap.Groups {
		groups[g.Code] = true
	}
	if err := validateType(&t, groups); err != nil {
		return nil, err
	}
	var out *WarningType
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var old typeRow
		exists := true
		if err := tx.NewSelect().Model(&old).Where("code = ?", t.Code).Scan(ctx); err != nil {
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			exists = false
		}
		if version != nil && (!exists || old.Version != *version) {
			return aidhub.Errorf(aidhub.ECONFLICT, "warning type %s is at version %d, not %d: read it again", t.Code, old.Version, *version)
		}
		row, err := encodeType(&t, old.Version+1, s.now().UTC())
		if err != nil {
			return err
		}
		if exists {
			res, err := tx.NewUpdate().Model(row).WherePK().Where("version = ?", old.Version).Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return errTypeChanged(t.Code)
			}
		} else if _, err = tx.NewInsert().Model(row).Exec(ctx); db.IsUniqueViolation(err) {
			return errTypeChanged(t.Code)
		}
		if err != nil {
			return err
		}
		if out, err = row.decode(); err != nil {
			return err
		}
		return s.audit.Append(ctx, db.UnitOf(tx), "updateWarningType", "WarningType", 0, audit.Summary{
			"code": t.Code, "version": row.Version, "enabled": t.Enabled, "created": !exists,
		})
	})
	if err != nil {
		return nil, wrap(err, "warning: update type %s", t.Code)
	}
	return out, nil
}

func errTypeChanged(code string) error {
	return aidhub.Errorf(aidhub.ECONFLICT, "warning type %s changed meanwhile: read it again", code)
}
