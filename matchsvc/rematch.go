package matchsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/jobs"
	"github.com/aidhub/aidhub/matching"
)

// Queue is the River queue of re-matching.
const Queue = "matching"

// Suggestion tells case managers that an open need has a (new) match.
type Suggestion struct {
	NeedID      int64
	HouseholdID int64
	Region      string // the household's village code
	ResourceID  int64
	Score       float64
	// Reason is what triggered it: RESOURCE_CHANGED (published, edited,
	// capacity freed) or NEEDS_ASSESSED.
	Reason string
}

// Broker fans suggestions out to the subscriptions of this process.
type Broker struct {
	mu   sync.Mutex
	next int
	subs map[int]subscriber
}

type subscriber struct {
	prefix string
	ch     chan Suggestion
}

// NewBroker returns an empty broker.
func NewBroker() *Broker { return &Broker{subs: map[int]subscriber{}} }

// Subscribe returns the suggestions for needs whose region starts with
// prefix, until cancel is called. A subscriber that falls 64 behind loses
// suggestions rather than holding up re-matching.
func (b *Broker) Subscribe(prefix string) (<-chan Suggestion, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	ch := make(chan Suggestion, 64)
	b.subs[id] = subscriber{prefix: prefix, ch: ch}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if s, ok := b.subs[id]; ok {
			delete(b.subs, id)
			close(s.ch)
		}
	}
}

// Publish sends s to every subscriber in scope.
func (b *Broker) Publish(s Suggestion) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, sub := range b.subs {
		if strings.HasPrefix(s.Region, sub.prefix) {
			select {
			case sub.ch <- s:
			default:
			}
		}
	}
}

// ResourceArgs re-matches one resource against the open needs.
type ResourceArgs struct {
	ResourceID int64 `json:"resource_id"`
}

