// Command allowedgen writes the field policy (graph/policy.go) where
// clients and readers see it: an @allowed(roles: [...]) directive and a
// closing "Allowed: ..." sentence on every restricted field of
// schema.graphqls and schema/*.graphqls (introspection shows descriptions,
// not applied directives), and the role × field table with the types each
// role may fetch by node(id:) in README.md between its field-access
// markers; and the table of error codes (graph.ErrorCodes) between its
// error-codes markers. `go generate ./...` runs it before
// gqlgen, so CI's generated-code check fails when they drift.
//
// Run from the module root: go run ./graph/internal/allowedgen
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

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
	nodeTypes, err := nodeTypes(files)
	if err != nil {
		return err
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	out, err := replaceSection(string(readme), accessSection,
		accessTable(graph.TypeRoles(), graph.FieldRoles())+nodeList(nodeTypes, graph.NodeRoles()))
	if err != nil {
		return fmt.Errorf("README.md: %w", err)
	}
	if out, err = replaceSection(out, codesSection, codeTable(graph.ErrorCodes)); err != nil {
		return fmt.Errorf("README.md: %w", err)
	}
	return writeIfChanged("README.md", readme, []byte(out))
}

// nodeTypes are the schema's types that implement Node, sorted.
func nodeTypes(files []string) ([]string, error) {
	var sources []*ast.Source
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		sources = append(sources, &ast.Source{Name: name, Input: string(b)})
	}
	schema, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, def := range schema.GetPossibleTypes(schema.Types["Node"]) {
		out = append(out, def.Name)
	}
	sort.Strings(out)
	return out, nil
}

func writeIfChanged(path string, old, new []byte) error {
	if string(old) == string(new) {
		return nil
	}
	return os.WriteFile(path, new, 0o644)
}
