package regions_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aidhub/aidhub/regions"
)

// FuzzDivisionCode checks the division-code parser (LevelOf) and the
// directory's look-ups on arbitrary codes: no panic; a code has a level
// exactly when it is 2, 6, 9 or 12 ASCII digits; a code Check accepts is in
// the directory at that level with a path from Chongqing down to it, each
// step a prefix of the next; a refusal is one line, valid UTF-8 and
// proportionate to the code.
func FuzzDivisionCode(f *testing.F) {
	for _, s := range []string{
		"50", "500103", "500101001", "500101001001", "500199", "510104", "5001", "50010a", "",
		"５００１０３", "500101001999", "0", "00", "000000000000", "99", "-50", "+500103", " 500103",
		"500103\n", "5001030010010", "\xff\xfe", "\xc3\x28", "500103\x00", "٥٠٠١٠٣",
		strings.Repeat("5", 12), strings.Repeat("9", 4096), strings.Repeat("\xff", 1000),
	} {
		f.Add(s)
	}
	d := regions.Chongqing()
	lengths := map[int]regions.Level{2: regions.Province, 6: regions.Area, 9: regions.Street, 12: regions.Village}
	all := []regions.Level{regions.Province, regions.Area, regions.Street, regions.Village}
	f.Fuzz(func(t *testing.T, code string) {
		if len(code) > 1<<16 {
			t.Skip("longer than any field")
		}
		lvl, ok := regions.LevelOf(code)
		digits := strings.Trim(code, "0123456789") == ""
		if want, wantOK := lengths[len(code)]; ok != (wantOK && digits) || ok && lvl != want {
			t.Fatalf("LevelOf(%q) = %v, %v", code, lvl, ok)
		}
		if !ok && lvl != 0 {
			t.Fatalf("LevelOf(%q) refused with level %v", code, lvl)
		}

		reason := d.Check(code)
		div, found := d.Lookup(code)
		if (reason == "") != found {
			t.Fatalf("Check(%q) = %q but Lookup found %v", code, reason, found)
		}
		if reason != "" {
			if strings.Contains(reason, "\n") || !utf8.ValidString(reason) || len(reason) > 4*len(code)+100 {
				t.Fatalf("Check(%q) = %q: not one short line of valid UTF-8", code, reason)
			}
			if d.Path(code) != nil || d.FullName(code) != "" {
				t.Fatalf("unknown code %q has a path", code)
			}
			for _, l := range all {
				if d.Check(code, l) == "" {
					t.Fatalf("Check(%q, %v) accepts what Check(%q) refuses", code, l, code)
				}
			}
			return
		}

		// A known division.
		if !ok || div.Code != code || div.Level != lvl || div.Name == "" {
			t.Fatalf("Lookup(%q) = %+v; LevelOf = %v, %v", code, div, lvl, ok)
		}
		for _, l := range all {
			if got := d.Check(code, l) == ""; got != (l == lvl) {
				t.Fatalf("Check(%q, %v) accepts = %v for a %v code", code, l, got, lvl)
			}
		}
		path := d.Path(code)
		if len(path) != int(lvl) || path[0].Code != "50" || path[len(path)-1].Code != code {
			t.Fatalf("Path(%q) = %+v", code, path)
		}
		for i := 1; i < len(path); i++ {
			if path[i].Parent != path[i-1].Code || !regions.Contains(path[i-1].Code, path[i].Code) || path[i].Level != path[i-1].Level+1 {
				t.Fatalf("Path(%q): step %d %+v does not follow %+v", code, i, path[i], path[i-1])
			}
		}
		if name := d.FullName(code); !strings.HasSuffix(name, div.Name) || !utf8.ValidString(name) {
			t.Fatalf("FullName(%q) = %q", code, name)
		}
		for _, c := range d.Children(code) {
			if c.Parent != code || !regions.Contains(code, c.Code) || c.Level != lvl+1 || d.Check(c.Code, lvl+1) != "" {
				t.Fatalf("child %+v of %q", c, code)
			}
		}
	})
}
