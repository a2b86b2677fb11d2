package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/demo"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/migrations"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/server"
)

// open opens the configured hub: database (migrated, default catalog
// seeded), search index and job queue. Workers run only after Start.
func (a *app) open(ctx context.Context, dataDir string) (*hub.Hub, error) {
	return a.openAt(ctx, dataDir, nil)
}

// openAt is open with the hub's clock (nil: the real one).
func (a *app) openAt(ctx context.Context, dataDir string, now func() time.Time) (*hub.Hub, error) {
	return hub.Open(ctx, hub.Config{
		DatabaseURL: a.getenv("AIDHUB_DATABASE_URL"),
		DataDir:     dataDir,
		Meili: search.MeiliConfig{
			URL:   a.getenv("AIDHUB_MEILI_URL"),
			Key:   a.getenv("AIDHUB_MEILI_KEY"),
			Index: a.getenv("AIDHUB_MEILI_INDEX"),
		},
		Secret:       a.getenv("AIDHUB_SECRET"),
		OTLPEndpoint: a.getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		Logs:         a.stderr,
		Now:          now,
	})
}

// openDB opens the configured database and applies pending migrations,
// without the search index or the job queue.
func (a *app) openDB(ctx context.Context, dataDir string) (*db.DB, error) {
	d, err := db.Open(ctx, db.Config{URL: a.getenv("AIDHUB_DATABASE_URL"), DataDir: dataDir})
	if err != nil {
		return nil, err
	}
	m, err := migrations.New(d)
	if err == nil {
		_, err = m.Up(ctx)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (a *app) logger() zerolog.Logger {
	level, err := zerolog.ParseLevel(strings.ToLower(a.getenv("AIDHUB_LOG_LEVEL")))
	if err != nil || level == zerolog.NoLevel {
		level = zerolog.InfoLevel
	}
	return zerolog.New(a.stderr).Level(level).With().Timestamp().Str("service", "aidhub").Logger()
}

func (a *app) serveCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the GraphQL API, migrating the store and seeding its catalog first",
		Long: `Serve the GraphQL API at /graphql (and GraphiQL at / unless AIDHUB_ENV=production).

serve applies pending migrations and seeds the default catalog into an empty
store, runs the job workers, and stops cleanly on Ctrl-C or SIGTERM. The
store is SQLite in --data unless AIDHUB_DATABASE_URL names PostgreSQL; the
search index is Bleve in --data unless AIDHUB_MEILI_URL names Meilisearch.`,
		Example: `  aidhub serve --demo
  aidhub serve --addr 0.0.0.0:8080 --data /var/lib/aidhub
  AIDHUB_DATABASE_URL=postgres://aidhub@db:5432/aidhub aidhub serve
  aidhub serve --today 2026-12-01 --pprof 127.0.0.1:6060`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dataDir := dataFlag(c, "folder for the SQLite database and other local state")
	withDemo := fs.Bool("demo", false, "load demo organizations and resources into an empty store")
	pprofAddr := fs.String("pprof", "", "also serve the runtime profiles (net/http/pprof) and the Prometheus metrics (/metrics) on this address, e.g. 127.0.0.1:6060; keep it off the public network")
	today := fs.String("today", "", "development only: run as if the date in China were this day, YYYY-MM-DD (also AIDHUB_TODAY)")
	c.RunE = action(func(ctx context.Context, _ []string) error {
		env := a.getenv("AIDHUB_ENV")
		if env != "" && env != "production" && env != "development" {
			return errUsage{fmt.Sprintf("AIDHUB_ENV must be production or development, not %q", env)}
		}
		production := env == "production"
		now, day, err := a.clock(*today, production)
		if err != nil {
			return err
		}
		// A key file made on the fly would hold the only key to every
		// resident ID, beside the database and outside any secret store.
		if production && a.getenv("AIDHUB_SECRET") == "" {
			return errUsage{"AIDHUB_ENV=production needs AIDHUB_SECRET, the master key for personal data (e.g. openssl rand -base64 32, kept in your secret store); without it the hub would create secret.key in the data folder"}
		}

		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("cannot listen on %s: the address is already in use (another aidhub?); choose another with --addr", *addr)
			}
			return fmt.Errorf("cannot listen on %s: %v", *addr, err)
		}
		defer ln.Close()

		log := a.logger()
		if day != "" {
			log.Warn().Str("today", day).Msg("the clock is set to another day (--today or AIDHUB_TODAY): validity, waiting days and duplicate-aid windows follow it; development only")
		}
		h, err := a.openAt(ctx, *dataDir, now)
		if err != nil {
			return err
		}
		defer h.Close()
		if err := h.Start(ctx); err != nil {
			return err
		}
		if *pprofAddr != "" {
			stop, err := serveAdmin(*pprofAddr, server.MetricsHandler(h.Metrics))
			if err != nil {
				return fmt.Errorf("serve: --pprof %s: %v", *pprofAddr, err)
			}
			defer stop()
		}
		if *withDemo {
			if err := loadDemo(ctx, h, log); err != nil {
				return err
			}
		}

		// Load the matcher now rather than on the first matching request: on
		// a large store it takes longer than a request may.
		go func() {
			start := time.Now()
			if err := h.Matcher.Warm(ctx); err != nil {
				if ctx.Err() == nil {
					log.Warn().Err(err).Msg("matcher: loading failed; the first matching request tries again")
				}
				return
			}
			log.Info().Float64("took_ms", float64(time.Since(start).Microseconds())/1000).Msg("matcher loaded")
		}()

		handler := server.New(server.Config{Production: production}, server.Deps{DB: h.DB, Catalog: h.Catalog, Casework: h.Casework, Matcher: h.Matcher, Tokens: h.Tokens, Search: h.Index, Log: log, Metrics: h.Metrics, Tracer: h.Tracer, Warning: h.Warning, WarningFeed: h.WarningFeed})
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
		// Shutdown leaves websockets alone: close them with a close frame
		// while it drains the other requests.
		srv.RegisterOnShutdown(handler.CloseSubscriptions)
		url := "http://" + ln.Addr().String()
		log.Info().Str("addr", ln.Addr().String()).Str("database", h.DB.Engine).Str("search", h.Index.Name()).Bool("production", production).Msg("listening")
		fmt.Fprintf(a.stdout, "aidhub is serving %s/graphql", url)
		if !production {
			fmt.Fprintf(a.stdout, " (GraphiQL at %s/)", url)
		}
		fmt.Fprintf(a.stdout, "\nDatabase: %s %s; search: %s\n", h.DB.Engine, h.DB.Where, h.Index.Name())
		if day != "" {
			fmt.Fprintf(a.stdout, "Today is %s in China for this hub (--today or AIDHUB_TODAY; development only)\n", h.Catalog.Today())
		}
		tokenCmd := "go run ./cmd/aidhub token create --role ADMIN"
		if h.DB.Engine == db.SQLite {
			tokenCmd += " --data " + *dataDir
		}
		fmt.Fprintf(a.stdout, "Get a token: %s\nthen send it as the header  Authorization: Bearer <token>\n", tokenCmd)
		if a.ready != nil {
			a.ready(ln.Addr().String())
		}

		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return fmt.Errorf("serve: %v", err)
		case <-ctx.Done():
		}
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		log.Info().Msg("shutting down")
		stopping := time.Now()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return err
		}
		// A subscriber that does not answer the close frame is given up
		// on after 5 s (the websocket library's close handshake).
		if err := handler.WaitSubscriptions(shutdownCtx); err != nil {
			log.Warn().Err(err).Msg("subscriptions still open at exit")
		}
		log.Info().Float64("took_ms", float64(time.Since(stopping).Microseconds())/1000).Msg("stopped")
		return nil
	})
	return c
}

