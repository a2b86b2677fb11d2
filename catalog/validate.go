package catalog

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/aidhub/aidhub"
)

var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,39}$`)

// checkCode checks the code of a group, category or item: the code is
// what rules and imports name them by, so it is kept plain.
func checkCode(field, code string) error {
	if !codePattern.MatchString(code) {
		return aidhub.Invalid(field, "%q is not a code: use 2–40 characters A–Z, 0–9 and _, starting with a letter", aidhub.Clip(code))
	}
	return nil
}

// checkWebsite checks an optional organization website: an http(s)
// address, so that what the hub shows as a link cannot run script.
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
