package aidhub

// gqlgen reads gqlgen.yml here at the root and writes graph/generated.go,
// graph/model/models_gen.go and stubs for new resolvers.
//go:generate go tool gqlgen generate
