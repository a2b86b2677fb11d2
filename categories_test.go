package aidhub_test

import (
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
)

func TestNewCatalog_Refuses(t *testing.T) {
	g := []aidhub.Group{{Code: "DIBAO", Tier: 2}}
	c := []aidhub.Category{{Code: "A"}, {Code: "B", Parent: "A"}}
	it := []aidhub.Item{{Code: "X", Category: "B"}}
	for _, tc := range []struct {
		name string
		g    []aidhub.Group
		c    []aidhub.Category
		it   []aidhub.Item
		p    []aidhub.PlanEntry
		want string
	}{
		{"TierZero", []aidhub.Group{{Code: "DIBAO"}}, c, it, nil, "tier 0"},
		{"DuplicateGroup", append(g, g...), c, it, nil, "group DIBAO is listed twice"},
		{"UnknownParent", g, []aidhub.Category{{Code: "B", Parent: "Z"}}, nil, nil, "unknown parent Z"},
		{"Cycle", g, []aidhub.Category{{Code: "A", Parent: "B"}, {Code: "B", Parent: "A"}}, nil, nil, "its own ancestor"},
		{"NegativeWindow", g, []aidhub.Category{{Code: "A", WindowDays: -1}}, nil, nil, "window of -1"},
		{"ItemCategory", g, c, []aidhub.Item{{Code: "X", Category: "Q"}}, nil, "unknown category"},
		{"PlanLevelNone", g, c, it, []aidhub.PlanEntry{{Group: "DIBAO", Item: "X"}}, "level NONE"},
		{"PlanUnknownItem", g, c, it, []aidhub.PlanEntry{{Group: "DIBAO", Item: "Y", Level: aidhub.Entitled}}, "unknown item"},
		{"TooManyGroups", manyGroups(64), c, it, nil, "at most 63"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := aidhub.NewCatalog(tc.g, tc.c, tc.it, tc.p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func manyGroups(n int) []aidhub.Group {
	var out []aidhub.Group
	for i := range n {
		out = append(out, aidhub.Group{Code: "G" + string(rune('A'+i/26)) + string(rune('A'+i%26)), Tier: 1})
	}
	return out
}

func TestCatalog_Covers(t *testing.T) {
	cat, err := aidhub.NewCatalog(nil, []aidhub.Category{
		{Code: "MEDICAL", WindowDays: 30},
		{Code: "MEDICAL_INPATIENT", Parent: "MEDICAL", WindowDays: 90},
		{Code: "MEDICAL_ESCORT", Parent: "MEDICAL", WindowDays: 30},
		{Code: "COUNSELLING"},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	start, _ := aidhub.ParseDay("2026-11-01")
	aid := func(cat string) aidhub.Aid { return aidhub.Aid{Category: cat, Start: start, End: start} }
	for _, tc := range []struct {
		need, aid string
		want      aidhub.Day
	}{
		{"MEDICAL", "MEDICAL_INPATIENT", start.AddDays(89)}, // above: covered for the aid's window
		{"MEDICAL_INPATIENT", "MEDICAL_INPATIENT", start.AddDays(89)},
		{"MEDICAL_INPATIENT", "MEDICAL", 0},        // below: an aid does not meet a narrower need
		{"MEDICAL_INPATIENT", "MEDICAL_ESCORT", 0}, // beside
		{"COUNSELLING", "COUNSELLING", 0},          // no rule
		{"MEDICAL", "UNKNOWN", 0},
	} {
		if got := cat.Covers(tc.need, aid(tc.aid)); got != tc.want {
			t.Errorf("Covers(%s, aid in %s) = %v, want %v", tc.need, tc.aid, got, tc.want)
		}
	}
	if !cat.Within("MEDICAL_ESCORT", "MEDICAL") || cat.Within("MEDICAL", "MEDICAL_ESCORT") {
		t.Error("Within does not follow the tree")
	}
	if a, until, ok := cat.BlockingAid("MEDICAL", []aidhub.Aid{aid("MEDICAL_ESCORT"), aid("MEDICAL_INPATIENT")}); !ok || a.Category != "MEDICAL_INPATIENT" || until != start.AddDays(89) {
		t.Errorf("BlockingAid = %v, %v, %v; want the inpatient aid until %v", a, until, ok, start.AddDays(89))
	}
}
