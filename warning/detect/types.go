package detect

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"

	"github.com/aidhub/aidhub/rules"
)

// Signals a type may read besides the signal kinds: casework's facts.
const (
	SignalWatchlist  = "WATCHLIST"  // needs waiting unmet (oldestUnmetDays)
	SignalAid        = "AID"        // aid records (emergencyAid12m)
	SignalMembership = "MEMBERSHIP" // the household's members and groups
)

// Threshold methods.
const (
	MethodQuantile = "QUANTILE"
	MethodMAD      = "MAD"
)

// Bounds of a type's fields.
const (
	MaxCodeLength     = 40
	MaxNameLength     = 100
	MaxSLADays        = 365
	MinWindowMonths   = 3
	MaxWindowMonths   = 36
	maxDescriptionLen = 500
)

// KnownCodes says which codes outside the engine a type may name.
type KnownCodes struct {
	// Group reports whether a population group exists (the catalog's
	// codes); nil accepts any code of the right form (tools and tests
	// without a catalog).
	Group func(code string) bool
}

// FieldError is a type that cannot be saved: the field at fault (its JSON
// path, e.g. "threshold.floor") and why. A rule that does not compile
// unwraps to a *rules.RuleError with its position.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Validate reports the first thing wrong with t as a *FieldError, nil when
// it may be saved: its code, names, severity, level, SLA, signals, groups,
// subject, and either a rule that compiles against Facts and does not loop
// or a threshold rule with sound bounds (never both).
func (t *Type) Validate(known KnownCodes) error {
	if err := t.validateLabels(); err != nil {
		return err
	}
	if err := t.validateCodes(known); err != nil {
		return err
	}
	hasRule := strings.TrimSpace(t.Rule) != ""
	switch {
	case hasRule && t.Threshold != nil:
		return invalid("rule", "a type is a rule or a threshold, not both")
	case !hasRule && t.Threshold == nil:
		return invalid("rule", "a type needs a rule or a threshold")
	case hasRule:
		if _, err := compileFacts(t.Rule); err != nil {
			return &FieldError{Field: "rule", Err: err}
		}
		return nil
	}
	return t.Threshold.validate()
}

