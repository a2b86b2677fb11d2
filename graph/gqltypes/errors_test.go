package gqltypes_test

import (
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/graph/gqltypes"
)

// TestScalarErrors: every scalar refusal is BAD_USER_INPUT (so the
// presenter shows it with its input path) and names JSON kinds, never Go
// types.
func TestScalarErrors(t *testing.T) {
	for _, v := range []any{true, map[string]any{"a": 1}, []any{1}, nil} {
		_, err := gqltypes.UnmarshalFen(v)
		if aidhub.ErrorCode(err) != aidhub.EBADINPUT {
			t.Fatalf("Fen %v: %v", v, err)
		}
		for _, gotype := range []string{"got bool", "map[", "[]interface", "<nil>", "%!"} {
			if strings.Contains(aidhub.ErrorMessage(err), gotype) {
				t.Errorf("Fen %v: %q names a Go type", v, aidhub.ErrorMessage(err))
			}
		}
	}
	for _, v := range []any{"PURPLE", 3, nil} {
		if _, err := gqltypes.UnmarshalColour(v); aidhub.ErrorCode(err) != aidhub.EBADINPUT || strings.Contains(err.Error(), "matching:") {
			t.Errorf("Colour %v: %v", v, err)
		}
	}
	if c, err := gqltypes.UnmarshalColour("RED"); err != nil || c.String() != "RED" {
		t.Fatal(c, err)
	}
}
