package detect_test

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/rules"
	"github.com/aidhub/aidhub/warning/detect"
)

// catalogGroups are the default catalog's population groups, read from its
// file (detect may not import catalog): what the default types may name.
func catalogGroups(t testing.TB) detect.KnownCodes {
	t.Helper()
	raw, err := os.ReadFile("../../catalog/defaults.json")
	if err != nil {
		t.Fatal(err)
	}
	var cat struct {
		Groups []struct{ Code string } `json:"groups"`
	}
	if err := json.Unmarshal(raw, &cat); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, g := range cat.Groups {
		codes = append(codes, g.Code)
	}
	if len(codes) == 0 {
		t.Fatal("the catalog has no groups")
	}
	return detect.KnownCodes{Group: func(c string) bool { return slices.Contains(codes, c) }}
}

// TestDefaultTypes: at least 32 types, each valid against the catalog's
// groups, codes unique, every signal kind and every measure read by one of
// them, and each type's declared signals cover what its rule reads.
func TestDefaultTypes(t *testing.T) {
	ts := detect.DefaultTypes()
	if len(ts) < 32 {
		t.Errorf("%d default types; the issue asks for at least 32", len(ts))
	}
	known := catalogGroups(t)
	codes := map[string]bool{}
	signals := map[string]bool{}
	measures := map[string]bool{}
	for i := range ts {
		ty := &ts[i]
		if err := ty.Validate(known); err != nil {
			t.Errorf("%s: %v", ty.Code, err)
		}
		if codes[ty.Code] {
			t.Errorf("%s is listed twice", ty.Code)
		}
		codes[ty.Code] = true
		if !ty.Enabled {
			t.Errorf("%s ships disabled", ty.Code)
		}
		if ty.DescriptionZh == "" || ty.DescriptionEn == "" {
			t.Errorf("%s has no description", ty.Code)
		}
		for _, s := range ty.Signals {
			signals[s] = true
		}
		if ty.Threshold != nil {
			measures[ty.Threshold.Measure] = true
		}
	}
	for _, k := range append(slices.Clone(detect.Kinds), detect.SignalWatchlist, detect.SignalAid, detect.SignalMembership) {
		if !signals[k] {
			t.Errorf("no default type reads %s", k)
		}
	}
	for _, m := range detect.Measures {
		if !measures[m] {
			t.Errorf("no default type reads the measure %s", m)
		}
	}
	// A fresh copy each call: a caller's edit does not leak.
	ts[0].Code = "CHANGED"
	if detect.DefaultTypes()[0].Code == "CHANGED" {
		t.Error("DefaultTypes shares its slice")
	}
}

func validType() detect.Type {
	return detect.Type{Code: "SUDDEN_DROP", NameZh: "收入骤降", NameEn: "Sudden income drop", Signals: []string{detect.KindIncome},
		Groups: []string{"DIBAO"}, Severity: detect.SeverityHigh, Level: detect.LevelStreet, SLADays: 7, Enabled: true,
		Threshold: &detect.ThresholdRule{Measure: detect.MeasureIncomeDrop, Method: detect.MethodQuantile, Quantile: 0.95,
			WindowMonths: 12, MinN: 30, Floor: 0.2, Ceiling: 0.5, Fixed: 0.3, PeerAdjusted: true}}
}

