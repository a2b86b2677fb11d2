// Package graph is the GraphQL adapter: resolvers decode arguments, call the
// domain services and encode results; nothing else happens here.
//
// Each schema/<domain>.graphqls has its resolvers in <domain>.resolvers.go
// (gqlgen's follow-schema layout) and their helpers beside them in
// <domain>.go; schema.resolvers.go holds the root fields (node, viewer).
// policy.go alone says which roles may call what; the domain services decide
// which rows a caller sees.
package graph

import (
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/matchsvc"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/warning"
)

// Resolver holds the services resolvers call. It is built once per server.
type Resolver struct {
	CatalogService *catalog.Service
	Casework       *casework.Service
	Matcher        *matchsvc.Service
	Search         search.Index
	WarningService *warning.Service
	// WarningFeed serves warningRaised: one per process (hub makes it).
	WarningFeed *warning.Feed
}
