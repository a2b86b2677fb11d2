package aidhub

// gqlgen reads gqlgen.yml here at the root and writes graph/generated.go,
// graph/model/models_gen.go and stubs for new resolvers.
// allowedgen first writes the field policy into the schema (@allowed) and
// the README's table, so gqlgen builds from the marked schema.
//go:generate go run ./graph/internal/allowedgen
//go:generate go tool gqlgen generate
