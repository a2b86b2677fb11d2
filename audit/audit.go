// Package audit keeps the append-only, hash-chained log of every change:
// who (token, role, scope), what (action and subject), when, and a summary
// that holds no personal data in clear. Each entry's hash covers the
// previous entry's hash, so a changed or removed entry breaks the chain.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
)

// Entry is one line of the audit log.
type Entry struct {
	bun.BaseModel `bun:"table:audit_log,alias:al"`

	ID             int64 `bun:",pk,autoincrement"`
	At             time.Time
	TokenID        *int64
	Role           string
	OrganizationID *int64
	RegionPrefix   string
	Action         string
	SubjectType    string
	SubjectID      *int64
	Summary        string
	PrevHash       string
	Hash           string
}

// Summary is what changed, without personal data: IDs, codes, counts,
// statuses, amounts.
type Summary map[string]any

// genesis is the previous hash of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Log appends entries inside the caller's transaction, so an entry exists
// exactly when its change does.
type Log struct {
	db  *db.DB
	now func() time.Time
}

// New returns the log over d.
func New(d *db.DB, now func() time.Time) *Log { return &Log{db: d, now: now} }

// Append writes one entry for the principal in ctx within u, the
// transaction of the change it records.
func (l *Log) Append(ctx context.Context, u db.Unit, action, subjectType string, subjectID int64, summary Summary) error {
	tx := u.Tx()
	p := auth.FromContext(ctx)
	text, err := json.Marshal(summary)
	if err != nil {
		return fmt.Errorf("audit: encode summary: %w", err)
	}
	e := &Entry{
		At: l.now().UTC().Truncate(time.Microsecond), Role: string(p.Role), RegionPrefix: p.RegionPrefix,
		Action: action, SubjectType: subjectType, Summary: string(text),
	}
	if e.Role == "" {
		e.Role = string(auth.Anonymous)
	}
	if p.TokenID != 0 {
		e.TokenID = &p.TokenID
	}
	if p.OrganizationID != 0 {
		e.OrganizationID = &p.OrganizationID
	}
	if subjectID != 0 {
		e.SubjectID = &subjectID
	}
	// The chain needs one writer at a time. SQLite transactions are
	// already serialised; on PostgreSQL a transaction-scoped advisory lock
	// orders appenders without blocking readers.
	if l.db.IsPostgres() {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", chainLock); err != nil {
			return fmt.Errorf("audit: lock chain: %w", err)
		}
	}
	var prev []string
	if err := tx.NewSelect().Model((*Entry)(nil)).Column("hash").Order("id DESC").Limit(1).Scan(ctx, &prev); err != nil {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	e.PrevHash = genesis
	if len(prev) == 1 {
		e.PrevHash = prev[0]
	}
	e.Hash = e.digest()
	if _, err := tx.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("audit: append %s: %w", action, err)
	}
	return nil
}

// chainLock is the advisory lock key of the audit chain ("audit" in ASCII).
const chainLock = 0x6175646974

func (e *Entry) digest() string {
	h := sha256.New()
	opt := func(v *int64) string {
		if v == nil {
			return ""
		}
		return fmt.Sprint(*v)
	}
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n",
		e.PrevHash, e.At.Format(time.RFC3339Nano), opt(e.TokenID), e.Role, opt(e.OrganizationID),
		e.RegionPrefix, e.Action, e.SubjectType, opt(e.SubjectID), e.Summary)
	return hex.EncodeToString(h.Sum(nil))
}

// Verify walks the whole chain and returns the ID of the first entry whose
// hash or link does not hold (0 when the chain is whole).
func (l *Log) Verify(ctx context.Context) (int64, error) {
	prev := genesis
	var after int64
	for {
		var page []Entry
		if err := l.db.NewSelect().Model(&page).Where("id > ?", after).Order("id").Limit(1000).Scan(ctx); err != nil {
			return 0, fmt.Errorf("audit: verify: %w", err)
		}
		if len(page) == 0 {
			return 0, nil
		}
		for i := range page {
			e := &page[i]
			e.At = e.At.UTC()
			if e.PrevHash != prev || e.digest() != e.Hash {
				return e.ID, nil
			}
			prev, after = e.Hash, e.ID
		}
	}
}

// Entries returns the entries about one subject, oldest first.
func (l *Log) Entries(ctx context.Context, subjectType string, subjectID int64) ([]Entry, error) {
	var out []Entry
	err := l.db.NewSelect().Model(&out).Where("subject_type = ? AND subject_id = ?", subjectType, subjectID).Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: entries of %s %d: %w", subjectType, subjectID, err)
	}
	return out, nil
}
