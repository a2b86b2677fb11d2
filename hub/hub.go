// Package hub assembles the services of one aidhub process from its
// configuration: the database, the catalog with its outbox, the search index
// and the job queue that keeps it in step. Commands and tests build the hub
// the same way.
package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/buildinfo"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/jobs"
	"github.com/aidhub/aidhub/matching"
	"github.com/aidhub/aidhub/matchsvc"
	"github.com/aidhub/aidhub/migrations"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/secret"
	"github.com/aidhub/aidhub/warning"
)

// Config says where things are.
type Config struct {
	// DatabaseURL selects PostgreSQL; empty means SQLite in DataDir.
	DatabaseURL string
	DataDir     string
	// Meili selects Meilisearch when its URL is set; otherwise Bleve in
	// DataDir/search serves.
	Meili search.MeiliConfig
	// Index, when set, is used instead of opening one (tests).
	Index search.Index
	// Secret is AIDHUB_SECRET, the master key for personal data; when
	// empty the key file in DataDir is used (and made on first run).
	Secret string
	// Keys, when set, is used instead of Secret (tests).
	Keys *secret.Keys
	// Matching is the scoring and the watchlist thresholds; zero means
	// the defaults.
	Matching matchsvc.Config
	// Offline opens the store without the search index and without
	// workers, for commands that write data while a hub may be serving:
	// the jobs they queue are delivered by the serving hub.
	Offline bool
	// Logs receives the job queue's warnings.
	Logs io.Writer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OTLPEndpoint turns tracing on (OTEL_EXPORTER_OTLP_ENDPOINT, e.g.
	// http://127.0.0.1:4318): GraphQL operations (server.Deps.Tracer) and
	// SQL statements go there over OTLP/HTTP. Empty: no tracing.
	OTLPEndpoint string
}

// Hub is an opened, migrated hub.
type Hub struct {
	DB       *db.DB
	Catalog  *catalog.Service
	Casework *casework.Service
	Matcher  *matchsvc.Service
	Warning  *warning.Service
	// WarningFeed delivers raised warnings to this process's
	// subscriptions (server.Deps.WarningFeed): one poller per process.
	WarningFeed *warning.Feed
	Audit       *audit.Log
	Tokens      *auth.Tokens
	Index       search.Index
	Syncer      *search.Syncer
	Jobs        *jobs.Client
	// Metrics is the hub's registry: runtime, process, database pool,
	// build and job queue collectors; the server adds its request
	// metrics to it (server.Deps.Metrics) and serves it.
	Metrics *prometheus.Registry
	// Tracer is where spans go: a no-op provider unless
	// Config.OTLPEndpoint is set.
	Tracer        trace.TracerProvider
	traceShutdown func(context.Context) error
	// logs receives the line Start writes.
	logs io.Writer
	// runner starts and stops Jobs so that jobs a dead process left
	// running are retried at once; nil when Offline.
	runner *jobs.Runner
}

// Open opens the database, applies migrations, seeds the default catalog
// into an empty store and opens the search index. Workers do not run until
// Start.
func Open(ctx context.Context, cfg Config) (*Hub, error) {
	d, err := db.Open(ctx, db.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	h, err := New(ctx, d, cfg)
	if err != nil {
		d.Close()
		return nil, err
	}
	return h, nil
}

// New is Open over a database already opened; Close closes it.
func New(ctx context.Context, d *db.DB, cfg Config) (*Hub, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	h := &Hub{DB: d, logs: cfg.Logs}
	var err error
	fail := func(err error) (*Hub, error) {
		h.DB = nil // the caller closes what it opened
		h.Close()
		return nil, err
	}
	if h.Metrics, err = newRegistry(d); err != nil {
		return fail(fmt.Errorf("hub: metrics: %w", err))
	}
	if h.Tracer, h.traceShutdown, err = openTracing(ctx, d, cfg.OTLPEndpoint); err != nil {
		return fail(err)
	}
	m, err := migrations.New(d)
	if err != nil {
		return fail(err)
	}
	if _, err := m.Up(ctx); err != nil {
		return fail(err)
	}

	if !cfg.Offline {
		if h.Index, err = openIndex(ctx, cfg); err != nil {
			return fail(err)
		}
	}

	// The worker needs the syncer, the syncer the catalog, the catalog the
	// client's outbox and the client its workers: register the worker
	// first and give it the syncer last.
	worker := &search.Worker{}
	expirer := &casework.ExpireWorker{}
	resourceExpirer := &catalog.ExpireWorker{}
	rematchResource, rematchHousehold, reload := &matchsvc.ResourceWorker{}, &matchsvc.HouseholdWorker{}, &matchsvc.ReloadWorker{}
	evaluate, calibrate := &warning.EvaluateWorker{}, &warning.CalibrateWorker{}
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	river.AddWorker(workers, expirer)
	river.AddWorker(workers, resourceExpirer)
	river.AddWorker(workers, rematchResource)
	river.AddWorker(workers, rematchHousehold)
	river.AddWorker(workers, reload)
	river.AddWorker(workers, evaluate)
	river.AddWorker(workers, calibrate)
	concurrency := 4
	if !d.IsPostgres() {
		concurrency = 2 // one SQLite file: more writers only queue
	}
	if cfg.Offline {
		workers = nil // insert-only: the serving hub's workers deliver
	}
	h.Jobs, err = jobs.NewClient(d, jobs.Config{
		Workers: workers,
		Queues: map[string]river.QueueConfig{
			search.Queue:       {MaxWorkers: concurrency},
			matchsvc.Queue:     {MaxWorkers: 1}, // the engine serialises changes anyway
			warning.Queue:      {MaxWorkers: 1},
			river.QueueDefault: {MaxWorkers: 1},
		},
		Periodic: []*river.PeriodicJob{casework.ExpiryJob(15 * time.Minute), catalog.ExpiryJob(), warning.CalibrateJob(24 * time.Hour)},
		Logs:     cfg.Logs,
	})
	if err != nil {
		return fail(err)
	}
	if !cfg.Offline {
		h.runner = jobs.NewRunner(d, h.Jobs, cfg.Logs)
	}
	dir := regions.Chongqing()
	h.Audit = audit.New(d, now)
	rematch := matchsvc.Outbox{Jobs: h.Jobs}
	h.Catalog = catalog.NewService(d, dir, h.Audit, now,
		catalog.WithOutbox(outboxes{search.Outbox{Jobs: h.Jobs}, rematch}),
		catalog.WithRuleCheck(matching.CheckRule))
	resourceExpirer.Service = h.Catalog
	h.Tokens = auth.NewTokens(d, dir, now)
	keys := cfg.Keys
	if keys == nil {
		if keys, err = secret.Load(cfg.Secret, dataDir(cfg)); err != nil {
			return fail(err)
		}
	}
	h.Casework = casework.NewService(d, dir, keys, h.Catalog, h.Audit, now, casework.WithNeedsOutbox(rematch))
	expirer.Service = h.Casework
	mcfg := cfg.Matching
	if mcfg == (matchsvc.Config{}) {
		mcfg = matchsvc.DefaultConfig()
	}
	timings, err := newMatcherTimings(h.Metrics)
	if err != nil {
		return fail(fmt.Errorf("hub: metrics: %w", err))
	}
	if h.Matcher, err = matchsvc.New(d, h.Catalog, h.Casework, mcfg, now, matchsvc.WithTimings(timings)); err != nil {
		return fail(err)
	}
	rematchResource.Service, rematchHousehold.Service, reload.Service = h.Matcher, h.Matcher, h.Matcher
	h.Warning = warning.NewService(d, dir, h.Catalog, h.Casework, h.Audit, now, warning.WithOutbox(warning.JobOutbox{Jobs: h.Jobs}))
	evaluate.Service, calibrate.Service = h.Warning, h.Warning
	h.WarningFeed = h.Warning.NewFeed(time.Second)
	h.Syncer = search.NewSyncer(d, h.Catalog, h.Index)
	worker.Syncer = h.Syncer
	if _, err := h.Catalog.SeedDefaults(ctx); err != nil {
		return fail(err)
	}
	if _, err := h.Warning.SeedDefaults(ctx); err != nil {
		return fail(err)
	}
	return h, nil
}

// Start runs the background workers until Close, first retrying the jobs
// a dead process left running (see jobs.Runner).
func (h *Hub) Start(ctx context.Context) error {
	start := h.Jobs.Start
	if h.runner != nil {
		start = h.runner.Start
	}
	if err := start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("hub: start jobs: %w", err)
	}
	if h.logs != nil {
		// Which build is running is the first thing asked of a log.
		bi := buildinfo.Get()
		log := zerolog.New(h.logs).With().Timestamp().Logger()
		log.Info().
			Str("version", bi.Version).Str("commit", bi.Commit).Str("go_version", bi.GoVersion).
			Str("database", h.DB.Engine).Msg("hub started")
	}
	return nil
}

// Close stops the workers and closes the index and the database.
func (h *Hub) Close() error {
	var errs []error
	if h.Jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		stop := h.Jobs.Stop
		if h.runner != nil {
			stop = h.runner.Stop
		}
		if err := stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, err)
		}
		cancel()
	}
	if h.Index != nil {
		errs = append(errs, h.Index.Close())
	}
	if h.traceShutdown != nil { // sends the spans still buffered
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, h.traceShutdown(ctx))
		cancel()
	}
	if h.DB != nil {
		errs = append(errs, h.DB.Close())
	}
	return errors.Join(errs...)
}

