package warning_test

import (
	"context"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/warning/detect"
)

func TestTypes_SeededAndEditedByAdmin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ts, err := f.svc.Types(cmCtx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) < 32 {
			t.Fatalf("%d default warning types, want at least 32", len(ts))
		}
		if n, err := f.svc.SeedDefaults(context.Background()); err != nil || n != 0 {
			t.Fatalf("seeding again stored %d, %v", n, err)
		}
		for _, c := range []struct {
			ctx  context.Context
			code string
		}{{anonCtx, aidhub.EUNAUTHENTICATED}, {charityCtx, aidhub.EFORBIDDEN}, {donorCtx, aidhub.EFORBIDDEN}} {
			if _, err := f.svc.Types(c.ctx); aidhub.ErrorCode(err) != c.code {
				t.Errorf("Types: %v, want %s", err, c.code)
			}
		}
		var drop detect.Type
		for _, wt := range ts {
			if wt.Code == "INCOME_SUDDEN_DROP" {
				drop = wt.Type
			}
		}
		th := *drop.Threshold
		drop.Threshold = &th
		drop.Threshold.Floor = 0.25
		for _, ctx := range []context.Context{cmCtx, charityCtx, feedCtx} {
			_, err := f.svc.UpdateType(ctx, drop, nil)
			wantCode(t, err, aidhub.EFORBIDDEN)
		}
		saved, err := f.svc.UpdateType(adminCtx, drop, nil)
		if err != nil {
			t.Fatal(err)
		}
		if saved.Version != 2 || saved.Threshold.Floor != 0.25 {
			t.Fatalf("saved %+v", saved)
		}
		stale := int64(1)
		_, err = f.svc.UpdateType(adminCtx, drop, &stale)
		wantCode(t, err, aidhub.ECONFLICT)

		bad := func(change func(t *detect.Type)) error {
			c := drop
			th := *drop.Threshold
			c.Threshold = &th
			change(&c)
			_, err := f.svc.UpdateType(adminCtx, c, nil)
			return err
		}
		wantInvalid(t, bad(func(t *detect.Type) { t.Threshold.Floor, t.Threshold.Ceiling = 0.6, 0.4 }), "threshold.floor")
		wantInvalid(t, bad(func(t *detect.Type) { t.Groups = []string{"NO_SUCH_GROUP"} }), "groups")
		err = bad(func(t *detect.Type) { t.Threshold = nil; t.Rule = "incomeDrop >>= 0.3" })
		wantCode(t, err, aidhub.EBADINPUT)
		err = bad(func(t *detect.Type) { t.Threshold = nil; t.Rule = "all(groups, {# == \"DIBAO\"})" })
		wantCode(t, err, aidhub.EBADINPUT)
		err = bad(func(t *detect.Type) { t.Rule = "incomeDrop > 0.3" }) // both a rule and a threshold
		wantCode(t, err, aidhub.EBADINPUT)
		again, _ := f.svc.Types(adminCtx)
		for _, wt := range again {
			if wt.Code == drop.Code && (wt.Version != 2 || wt.Threshold.Floor != 0.25) {
				t.Fatalf("a refused change changed the type: %+v", wt)
			}
		}
	})
}
