// Package synthpop builds a reproducible synthetic population over the
// real Chongqing division codes, for benchmarks and load tests: households
// and their members with valid resident IDs (stored sealed, exactly as
// casework stores them), group memberships, consent, needs assessments
// with needs, aid already given and a few open referrals, the
// organizations and published resources that could help them, and 12
// months of signals from other departments with injected shocks, the
// early-warning backtest's ground truth. The assumptions behind the numbers
// are in model.go and signals.go.
//
// The same seed, sizes, catalog and day give the same rows, except the
// ciphertexts of resident IDs, which are sealed under random nonces (their
// plaintexts and blind indexes are the same). Rows go in by COPY on
// PostgreSQL and by multi-row INSERT on SQLite, in one transaction, with
// ids the generator assigns; the sequences are moved past them afterwards
// so the hub goes on working on the generated store.
package synthpop

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/secret"
	"github.com/aidhub/aidhub/warning/detect"
)

// Limits on what one run makes.
const (
	MaxPersons   = 50_000_000
	MaxResources = 5_000_000
)

// Options says what to generate.
type Options struct {
	Persons   int
	Resources int
	Seed      int64
	// Today is the day the population is generated for: only its date in
	// China counts. Ages, waiting times and validity windows are relative
	// to it, and every timestamp lies on a day before it, so one seed and
	// one date give the same rows at any time of day. Zero means now.
	Today time.Time
	// Progress, when set, hears how far a phase ("resources",
	// "population", on PostgreSQL "indexes", then "finish") has come: each
	// from 0 of its total to its total.
	Progress func(phase string, done, total int)
}

// Report counts what was written.
type Report struct {
	Engine string
	Seed   int64
	Today  aidhub.Date

	Organizations, Resources, ResourceItems, ResourceGroups, ResourceCoverage int
	Households, Persons, Memberships, Consents, Assessments, Needs            int
	Referrals, ReferralEvents, AidRecords                                     int
	// Signals counts the signals of the 12 months SignalMonths (first,
	// last: the month of Today); Shocks are the injected ones and Flood
	// the district's common shock (signals.go), the backtest's ground truth.
	Signals      int
	SignalMonths [2]detect.Month
	Shocks       []Shock
	Flood        Flood
	// Groups counts the persons in each population group.
	Groups map[string]int

	// Duration is the time the rows took to generate and commit; Rebuild
	// the part of it spent re-creating indexes and checking constraints
	// (PostgreSQL); Analyze the statistics refresh after it.
	Duration, Rebuild, Analyze time.Duration
}

// Rows is the number of rows written.
func (r Report) Rows() int {
	return r.Organizations + r.Resources + r.ResourceItems + r.ResourceGroups + r.ResourceCoverage +
		r.Households + r.Persons + r.Memberships + r.Consents + r.Assessments + r.Needs +
		r.Referrals + r.ReferralEvents + r.AidRecords + r.Signals
}

// RowsPerSecond is the write rate over Duration.
func (r Report) RowsPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Rows()) / r.Duration.Seconds()
}

// ErrNotEmpty is returned when the store has households already: the
// generator fills only a store without any.
var ErrNotEmpty = errors.New("generate: the store has households already")

// chunkPersons is about how many persons are written together.
const chunkPersons = 25_000