// Reindex rebuilds the index from the database and swaps it in, then
// re-queues every resource changed while it ran, so a change that went to
// the old index during the rebuild is not lost. It returns the number of
// documents written: the searchable resources. progress, when set, hears
// how many of the published resources (about total, counted before the
// scan) have been looked at; those with no capacity left are looked at and
// left out, so counting documents against published resources would stop
// short of the end.
func (h *Hub) Reindex(ctx context.Context, progress func(done, total int)) (int, error) {
	start := time.Now().UTC().Add(-time.Second) // clock skew between processes
	total, err := h.Catalog.CountPublished(ctx)
	if err != nil {
		return 0, fmt.Errorf("hub: reindex: %w", err)
	}
	var scanned func(int)
	if progress != nil {
		progress(0, total)
		scanned = func(k int) { progress(k, total) }
	}
	n := 0
	err = h.Index.Rebuild(ctx, func(yield func(search.Document) error) error {
		return h.Syncer.Documents(ctx, func(d search.Document) error {
			n++
			return yield(d)
		}, scanned)
	})
	if err != nil {
		return n, err
	}
	ids, err := h.Catalog.ResourcesChangedSince(ctx, start)
	if err != nil {
		return n, fmt.Errorf("hub: resources changed during reindex: %w", err)
	}
	for _, id := range ids {
		if _, err := h.Jobs.Insert(ctx, search.SyncArgs{ResourceID: id}, nil); err != nil {
			return n, fmt.Errorf("hub: re-queue resource %d: %w", id, err)
		}
	}
	return n, nil
}

