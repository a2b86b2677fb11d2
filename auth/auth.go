// Package auth knows who is calling: the roles, the principal carried in a
// request's context, and the bearer tokens that identify principals. Tokens
// are random, shown once, and stored only as a SHA-256 hash.
package auth

import (
	"context"
	"strings"

	"github.com/aidhub/aidhub"
)

// Role is what a principal may do.
type Role string

const (
	Anonymous   Role = "ANONYMOUS"
	Admin       Role = "ADMIN"
	CaseManager Role = "CASE_MANAGER" // scoped to a division-code prefix
	Charity     Role = "CHARITY"      // scoped to one organization
	Donor       Role = "DONOR"
	// DataFeed is another department's system sending facts (signals) under
	// its own source name: it writes only what it sends and reads nothing.
	DataFeed Role = "DATA_FEED"
)

// Roles lists the roles a token can carry.
var Roles = []Role{Admin, CaseManager, Charity, Donor, DataFeed}

// ParseRole parses a token role name, case-insensitively.
func ParseRole(s string) (Role, bool) {
	r := Role(strings.ToUpper(strings.TrimSpace(s)))
	for _, known := range Roles {
		if r == known {
			return r, true
		}
	}
	return "", false
}

// Principal is the caller of one request.
type Principal struct {
	TokenID        int64
	Role           Role
	OrganizationID int64  // CHARITY only
	RegionPrefix   string // CASE_MANAGER only
	Source         string // DATA_FEED only: the source its signals carry
}

// AnonymousPrincipal is the caller without a token.
var AnonymousPrincipal = Principal{Role: Anonymous}

// System is the principal of the hub's own commands (seeding, CLI imports).
var System = Principal{Role: Admin}

// IsAnonymous reports whether no token was given.
func (p Principal) IsAnonymous() bool { return p.Role == Anonymous || p.Role == "" }

// Is reports whether p has one of the roles.
func (p Principal) Is(roles ...Role) bool {
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// OwnsOrganization reports whether p acts for organization id.
func (p Principal) OwnsOrganization(id int64) bool {
	return p.Role == Charity && p.OrganizationID == id
}

// WorksIn reports whether p may do casework for a household of region:
// an ADMIN anywhere, a CASE_MANAGER inside its region prefix.
func (p Principal) WorksIn(region string) bool {
	return p.Role == Admin || (p.Role == CaseManager && strings.HasPrefix(region, p.RegionPrefix))
}

// Require returns UNAUTHENTICATED for an anonymous caller and FORBIDDEN for
// one whose role is not among roles.
func (p Principal) Require(action string, roles ...Role) error {
	if p.IsAnonymous() {
		return aidhub.Errorf(aidhub.EUNAUTHENTICATED, "%s needs a bearer token", action)
	}
	if !p.Is(roles...) {
		return aidhub.Errorf(aidhub.EFORBIDDEN, "%s is not allowed for role %s", action, p.Role)
	}
	return nil
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal in ctx, anonymous when there is none.
func FromContext(ctx context.Context) Principal {
	if p, ok := ctx.Value(ctxKey{}).(Principal); ok {
		return p
	}
	return AnonymousPrincipal
}
