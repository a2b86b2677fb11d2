package residentid_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/residentid"
)

// FuzzResidentID checks the resident-ID parser on arbitrary input: no panic; an
// accepted number is 18 characters (17 digits and a digit or X), parses
// again to itself, is the input (15-digit numbers: widened by "19" and a
// check character), has a birth date from 1900 to today and masks to 18
// characters that hide what each level hides; a refusal is a BAD_USER_INPUT
// on residentId whose message holds no run of five digits (no part of a number).
func FuzzResidentID(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", "110105491231002", " 11010519491231002X\n",
		"500103200001010013", "500103200001010012", "830000200001010011", "990103200001010013",
		"500103190001010011", "500103189912310019", "500103202606150014", "500103999912310012",
		"500103200002300012", "500103200013010012", "500103200000010012", "500103200002290011",
		"50010320000101001", "5001032000010100131", "", "X", "000000000000000000",
		"５００１０３２０００１０１００１３", "50010320000101001\xff", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1",
		"500103-2000-0101-0013", "50010320000101001X1", "1234567890123X", "-9223372036854775808",
		strings.Repeat("1", 18), strings.Repeat("9", 15), strings.Repeat("9", 1<<12), strings.Repeat(" ", 1<<12) + "11010519491231002X",
	} {
		f.Add(s, int64(1750000000))
	}
	f.Add("11010519491231002X", int64(-62135596800)) // year 1
	f.Add("11010519491231002X", int64(253402300799)) // 9999-12-31
	f.Add("11010519491231002X", int64(-1<<63))       // far past
	f.Add("11010519491231002X", int64(1<<63-1))      // far future
	f.Add("110105491231002", int64(-2208988800))     // 1900-01-01
	f.Fuzz(func(t *testing.T, s string, unix int64) {
		if len(s) > 1<<16 {
			t.Skip("longer than any field")
		}
		today := time.Unix(unix, 0).In(time.FixedZone("CST", 8*60*60))
		id, err := residentid.Parse(s, today)
		if err != nil {
			var ae *aidhub.Error
			if !errors.As(err, &ae) || ae.Code != aidhub.EBADINPUT || ae.Field != residentid.Field || id != "" {
				t.Fatalf("Parse(%q) = %q, %#v", s, id, err)
			}
			if len(ae.Message) > 100 || hasDigitRun(ae.Message, 5) {
				t.Fatalf("Parse(%q): message %q may quote the number", s, ae.Message)
			}
			return
		}
		n := string(id)
		if len(n) != 18 || strings.Trim(n[:17], "0123456789") != "" || strings.Trim(n[17:], "0123456789X") != "" {
			t.Fatalf("Parse(%q) = %q: not 17 digits and a check character", s, n)
		}
		in := strings.TrimSpace(s)
		switch len(in) {
		case 18:
			if !strings.EqualFold(in, n) {
				t.Fatalf("Parse(%q) = %q: not the input", s, n)
			}
		case 15:
			if n[:6] != in[:6] || n[6:8] != "19" || n[8:17] != in[6:] {
				t.Fatalf("Parse(%q) = %q: not the input widened", s, n)
			}
		default:
			t.Fatalf("Parse(%q) accepted %d characters", s, len(in))
		}
		if again, err := residentid.Parse(n, today); err != nil || again != id {
			t.Fatalf("Parse(%q) = %q, but that parses to %q, %v", s, n, again, err)
		}
		if again, err := residentid.Complete(n[:17], today); err != nil || again != id {
			t.Fatalf("Complete(%q) = %q, %v; want %q", n[:17], again, err, id)
		}
		birth := id.BirthDate()
		y, m, d := today.Date()
		if birth.IsZero() || birth.Year() < 1900 || birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) || birth.Format("20060102") != n[6:14] {
			t.Fatalf("Parse(%q) = %q with birth date %v (today %v)", s, n, birth, today)
		}
		if id.Region() != n[:6] || id.Female() != ((n[16]-'0')%2 == 0) || id.Age(today) < 0 || id.Age(today) > today.Year()-1900 {
			t.Fatalf("%q: region %q, female %v, age %d", n, id.Region(), id.Female(), id.Age(today))
		}
		for _, c := range []struct {
			level residentid.MaskLevel
			shown string
		}{
			{residentid.MaskFull, ""},
			{residentid.MaskStrict, n[:3] + n[17:]},
			{residentid.MaskPartial, n[:6] + n[14:]},
			{residentid.MaskLevel(-1), ""},
			{residentid.MaskLevel(99), ""},
		} {
			masked := id.Mask(c.level)
			if len(masked) != 18 || strings.ReplaceAll(masked, "*", "") != c.shown || strings.Contains(masked, n[6:14]) {
				t.Fatalf("Mask(%v) of %q = %q", c.level, n, masked)
			}
		}
	})
}

// hasDigitRun reports whether s holds n ASCII digits in a row.
func hasDigitRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if run++; run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
