package warning

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"
)

// Per-request loaders (casework's pattern): the getters read warnings,
// signals and types through them, so a page of warnings with their types
// and evidence costs a few statements, not one per warning.

type loaders struct {
	warnings *dataloadgen.Loader[int64, *Warning]
	signals  *dataloadgen.Loader[int64, *Signal]
	// events are each warning's history, oldest first.
	events *dataloadgen.Loader[int64, []*Event]
	types  func() (map[string]*WarningType, error)
}

type loadersKey struct{}

// NewLoaderContext returns ctx carrying fresh loaders for one request (or
// mutation field, or subscription event), made on first use.
func (s *Service) NewLoaderContext(ctx context.Context, wait time.Duration) context.Context {
	return context.WithValue(ctx, loadersKey{}, sync.OnceValue(func() *loaders { return s.newLoaders(wait) }))
}

func (s *Service) fromContext(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(func() *loaders); ok {
		return l()
	}
	return s.newLoaders(0)
}

func (s *Service) newLoaders(wait time.Duration) *loaders {
	opt := dataloadgen.WithWait(wait)
	return &loaders{
		warnings: dataloadgen.NewLoader(byID[Warning](s, func(w *Warning) int64 { return w.ID }), opt),
		signals:  dataloadgen.NewLoader(byID[Signal](s, func(sg *Signal) int64 { return sg.ID }), opt),
		events:   dataloadgen.NewLoader(s.eventsOf, opt),
		types: sync.OnceValues(func() (map[string]*WarningType, error) {
			ts, err := s.loadTypes(context.Background(), s.db)
			if err != nil {
				return nil, err
			}
			out := make(map[string]*WarningType, len(ts))
			for _, t := range ts {
				out[t.Code] = t
			}
			return out, nil
		}),
	}
}

func byID[T any](s *Service, id func(*T) int64) func(ctx context.Context, ids []int64) ([]*T, []error) {
	return func(ctx context.Context, ids []int64) ([]*T, []error) {
		var rows []*T
		if err := s.db.NewSelect().Model(&rows).Where("?TableAlias.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
			return nil, []error{fmt.Errorf("warning: load %T rows: %w", rows, err)}
		}
		found := make(map[int64]*T, len(rows))
		for _, r := range rows {
			found[id(r)] = r
		}
		out := make([]*T, len(ids))
		for i, k := range ids {
			out[i] = found[k]
		}
		return out, nil
	}
}

// eventsOf reads the histories of warnings in one statement.
func (s *Service) eventsOf(ctx context.Context, ids []int64) ([][]*Event, []error) {
	var rows []*Event
	if err := s.db.NewSelect().Model(&rows).Where("warning_id IN (?)", bun.List(ids)).OrderExpr("id").Scan(ctx); err != nil {
		return nil, []error{fmt.Errorf("warning: load histories: %w", err)}
	}
	byWarning := make(map[int64][]*Event, len(ids))
	for _, e := range rows {
		byWarning[e.WarningID] = append(byWarning[e.WarningID], e)
	}
	out := make([][]*Event, len(ids))
	for i, id := range ids {
		out[i] = byWarning[id]
		if out[i] == nil {
			out[i] = []*Event{}
		}
	}
	return out, nil
}