// Run generates the population into d, which must be migrated, hold the
// catalog cat (from the catalog service's Snapshot) and have no
// households. It writes in one transaction: on error nothing is left.
func Run(ctx context.Context, d *db.DB, keys *secret.Keys, cat *catalog.Catalog, dir *regions.Directory, opts Options) (Report, error) {
	switch {
	case opts.Persons < 0 || opts.Persons > MaxPersons:
		return Report{}, fmt.Errorf("generate: persons must be 0 to %d, got %d", MaxPersons, opts.Persons)
	case opts.Resources < 0 || opts.Resources > MaxResources:
		return Report{}, fmt.Errorf("generate: resources must be 0 to %d, got %d", MaxResources, opts.Resources)
	case keys == nil || cat == nil || dir == nil:
		return Report{}, errors.New("generate: keys, catalog and divisions are required")
	}
	if opts.Today.IsZero() {
		opts.Today = time.Now()
	}
	if opts.Progress == nil {
		opts.Progress = func(string, int, int) {}
	}
	w, err := newWorld(cat, dir, opts.Today)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Engine: d.Engine, Seed: opts.Seed, Today: w.today}
	start := time.Now()
	load := func(ctx context.Context, s store) error { return fill(ctx, s, w, keys, opts, &rep) }
	if d.IsPostgres() {
		err = inPostgres(ctx, d, load, opts.Progress, &rep.Rebuild)
	} else {
		err = inSQLite(ctx, d, load)
	}
	rep.Duration = time.Since(start)
	if err != nil {
		return rep, err
	}

	// Fresh statistics, so the first queries on the new data plan well.
	opts.Progress("finish", 0, 1)
	start = time.Now()
	if d.IsPostgres() {
		_, err = d.ExecContext(ctx, "ANALYZE organizations, resources, resource_items, resource_groups, resource_coverage, "+
			"households, persons, group_memberships, consents, assessments, needs, referrals, referral_events, aid_records, signals")
	} else {
		_, err = d.ExecContext(ctx, "PRAGMA optimize")
	}
	if err != nil {
		return rep, fmt.Errorf("generate: refresh statistics: %w", err)
	}
	rep.Analyze = time.Since(start)
	err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return audit.New(d, time.Now).Append(auth.WithPrincipal(ctx, auth.System), db.UnitOf(tx), "generatePopulation", "Store", 0, audit.Summary{
			"seed": rep.Seed, "today": rep.Today.String(), "households": rep.Households, "persons": rep.Persons,
			"needs": rep.Needs, "organizations": rep.Organizations, "resources": rep.Resources,
		})
	})
	if err != nil {
		return rep, fmt.Errorf("generate: audit: %w", err)
	}
	opts.Progress("finish", 1, 1)
	return rep, nil
}

// inPostgres runs load in a transaction on one pgx connection, for COPY.
// Foreign keys, unique constraints and secondary indexes are dropped
// meanwhile and put back before the commit (see deferChecks).
func inPostgres(ctx context.Context, d *db.DB, load func(context.Context, store) error, progress func(string, int, int), rebuild *time.Duration) error {
	conn, err := d.DB.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("generate: connect: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return fmt.Errorf("generate: begin: %w", err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		// Nobody registers a household while the store is filled.
		if _, err := tx.Exec(ctx, "LOCK TABLE households IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("generate: lock households: %w", err)
		}
		s := pgStore{tx}
		restore, err := s.deferChecks(ctx, written)
		if err != nil {
			return err
		}
		if err := load(ctx, s); err != nil {
			return err
		}
		start := time.Now()
		for i, q := range restore {
			progress("indexes", i, len(restore))
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("generate: %s: %w", q, err)
			}
		}
		progress("indexes", len(restore), len(restore))
		*rebuild = time.Since(start)
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("generate: commit: %w", err)
		}
		return nil
	})
}

// inSQLite runs load in one (immediate, so write-locked) transaction.
func inSQLite(ctx context.Context, d *db.DB, load func(context.Context, store) error) error {
	tx, err := d.DB.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("generate: begin: %w", err)
	}
	defer tx.Rollback()
	if err := load(ctx, &sqliteStore{tx: tx, dialect: d.Dialect()}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("generate: commit: %w", err)
	}
	return nil
}