// Kind implements river.JobArgs.
func (ResourceArgs) Kind() string { return "matching.resource" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ResourceArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// HouseholdArgs re-reads one household's open needs and matches them.
type HouseholdArgs struct {
	HouseholdID int64 `json:"household_id"`
}

// Kind implements river.JobArgs.
func (HouseholdArgs) Kind() string { return "matching.household" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (HouseholdArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// ReloadArgs rebuilds the engine after a catalog edit.
type ReloadArgs struct{}

// Kind implements river.JobArgs.
func (ReloadArgs) Kind() string { return "matching.reload" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ReloadArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// ReloadWorker runs ReloadArgs jobs.
type ReloadWorker struct {
	river.WorkerDefaults[ReloadArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *ReloadWorker) Work(ctx context.Context, _ *river.Job[ReloadArgs]) error {
	if !w.Service.loaded() {
		return nil // it loads the new catalog when first used
	}
	return w.Service.Reload(ctx)
}

// CatalogChanged implements catalog.CatalogOutbox.
func (o Outbox) CatalogChanged(ctx context.Context, u db.Unit) error {
	if _, err := o.Jobs.InsertTx(ctx, u.Tx().Tx, ReloadArgs{}, nil); err != nil {
		return fmt.Errorf("matcher: queue reload: %w", err)
	}
	return nil
}

// Outbox queues re-matching in the transaction of the change that calls
// for it: a resource change (catalog.Outbox) or new needs
// (casework.NeedsOutbox).
type Outbox struct {
	Jobs *jobs.Client
}

// ResourceChanged implements catalog.Outbox. It also notes the resource
// in the request's Changes, when there are any.
func (o Outbox) ResourceChanged(ctx context.Context, u db.Unit, resourceID int64) error {
	if _, err := o.Jobs.InsertTx(ctx, u.Tx().Tx, ResourceArgs{ResourceID: resourceID}, nil); err != nil {
		return fmt.Errorf("matcher: queue re-match of resource %d: %w", resourceID, err)
	}
	if c := changesFrom(ctx); c != nil {
		c.noteResource(resourceID)
	}
	return nil
}

// NeedsChanged implements casework.NeedsOutbox. It also notes the
// household in the request's Changes, when there are any.
func (o Outbox) NeedsChanged(ctx context.Context, u db.Unit, householdID int64) error {
	if _, err := o.Jobs.InsertTx(ctx, u.Tx().Tx, HouseholdArgs{HouseholdID: householdID}, nil); err != nil {
		return fmt.Errorf("matcher: queue re-match of household %d: %w", householdID, err)
	}
	if c := changesFrom(ctx); c != nil {
		c.noteHousehold(householdID)
	}
	return nil
}

// suggestPerResource bounds the suggestions one resource change sends.
const suggestPerResource = 50

// RematchResource brings one resource in the engine in line with the
// store (as the request that changed it may have done already, see Sync)
// and suggests the needs it now matches best.
func (s *Service) RematchResource(ctx context.Context, resourceID int64) (err error) {
	defer s.timed(TimingRematchResource, time.Now(), &err)
	if _, err := s.Engine(ctx); err != nil {
		return err
	}
	published, err := s.syncResource(ctx, resourceID)
	if errors.Is(err, errCatalogBehind) {
		// Reload everything once, which reads the new catalog.
		if err := s.Reload(ctx); err != nil {
			return err
		}
		if published, err = s.syncResource(ctx, resourceID); errors.Is(err, errCatalogBehind) {
			return fmt.Errorf("matcher: resource %d cannot be matched: %w", resourceID, err)
		}
	}
	if err != nil || !published {
		return err
	}
	today := aidhub.DayOf(s.today().Time)
	s.idx.RLock() // the engine and the index swap together under idx
	engine := s.current()
	matches := engine.MatchResource(resourceID, s.index, today, suggestPerResource)
	needs := make([]matching.Need, len(matches))
	for i, m := range matches {
		needs[i] = s.index.Population().Need(m.Index)
	}
	s.idx.RUnlock()
	for i, m := range matches {
		n := needs[i]
		s.Broker.Publish(Suggestion{NeedID: m.NeedID, HouseholdID: n.HouseholdID, Region: n.Region, ResourceID: resourceID, Score: m.Score, Reason: "RESOURCE_CHANGED"})
	}
	return nil
}

// RematchHousehold re-reads a household's open needs into the index (as
// the request that changed them may have done already, see Sync) and
// suggests each one's best match.
func (s *Service) RematchHousehold(ctx context.Context, householdID int64) (err error) {
	defer s.timed(TimingRematchHousehold, time.Now(), &err)
	if _, err := s.Engine(ctx); err != nil {
		return err
	}
	fresh, err := s.syncHousehold(ctx, householdID)
	if err != nil {
		return err
	}
	engine := s.current()
	today := aidhub.DayOf(s.today().Time)
	for i := range fresh {
		if best := engine.Match(&fresh[i], today, 1); len(best) == 1 {
			s.Broker.Publish(Suggestion{NeedID: fresh[i].ID, HouseholdID: householdID, Region: fresh[i].Region,
				ResourceID: best[0].ResourceID, Score: best[0].Score, Reason: "NEEDS_ASSESSED"})
		}
	}
	return nil
}

// ResourceWorker runs ResourceArgs jobs.
type ResourceWorker struct {
	river.WorkerDefaults[ResourceArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *ResourceWorker) Work(ctx context.Context, job *river.Job[ResourceArgs]) error {
	return w.Service.RematchResource(ctx, job.Args.ResourceID)
}

// HouseholdWorker runs HouseholdArgs jobs.
type HouseholdWorker struct {
	river.WorkerDefaults[HouseholdArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *HouseholdWorker) Work(ctx context.Context, job *river.Job[HouseholdArgs]) error {
	return w.Service.RematchHousehold(ctx, job.Args.HouseholdID)
}

var _ interface {
	catalog.CatalogOutbox
	catalog.Outbox
	casework.NeedsOutbox
} = Outbox{}
