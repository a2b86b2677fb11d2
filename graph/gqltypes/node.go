package gqltypes

// Node is the Go side of the GraphQL Node interface. Domain types do not
// know their global IDs, so the interface has no methods; the generated
// code switches on the concrete type and the id resolvers encode IDs.
type Node interface{}
