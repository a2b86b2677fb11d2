package catalog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/matching"
	"github.com/aidhub/aidhub/regions"
)

// FuzzEligibilityRule checks how a resource's eligibilityRule is validated
// when it is saved (cleanText, then matching's compiler) on arbitrary text:
// no panic, and a verdict within two seconds; a rule accepted is stored trimmed,
// valid UTF-8 without control characters, at most 500 characters, compiles
// on its own and validates again unchanged; a rule refused is a
// BAD_USER_INPUT on eligibilityRule with one short line (and, when it
// points into the rule, a line and column inside it).
func FuzzEligibilityRule(f *testing.F) {
	lets := func(n int) string {
		var b strings.Builder
		b.WriteString("let a0 = region + region; ")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "let a%d = a%d + a%d; ", i, i-1, i-1)
		}
		return b.String() + fmt.Sprintf("len(a%d) > 0", n-1)
	}
	nest := func(wrap, inner string, n int) string {
		for range n {
			inner = fmt.Sprintf(wrap, inner)
		}
		return inner
	}
	for _, s := range []string{
		`age >= 60 && "DIBAO" in groups`, "  householdSize >= 3 || region startsWith \"500103\"\n", `female && age >= 50`,
		"", " ", "\t\n", "age >=", "age >= 60 &&\nage < 70", "age >= 60\r\n&& female", "age >= 60 \x00", "age >= 60 \x7f",
		"age >= 60 \u200b", "\ufeffage >= 60", "age >= 60 && region == \"\xff\xfe\"", "age \xc3\x28 60", "age >= 60 // comment",
		"age >= 99999999999999999999999999", "1 / 0 > age", `all(1..999, {all(1..999, {# > 0})})`, `repeat("a", 1e9) != ""`,
		lets(20), "len(" + nest(`join(split(%s, ""), region)`, "region", 10) + ") > 0", "len(" + nest(`toJSON(%s)`, "region", 50) + ") > 0",
		"len(" + nest(`trimSuffix(%s)`, "region", 30) + ") > 0", nest(`(%s)`, "age > 1", 240), nest("!%s", "true", 490),
		strings.Repeat("重", 500), strings.Repeat("重", 501), strings.Repeat("a", 2001), strings.Repeat("(", 1<<14),
	} {
		f.Add(s)
	}
	d, err := LoadDefaults()
	if err != nil {
		f.Fatal(err)
	}
	cat := NewCatalog(d.Groups, d.Categories, d.Items, d.Plans)
	now := func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }
	s := NewService(nil, regions.Chongqing(), audit.New(nil, now), now, WithRuleCheck(matching.CheckRule)) // validation only: nothing is written
	f.Fuzz(func(t *testing.T, rule string) {
		if len(rule) > 1<<16 {
			t.Skip("larger than any request body's field")
		}
		r := &Resource{Title: "Meals for the elderly", EligibilityRule: rule}
		start := time.Now()
		err := s.validate(r, cat)
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("validating rule %q took %v", rule, took)
		}
		trimmed := strings.TrimSpace(rule)
		if err != nil {
			var ae *aidhub.Error
			if !errors.As(err, &ae) || ae.Code != aidhub.EBADINPUT || ae.Field != "eligibilityRule" {
				t.Fatalf("rule %q: %#v, want BAD_USER_INPUT on eligibilityRule", rule, err)
			}
			if msg := ae.Message; msg == "" || utf8.RuneCountInString(msg) > 300 || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("rule %q: message %q is not one short line", rule, msg)
			}
			if line, ok := ae.Details["line"].(int); ok {
				col, _ := ae.Details["column"].(int)
				if line < 1 || line > strings.Count(trimmed, "\n")+1 || col < 1 || col > len(trimmed)+1 {
					t.Fatalf("rule %q: error at line %d, column %d", rule, line, col)
				}
			}
			if utf8.ValidString(trimmed) && utf8.RuneCountInString(trimmed) <= 500 && !hasControl(trimmed) && matching.CheckRule(trimmed) == nil {
				t.Fatalf("rule %q refused (%v) though it is clean text and compiles", rule, err)
			}
			return
		}
		got := r.EligibilityRule
		if got != trimmed || !utf8.ValidString(got) || utf8.RuneCountInString(got) > 500 || hasControl(got) {
			t.Fatalf("rule %q stored as %q", rule, got)
		}
		if err := matching.CheckRule(got); err != nil {
			t.Fatalf("rule %q stored though it does not compile: %v", rule, err)
		}
		if err := s.validate(r, cat); err != nil || r.EligibilityRule != got {
			t.Fatalf("rule %q: validating again gives %q, %v", got, r.EligibilityRule, err)
		}
	})
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' })
}
