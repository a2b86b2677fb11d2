package warning

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
)

// Feed delivers newly raised warnings to this process's subscribers. It
// reads them from the warnings table, so a warning raised by a job on any
// replica reaches the subscribers of every replica; its only state is the
// cursor of the last warning read, which a restart takes from the table
// again. One poller runs while anyone listens.
type Feed struct {
	s     *Service
	every time.Duration

	mu      sync.Mutex
	next    int
	subs    map[int]feedSub
	last    int64
	running bool
}

type feedSub struct {
	prefix string
	ch     chan *Warning
}

// NewFeed returns a feed polling the table every interval.
func (s *Service) NewFeed(every time.Duration) *Feed {
	return &Feed{s: s, every: every, subs: map[int]feedSub{}}
}

// Subscribe returns the warnings raised from now on in the region prefix
// (the caller's own region when ""), until ctx ends. A subscriber that
// falls 64 behind loses warnings rather than holding up the others; the
// warnings list has them all.
//
// Errors: UNAUTHENTICATED, FORBIDDEN (not a case worker, or a prefix
// outside the caller's region), BAD_USER_INPUT (not a division code).
func (f *Feed) Subscribe(ctx context.Context, prefix string) (<-chan *Warning, error) {
	p := auth.FromContext(ctx)
	if err := requireCaseworker(p, "subscribing to warnings"); err != nil {
		return nil, err
	}
	if prefix != "" {
		if reason := f.s.regions.Check(prefix); reason != "" {
			return nil, aidhub.Invalid("regionPrefix", "%s", reason)
		}
	}
	if p.Role == auth.CaseManager {
		if prefix == "" {
			prefix = p.RegionPrefix
		}
		if !strings.HasPrefix(prefix, p.RegionPrefix) {
			return nil, aidhub.Errorf(aidhub.EFORBIDDEN, "region %s is outside this token's region %s", prefix, p.RegionPrefix)
		}
	}
	ch := make(chan *Warning, 64)
	f.mu.Lock()
	if !f.running {
		last, err := f.maxID(ctx)
		if err != nil {
			f.mu.Unlock()
			return nil, err
		}
		f.last, f.running = last, true
		go f.poll()
	}
	id := f.next
	f.next++
	f.subs[id] = feedSub{prefix: prefix, ch: ch}
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.subs, id)
		close(ch)
	}()
	return ch, nil
}

func (f *Feed) maxID(ctx context.Context) (int64, error) {
	var id int64
	if err := f.s.db.NewSelect().TableExpr("warnings").ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("warning: feed: %w", err)
	}
	return id, nil
}

// poll reads new warnings until no one listens.
func (f *Feed) poll() {
	t := time.NewTicker(f.every)
	defer t.Stop()
	for range t.C {
		f.mu.Lock()
		if len(f.subs) == 0 {
			f.running = false
			f.mu.Unlock()
			return
		}
		last := f.last
		f.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), f.every*5)
		var ws []*Warning
		err := f.s.db.NewSelect().Model(&ws).Where("w.id > ?", last).OrderExpr("w.id").Limit(500).Scan(ctx)
		cancel()
		if err != nil || len(ws) == 0 {
			continue // the next tick tries again
		}
		f.mu.Lock()
		f.last = ws[len(ws)-1].ID
		for _, w := range ws {
			for _, sub := range f.subs {
				if strings.HasPrefix(w.RegionCode, sub.prefix) {
					select {
					case sub.ch <- w:
					default:
					}
				}
			}
		}
		f.mu.Unlock()
	}
}
