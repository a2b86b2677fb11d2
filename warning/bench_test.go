package warning_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/warning"
)

// BenchmarkEvaluateOneHousehold is the incremental path: what the job
// queued with a new signal does for its household (the target:
// ≤ 5 ms per signal). The store holds a calibrated month; each iteration
// evaluates one household with a year of income and a drop this month
// (its warnings stay open after the first, as in life).
//
//	go test -run XXX -bench EvaluateOneHousehold -benchtime 200x ./warning
func BenchmarkEvaluateOneHousehold(b *testing.B) {
	for _, engine := range []string{"sqlite", "pg"} {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.SQLite(b)
			if engine == "pg" {
				d = dbtest.Postgres(b)
			}
			f := newFixture(b, d)
			var ids []int64
			for i := range 60 {
				h, _ := f.family(b)
				var ins []warning.SignalInput
				for m := 1; m <= 11; m++ {
					ins = append(ins, income(h, fmt.Sprintf("2026-%02d", m), int64(2000+i*10+m%3*50)))
				}
				f.record(b, ins...)
				ids = append(ids, h.ID)
			}
			if _, err := f.svc.FullPass(context.Background(), nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := f.svc.EvaluateHouseholds(context.Background(), ids[i%len(ids):i%len(ids)+1]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
