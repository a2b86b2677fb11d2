// Command allowedgen writes the field policy (graph/policy.go) where
// clients and readers see it: an @allowed(roles: [...]) directive and a
// closing "Allowed: ..." sentence on every restricted field of
// schema.graphqls and schema/*.graphqls (introspection shows descriptions,
// not applied directives), and the role × field table in README.md
// between its field-access markers. `go generate ./...` runs it before
// gqlgen, so CI's generated-code check fails when they drift.
//
// Run from the module root: go run ./graph/internal/allowedgen
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aidhub/aidhub/graph"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "allowedgen:", err)
		os.Exit(1)
	}
}

func run() error {
	files, err := filepath.Glob("schema/*.graphqls")
	if err != nil {
		return err
	}
	files = append([]string{"schema.graphqls"}, files...)
	if err := rewriteSchema(files, graph.RolesFor); err != nil {
		return err
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	out, err := replaceSection(string(readme), accessTable(graph.TypeRoles(), graph.FieldRoles()))
	if err != nil {
		return fmt.Errorf("README.md: %w", err)
	}
	return writeIfChanged("README.md", readme, []byte(out))
}

func writeIfChanged(path string, old, new []byte) error {
	if string(old) == string(new) {
		return nil
	}
	return os.WriteFile(path, new, 0o644)
}
