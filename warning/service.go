// Package warning is dynamic monitoring and early warning (动态监测预警):
// it stores the signals other departments send about households and
// persons, the warning types (data an ADMIN edits), the calibrations of the
// adaptive thresholds and the warnings with their life cycle, and feeds the
// engine (warning/detect) with what casework knows of the households. It
// owns the tables signals, warning_types, warning_calibrations,
// warning_thresholds, warning_peer_medians, warnings and warning_events.
package warning

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/warning/detect"
)

// Service is the early-warning store and monitor.
type Service struct {
	db       *db.DB
	regions  *regions.Directory
	catalog  *catalog.Service
	casework *casework.Service
	audit    *audit.Log
	now      func() time.Time
	outbox   Outbox
	cfg      Config
	cache    struct {
		mu       sync.Mutex
		compiled *compiled
	}
}

// Config tunes the monitor.
type Config struct {
	// DibaoStandardFen is the local monthly 低保 standard per person the
	// rules compare income with (configuration: Chongqing's urban standard
	// in 2026 by default).
	DibaoStandardFen int64
}

// DefaultConfig is the configuration of a Chongqing hub.
func DefaultConfig() Config { return Config{DibaoStandardFen: 80_000} }

// Outbox hears, inside the transaction that stored them (u), which
// households got new signals, so their evaluation follows the signals or
// does not happen at all.
type Outbox interface {
	SignalsRecorded(ctx context.Context, u db.Unit, householdIDs []int64) error
}

// Option configures a Service.
type Option func(*Service)

// WithOutbox queues evaluations through o.
func WithOutbox(o Outbox) Option { return func(s *Service) { s.outbox = o } }

// WithConfig sets the monitor's configuration.
func WithConfig(c Config) Option { return func(s *Service) { s.cfg = c } }

// NewService returns the early-warning service.
func NewService(d *db.DB, dir *regions.Directory, cat *catalog.Service, cw *casework.Service, log *audit.Log, now func() time.Time, opts ...Option) *Service {
	s := &Service{db: d, regions: dir, catalog: cat, casework: cw, audit: log, now: now, cfg: DefaultConfig()}
	for _, o := range opts {
		o(s)
	}
	return s
}

var chinaTime = time.FixedZone("CST", 8*3600)

// today is the calendar day in China.
func (s *Service) today() aidhub.Date { return aidhub.DateOf(s.now().In(chinaTime)) }

// Today is the service's calendar day in China.
func (s *Service) Today() aidhub.Date { return s.today() }

// requireCaseworker lets ADMIN and CASE_MANAGER through.
func requireCaseworker(p auth.Principal, action string) error {
	return p.Require(action, auth.Admin, auth.CaseManager)
}

// wrap adds the action to errors that are not for the caller.
func wrap(err error, format string, args ...any) error {
	var ae *aidhub.Error
	if err == nil || errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

func tokenOf(p auth.Principal) *int64 {
	if p.TokenID == 0 {
		return nil
	}
	id := p.TokenID
	return &id
}

// monthOf is the engine's month of a date.
func monthOf(d aidhub.Date) detect.Month { return detect.MonthOf(d.Time) }

// dayOf is the engine's day of a date.
func dayOf(d aidhub.Date) aidhub.Day { return aidhub.DayOf(d.Time) }
