package regions_test

import (
	"testing"

	"github.com/aidhub/aidhub/regions"
)

func TestChongqing_Counts(t *testing.T) {
	d := regions.Chongqing()
	for lvl, want := range map[regions.Level]int{regions.Province: 1, regions.Area: 38, regions.Street: 1031, regions.Village: 11270} {
		if got := len(d.AtLevel(lvl)); got != want {
			t.Errorf("%s: %d divisions, want %d", lvl, got, want)
		}
	}
}

func TestDirectory_LookupAndPath(t *testing.T) {
	d := regions.Chongqing()
	div, ok := d.Lookup("500103")
	if !ok || div.Name != "渝中区" || div.Level != regions.Area || div.Parent != "50" {
		t.Fatalf("Lookup(500103) = %+v, %v", div, ok)
	}
	path := d.Path("500101001001")
	if len(path) != 4 || path[0].Code != "50" || path[3].Code != "500101001001" {
		t.Fatalf("Path = %+v", path)
	}
	if got := d.FullName("500101001001"); got != "重庆市万州区高笋塘街道东方广场社区居民委员会" {
		t.Errorf("FullName = %q", got)
	}
	if len(d.Children("500101001")) == 0 {
		t.Error("street 500101001 has no villages")
	}
}

func TestDirectory_Check(t *testing.T) {
	d := regions.Chongqing()
	tests := []struct {
		code   string
		levels []regions.Level
		ok     bool
	}{
		{"50", nil, true},
		{"500103", nil, true},
		{"500101001", nil, true},
		{"500101001001", []regions.Level{regions.Village}, true},
		{"500103", []regions.Level{regions.Village}, false},
		{"510104", nil, false},       // Chengdu, not Chongqing
		{"500199", nil, false},       // well-formed, unknown
		{"5001", nil, false},         // wrong length
		{"50010a", nil, false},       // not digits
		{"", nil, false},             // empty
		{"500101001999", nil, false}, // unknown village
		{"５００１０３", nil, false},       // full-width digits
	}
	for _, tt := range tests {
		reason := d.Check(tt.code, tt.levels...)
		if (reason == "") != tt.ok {
			t.Errorf("Check(%q, %v) = %q, want ok=%v", tt.code, tt.levels, reason, tt.ok)
		}
	}
}

func TestContains(t *testing.T) {
	if !regions.Contains("5001", "500103001001") || regions.Contains("500104", "500103001001") {
		t.Fatal("Contains is a prefix test")
	}
}