var codeChars = func() [256]bool {
	var ok [256]bool
	for c := 'A'; c <= 'Z'; c++ {
		ok[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		ok[c] = true
	}
	ok['_'] = true
	return ok
}()

// validCode: UPPER_SNAKE, starting with a letter, no empty word.
func validCode(s string) bool {
	if s == "" || len(s) > MaxCodeLength || s[0] < 'A' || s[0] > 'Z' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	for i := range len(s) {
		if !codeChars[s[i]] {
			return false
		}
	}
	return true
}

func (t *Type) validateLabels() error {
	if !validCode(t.Code) {
		return invalid("code", "%q is not a code: UPPER_SNAKE_CASE, a letter first, at most %d characters", t.Code, MaxCodeLength)
	}
	for _, f := range []struct{ field, s string }{{"nameZh", t.NameZh}, {"nameEn", t.NameEn}} {
		if strings.TrimSpace(f.s) == "" {
			return invalid(f.field, "the name may not be empty")
		}
		if !utf8.ValidString(f.s) || utf8.RuneCountInString(f.s) > MaxNameLength {
			return invalid(f.field, "the name must be valid text of at most %d characters", MaxNameLength)
		}
	}
	for _, f := range []struct{ field, s string }{{"descriptionZh", t.DescriptionZh}, {"descriptionEn", t.DescriptionEn}} {
		if !utf8.ValidString(f.s) || utf8.RuneCountInString(f.s) > maxDescriptionLen || strings.ContainsAny(f.s, "\r\n") {
			return invalid(f.field, "the description must be one line of at most %d characters", maxDescriptionLen)
		}
	}
	switch t.Severity {
	case SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
	default:
		return invalid("severity", "%q is not a severity: LOW, MEDIUM, HIGH or CRITICAL", t.Severity)
	}
	switch t.Level {
	case LevelStreet, LevelDistrict:
	default:
		return invalid("level", "%q is not a level: STREET or DISTRICT", t.Level)
	}
	if t.SLADays < 1 || t.SLADays > MaxSLADays {
		return invalid("slaDays", "the SLA is %d days; it must be 1 to %d", t.SLADays, MaxSLADays)
	}
	return nil
}

func (t *Type) validateCodes(known KnownCodes) error {
	if len(t.Signals) == 0 {
		return invalid("signals", "name the signals the type reads")
	}
	for i, s := range t.Signals {
		if !slices.Contains(Kinds, s) && s != SignalWatchlist && s != SignalAid && s != SignalMembership {
			return invalid("signals", "%q is not a signal: one of %s, %s, %s or %s", s, strings.Join(Kinds, ", "), SignalWatchlist, SignalAid, SignalMembership)
		}
		if slices.Contains(t.Signals[:i], s) {
			return invalid("signals", "%s is listed twice", s)
		}
	}
	for i, g := range t.Groups {
		if !validCode(g) || (known.Group != nil && !known.Group(g)) {
			return invalid("groups", "%q is not a population group", g)
		}
		if slices.Contains(t.Groups[:i], g) {
			return invalid("groups", "%s is listed twice", g)
		}
	}
	switch t.Subject {
	case "", KindEmployment, KindHospitalisation, KindDisabilityGrade, KindDeath, KindSchoolLeaving:
	default:
		return invalid("subject", "%q is not a person event: EMPLOYMENT, HOSPITALISATION, DISABILITY_GRADE, DEATH or SCHOOL_LEAVING", t.Subject)
	}
	return nil
}

func (r *ThresholdRule) validate() error {
	if !slices.Contains(Measures, r.Measure) {
		return invalid("threshold.measure", "%q is not a measure: one of %s", r.Measure, strings.Join(Measures, ", "))
	}
	switch r.Method {
	case MethodQuantile:
		if !(r.Quantile >= 0.5 && r.Quantile < 1) {
			return invalid("threshold.quantile", "the quantile is %v; it must be at least 0.5 and below 1", r.Quantile)
		}
	case MethodMAD:
		if !(r.K > 0) || math.IsInf(r.K, 0) {
			return invalid("threshold.k", "k is %v; it must be above 0", r.K)
		}
	default:
		return invalid("threshold.method", "%q is not a method: QUANTILE or MAD", r.Method)
	}
	if r.WindowMonths < MinWindowMonths || r.WindowMonths > MaxWindowMonths {
		return invalid("threshold.windowMonths", "the window is %d months; it must be %d to %d", r.WindowMonths, MinWindowMonths, MaxWindowMonths)
	}
	if r.MinN < 1 {
		return invalid("threshold.minN", "minN is %d; it must be at least 1", r.MinN)
	}
	if !(r.Floor >= 0) || math.IsInf(r.Floor, 0) {
		return invalid("threshold.floor", "the floor is %v; it must be 0 or more", r.Floor)
	}
	if !(r.Ceiling >= r.Floor) || math.IsInf(r.Ceiling, 0) {
		return invalid("threshold.floor", "the floor %v is above the ceiling %v", r.Floor, r.Ceiling)
	}
	if !(r.Fixed >= r.Floor && r.Fixed <= r.Ceiling) {
		return invalid("threshold.fixed", "the fixed threshold %v is outside [floor %v, ceiling %v]", r.Fixed, r.Floor, r.Ceiling)
	}
	if _, err := compileFacts(r.Also); err != nil {
		return &FieldError{Field: "threshold.also", Err: err}
	}
	return nil
}

// compileFacts compiles a rule over Facts ("" is no rule: nil).
func compileFacts(src string) (*vm.Program, error) {
	return rules.Compile(src, Facts{})
}

//go:embed defaults.json
var defaultTypes []byte

// DefaultTypes returns the warning types the system ships with, a fresh
// copy each call.
func DefaultTypes() []Type {
	var ts []Type
	if err := json.Unmarshal(defaultTypes, &ts); err != nil {
		panic("detect: the embedded defaults.json does not parse: " + err.Error()) // the test parses it
	}
	return ts
}