func (a *app) migrateCmd() *cobra.Command {
	step := func(name, short, long string) *cobra.Command {
		c := &cobra.Command{
			Use:               name,
			Short:             short,
			Long:              long,
			Example:           "  aidhub migrate " + name + " --data ./data\n  AIDHUB_DATABASE_URL=postgres://aidhub@db:5432/aidhub aidhub migrate " + name,
			Args:              noArgs,
			ValidArgsFunction: cobra.NoFileCompletions,
		}
		dataDir := dataFlag(c, "folder of the SQLite database")
		c.RunE = action(func(ctx context.Context, _ []string) error { return a.migrate(ctx, name, *dataDir) })
		return c
	}
	return group("migrate", "Apply, roll back or list the database migrations", "say up, down, status or unlock",
		step("up", "Apply the pending migrations and seed the default catalog", "Apply the pending migrations, in order, and seed the default catalog into an empty store."),
		step("down", "Roll back the last migration", "Roll back the last applied migration."),
		step("status", "List the migrations, applied (when) or pending", "List every migration with its state: applied, with the time in UTC, or pending."),
		step("unlock", "Release a migration lock left by a crashed run", "Release the migration lock a crashed or killed migration left behind; run it only when no migration is running."),
	)
}

func (a *app) migrate(ctx context.Context, action, dataDir string) error {
	d, err := db.Open(ctx, db.Config{URL: a.getenv("AIDHUB_DATABASE_URL"), DataDir: dataDir})
	if err != nil {
		return err
	}
	defer d.Close()
	m, err := migrations.New(d)
	if err != nil {
		return err
	}
	switch action {
	case "up":
		names, err := m.Up(ctx)
		if err != nil {
			return err
		}
		if _, err := catalog.NewService(d, regions.Chongqing(), audit.New(d, time.Now), time.Now).SeedDefaults(ctx); err != nil {
			return err
		}
		report(a, "applied", names)
	case "down":
		names, err := m.Down(ctx)
		if err != nil {
			return err
		}
		report(a, "rolled back", names)
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(a.stdout, "%s\t%s\n", s.Name, state)
		}
	case "unlock":
		if err := m.Unlock(ctx); err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, "migration lock released")
	}
	return nil
}

