package warning_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/warning"
)

func TestRecordSignals_WhoMay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _ := f.family(t)
		in := func() []warning.SignalInput { return []warning.SignalInput{income(h, "2026-10", 2000)} }
		for _, c := range []struct {
			name string
			ctx  context.Context
			code string
		}{
			{"anonymous", anonCtx, aidhub.EUNAUTHENTICATED},
			{"case manager", cmCtx, aidhub.EFORBIDDEN},
			{"charity", charityCtx, aidhub.EFORBIDDEN},
			{"donor", donorCtx, aidhub.EFORBIDDEN},
			{"feed of another source", feedCtx, aidhub.EFORBIDDEN}, // the input says HRSS, the token MEDICAL_INSURANCE
		} {
			_, err := f.svc.RecordSignals(c.ctx, in())
			if aidhub.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if n := f.count(t, "signals"); n != 0 {
			t.Fatalf("%d signals stored by refused callers", n)
		}
		// A feed's signals carry its own source when they name none.
		sig := in()[0]
		sig.Source = ""
		sig.Kind, sig.ExternalID = "MEDICAL_SPENDING", "claim-1"
		out, err := f.svc.RecordSignals(feedCtx, []warning.SignalInput{sig})
		if err != nil {
			t.Fatal(err)
		}
		if got := out[0].Signal.Source; got != "MEDICAL_INSURANCE" {
			t.Fatalf("feed's signal has source %q", got)
		}
		if _, err := f.svc.RecordSignals(adminCtx, in()); err != nil {
			t.Fatalf("admin: %v", err)
		}
	})
}

func TestRecordSignals_BadInputChangesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.family(t)
		other, _ := f.family(t)
		good := income(h, "2026-10", 2000)
		event := func(kind, status string) warning.SignalInput {
			return warning.SignalInput{Source: "HRSS", ExternalID: "e-" + kind, PersonID: ps[0].ID, Kind: kind,
				ObservedOn: date(t, "2026-11-01"), Status: status}
		}
		cases := []struct {
			name  string
			bad   func(s *warning.SignalInput)
			code  string
			field string
		}{
			{"unknown kind", func(s *warning.SignalInput) { s.Kind = "LOTTERY_WIN" }, aidhub.EBADINPUT, "input[1].kind"},
			{"future", func(s *warning.SignalInput) { s.ObservedOn = date(t, "2026-11-29") }, aidhub.EBADINPUT, "input[1].observedOn"},
			{"before 2000", func(s *warning.SignalInput) { s.ObservedOn = date(t, "1999-12-31") }, aidhub.EBADINPUT, "input[1].observedOn"},
			{"no date", func(s *warning.SignalInput) { s.ObservedOn = aidhub.Date{} }, aidhub.EBADINPUT, "input[1].observedOn"},
			{"negative amount", func(s *warning.SignalInput) { s.AmountFen = ptr(int64(-1)) }, aidhub.EBADINPUT, "input[1].amountFen"},
			{"no amount", func(s *warning.SignalInput) { s.AmountFen = nil }, aidhub.EBADINPUT, "input[1].amountFen"},
			{"status on an amount", func(s *warning.SignalInput) { s.Status = "LOST_JOB" }, aidhub.EBADINPUT, "input[1].status"},
			{"bad source", func(s *warning.SignalInput) { s.Source = "hrss dept" }, aidhub.EBADINPUT, "input[1].source"},
			{"no external ID", func(s *warning.SignalInput) { s.ExternalID = " " }, aidhub.EBADINPUT, "input[1].externalId"},
			{"no household", func(s *warning.SignalInput) { s.HouseholdID = 0 }, aidhub.EBADINPUT, "input[1].householdId"},
			{"unknown household", func(s *warning.SignalInput) { s.HouseholdID = 999999 }, aidhub.ENOTFOUND, "input[1].householdId"},
			{"unknown person", func(s *warning.SignalInput) { s.PersonID = 999999 }, aidhub.ENOTFOUND, "input[1].personId"},
			{"person of another household", func(s *warning.SignalInput) { s.HouseholdID = other.ID; s.PersonID = ps[0].ID }, aidhub.EBADINPUT, "input[1].personId"},
			{"event without its person", func(s *warning.SignalInput) { *s = event("DEATH", ""); s.PersonID = 0; s.HouseholdID = h.ID }, aidhub.EBADINPUT, "input[1].personId"},
			{"employment without status", func(s *warning.SignalInput) { *s = event("EMPLOYMENT", "") }, aidhub.EBADINPUT, "input[1].status"},
			{"unknown employment status", func(s *warning.SignalInput) { *s = event("EMPLOYMENT", "RETIRED") }, aidhub.EBADINPUT, "input[1].status"},
			{"disability grade 5", func(s *warning.SignalInput) { *s = event("DISABILITY_GRADE", "5") }, aidhub.EBADINPUT, "input[1].status"},
			{"an event with an amount", func(s *warning.SignalInput) { *s = event("DEATH", ""); s.AmountFen = ptr(int64(1)) }, aidhub.EBADINPUT, "input[1].amountFen"},
		}
		for _, c := range cases {
			bad := income(h, "2026-09", 1000)
			c.bad(&bad)
			_, err := f.svc.RecordSignals(adminCtx, []warning.SignalInput{good, bad})
			wantCode(t, err, c.code)
			if c.code == aidhub.EBADINPUT {
				wantInvalid(t, err, c.field)
			}
			if strings.Contains(aidhub.ErrorMessage(err), "2000") && c.name == "negative amount" {
				t.Errorf("%s: the message shows a value", c.name)
			}
		}
		if n := f.count(t, "signals"); n != 0 {
			t.Fatalf("%d signals stored by refused calls", n)
		}
		_, err := f.svc.RecordSignals(adminCtx, nil)
		wantInvalid(t, err, "input")
		many := make([]warning.SignalInput, warning.MaxSignalsPerCall+1)
		_, err = f.svc.RecordSignals(adminCtx, many)
		wantInvalid(t, err, "input")
	})
}

