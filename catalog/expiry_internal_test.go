package catalog

import (
	"testing"
	"time"
)

// The expiry runs a minute after midnight in China, whatever zone the
// scheduler's clock reports in.
func TestDailyAt_Next(t *testing.T) {
	s := dailyAt{after: time.Minute}
	at := func(day, hour, minute, second int) time.Time {
		return time.Date(2026, 11, day, hour, minute, second, 0, chinaTime)
	}
	for _, c := range []struct{ now, want time.Time }{
		{at(28, 12, 0, 0), at(29, 0, 1, 0)},
		{at(28, 0, 0, 0), at(28, 0, 1, 0)},
		{at(28, 0, 0, 59), at(28, 0, 1, 0)},
		{at(28, 0, 1, 0), at(29, 0, 1, 0)},
		{at(28, 23, 59, 59), at(29, 0, 1, 0)},
		{time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 1, 0, 0, chinaTime)}, // 23:30 on 30 November in China
	} {
		if got := s.Next(c.now.UTC()); !got.Equal(c.want) {
			t.Errorf("Next(%s) = %s, want %s", c.now, got.In(chinaTime), c.want)
		}
	}
}