func report(a *app, verb string, names []string) {
	if len(names) == 0 {
		fmt.Fprintf(a.stdout, "nothing %s\n", verb)
		return
	}
	for _, n := range names {
		fmt.Fprintf(a.stdout, "%s %s\n", verb, n)
	}
}

func (a *app) seedCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "demo",
		Short: "Load the demo organizations, resources, households and warnings into an empty store",
		Long: `Load the demo organizations, resources and households into an empty store, with
a year of signals for 渝中区's monitored households and the warnings they raise.

A store that already has organizations and households is left as it is.`,
		Example:           "  aidhub seed demo --data ./data",
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	dataDir := dataFlag(c, "folder of the SQLite database")
	c.RunE = action(func(ctx context.Context, _ []string) error {
		h, err := a.open(ctx, *dataDir)
		if err != nil {
			return err
		}
		defer h.Close()
		res, err := demo.Load(ctx, h.Catalog, h.Catalog.Today())
		if err != nil {
			return err
		}
		households, err := demo.LoadCasework(ctx, h.Casework, h.Catalog.Today())
		if err != nil {
			return err
		}
		monitored, warnings, err := demo.LoadWarnings(ctx, h.Casework, h.Warning, h.Catalog.Today())
		if err != nil {
			return err
		}
		if res.Organizations == 0 && households == 0 && monitored == 0 {
			fmt.Fprintln(a.stdout, "the hub already has organizations and households; demo data not loaded")
			return nil
		}
		fmt.Fprintf(a.stdout, "loaded %d organizations, %d resources (%d published), %d households and %d warnings\n",
			res.Organizations, res.Resources, res.Published, households+monitored, warnings)
		return nil
	})
	return group("seed", "Load data into the store", "say `seed demo`", c)
}