func TestRecordSignals_IdempotentBySourceAndExternalID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.family(t)
		batch := []warning.SignalInput{
			income(h, "2026-09", 3000), income(h, "2026-10", 1200),
			{Source: "HRSS", ExternalID: "job-1", PersonID: ps[0].ID, Kind: "EMPLOYMENT", Status: "LOST_JOB", ObservedOn: date(t, "2026-11-02")},
		}
		first := f.record(t, batch...)
		for i, r := range first {
			if r.Duplicate {
				t.Fatalf("signal %d is a duplicate on first sending", i)
			}
		}
		if got := first[2].Signal.HouseholdID; got != h.ID {
			t.Fatalf("a person's signal is in household %d, want %d", got, h.ID)
		}
		again := f.record(t, batch...)
		for i, r := range again {
			if !r.Duplicate || r.Signal.ID != first[i].Signal.ID {
				t.Fatalf("signal %d sent again: duplicate %v, ID %d (first %d)", i, r.Duplicate, r.Signal.ID, first[i].Signal.ID)
			}
		}
		if n := f.count(t, "signals"); n != 3 {
			t.Fatalf("%d signals stored, want 3", n)
		}
		changed := income(h, "2026-10", 1300) // same source and ID, other amount
		_, err := f.svc.RecordSignals(adminCtx, []warning.SignalInput{changed})
		wantCode(t, err, aidhub.ECONFLICT)
		twice := []warning.SignalInput{income(h, "2026-08", 1), income(h, "2026-08", 2)}
		_, err = f.svc.RecordSignals(adminCtx, twice)
		wantCode(t, err, aidhub.ECONFLICT)
		if n := f.count(t, "signals"); n != 3 {
			t.Fatalf("%d signals after refused changes, want 3", n)
		}
	})
}