// TestTypeValidate_BadInput: each mistake is refused naming its field.
func TestTypeValidate_BadInput(t *testing.T) {
	known := catalogGroups(t)
	ok := validType()
	if err := ok.Validate(known); err != nil {
		t.Fatalf("a valid type: %v", err)
	}
	rule := func(src string) func(*detect.Type) {
		return func(ty *detect.Type) { ty.Threshold, ty.Rule = nil, src }
	}
	for name, c := range map[string]struct {
		edit  func(*detect.Type)
		field string
		says  string
	}{
		"lower-case code":         {func(ty *detect.Type) { ty.Code = "sudden_drop" }, "code", "UPPER_SNAKE"},
		"code too long":           {func(ty *detect.Type) { ty.Code = strings.Repeat("A", 41) }, "code", "40"},
		"code with a double _":    {func(ty *detect.Type) { ty.Code = "A__B" }, "code", ""},
		"code from a digit":       {func(ty *detect.Type) { ty.Code = "1A" }, "code", ""},
		"empty Chinese name":      {func(ty *detect.Type) { ty.NameZh = " " }, "nameZh", "empty"},
		"empty English name":      {func(ty *detect.Type) { ty.NameEn = "" }, "nameEn", "empty"},
		"two-line description":    {func(ty *detect.Type) { ty.DescriptionEn = "a\nb" }, "descriptionEn", "one line"},
		"unknown severity":        {func(ty *detect.Type) { ty.Severity = "URGENT" }, "severity", "URGENT"},
		"unknown level":           {func(ty *detect.Type) { ty.Level = "CITY" }, "level", "CITY"},
		"SLA of 0 days":           {func(ty *detect.Type) { ty.SLADays = 0 }, "slaDays", "1 to 365"},
		"SLA of 366 days":         {func(ty *detect.Type) { ty.SLADays = 366 }, "slaDays", "1 to 365"},
		"no signals":              {func(ty *detect.Type) { ty.Signals = nil }, "signals", ""},
		"unknown signal":          {func(ty *detect.Type) { ty.Signals = []string{"SALARY"} }, "signals", "SALARY"},
		"repeated signal":         {func(ty *detect.Type) { ty.Signals = []string{"AID", "AID"} }, "signals", "twice"},
		"unknown group":           {func(ty *detect.Type) { ty.Groups = []string{"RICH"} }, "groups", "RICH"},
		"repeated group":          {func(ty *detect.Type) { ty.Groups = []string{"DIBAO", "DIBAO"} }, "groups", "twice"},
		"subject not an event":    {func(ty *detect.Type) { ty.Subject = detect.KindIncome }, "subject", "INCOME"},
		"rule and threshold":      {func(ty *detect.Type) { ty.Rule = "deaths > 0" }, "rule", "not both"},
		"neither":                 {func(ty *detect.Type) { ty.Threshold = nil }, "rule", "needs"},
		"unknown measure":         {func(ty *detect.Type) { ty.Threshold.Measure = "WEALTH" }, "threshold.measure", "WEALTH"},
		"unknown method":          {func(ty *detect.Type) { ty.Threshold.Method = "MEAN" }, "threshold.method", "MEAN"},
		"quantile below 0.5":      {func(ty *detect.Type) { ty.Threshold.Quantile = 0.4 }, "threshold.quantile", ""},
		"quantile of 1":           {func(ty *detect.Type) { ty.Threshold.Quantile = 1 }, "threshold.quantile", ""},
		"MAD without k":           {func(ty *detect.Type) { ty.Threshold.Method = detect.MethodMAD }, "threshold.k", ""},
		"window of 2 months":      {func(ty *detect.Type) { ty.Threshold.WindowMonths = 2 }, "threshold.windowMonths", "3 to 36"},
		"window of 37 months":     {func(ty *detect.Type) { ty.Threshold.WindowMonths = 37 }, "threshold.windowMonths", "3 to 36"},
		"minN of 0":               {func(ty *detect.Type) { ty.Threshold.MinN = 0 }, "threshold.minN", ""},
		"negative floor":          {func(ty *detect.Type) { ty.Threshold.Floor = -0.1 }, "threshold.floor", ""},
		"floor above the ceiling": {func(ty *detect.Type) { ty.Threshold.Floor, ty.Threshold.Fixed = 0.6, 0.6 }, "threshold.floor", "above the ceiling"},
		"fixed below the floor":   {func(ty *detect.Type) { ty.Threshold.Fixed = 0.1 }, "threshold.fixed", "outside"},
		"fixed above the ceiling": {func(ty *detect.Type) { ty.Threshold.Fixed = 0.6 }, "threshold.fixed", "outside"},
		"also does not compile":   {func(ty *detect.Type) { ty.Threshold.Also = "dependents > 0" }, "threshold.also", "unknown name dependents"},
		"rule does not compile":   {rule("jobLoses > 0"), "rule", "unknown name jobLoses"},
		"rule is not a bool":      {rule("deaths + 1"), "rule", "expected bool"},
		"rule loops":              {rule(`any(groups, {# == "DIBAO"})`), "rule", "may not loop"},
		"rule with a variable":    {rule(`let x = deaths; x > 0`), "rule", "may not loop"},
		"rule too long":           {rule(strings.Repeat("deaths > 0 || ", 200) + "true"), "rule", "at most"},
	} {
		ty := validType()
		th := *ty.Threshold
		ty.Threshold = &th
		c.edit(&ty)
		err := ty.Validate(known)
		var fe *detect.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v is not a *FieldError", name, err)
			continue
		}
		if fe.Field != c.field || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %q on %s, want field %s saying %q", name, err, fe.Field, c.field, c.says)
		}
	}
}

