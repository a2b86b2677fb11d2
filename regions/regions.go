// Package regions knows the administrative division codes (GB/T 2260 and the
// statistical 12-digit extension) of Chongqing: province (2 digits), district
// or county (6), street or township (9), village or community (12).
package regions

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Level is the depth of a division code.
type Level int

const (
	Province Level = iota + 1
	Area           // district or county, 6 digits
	Street         // street or township, 9 digits
	Village        // village or community, 12 digits
)

func (l Level) String() string {
	switch l {
	case Province:
		return "province"
	case Area:
		return "district/county"
	case Street:
		return "street/township"
	case Village:
		return "village/community"
	}
	return "unknown"
}

// LevelOf returns the level a code of this length would have, and false for
// a code that is not 2, 6, 9 or 12 ASCII digits.
func LevelOf(code string) (Level, bool) {
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	switch len(code) {
	case 2:
		return Province, true
	case 6:
		return Area, true
	case 9:
		return Street, true
	case 12:
		return Village, true
	}
	return 0, false
}

// Contains reports whether the division prefix covers code. Both are codes
// (or code prefixes) of the levels above, so covering is a string prefix.
func Contains(prefix, code string) bool {
	return strings.HasPrefix(code, prefix)
}

// Division is one administrative division.
type Division struct {
	Code   string
	Name   string
	Level  Level
	Parent string // "" for the province
}

// Directory answers look-ups over a fixed set of divisions. It is immutable
// once built and safe for concurrent use.
type Directory struct {
	byCode   map[string]Division
	children map[string][]string
}

//go:embed chongqing-divisions.json
var chongqingJSON []byte

var chongqing = sync.OnceValues(func() (*Directory, error) { return parse(chongqingJSON) })

// Chongqing returns the directory of Chongqing's divisions (38 districts and
// counties, 1,031 streets, 11,270 villages and communities as of 2023-06-30).
func Chongqing() *Directory {
	d, err := chongqing()
	if err != nil {
		// The file is embedded at build time; failing to parse it is a build defect.
		panic(fmt.Sprintf("regions: embedded Chongqing divisions: %v", err))
	}
	return d
}

func parse(data []byte) (*Directory, error) {
	var raw struct {
		Province struct{ Code, Name string }
		Areas    []struct{ Code, Name string }
		Streets  []struct {
			Code, Name string
			AreaCode   string `json:"areaCode"`
		}
		Villages []struct {
			Code, Name string
			StreetCode string `json:"streetCode"`
		}
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	d := &Directory{byCode: map[string]Division{}, children: map[string][]string{}}
	add := func(code, name, parent string) error {
		lvl, ok := LevelOf(code)
		if !ok {
			return fmt.Errorf("bad code %q", code)
		}
		if parent != "" && !strings.HasPrefix(code, parent) {
			return fmt.Errorf("code %q is not under its parent %q", code, parent)
		}
		d.byCode[code] = Division{Code: code, Name: name, Level: lvl, Parent: parent}
		if parent != "" {
			d.children[parent] = append(d.children[parent], code)
		}
		return nil
	}
	if err := add(raw.Province.Code, raw.Province.Name, ""); err != nil {
		return nil, err
	}
	for _, a := range raw.Areas {
		if err := add(a.Code, a.Name, raw.Province.Code); err != nil {
			return nil, err
		}
	}
	for _, s := range raw.Streets {
		if err := add(s.Code, s.Name, s.AreaCode); err != nil {
			return nil, err
		}
	}
	for _, v := range raw.Villages {
		if err := add(v.Code, v.Name, v.StreetCode); err != nil {
			return nil, err
		}
	}
	for _, c := range d.children {
		sort.Strings(c)
	}
	return d, nil
}

// Lookup returns the division with exactly this code.
func (d *Directory) Lookup(code string) (Division, bool) {
	div, ok := d.byCode[code]
	return div, ok
}

// Children returns the divisions directly under code, ordered by code.
func (d *Directory) Children(code string) []Division {
	out := make([]Division, 0, len(d.children[code]))
	for _, c := range d.children[code] {
		out = append(out, d.byCode[c])
	}
	return out
}

// AtLevel returns every division of a level, ordered by code.
func (d *Directory) AtLevel(l Level) []Division {
	var out []Division
	for _, div := range d.byCode {
		if div.Level == l {
			out = append(out, div)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Path returns the chain of divisions from the province down to code.
func (d *Directory) Path(code string) []Division {
	var path []Division
	for c := code; c != ""; {
		div, ok := d.byCode[c]
		if !ok {
			return nil
		}
		path = append([]Division{div}, path...)
		c = div.Parent
	}
	return path
}

// FullName joins the names on the path, e.g. "重庆市渝中区七星岗街道".
func (d *Directory) FullName(code string) string {
	var b strings.Builder
	for _, div := range d.Path(code) {
		b.WriteString(div.Name)
	}
	return b.String()
}

// Check returns a human-readable reason why code is not a known division of
// one of the wanted levels (any level when none is given), or "" when it is.
func (d *Directory) Check(code string, levels ...Level) string {
	lvl, ok := LevelOf(code)
	if !ok {
		return fmt.Sprintf("%q is not a division code: want 2, 6, 9 or 12 digits", code)
	}
	if len(levels) > 0 {
		match := false
		var names []string
		for _, l := range levels {
			match = match || l == lvl
			names = append(names, l.String())
		}
		if !match {
			return fmt.Sprintf("%q is a %s code; want a %s code", code, lvl, strings.Join(names, " or "))
		}
	}
	if _, ok := d.byCode[code]; !ok {
		return fmt.Sprintf("%q is not a known Chongqing division code", code)
	}
	return ""
}
