package aidhub

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanText is the check of every free text a caller gives: trimmed,
// valid UTF-8, at most max characters, not empty when required. Control
// characters other than newlines and tabs are refused: they only ever
// arrive by mistake or malice.
func CleanText(field, s string, required bool, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", Invalid(field, "is not valid UTF-8")
	}
	if required && s == "" {
		return "", Invalid(field, "is required")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", Invalid(field, "is %d characters long; at most %d allowed", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return "", Invalid(field, "contains a control character")
		}
	}
	return s, nil
}

var phonePattern = regexp.MustCompile(`^[0-9+() -]{3,30}$`)

// CheckPhone trims an optional phone number and checks its characters.
func CheckPhone(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s != "" && !phonePattern.MatchString(s) {
		return "", Invalid(field, "%q is not a phone number: digits, spaces and + - ( ) only, 3–30 characters", Clip(s))
	}
	return s, nil
}

// Clip shortens user text quoted back in an error message to 40
// characters, so an error never echoes a whole payload.
func Clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}
