package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/regions"
)

// TokenPrefix starts every token, so a leaked one is recognisable in scans.
const TokenPrefix = "aht_"

type tokenRow struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID             int64  `bun:",pk,autoincrement"`
	TokenHash      string `bun:",notnull"`
	Role           Role   `bun:",notnull"`
	OrganizationID *int64
	RegionPrefix   *string
	FeedSource     *string
	Label          string `bun:",notnull"`
	CreatedAt      time.Time
	RevokedAt      *time.Time
}

// Tokens creates and checks bearer tokens.
type Tokens struct {
	db      *db.DB
	regions *regions.Directory
	now     func() time.Time
	// known caches recent successful look-ups, so a busy client costs no
	// query per request. A revocation takes effect here at once and in
	// other processes within CacheTTL.
	known *expirable.LRU[string, Principal]
}

// CacheTTL is how long a looked-up token is trusted without asking the
// database again.
const CacheTTL = 30 * time.Second

// NewTokens returns a token store over db.
func NewTokens(d *db.DB, dir *regions.Directory, now func() time.Time) *Tokens {
	return &Tokens{db: d, regions: dir, now: now, known: expirable.NewLRU[string, Principal](10_000, nil, CacheTTL)}
}

// NewToken describes a token to create.
type NewToken struct {
	Role           Role
	OrganizationID int64
	RegionPrefix   string
	Source         string // DATA_FEED: the source name its signals carry (e.g. MEDICAL_INSURANCE)
	Label          string
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Create stores a new token and returns it in clear; it is never shown again.
//
// Errors: BAD_USER_INPUT for a role without its scope (CHARITY needs an
// existing organization, CASE_MANAGER a known division prefix) or with a
// scope it cannot have.
func (t *Tokens) Create(ctx context.Context, nt NewToken) (string, error) {
	row := &tokenRow{Role: nt.Role, Label: strings.TrimSpace(nt.Label), CreatedAt: t.now().UTC()}
	switch nt.Role {
	case Charity:
		if nt.OrganizationID <= 0 {
			return "", aidhub.Invalid("org", "a CHARITY token needs --org, the organization it acts for")
		}
		row.OrganizationID = &nt.OrganizationID
	case CaseManager:
		if nt.RegionPrefix == "" {
			return "", aidhub.Invalid("region", "a CASE_MANAGER token needs --region, the division code it works in (e.g. 500103)")
		}
		if reason := t.regions.Check(nt.RegionPrefix); reason != "" {
			return "", aidhub.Invalid("region", "%s", reason)
		}
		row.RegionPrefix = &nt.RegionPrefix
	case DataFeed:
		if !ValidSource(nt.Source) {
			return "", aidhub.Invalid("source", "a DATA_FEED token needs --source, the name its signals carry: 1 to 40 of A-Z, 0-9 and _ (e.g. MEDICAL_INSURANCE)")
		}
		row.FeedSource = &nt.Source
	case Admin, Donor:
	default:
		return "", aidhub.Invalid("role", "unknown role %q: want one of ADMIN, CASE_MANAGER, CHARITY, DONOR, DATA_FEED", nt.Role)
	}
	if nt.Role != DataFeed && nt.Source != "" {
		return "", aidhub.Invalid("source", "only DATA_FEED tokens carry a source")
	}
	if nt.Role != Charity && nt.OrganizationID != 0 {
		return "", aidhub.Invalid("org", "only CHARITY tokens belong to an organization")
	}
	if nt.Role != CaseManager && nt.RegionPrefix != "" {
		return "", aidhub.Invalid("region", "only CASE_MANAGER tokens are scoped to a region")
	}
	if len([]rune(row.Label)) > 100 {
		return "", aidhub.Invalid("label", "at most 100 characters")
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", fmt.Errorf("auth: create token: %w", err)
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(secret[:])
	row.TokenHash = hashToken(token)
	// The organization is the catalog's: its foreign key, not a look into
	// the catalog's table, says whether it exists.
	if _, err := t.db.NewInsert().Model(row).Exec(ctx); db.IsForeignKeyViolation(err) {
		return "", aidhub.Invalid("org", "no organization with ID %d", nt.OrganizationID)
	} else if err != nil {
		return "", fmt.Errorf("auth: create token: %w", err)
	}
	return token, nil
}

// ErrBadToken is returned for a token that is malformed, unknown or revoked.
var ErrBadToken = aidhub.Errorf(aidhub.EUNAUTHENTICATED, "the bearer token is invalid or revoked")

// Authenticate returns the principal of a bearer token.
func (t *Tokens) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 100 {
		return AnonymousPrincipal, ErrBadToken
	}
	hash := hashToken(token)
	if p, ok := t.known.Get(hash); ok {
		return p, nil
	}
	var row tokenRow
	err := t.db.NewSelect().Model(&row).Where("token_hash = ?", hash).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return AnonymousPrincipal, ErrBadToken
	} else if err != nil {
		return AnonymousPrincipal, fmt.Errorf("auth: authenticate: %w", err)
	}
	if row.RevokedAt != nil {
		return AnonymousPrincipal, ErrBadToken
	}
	p := Principal{TokenID: row.ID, Role: row.Role}
	if row.OrganizationID != nil {
		p.OrganizationID = *row.OrganizationID
	}
	if row.RegionPrefix != nil {
		p.RegionPrefix = *row.RegionPrefix
	}
	if row.FeedSource != nil {
		p.Source = *row.FeedSource
	}
	t.known.Add(hash, p)
	return p, nil
}

// Revoke revokes a token by ID.
func (t *Tokens) Revoke(ctx context.Context, id int64) error {
	defer t.forget(id)
	res, err := t.db.NewUpdate().Model((*tokenRow)(nil)).Set("revoked_at = ?", t.now().UTC()).
		Where("id = ? AND revoked_at IS NULL", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("auth: revoke token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return aidhub.Errorf(aidhub.ENOTFOUND, "no active token with ID %d", id)
	}
	return nil
}

// forget drops a token from the cache.
func (t *Tokens) forget(id int64) {
	for _, hash := range t.known.Keys() {
		if p, ok := t.known.Peek(hash); ok && p.TokenID == id {
			t.known.Remove(hash)
		}
	}
}

// ValidSource reports whether s can name a data source: 1 to 40 of A-Z, 0-9
// and _, starting with a letter.
func ValidSource(s string) bool {
	if len(s) == 0 || len(s) > 40 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
