package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes of the query shape limits; registered as protocol errors so
// GraphQL-over-HTTP answers them with 4xx before anything executes.
const (
	codeDepthLimit = "DEPTH_LIMIT_EXCEEDED"
	codeAliasLimit = "ALIAS_LIMIT_EXCEEDED"
)

func init() {
	errcode.RegisterErrorType(codeDepthLimit, errcode.KindProtocol)
	errcode.RegisterErrorType(codeAliasLimit, errcode.KindProtocol)
}

// ShapeLimits refuses operations nested deeper than MaxDepth or with more
// than MaxAliases aliased fields (the cheap way to multiply work that the
// complexity limit counts only once per alias).
type ShapeLimits struct {
	MaxDepth   int
	MaxAliases int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = ShapeLimits{}

// ExtensionName implements graphql.HandlerExtension.
func (ShapeLimits) ExtensionName() string { return "ShapeLimits" }

// Validate implements graphql.HandlerExtension.
func (ShapeLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (l ShapeLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := shapeWalker{doc: oc.Doc, seen: map[string]bool{}}
	depth := w.depth(oc.Operation.SelectionSet, 1)
	if depth > l.MaxDepth {
		err := gqlerror.Errorf("the operation is nested %d levels deep; at most %d allowed", depth, l.MaxDepth)
		errcode.Set(err, codeDepthLimit)
		return err
	}
	if w.aliases > l.MaxAliases {
		err := gqlerror.Errorf("the operation uses %d aliases; at most %d allowed", w.aliases, l.MaxAliases)
		errcode.Set(err, codeAliasLimit)
		return err
	}
	return nil
}

type shapeWalker struct {
	doc     *ast.QueryDocument
	aliases int
	seen    map[string]bool // fragments on the current path, against cycles
}

func (w *shapeWalker) depth(set ast.SelectionSet, level int) int {
	deepest := level - 1
	for _, sel := range set {
		d := 0
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			d = level
			if len(s.SelectionSet) > 0 {
				d = w.depth(s.SelectionSet, level+1)
			}
		case *ast.InlineFragment:
			d = w.depth(s.SelectionSet, level)
		case *ast.FragmentSpread:
			frag := w.doc.Fragments.ForName(s.Name)
			if frag == nil || w.seen[s.Name] {
				continue
			}
			w.seen[s.Name] = true
			d = w.depth(frag.SelectionSet, level)
			delete(w.seen, s.Name)
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}
