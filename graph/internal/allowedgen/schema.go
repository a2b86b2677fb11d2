package main

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/aidhub/aidhub/auth"
)

// What this generator wrote before, removed before it writes again so the
// output depends on the policy alone.
var (
	ownDirective   = regexp.MustCompile(` @allowed\(roles: \[[A-Z_, ]*\]\)`)
	ownLine        = regexp.MustCompile(`(?m)^[ \t]*"Allowed: [A-Z_, ]+\."\n`)
	ownBlockLine   = regexp.MustCompile(`(?m)^[ \t]*Allowed: [A-Z_, ]+\.\n`)
	ownSentenceEnd = regexp.MustCompile(` Allowed: [A-Z_, ]+\."`)
)

func strip(src string) string {
	src = ownDirective.ReplaceAllString(src, "")
	src = ownLine.ReplaceAllString(src, "")
	src = ownBlockLine.ReplaceAllString(src, "")
	return ownSentenceEnd.ReplaceAllString(src, `"`)
}

// edit inserts text at byte offset at.
type edit struct {
	at   int
	text string
}

// rewriteSchema marks every field whose rule is not public in files (one
// schema, parsed together), rewriting each file that changes.
func rewriteSchema(files []string, rolesFor func(object, field string) ([]auth.Role, bool)) error {
	old := map[string]string{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		old[name] = string(b)
	}
	marked, err := mark(files, old, rolesFor)
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := writeIfChanged(name, []byte(old[name]), []byte(marked[name])); err != nil {
			return err
		}
	}
	return nil
}

// mark returns the schema sources (by file name, in files' order) with
// what it wrote before removed and every restricted field marked.
func mark(files []string, in map[string]string, rolesFor func(object, field string) ([]auth.Role, bool)) (map[string]string, error) {
	srcs := map[string]string{}
	var sources []*ast.Source
	for _, name := range files {
		srcs[name] = strip(in[name])
		sources = append(sources, &ast.Source{Name: name, Input: srcs[name]})
	}
	schema, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	edits := map[string][]edit{}
	for name, def := range schema.Types {
		if def.Kind != ast.Object || def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") || f.Position == nil || f.Position.Src == nil {
				continue
			}
			roles, ok := rolesFor(name, f.Name)
			if !ok {
				return nil, fmt.Errorf("%s.%s has no access rule in graph/policy.go", name, f.Name)
			}
			if roles == nil {
				continue
			}
			file := f.Position.Src.Name
			es, err := fieldEdits(srcs[file], f, roles)
			if err != nil {
				return nil, fmt.Errorf("%s: %s.%s: %w", file, name, f.Name, err)
			}
			edits[file] = append(edits[file], es...)
		}
	}
	out := map[string]string{}
	for _, name := range files {
		out[name] = apply(srcs[name], edits[name])
	}
	return out, nil
}

func apply(src string, es []edit) string {
	sort.SliceStable(es, func(i, j int) bool { return es[i].at > es[j].at })
	for _, e := range es {
		src = src[:e.at] + e.text + src[e.at:]
	}
	return src
}

func roleList(roles []auth.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// fieldEdits places the directive after the field's type and the sentence
// at the end of its description (a new one-line description if it has
// none).
func fieldEdits(src string, f *ast.FieldDefinition, roles []auth.Role) ([]edit, error) {
	lineStart := lineOffset(src, f.Position.Line)
	if lineStart < 0 {
		return nil, fmt.Errorf("line %d not found", f.Position.Line)
	}
	name := lineStart + f.Position.Column - 1
	if !strings.HasPrefix(src[name:], f.Name) {
		return nil, fmt.Errorf("name not at line %d column %d", f.Position.Line, f.Position.Column)
	}
	end, err := typeEnd(src, name+len(f.Name))
	if err != nil {
		return nil, err
	}
	list := roleList(roles)
	es := []edit{{at: end, text: " @allowed(roles: [" + list + "])"}}
	sentence := "Allowed: " + list + "."
	indent := src[lineStart : lineStart+len(src[lineStart:])-len(strings.TrimLeft(src[lineStart:], " \t"))]
	if f.Description == "" {
		return append(es, edit{at: lineStart, text: indent + `"` + sentence + `"` + "\n"}), nil
	}
	// The description ends on the line before the field.
	prevEnd := lineStart - 1
	prevStart := strings.LastIndex(src[:prevEnd], "\n") + 1
	prev := strings.TrimSpace(src[prevStart:prevEnd])
	switch {
	case prev == `"""`:
		return append(es, edit{at: prevStart, text: indent + sentence + "\n"}), nil
	case strings.HasSuffix(prev, `"`) && !strings.HasSuffix(prev, `"""`):
		return append(es, edit{at: prevEnd - 1, text: " " + sentence}), nil
	}
	return nil, fmt.Errorf("description not on the line before the field: %q", prev)
}

func lineOffset(src string, line int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	return off
}

// typeEnd returns the offset just past the field's type, scanning from
// just past its name over the arguments, the colon and the type.
func typeEnd(src string, i int) (int, error) {
	i = skipSpace(src, i)
	if i < len(src) && src[i] == '(' {
		depth := 0
		for ; i < len(src); i++ {
			if src[i] == '(' {
				depth++
			} else if src[i] == ')' {
				depth--
				if depth == 0 {
					i++
					break
				}
			}
		}
		i = skipSpace(src, i)
	}
	if i >= len(src) || src[i] != ':' {
		return 0, fmt.Errorf("no ':' after the field's name")
	}
	i = skipSpace(src, i+1)
	for i < len(src) && strings.IndexByte("[]!_", src[i]) >= 0 || i < len(src) && isAlnum(src[i]) {
		i++
	}
	return i, nil
}

func skipSpace(src string, i int) int {
	for i < len(src) && strings.IndexByte(" \t\r\n", src[i]) >= 0 {
		i++
	}
	return i
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
