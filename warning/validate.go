package warning

import (
	"errors"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/warning/detect"
)

// validateType checks a type against the engine's rules and the catalog's
// groups, as a BAD_USER_INPUT naming the field (and, for a rule that does
// not compile, where in it).
func validateType(t *detect.Type, groups map[string]bool) error {
	err := t.Validate(detect.KnownCodes{Group: func(code string) bool { return groups[code] }})
	if err == nil {
		return nil
	}
	var fe *detect.FieldError
	if !errors.As(err, &fe) {
		return aidhub.Invalid("input", "%v", err)
	}
	ae := aidhub.Invalid(fe.Field, "%s", fe.Err)
	var at interface{ Position() (line, column int) }
	if errors.As(err, &at) {
		if line, col := at.Position(); line > 0 {
			ae.Details = map[string]any{"line": line, "column": col}
		}
	}
	return ae
}
