package main

import (
	"fmt"
	"time"

	"github.com/aidhub/aidhub"
)

// chinaTime is the zone the services take the date in (validity windows,
// waiting days, duplicate-aid windows): China Standard Time, UTC+8 all
// year.
var chinaTime = time.FixedZone("CST", 8*3600)

// clock returns the hub's clock for serve: the real one, or, with --today
// (flag) or AIDHUB_TODAY (env; the flag wins), one on which the date in
// China is that day. day is the date set, "" for the real clock.
// Development only: a production hub on a made-up date would expire
// resources and close duplicate-aid windows for real.
func (a *app) clock(flagValue string, production bool) (now func() time.Time, day string, err error) {
	value, source := flagValue, "--today"
	if value == "" {
		value, source = a.getenv("AIDHUB_TODAY"), "AIDHUB_TODAY"
	}
	if value == "" {
		return time.Now, "", nil
	}
	if production {
		return nil, "", errUsage{fmt.Sprintf("serve: %s is for development and tests only, not with AIDHUB_ENV=production; remove it", source)}
	}
	d, err := aidhub.ParseDate(value)
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		return nil, "", errUsage{fmt.Sprintf("serve: %s must be a date from 2000 to 2100 in the form YYYY-MM-DD, not %q", source, value)}
	}
	return shiftedClock(d, time.Now), d.String(), nil
}

// shiftedClock is real moved by whole days so that it reads day in China
// now. The time of day stays real, and the date moves on at midnight as
// usual (a hub set to the 1st is on the 2nd the next morning), so
// timestamps keep their order. China has no daylight saving: n × 24 hours
// is n calendar days.
func shiftedClock(day aidhub.Date, real func() time.Time) func() time.Time {
	shift := day.Sub(aidhub.DateOf(real().In(chinaTime)).Time)
	return func() time.Time { return real().Add(shift) }
}
