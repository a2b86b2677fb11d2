package catalog

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aidhub/aidhub"
)

// Opt is an optional patch field: Set says whether the caller gave it at
// all, Value is nil when the caller gave null (clear the field).
type Opt[T any] struct {
	Set   bool
	Value *T
}

// Some returns a set field with value v.
func Some[T any](v T) Opt[T] { return Opt[T]{Set: true, Value: &v} }

// Null returns a set field that clears the value.
func Null[T any]() Opt[T] { return Opt[T]{Set: true} }

// apply writes the patch into dst when set.
func (o Opt[T]) apply(dst **T) {
	if o.Set {
		*dst = o.Value
	}
}

var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,39}$`)

func checkCode(field, code string) error {
	if !codePattern.MatchString(code) {
		return aidhub.Invalid(field, "%q is not a code: use 2–40 characters A–Z, 0–9 and _, starting with a letter", clip(code))
	}
	return nil
}

// cleanText trims s and checks its length in characters; required text
// must not be empty. Control characters other than newlines and tabs are
// refused: they only ever arrive by mistake or malice.
func cleanText(field, s string, required bool, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", aidhub.Invalid(field, "is not valid UTF-8")
	}
	if required && s == "" {
		return "", aidhub.Invalid(field, "is required")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", aidhub.Invalid(field, "is %d characters long; at most %d allowed", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return "", aidhub.Invalid(field, "contains a control character")
		}
	}
	return s, nil
}

var phonePattern = regexp.MustCompile(`^[0-9+() -]{3,30}$`)

func checkPhone(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s != "" && !phonePattern.MatchString(s) {
		return "", aidhub.Invalid(field, "%q is not a phone number: digits, spaces and + - ( ) only, 3–30 characters", clip(s))
	}
	return s, nil
}

func checkWebsite(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 300 {
		return "", aidhub.Invalid(field, "must be an http(s) address of at most 300 characters")
	}
	return s, nil
}

// clip shortens user text quoted back in an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}

// CleanText is the text check every domain package uses: trimmed, valid
// UTF-8, no control characters, at most max characters.
func CleanText(field, s string, required bool, max int) (string, error) {
	return cleanText(field, s, required, max)
}

// CheckPhone checks an optional phone number.
func CheckPhone(field, s string) (string, error) { return checkPhone(field, s) }

// Clip shortens user text quoted back in an error message.
func Clip(s string) string { return clip(s) }
