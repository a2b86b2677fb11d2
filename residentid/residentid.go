// Package residentid parses and masks Chinese resident identity numbers
// (公民身份号码) as defined by GB 11643-1999: a 6-digit address code, an
// 8-digit birth date YYYYMMDD, a 3-digit sequence code whose last digit is odd
// for men and even for women, and an ISO 7064 MOD 11-2 check character (0–9
// or X).
//
// An identity number is personal data. Errors from Parse never contain the
// number, and Mask gives the forms that may be shown or logged.
package residentid

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aidhub/aidhub"
)

// Field is the input field named by Parse's errors.
const Field = "residentId"

// Messages of Parse's errors. They are constants so that no part of the
// number can ever reach a message (and from there a log).
const (
	msgLength     = "must be 18 characters (or 15 digits for a number issued before 1999)"
	msgCharacters = "must be digits only, except that the 18th character may be X"
	msgProvince   = "does not start with a valid province code"
	msgBirthDate  = "does not contain a valid birth date"
	msgTooOld     = "contains a birth date before 1900"
	msgFuture     = "contains a birth date in the future"
	msgCheckDigit = "has a wrong check digit; please check it for typing errors"
)

// ID is a valid 18-character resident identity number, its check character
// an upper-case X or a digit. Only Parse makes valid IDs; the methods return
// zero values for an ID of any other length.
type ID string

// Parse validates s (surrounding white space trimmed) and returns it as an
// ID. It accepts an 18-character number, the last character a digit, X or x
// (returned as X), and a 15-digit number of the form used before 1999
// (GB 11643-1989: 2-digit year of the 1900s, no check character), which it
// converts to 18 characters by inserting "19" before the year and appending
// the check character. The first two digits must be a province-level code
// and the birth date a real date from 1900-01-01 to today (in today's
// location), inclusive.
//
// Errors are *aidhub.Error with code BAD_USER_INPUT and field "residentId";
// their messages never contain the number.
func Parse(s string, today time.Time) (ID, error) {
	s = strings.TrimSpace(s)
	switch utf8.RuneCountInString(s) {
	case 15:
		if len(s) != 15 || !allDigits(s) {
			return "", invalid(msgCharacters)
		}
		s = s[:6] + "19" + s[6:]
		s += string(checkChar(s))
	case 18:
		if len(s) != 18 || !allDigits(s[:17]) {
			return "", invalid(msgCharacters)
		}
		switch last := s[17]; {
		case last == 'x':
			s = s[:17] + "X"
		case last != 'X' && !isDigit(last):
			return "", invalid(msgCharacters)
		}
	default:
		return "", invalid(msgLength)
	}

	if !provinces[int(s[0]-'0')*10+int(s[1]-'0')] {
		return "", invalid(msgProvince)
	}

	birth, ok := birthDate(s)
	if !ok {
		return "", invalid(msgBirthDate)
	}
	if birth.Before(earliest) {
		return "", invalid(msgTooOld)
	}
	if birth.After(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)) {
		return "", invalid(msgFuture)
	}

	if checkChar(s[:17]) != s[17] {
		return "", invalid(msgCheckDigit)
	}
	return ID(s), nil
}

func invalid(msg string) error {
	return aidhub.Invalid(Field, "%s", msg)
}

// String returns the full number. Use Mask for anything shown to a person
// who does not need the whole number, and for logs.
func (id ID) String() string { return string(id) }

// BirthDate returns the birth date (midnight UTC), or the zero time for an
// invalid ID.
func (id ID) BirthDate() time.Time {
	if len(id) != 18 {
		return time.Time{}
	}
	t, _ := birthDate(string(id))
	return t
}

// Female reports whether the 17th digit (the last of the sequence code) is
// even, which GB 11643 reserves for women.
func (id ID) Female() bool {
	return len(id) == 18 && (id[16]-'0')%2 == 0
}

// Region returns the 6-digit address code (GB/T 2260) of the place where the
// number was first issued, or "" for an invalid ID. It is not necessarily the
// holder's present residence.
func (id ID) Region() string {
	if len(id) != 18 {
		return ""
	}
	return string(id[:6])
}

// Age returns the holder's age in whole years on the calendar day of on (in
// on's location), and 0 for a day before the birth date or an invalid ID. A
// year is completed on the birthday; someone born on 29 February completes it
// on 1 March in common years.
func (id ID) Age(on time.Time) int {
	birth := id.BirthDate()
	if birth.IsZero() {
		return 0
	}
	age := on.Year() - birth.Year()
	if on.Month() < birth.Month() || on.Month() == birth.Month() && on.Day() < birth.Day() {
		age--
	}
	return max(age, 0)
}

// MaskLevel says how much of a number Mask shows. The zero value is
// MaskFull, so a forgotten level reveals nothing.
type MaskLevel int

const (
	// MaskFull shows nothing: 18 asterisks. For roles that need only to
	// know that a number is on file (donors, reports, logs).
	MaskFull MaskLevel = iota
	// MaskStrict shows the first 3 and the last character
	// (500**************X): enough to tell apart numbers on one screen
	// without revealing region or birth date. For charity staff and
	// other roles that need to confirm, not identify.
	MaskStrict
	// MaskPartial shows the 6-digit region and the last 4 characters
	// (500103********123X), hiding the birth date. For case managers who
	// compare a number with a document in front of them.
	MaskPartial
)

// Mask returns the number with the characters hidden that level hides, always
// 18 characters long. Unknown levels, and IDs that are not 18 characters long,
// are masked fully.
func (id ID) Mask(level MaskLevel) string {
	if len(id) != 18 {
		level = MaskFull
	}
	switch level {
	case MaskPartial:
		return string(id[:6]) + "********" + string(id[14:])
	case MaskStrict:
		return string(id[:3]) + "**************" + string(id[17:])
	}
	return "******************"
}

// provinces holds the province-level address codes of GB/T 2260 that can
// begin a number: the 31 mainland provinces, autonomous regions and
// municipalities, 71 (Taiwan, listed in GB/T 2260), 81 and 82 (Hong Kong and
// Macao, used by residence permits for their residents) and 83, which is not
// in GB/T 2260 but is the address code of the residence permits for Taiwan
// residents (台湾居民居住证, 830000) issued since 2018 with the same format
// and check character; their holders may apply for assistance too.
var provinces = func() (p [100]bool) {
	for _, r := range [][2]int{{11, 15}, {21, 23}, {31, 37}, {41, 46}, {50, 54}, {61, 65}, {71, 71}, {81, 83}} {
		for c := r[0]; c <= r[1]; c++ {
			p[c] = true
		}
	}
	return p
}()

var earliest = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// birthDate returns the date in s[6:14], s being 18 characters whose first 17
// are digits, and false when it is not a calendar date.
func birthDate(s string) (time.Time, bool) {
	y := atoi(s[6:10])
	m := atoi(s[10:12])
	d := atoi(s[12:14])
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || t.Year() != y || t.Month() != time.Month(m) || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// Complete appends the check character to 17 digits and parses the result:
// for generators and demo data that make up numbers belonging to no one.
func Complete(first17 string, today time.Time) (ID, error) {
	if len(first17) != 17 || !allDigits(first17) {
		return "", invalid(msgLength)
	}
	return Parse(first17+string(checkChar(first17)), today)
}

// checkChar returns the ISO 7064 MOD 11-2 check character of the 17 digits
// that begin s.
func checkChar(s string) byte {
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
