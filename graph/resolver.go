// Package graph is the GraphQL adapter: resolvers decode arguments, call the
// domain services and encode results; nothing else happens here.
package graph

import (
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/matcher"
	"github.com/aidhub/aidhub/search"
)

// Resolver holds the services resolvers call. It is built once per server.
type Resolver struct {
	CatalogService *catalog.Service
	Casework       *casework.Service
	Matcher        *matcher.Service
	Search         search.Index
}