// openIndex opens the configured search backend. It returns a nil
// interface on error, never a typed nil, so Close can tell.
func openIndex(ctx context.Context, cfg Config) (search.Index, error) {
	switch {
	case cfg.Index != nil:
		return cfg.Index, nil
	case cfg.Meili.URL != "":
		m, err := search.OpenMeili(ctx, cfg.Meili)
		if err != nil {
			return nil, err
		}
		return m, nil
	default:
		b, err := search.OpenBleve(filepath.Join(dataDir(cfg), "search"))
		if err != nil {
			return nil, err
		}
		return b, nil
	}
}

// dataDir is the folder for local state: --data, or ./data.
func dataDir(cfg Config) string {
	if cfg.DataDir == "" {
		return "data"
	}
	return cfg.DataDir
}

// outboxes sends each resource change to every outbox, in the change's
// transaction.
type outboxes []catalog.Outbox

// CatalogChanged passes catalog edits to the outboxes that want them.
func (o outboxes) CatalogChanged(ctx context.Context, u db.Unit) error {
	for _, x := range o {
		if c, ok := x.(catalog.CatalogOutbox); ok {
			if err := c.CatalogChanged(ctx, u); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o outboxes) ResourceChanged(ctx context.Context, u db.Unit, resourceID int64) error {
	for _, x := range o {
		if err := x.ResourceChanged(ctx, u, resourceID); err != nil {
			return err
		}
	}
	return nil
}