// fill writes everything through s.
func fill(ctx context.Context, s store, w *world, keys *secret.Keys, opts Options, rep *Report) error {
	n, err := s.queryInt(ctx, "SELECT COUNT(*) FROM households")
	if err != nil {
		return fmt.Errorf("generate: count households: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%w (%d); use an empty database", ErrNotEmpty, n)
	}
	// ids follow whatever is there (organizations and resources may be)
	base := map[*table]int64{}
	for _, t := range sequenced {
		if base[t], err = s.queryInt(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+t.name); err != nil {
			return fmt.Errorf("generate: largest id of %s: %w", t.name, err)
		}
	}
	names, err := s.queryStrings(ctx, "SELECT name FROM organizations ORDER BY name")
	if err != nil {
		return fmt.Errorf("generate: organization names: %w", err)
	}
	taken := map[string]bool{}
	for _, n := range names {
		taken[n] = true
	}

	// organizations and resources, from a stream of their own
	rr := rand.New(rand.NewPCG(uint64(opts.Seed), 1))
	orgs := genOrganizations(w, rr, min(200, max(20, opts.Resources/4)), base[tOrganizations]+1, taken)
	rows := make([][]any, len(orgs))
	for i, o := range orgs {
		rows[i] = orgRow(w, rr, o)
	}
	if err := s.write(ctx, tOrganizations, rows); err != nil {
		return err
	}
	rep.Organizations = len(orgs)
	rg := newResourceGen(w, rr, orgs, base[tResources]+1)
	opts.Progress("resources", 0, opts.Resources)
	for done := 0; done < opts.Resources; {
		var resources, items, groups, coverage [][]any
		for n := min(done+5000, opts.Resources); done < n; done++ {
			r, i, g, c := rg.next()
			resources = append(resources, r)
			items, groups, coverage = append(items, i...), append(groups, g...), append(coverage, c...)
		}
		for _, p := range []struct {
			t    *table
			rows [][]any
			n    *int
		}{{tResources, resources, &rep.Resources}, {tResourceItems, items, &rep.ResourceItems},
			{tResourceGroups, groups, &rep.ResourceGroups}, {tResourceCoverage, coverage, &rep.ResourceCoverage}} {
			if err := s.write(ctx, p.t, p.rows); err != nil {
				return err
			}
			*p.n += len(p.rows)
		}
		opts.Progress("resources", done, opts.Resources)
	}

	// the population, from another stream
	pg := newPopGen(w, rand.New(rand.NewPCG(uint64(opts.Seed), 2)), opts.Persons, orgs, rg)
	pg.next.household, pg.next.person, pg.next.membership = base[tHouseholds], base[tPersons], base[tMemberships]
	pg.next.consent, pg.next.assessment, pg.next.need = base[tConsents], base[tAssessments], base[tNeeds]
	pg.next.referral, pg.next.event, pg.next.aid = base[tReferrals], base[tReferralEvents], base[tAidRecords]
	pg.sig = newSigGen(w, rand.New(rand.NewPCG(uint64(opts.Seed), 3)), base[tSignals]) // a stream of their own
	opts.Progress("population", 0, opts.Persons)
	if err := pipeline(ctx, pg, keys, func(c *chunk) error {
		for _, p := range c.parts() {
			if err := s.write(ctx, p.t, p.rows); err != nil {
				return err
			}
		}
		rep.Households += len(c.households)
		rep.Persons += len(c.persons)
		rep.Memberships += len(c.memberships)
		rep.Consents += len(c.consents)
		rep.Assessments += len(c.assessments)
		rep.Needs += len(c.needs)
		rep.Referrals += len(c.referrals)
		rep.ReferralEvents += len(c.events)
		rep.AidRecords += len(c.aid)
		rep.Signals += len(c.signals)
		opts.Progress("population", rep.Persons, opts.Persons)
		return nil
	}); err != nil {
		return err
	}
	rep.Groups = pg.groups
	rep.SignalMonths = [2]detect.Month{pg.sig.first, pg.sig.last}
	rep.Shocks, rep.Flood = pg.sig.shocks, pg.sig.flood

	for _, t := range sequenced {
		if err := s.setSequence(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// pipeline draws chunks in one goroutine (one random stream, so the
// order is fixed), seals their resident IDs on the other cores, and hands
// them to write in order, so drawing, sealing and writing overlap.
func pipeline(ctx context.Context, pg *popGen, keys *secret.Keys, write func(*chunk) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var genErr, sealErr error
	drawn := make(chan *chunk, 2)
	sealed := make(chan *chunk, 2)
	go func() {
		defer close(drawn)
		for !pg.done() && ctx.Err() == nil {
			c, err := pg.chunk(chunkPersons)
			if err != nil {
				genErr = err
				return
			}
			select {
			case drawn <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	go func() {
		defer close(sealed)
		// drain drawn until it closes, so that the drawing goroutine has
		// returned (and set genErr) when sealed closes
		for c := range drawn {
			if sealErr != nil || ctx.Err() != nil {
				continue
			}
			if sealErr = seal(c, keys, workers); sealErr != nil {
				cancel()
				continue
			}
			select {
			case sealed <- c:
			case <-ctx.Done():
			}
		}
	}()
	var err error
	for c := range sealed {
		if err == nil {
			if err = ctx.Err(); err == nil {
				err = write(c)
			}
			if err != nil {
				cancel() // stop the others; drain what they already sent
			}
		}
	}
	// sealed is closed: both goroutines have returned
	return errors.Join(err, genErr, sealErr)
}

// seal fills in the blind index and ciphertext of each person's resident
// ID, split over workers.
func seal(c *chunk, keys *secret.Keys, workers int) error {
	var wg sync.WaitGroup
	errs := make([]error, workers)
	per := (len(c.ids) + workers - 1) / workers
	for k := range workers {
		lo, hi := k*per, min((k+1)*per, len(c.ids))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				index, sealed, err := casework.SealResidentID(keys, c.ids[i])
				if err != nil {
					errs[k] = err
					return
				}
				c.persons[i][4], c.persons[i][5] = index, sealed
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
