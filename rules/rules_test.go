package rules_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/expr-lang/expr/vm"

	"github.com/aidhub/aidhub/rules"
)

type env struct {
	Age    int      `expr:"age"`
	Groups []string `expr:"groups"`
	Region string   `expr:"region"`
	Share  float64  `expr:"share"`
}

func TestCompile(t *testing.T) {
	for _, src := range []string{"", "  ", "\n"} {
		if p, err := rules.Compile(src, env{}); p != nil || err != nil {
			t.Errorf("blank %q: %v, %v", src, p, err)
		}
	}
	p, err := rules.Compile(`age >= 60 && "DIBAO" in groups || share > 0.5`, env{})
	if err != nil {
		t.Fatal(err)
	}
	var m vm.VM
	for e, want := range map[*env]bool{
		{Age: 61, Groups: []string{"DIBAO"}}: true,
		{Age: 61}:                            false,
		{Share: 0.6}:                         true,
	} {
		if got, err := rules.Run(&m, p, e); got != want || err != nil {
			t.Errorf("%+v: %v, %v; want %v", *e, got, err, want)
		}
	}
	if got := rules.Identifiers(p); !slices.Equal(got, []string{"age", "groups", "share"}) {
		t.Errorf("Identifiers = %v", got)
	}
	if rules.Identifiers(nil) != nil {
		t.Error("Identifiers(nil) is not nil")
	}
}

// TestCompile_Error: a rule that does not compile is one *RuleError
// sentence with its position; one that is too long or loops is refused
// before the type checker runs.
func TestCompile_Error(t *testing.T) {
	for src, want := range map[string]rules.RuleError{
		"age >= 60 &&\n  \"DIBAO\" in grups": {Message: "unknown name grups", Line: 2, Column: 14},
		"age + 1":                            {Message: "expected bool, but got int"},
	} {
		_, err := rules.Compile(src, env{})
		var re *rules.RuleError
		if !errors.As(err, &re) {
			t.Fatalf("%q: %v is not a *RuleError", src, err)
		}
		if re.Message != want.Message || re.Line != want.Line || (want.Column != 0 && re.Column != want.Column) {
			t.Errorf("%q: %+v, want %+v", src, *re, want)
		}
		if line, col := re.Position(); line != re.Line || col != re.Column {
			t.Errorf("%q: Position %d:%d", src, line, col)
		}
	}
	for _, src := range []string{
		`any(groups, {# == "DIBAO"})`,
		`len(1..100000) > 0`,
		`let x = region; x == "500103"`,
		`repeat("a", 1000000) != ""`,
		strings.Repeat("a", rules.MaxLength+1),
	} {
		_, err := rules.Compile(src, env{})
		var re *rules.RuleError
		if err == nil || errors.As(err, &re) {
			t.Errorf("%.40s: %v; want the guard's refusal", src, err)
		}
		if rules.Guard(src) == nil {
			t.Errorf("%.40s: Guard accepts it", src)
		}
	}
	if err := rules.Guard("((("); err != nil {
		t.Errorf("Guard refuses what does not parse: %v (the compiler says why)", err)
	}
}
