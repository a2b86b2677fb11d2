package matching_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/matching"
)

// TestCheckRule_Error: a rule that does not compile is one sentence with
// the line and column (from 1) where the compiler stopped, never the
// compiler's multi-line output with its snippet.
func TestCheckRule_Error(t *testing.T) {
	for src, want := range map[string]matching.RuleError{
		"age >= 60 &&\n  \"DIBAO\" in grups": {Message: "unknown name grups", Line: 2, Column: 14},
		`age >= && "DIBAO" in groups`:        {Message: `unexpected token Operator("&&")`, Line: 1, Column: 8},
		"agee >= 60":                         {Message: "unknown name agee", Line: 1, Column: 1},
		`age > "60"`:                         {Line: 1},
		"age + 1":                            {Message: "expected bool, but got int"},
		"(((":                                {Line: 1},
	} {
		err := matching.CheckRule(src)
		var re *matching.RuleError
		if !errors.As(err, &re) {
			t.Fatalf("%q: %v is not a *RuleError", src, err)
		}
		if want.Message != "" && re.Message != want.Message {
			t.Errorf("%q: message %q, want %q", src, re.Message, want.Message)
		}
		if re.Line != want.Line || (want.Column != 0 && re.Column != want.Column) {
			t.Errorf("%q: at %d:%d, want %d:%d", src, re.Line, re.Column, want.Line, want.Column)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\n") || strings.Contains(msg, " | ") || !strings.HasPrefix(msg, "rule does not compile: ") {
			t.Errorf("%q: %q is not one sentence", src, msg)
		}
		if line, col := re.Position(); line != re.Line || col != re.Column {
			t.Errorf("%q: Position %d:%d", src, line, col)
		}
	}
}