func (a *app) tokenCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "create --role ROLE",
		Short: "Create a bearer token and print it (only the token, on stdout)",
		Long: `Create a bearer token and print it, alone on stdout, so that
TOKEN=$(aidhub token create …) works. The hub keeps only its SHA-256 hash:
the token is shown once.

A CHARITY token needs --org (the organization it acts for); a CASE_MANAGER
token needs --region (a Chongqing division code such as 500103 for 渝中区);
a DATA_FEED token (another department's system sending signals) needs
--source, the name its signals carry (1 to 40 of A-Z, 0-9 and _, such as
MEDICAL_INSURANCE).`,
		Example: `  ADMIN=$(aidhub token create --role ADMIN)
  aidhub token create --role CHARITY --org 1 --label "front desk"
  aidhub token create --role CASE_MANAGER --region 500103
  aidhub token create --role DATA_FEED --source MEDICAL_INSURANCE --label "医保局"`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	role := fs.String("role", "", "ADMIN, CASE_MANAGER, CHARITY, DONOR or DATA_FEED (required)")
	org := fs.String("org", "", "organization ID (number or global ID) a CHARITY token acts for")
	region := fs.String("region", "", "division-code prefix a CASE_MANAGER token is scoped to")
	source := fs.String("source", "", "the source name a DATA_FEED token's signals carry, e.g. MEDICAL_INSURANCE")
	label := fs.String("label", "", "a note on who holds the token")
	dataDir := dataFlag(c, "folder of the SQLite database")
	fixedCompletion(c, "role", "ADMIN", "CASE_MANAGER", "CHARITY", "DONOR", "DATA_FEED")
	fixedCompletion(c, "source", "MEDICAL_INSURANCE", "HRSS", "CIVIL_AFFAIRS", "EDUCATION", "HOUSING", "DISABLED_PERSONS_FEDERATION")
	c.RunE = action(func(ctx context.Context, _ []string) error {
		r, ok := auth.ParseRole(*role)
		if !ok {
			return errUsage{fmt.Sprintf("token create: --role must be ADMIN, CASE_MANAGER, CHARITY, DONOR or DATA_FEED, not %q", *role)}
		}
		if *source != "" && !auth.ValidSource(*source) {
			return errUsage{"token create: --source is 1 to 40 of A-Z, 0-9 and _, starting with a letter (e.g. MEDICAL_INSURANCE)"}
		}
		var orgID int64
		if *org != "" {
			id, err := parseOrgID(*org)
			if err != nil {
				return errUsage{"token create: " + err.Error()}
			}
			orgID = id
		}
		// The database alone: the hint serve prints runs this while serve holds
		// the Bleve index, whose lock a whole hub would wait on forever.
		d, err := a.openDB(ctx, *dataDir)
		if err != nil {
			return err
		}
		defer d.Close()
		tok, err := auth.NewTokens(d, regions.Chongqing(), time.Now).Create(ctx, auth.NewToken{Role: r, OrganizationID: orgID, RegionPrefix: *region, Source: *source, Label: *label})
		if err != nil {
			return err
		}
		// Only the token on stdout, so `TOKEN=$(aidhub token create …)` works.
		fmt.Fprintln(a.stdout, tok)
		return nil
	})
	return group("token", "Manage API tokens", "say `token create --role ROLE`", c)
}

// parseOrgID accepts a row number or an Organization global ID.
func parseOrgID(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	if id, ok := server.OrganizationRowID(s); ok {
		return id, nil
	}
	return 0, fmt.Errorf("--org %q is neither an organization number nor an Organization ID", s)
}

func (a *app) reindexCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the database",
		Long: `Rebuild the search index from the database's published resources, with a
progress bar, and swap it in atomically. With the embedded Bleve index stop
serve first: the running hub holds the index's lock.`,
		Example: `  aidhub reindex --data ./data
  AIDHUB_MEILI_URL=http://127.0.0.1:7700 aidhub reindex --quiet`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	dataDir := dataFlag(c, "folder of the SQLite database and the Bleve index")
	quiet := c.Flags().Bool("quiet", false, "no progress bar")
	c.RunE = action(func(ctx context.Context, _ []string) error {
		h, err := a.open(ctx, *dataDir)
		if err != nil {
			return err
		}
		defer h.Close()
		if err := h.Index.Health(ctx); err != nil {
			return fmt.Errorf("reindex: %s is not reachable: %v", h.Index.Name(), err)
		}
		bar := newProgress(a.stderr, "reindex "+h.Index.Name(), *quiet)
		published := 0
		n, err := h.Reindex(ctx, func(done, total int) {
			published = done
			bar.Update("", done, total)
		})
		bar.Done(err)
		if err != nil {
			return err
		}
		if n < published {
			fmt.Fprintf(a.stdout, "reindexed %d of %d published resources into %s (%d left out: no capacity left)\n", n, published, h.Index.Name(), published-n)
			return nil
		}
		fmt.Fprintf(a.stdout, "reindexed %d published resources into %s\n", n, h.Index.Name())
		return nil
	})
	return c
}

// loadDemo loads the demo data into an empty store and logs what it did.
func loadDemo(ctx context.Context, h *hub.Hub, log zerolog.Logger) error {
	res, err := demo.Load(ctx, h.Catalog, h.Catalog.Today())
	if err != nil {
		return err
	}
	households, err := demo.LoadCasework(ctx, h.Casework, h.Catalog.Today())
	if err != nil {
		return err
	}
	monitored, warnings, err := demo.LoadWarnings(ctx, h.Casework, h.Warning, h.Catalog.Today())
	if err != nil {
		return err
	}
	if res.Organizations == 0 && households == 0 && monitored == 0 {
		log.Info().Msg("demo data not loaded: the store is not empty, it is kept as it is")
		return nil
	}
	log.Info().Int("organizations", res.Organizations).Int("resources", res.Resources).Int("published", res.Published).
		Int("households", households+monitored).Int("warnings", warnings).Msg("demo data")
	return nil
}
