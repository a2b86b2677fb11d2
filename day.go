package aidhub

import (
	"fmt"
	"time"
)

// Day is a calendar day counted from 2000-01-01 (day 0). Days compare and
// subtract as integers, which is all the matching engine does with dates;
// Date is the same day as stored in a column.
type Day int32

const epochUnix = 946684800 // 2000-01-01T00:00:00Z

// DayOf returns the calendar day of t in t's own location.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	secs := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() - epochUnix
	return Day(secs / 86400) // exact: secs is a whole number of days
}

// ParseDay parses YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return DayOf(t), nil
}

// Time returns midnight UTC of the day.
func (d Day) Time() time.Time { return time.Unix(epochUnix+int64(d)*86400, 0).UTC() }

// String formats the day as YYYY-MM-DD.
func (d Day) String() string { return d.Time().Format(DateLayout) }

// AddDays returns the day n days later (earlier when n < 0).
func (d Day) AddDays(n int) Day { return d + Day(n) }

// MarshalText writes YYYY-MM-DD, so days read well in JSON.
func (d Day) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD.
func (d *Day) UnmarshalText(b []byte) error {
	v, err := ParseDay(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
