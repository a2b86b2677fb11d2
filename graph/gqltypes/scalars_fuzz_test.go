package gqltypes_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/graph/gqltypes"
	"github.com/aidhub/aidhub/regions"
)

// FuzzDate checks the Date scalar and aidhub.ParseDate on arbitrary strings:
// no panic; what parses is exactly its own YYYY-MM-DD form (so marshalling
// gives back the input), reads the same from the database (text, bytes,
// text with a time after it, time.Time) and is one day apart from its
// neighbours; a refusal is a BAD_USER_INPUT, one line of valid UTF-8,
// proportionate to the input.
func FuzzDate(f *testing.F) {
	for _, s := range []string{
		"2026-11-28", "2024-02-29", "2025-02-29", "2027-13-45", "2026-00-10", "2026-01-00", "0000-01-01",
		"9999-12-31", "1900-01-01", "2026-1-1", "26-11-28", "2026/11/28", "2026-11-28T00:00:00Z", " 2026-11-28",
		"2026-11-28\n", "+2026-11-28", "-2026-11-28", "２０２６-１１-２８", "2026-11-2８", "\xff\xfe", "2026-11-\xc3\x28",
		"", "-", "99999-01-01", "2026-11-28.000", "2026-11-28 ", strings.Repeat("2026-11-28", 1000),
		strings.Repeat("\x00", 4096), strings.Repeat("\U0010ffff", 1000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<16 {
			t.Skip("longer than any field")
		}
		d, err := gqltypes.UnmarshalDate(s)
		pd, perr := aidhub.ParseDate(s)
		if (err == nil) != (perr == nil) || d != pd {
			t.Fatalf("UnmarshalDate(%q) = %v, %v but ParseDate = %v, %v", s, d, err, pd, perr)
		}
		if err != nil {
			var ae *aidhub.Error
			if !errors.As(err, &ae) || ae.Code != aidhub.EBADINPUT || d != (aidhub.Date{}) {
				t.Fatalf("UnmarshalDate(%q) = %v, %#v", s, d, err)
			}
			if msg := ae.Message; strings.Contains(msg, "\n") || !utf8.ValidString(msg) || len(msg) > 4*len(s)+100 {
				t.Fatalf("UnmarshalDate(%q): message %q", s, msg)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("UnmarshalDate(%q) = %s: not the input", s, d)
		}
		if h, m, sec := d.Clock(); h != 0 || m != 0 || sec != 0 || d.Nanosecond() != 0 || d.Location().String() != "UTC" {
			t.Fatalf("UnmarshalDate(%q) = %v: not midnight UTC", s, d.Time)
		}
		var buf bytes.Buffer
		gqltypes.MarshalDate(d).MarshalGQL(&buf)
		if buf.String() != strconv.Quote(s) {
			t.Fatalf("MarshalDate(%q) = %s", s, buf.String())
		}
		if aidhub.DateOf(d.Time) != d || aidhub.DateOf(d.Time.Add(23*60*60*1e9)) != d {
			t.Fatalf("DateOf(%v) is not %s", d.Time, s)
		}
		for _, src := range []any{s, []byte(s), s + "T00:00:00Z", s + " 12:34:56+08", d.Time} {
			var back aidhub.Date
			if err := back.Scan(src); err != nil || back != d {
				t.Fatalf("Scan(%q) = %v, %v; want %s", src, back, err, s)
			}
		}
		if v, err := d.Value(); err != nil || v != s {
			t.Fatalf("Value() of %s = %v, %v", s, v, err)
		}
		if next := d.AddDays(1); !d.Before(next) || next.AddDays(-1) != d {
			t.Fatalf("%s: the next day %s", s, next)
		}
	})
}

// FuzzDivisionCode checks the DivisionCode scalar: no panic; it accepts
// exactly what regions.LevelOf accepts and gives it back unchanged (and
// marshals it as a JSON string); a refusal is a BAD_USER_INPUT whose message
// stays short and valid UTF-8 however long the input.
func FuzzDivisionCode(f *testing.F) {
	for _, s := range []string{
		"50", "500103", "500101001", "500101001001", "5001", "50010a", "", "５００１０３", "\xff\xfe", "\xc3\x28",
		"500103\x00", " 500103", strings.Repeat("5", 12), strings.Repeat("9", 1<<12), strings.Repeat("重", 100),
		strings.Repeat("5", 39) + "重庆", strings.Repeat("\xff", 1000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<16 {
			t.Skip("longer than any field")
		}
		got, err := gqltypes.UnmarshalDivisionCode(s)
		_, ok := regions.LevelOf(s)
		if (err == nil) != ok {
			t.Fatalf("UnmarshalDivisionCode(%q) = %v; LevelOf says %v", s, err, ok)
		}
		if err != nil {
			var ae *aidhub.Error
			if !errors.As(err, &ae) || ae.Code != aidhub.EBADINPUT || got != "" {
				t.Fatalf("UnmarshalDivisionCode(%q) = %q, %#v", s, got, err)
			}
			if msg := ae.Message; len(msg) > 300 || !utf8.ValidString(msg) || strings.Contains(msg, "\n") {
				t.Fatalf("UnmarshalDivisionCode(%q): message %q", s, msg)
			}
			return
		}
		if got != s {
			t.Fatalf("UnmarshalDivisionCode(%q) = %q", s, got)
		}
		var buf bytes.Buffer
		gqltypes.MarshalDivisionCode(got).MarshalGQL(&buf)
		if buf.String() != strconv.Quote(s) {
			t.Fatalf("MarshalDivisionCode(%q) = %s", s, buf.String())
		}
	})
}
