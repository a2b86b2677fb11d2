package search

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/jobs"
)

// Queue is the River queue of index deliveries.
const Queue = "search"

// SyncArgs asks for one resource's index entry to be brought in line with
// the database. It carries no state: the worker reads the resource as it is
// when the job runs, so a late or repeated delivery can only write the
// newest version, never an older one.
type SyncArgs struct {
	ResourceID int64 `json:"resource_id"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "search.sync" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// Outbox queues a SyncArgs job in the transaction of each resource change
// (catalog.Outbox).
type Outbox struct {
	Jobs *jobs.Client
}

// ResourceChanged implements catalog.Outbox.
func (o Outbox) ResourceChanged(ctx context.Context, u db.Unit, resourceID int64) error {
	if _, err := o.Jobs.InsertTx(ctx, u.Tx().Tx, SyncArgs{ResourceID: resourceID}, nil); err != nil {
		return fmt.Errorf("search: queue sync of resource %d: %w", resourceID, err)
	}
	return nil
}

// Syncer writes the database's view of resources into the index.
type Syncer struct {
	db      *db.DB // for the advisory locks of deliveries only: the catalog reads
	catalog *catalog.Service
	index   Index
	stripes [64]sync.Mutex
	seed    maphash.Seed
}

// NewSyncer returns a syncer from svc's resources into idx; d is the
// hub's database, on which deliveries lock each other out.
func NewSyncer(d *db.DB, svc *catalog.Service, idx Index) *Syncer {
	return &Syncer{db: d, catalog: svc, index: idx, seed: maphash.MakeSeed()}
}

// Sync brings one resource's index entry in line with the database: the
// current document when it is searchable, no document otherwise.
//
// Two deliveries for one resource must not interleave (the slower could
// write what it read before the faster): on PostgreSQL a transaction-scoped
// advisory lock serializes them across every hub process; on SQLite, whose
// file has one hub process, an in-process lock does. On PostgreSQL the
// catalog reads the resource in the lock's transaction (handed over as a
// db.Unit), so a delivery holds one connection, not two.
func (s *Syncer) Sync(ctx context.Context, resourceID int64) error {
	if !s.db.IsPostgres() {
		mu := &s.stripes[maphash.Comparable(s.seed, resourceID)%uint64(len(s.stripes))]
		mu.Lock()
		defer mu.Unlock()
		return s.sync(ctx, resourceID, s.catalog.LoadResource)
	}
	return s.db.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, ?)", advisoryClass, resourceID); err != nil {
			return fmt.Errorf("search: lock resource %d: %w", resourceID, err)
		}
		return s.sync(ctx, resourceID, func(ctx context.Context, id int64) (*catalog.Resource, error) {
			return s.catalog.LoadResourceIn(ctx, db.UnitOf(tx), id)
		})
	})
}

// advisoryClass keeps these advisory locks apart from any others.
const advisoryClass = 7411

func (s *Syncer) sync(ctx context.Context, id int64, load func(context.Context, int64) (*catalog.Resource, error)) error {
	r, err := load(ctx, id)
	if aidhub.ErrorCode(err) == aidhub.ENOTFOUND {
		return s.index.Delete(ctx, []int64{id})
	} else if err != nil {
		return err
	}
	if !Searchable(r) {
		return s.index.Delete(ctx, []int64{id})
	}
	doc, err := s.document(ctx, r, nil)
	if err != nil {
		return err
	}
	return s.index.Upsert(ctx, []Document{doc})
}

// document builds r's document; cache, when given, holds the catalog and
// organization names across calls.
func (s *Syncer) document(ctx context.Context, r *catalog.Resource, cache *docCache) (Document, error) {
	if cache == nil {
		cache = &docCache{}
	}
	if cache.cat == nil {
		cat, err := s.catalog.Snapshot(ctx)
		if err != nil {
			return Document{}, err
		}
		cache.cat = cat
	}
	if cache.orgs == nil {
		cache.orgs = map[int64]string{}
	}
	name, ok := cache.orgs[r.OrganizationID]
	if !ok {
		org, err := s.catalog.Organization(ctx, r.OrganizationID)
		if err != nil {
			return Document{}, err
		}
		name = org.Name
		cache.orgs[r.OrganizationID] = name
	}
	return NewDocument(r, name, cache.cat), nil
}

type docCache struct {
	cat  *catalog.Catalog
	orgs map[int64]string
}

// Documents calls yield with the document of every searchable resource, in
// ID order, reading the database in batches. scanned, when not nil, hears
// how many published resources it has looked at, searchable or not: the
// count that catalog's CountPublished totals, where the yielded documents
// leave out the published resources with no capacity left.
func (s *Syncer) Documents(ctx context.Context, yield func(Document) error, scanned func(n int)) error {
	cache := &docCache{}
	seen := 0
	for after := int64(0); ; {
		batch, err := s.catalog.ScanResources(ctx, after, 1000, catalog.Published)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			after = r.ID
			seen++
			if Searchable(r) {
				doc, err := s.document(ctx, r, cache)
				if err != nil {
					return err
				}
				if err := yield(doc); err != nil {
					return err
				}
			}
			if scanned != nil {
				scanned(seen)
			}
		}
	}
}

// Worker delivers SyncArgs jobs. A failed delivery returns its error and
// River retries it with backoff; nothing is lost while the index is down.
type Worker struct {
	river.WorkerDefaults[SyncArgs]
	Syncer *Syncer
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	return w.Syncer.Sync(ctx, job.Args.ResourceID)
}
