package matchsvc

import "time"

// Timings receives how long the matcher's heavy work took, for the
// operator's metrics; the hub feeds a histogram with it, so this package
// need not know the metrics library.
type Timings interface {
	// Observe records one run of op: TimingLoad, TimingSweep,
	// TimingRematchResource or TimingRematchHousehold. err is the run's
	// outcome.
	Observe(op string, took time.Duration, err error)
}

// What Timings observes.
const (
	TimingLoad             = "load"
	TimingSweep            = "sweep"
	TimingRematchResource  = "rematch_resource"
	TimingRematchHousehold = "rematch_household"
)

// Option configures a Service.
type Option func(*Service)

// WithTimings sends the matcher's timings to t.
func WithTimings(t Timings) Option { return func(s *Service) { s.timings = t } }

// timed observes a run begun at start, when timings are wanted; it is
// deferred with the run's named error.
func (s *Service) timed(op string, start time.Time, err *error) {
	if s.timings != nil {
		s.timings.Observe(op, time.Since(start), *err)
	}
}