// TestTypeValidate_RulePosition: a rule that does not compile says where,
// through *rules.RuleError, for the API's line and column.
func TestTypeValidate_RulePosition(t *testing.T) {
	ty := validType()
	ty.Threshold, ty.Rule = nil, "deaths > 0 &&\n  jobLoses > 0"
	err := ty.Validate(catalogGroups(t))
	var re *rules.RuleError
	if !errors.As(err, &re) {
		t.Fatalf("%v is not a *rules.RuleError", err)
	}
	if line, col := re.Position(); line != 2 || col != 3 {
		t.Errorf("at %d:%d, want 2:3 (%v)", line, col, err)
	}
	// Without a catalog any group of the right form passes.
	ty = validType()
	ty.Groups = []string{"SOME_GROUP"}
	if err := ty.Validate(detect.KnownCodes{}); err != nil {
		t.Errorf("without a catalog: %v", err)
	}
}

func TestNewEvaluator_Refuses(t *testing.T) {
	bad := validType()
	bad.Threshold.Floor = 0.9
	if _, err := detect.NewEvaluator([]detect.Type{validType(), bad}, &evalSource{}); err == nil || !strings.Contains(err.Error(), "SUDDEN_DROP") {
		t.Errorf("an invalid type: %v", err)
	}
}

// FuzzTypeRule: whatever an ADMIN writes as a type's rule, Validate does not
// panic and refuses with a *FieldError on "rule", or accepts a rule that
// then evaluates on households of every shape without panicking.
func FuzzTypeRule(f *testing.F) {
	for _, ty := range detect.DefaultTypes() {
		if ty.Rule != "" {
			f.Add(ty.Rule)
		}
	}
	for _, s := range []string{"", "true", "incomeFen / householdSize > 0", "incomeFen % (householdSize - householdSize) == 0",
		"groups[99] == \"DIBAO\"", "leftGroups[0] == \"\"", `region matches "(a*)*b"`, "1 / 0 > 0", "oldestAge ** 99 > 1",
		`any(groups, {# == "DIBAO"})`, "let x = 1; x > 0", strings.Repeat("(", 3000), "deaths > 0 &&"} {
		f.Add(s)
	}
	m, today := evMonth(f, "2026-11"), evDay(f, "2026-11-28")
	households := []*detect.Household{{}, evFamily(f), {Members: []detect.Member{{PersonID: 1, Age: -5}}, Groups: []string{"DIBAO"}}}
	f.Fuzz(func(t *testing.T, src string) {
		ty := validType()
		ty.Threshold, ty.Rule = nil, src
		err := ty.Validate(detect.KnownCodes{})
		if strings.TrimSpace(src) == "" {
			if err == nil {
				t.Fatal("a blank rule and no threshold accepted")
			}
			return
		}
		if err != nil {
			var fe *detect.FieldError
			if !errors.As(err, &fe) || fe.Field != "rule" || len(err.Error()) > 1000 {
				t.Fatalf("%q: %v", src, err)
			}
			return
		}
		ty.Groups = nil
		e, err := detect.NewEvaluator([]detect.Type{ty}, nil)
		if err != nil {
			t.Fatalf("%q validated but does not compile: %v", src, err)
		}
		for _, h := range households {
			for _, hit := range e.Evaluate(h, m, today) {
				if hit.Explanation == "" || hit.ExplanationZh == "" {
					t.Fatalf("%q: a hit without an explanation", src)
				}
			}
		}
	})
}
